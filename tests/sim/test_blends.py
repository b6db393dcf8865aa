"""Blends of two galaxies by GalSim: the pair's geometry, fluxes, noise, families, files."""

from __future__ import annotations

import math

import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table

from decoras_gui.core.errors import DecorasError
from decoras_gui.core.image import load_fits
from decoras_gui.sim.blend_files import write_blend
from decoras_gui.sim.blends import BlendConfig, measure_shape, simulate_blend
from decoras_gui.sim.camera import get_camera

WIDE, OOD = BlendConfig(), BlendConfig(variety="ood")


def test_the_camera_is_vst_omegacam_r_at_kids_depth():
    cam = get_camera("vst-omegacam-r")
    assert cam == get_camera("VST-OmegaCAM-r") and cam.pixel_arcsec == 0.214 and cam.psf_fwhm_range == (0.6, 1.0)
    # a source at the 5-sigma depth is 5 sigma in the 2" aperture
    n_pix = math.pi * (1.0 / 0.214) ** 2
    assert cam.flux_of(cam.depth_mag) / (cam.pixel_noise * math.sqrt(n_pix)) == pytest.approx(5.0)
    assert cam.mag_of(cam.flux_of(21.3)) == pytest.approx(21.3)
    with pytest.raises(DecorasError, match="unknown camera"):
        get_camera("hubble")


def test_pairs_span_the_separations_ratios_and_magnitudes_asked_for():
    fields = [simulate_blend((3, i), WIDE) for i in range(40)]
    seps = [f.separation_fwhm for f in fields]
    ratios = [f.flux_ratio for f in fields]
    assert 0.5 <= min(seps) and max(seps) <= 3.0 and max(seps) - min(seps) > 1.5
    assert 1.0 <= min(ratios) and max(ratios) <= 10.0 and max(ratios) > 4.0
    mags = [g.mag for f in fields for g in f.galaxies]
    assert 19.0 <= min(mags) and max(mags) <= 24.0 + 1e-9
    assert all(0.6 <= f.psf_fwhm_arcsec <= 1.0 for f in fields)


def test_a_blend_is_its_two_galaxies_plus_the_skys_noise():
    f = simulate_blend((3, 1), WIDE)
    assert f.image.shape == (64, 64) and f.components.shape == (2, 64, 64)
    for g, comp in zip(f.galaxies, f.components):
        assert comp.sum() == pytest.approx(g.flux, rel=0.02)  # almost all of it inside the cutout
        shape = measure_shape(comp, g.x, g.y)
        assert abs(shape.x - g.x) < 0.05 and abs(shape.y - g.y) < 0.05  # drawn where the truth says
    noise = f.image - f.components.sum(0)
    assert np.std(noise) == pytest.approx(f.noise_sigma, rel=0.05)
    assert f.psf.sum() == pytest.approx(1.0) and np.unravel_index(f.psf.argmax(), f.psf.shape) == (15, 15)
    assert np.array_equal(simulate_blend((3, 1), WIDE).image, f.image)  # a pure function of its seed
    quiet = simulate_blend((3, 1), BlendConfig(noise=False))
    assert np.allclose(quiet.image, quiet.components.sum(0))


def test_the_validation_family_uses_profiles_psfs_and_noise_training_never_does():
    wide = [simulate_blend((5, i), WIDE) for i in range(6)]
    ood = [simulate_blend((5, i), OOD) for i in range(6)]
    assert all(f.psf_kind.startswith("moffat") for f in wide) and all(f.psf_kind == "kolmogorov" for f in ood)
    assert all(g.profile.startswith("bulge+disc") for f in wide for g in f.galaxies)
    assert all(g.profile.startswith("sersic") for f in ood for g in f.galaxies)
    # coadd-like noise: neighbouring pixels correlate in the validation family only
    def neighbour_corr(f):
        n = f.image - f.components.sum(0)
        return float(np.corrcoef(n[:, :-1].ravel(), n[:, 1:].ravel())[0, 1])
    assert max(abs(neighbour_corr(f)) for f in wide) < 0.1 and min(neighbour_corr(f) for f in ood) > 0.3


def test_a_blend_is_written_as_a_survey_cutout_its_psf_and_its_truth(tmp_path):
    f = simulate_blend((3, 2), WIDE)
    paths = write_blend(f, tmp_path, "blend")
    image = load_fits(paths["image"])
    assert image.beam is None and np.allclose(image.data, f.image)  # optical: no beam
    h = fits.getheader(paths["image"])
    assert h["MAGZP"] == 30.0 and h["PSF_FWHM"] == pytest.approx(f.psf_fwhm_arcsec, abs=1e-4)
    assert h["TELESCOP"] == "ESO-VST" and h["BUNIT"] == "ADU"
    assert image.pixel_scale_deg * 3600 == pytest.approx(0.214)
    truth = Table.read(paths["truth"])
    assert list(truth["id"]) == [1, 2] and truth["flux"][0] == pytest.approx(float(f.components[0].sum()))
    assert truth.meta["separation_fwhm"] == pytest.approx(f.separation_fwhm)
    assert fits.getdata(paths["components"]).shape == (2, 64, 64)
    assert fits.getdata(paths["psf"]).sum() == pytest.approx(1.0, rel=1e-5)
