"""WSClean on the visibilities of simulated restore fields: the same sky, another imaging code."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from decoras_gui.core.errors import DecorasError
from decoras_gui.eval.wsclean import observe_with_wsclean, weighting_args, wsclean_available, wsclean_image
from decoras_gui.sim.extended import beam_blur
from decoras_gui.sim.surface import SurfaceConfig, simulate_surface_field

pytest.importorskip("casacore.tables")
pytestmark = pytest.mark.skipif(not wsclean_available(), reason="WSClean is not installed (scripts/setup)")

CFG = SurfaceConfig(size=128, noise=False, gain_errors=False, max_sources=3, empty_fraction=0.0,
                    kind_probs=(0.0, 0.4, 0.3, 0.3, 0.0, 0.0), snr_range=(50.0, 200.0), confusion_density=0.0)


@pytest.fixture(scope="module")
def observed(tmp_path_factory):
    f = simulate_surface_field((21, 0), CFG)
    return f, observe_with_wsclean(f, tmp_path_factory.mktemp("wsclean"), seed=(21, 0))


def test_wsclean_sees_the_sky_the_simulator_images(observed):
    f, o = observed
    d = wsclean_image(o.ms, o.cwd, "dirty", o.size, o.scale_arcsec, o.weighting)
    ours, theirs = (np.array(np.unravel_index(a.argmax(), a.shape)) for a in (f.image, d.dirty))
    assert np.abs(ours - theirs).max() <= 1  # the brightest pixel (of extended emission: a flat top)
    assert d.dirty.max() == pytest.approx(float(f.image.max()), rel=0.15)  # their weightings differ in detail
    assert np.corrcoef(d.dirty.ravel(), f.image.ravel())[0, 1] > 0.93  # its padding, kernel, weighting grid
    assert np.sqrt(np.mean((d.psf - f.psf) ** 2)) < 0.02


def test_multiscale_clean_recovers_the_flux_and_hogbom_does_less_well(observed):
    f, o = observed
    ms = wsclean_image(o.ms, o.cwd, "ms", o.size, o.scale_arcsec, o.weighting, niter=20000, multiscale=True,
                       auto_threshold=0.5, auto_mask=0.0, extra=["-threshold", f"{0.02 * f.image.max():g}"])
    hog = wsclean_image(o.ms, o.cwd, "hog", o.size, o.scale_arcsec, o.weighting, niter=20000,
                        auto_threshold=0.5, auto_mask=0.0, extra=["-threshold", f"{0.02 * f.image.max():g}"])
    assert ms.model.sum() == pytest.approx(float(f.truth.sum()), rel=0.1)
    beam = np.sqrt(f.beam.bmaj * f.beam.bmin) / (f.cell_arcsec * 1000.0)
    truth = beam_blur(f.truth.astype(float), beam)
    err_ms = np.abs(beam_blur(ms.model.astype(float), beam) - truth).sum()
    err_hog = np.abs(beam_blur(hog.model.astype(float), beam) - truth).sum()
    assert err_ms < err_hog  # extended emission: multi-scale beats delta components
    assert ms.restored is not None and ms.beam_deg[0] > 0 and ms.seconds > 0


def test_weightings_and_failures_are_said_plainly(tmp_path):
    assert weighting_args("robust", -0.5, 0.0, 1e5) == ["-weight", "briggs", "-0.500"]
    tapered = weighting_args("natural", 0.0, 0.5, 1e5)
    assert tapered[:2] == ["-weight", "natural"] and tapered[2] == "-taper-gaussian"
    # a taper at half the longest baseline: an image-plane FWHM of 4 ln 2 / (pi 1e5) rad
    assert float(tapered[3].removesuffix("asec")) == pytest.approx(np.rad2deg(4 * np.log(2) / (np.pi * 1e5)) * 3600,
                                                                    rel=1e-3)
    with pytest.raises(DecorasError, match="unknown weighting"):
        weighting_args("superuniform", 0.0, 0.0, 1.0)
    with pytest.raises(DecorasError, match="WSClean failed"):
        wsclean_image(tmp_path / "missing.ms", tmp_path, "x", 64, 1.0, ["-weight", "natural"])


def test_noise_and_gains_go_into_the_data(tmp_path):
    f = simulate_surface_field((22, 0), replace(CFG, noise=True, gain_errors=True))
    o = observe_with_wsclean(f, tmp_path, seed=(22, 0))
    d = wsclean_image(o.ms, o.cwd, "dirty", o.size, o.scale_arcsec, o.weighting, make_psf=False)
    corner = d.dirty[:24, :24]
    assert 0.3 * f.rms < corner.std() < 3.0 * f.rms  # the thermal noise the simulator predicts
