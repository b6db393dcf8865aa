"""core.psf: the dirty beam found beside an image, read, checked, normalised and resampled
(real FITS files written by the project's simulator and by astropy)."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits

from decoras_gui.core.errors import DecorasError
from decoras_gui.core.image import load_fits
from decoras_gui.core.psf import find_psf, load_psf, psf_candidates
from decoras_gui.sim import SimConfig, simulate_field, write_field


@pytest.fixture(scope="module")
def sim_files(tmp_path_factory):
    """A simulated 128 x 128 field: NAME.fits (4-D dirty image) and NAME_beam.fits (its PSF)."""
    field = simulate_field(3, SimConfig(size=128, max_sources=2, empty_fraction=0.0, snr_range=(20.0, 40.0)))
    image, beam, _ = write_field(field, tmp_path_factory.mktemp("sim"), "field")
    return field, image, beam


def _write(path, data, header=None):
    fits.PrimaryHDU(np.asarray(data, np.float32), header).writeto(path)
    return path


@pytest.mark.parametrize("image_name, psf_name", [
    ("obs.fits", "obs_psf.fits"), ("obs.fits", "obs-psf.fits"), ("obs.fits", "obs.psf.fits"),
    ("obs.fits.gz", "obs_psf.fits"), ("obs.fits", "obs_beam.fits"),
    ("run-dirty.fits", "run-psf.fits"), ("run-image.fits", "run-psf.fits"),
    ("run-MFS-image.fits", "run-MFS-psf.fits"), ("run-dirty.fits", "run-dirty-psf.fits"),
])
def test_find_psf_beside_the_image(tmp_path, image_name, psf_name):
    image = _write(tmp_path / image_name, np.zeros((4, 4)))
    assert find_psf(image) is None
    _write(tmp_path / psf_name, np.zeros((4, 4)))
    assert find_psf(image) == tmp_path / psf_name


def test_find_psf_prefers_the_psf_over_the_simulator_beam(tmp_path):
    image = _write(tmp_path / "obs.fits", np.zeros((4, 4)))
    for name in ("obs_beam.fits", "obs.psf.fits", "obs-psf.fits"):
        _write(tmp_path / name, np.zeros((4, 4)))
    assert find_psf(image) == tmp_path / "obs-psf.fits"
    assert psf_candidates(image)[0].name == "obs_psf.fits"
    assert tmp_path / "obs.fits" not in psf_candidates(image)


def test_load_the_simulator_beam(sim_files):
    field, image_path, beam_path = sim_files
    assert find_psf(image_path) == beam_path
    image = load_fits(image_path)
    beam = load_psf(beam_path, image)
    assert beam.shape == (128, 128) and beam.centre == (64, 64)  # 4-D file, degenerate axes squeezed
    assert beam.data[beam.centre] == pytest.approx(1.0)
    np.testing.assert_allclose(beam.data, field.beam_image, atol=1e-6)
    assert beam.scale_ratio == 1.0 and beam.notes == []
    assert beam.at(np.array([0, 100]), np.array([0, 0]))[0] == pytest.approx(1.0)
    assert np.isnan(beam.at(np.array([100]), np.array([0]))[0])  # beyond the PSF: unknown
    lobe = beam.main_lobe()
    assert lobe[beam.centre] and lobe.sum() < 200


def test_peak_normalised_with_a_note(sim_files, tmp_path):
    field, image_path, _ = sim_files
    path = _write(tmp_path / "half.fits", 0.5 * field.beam_image, field.header.copy())
    beam = load_psf(path, load_fits(image_path))
    assert beam.data.max() == pytest.approx(1.0)
    np.testing.assert_allclose(beam.data, field.beam_image, atol=1e-6)
    assert any("normalised" in n for n in beam.notes)


def test_coarser_psf_resampled_to_the_image_pixels(sim_files, tmp_path):
    field, image_path, _ = sim_files
    header = field.header.copy()
    header["CDELT1"], header["CDELT2"] = 2 * header["CDELT1"], 2 * header["CDELT2"]
    header["CRPIX1"] = header["CRPIX2"] = 33.0
    coarse = field.beam_image[::2, ::2]  # 64 x 64, centre (32, 32) = the original (64, 64)
    path = _write(tmp_path / "coarse.fits", coarse, header)
    beam = load_psf(path, load_fits(image_path))
    assert beam.scale_ratio == pytest.approx(2.0)
    assert any("resampled" in n for n in beam.notes)
    cy, cx = beam.centre
    assert beam.data[cy, cx] == pytest.approx(1.0)
    # the samples it had are kept; between them it interpolates the original closely
    even = beam.data[cy - 60:cy + 61:2, cx - 60:cx + 61:2]
    np.testing.assert_allclose(even, field.beam_image[4:125:2, 4:125:2], atol=1e-5)
    whole = beam.data[cy - 60:cy + 61, cx - 60:cx + 61]
    assert np.corrcoef(whole.ravel(), field.beam_image[4:125, 4:125].ravel())[0, 1] > 0.95


@pytest.mark.parametrize("make, words", [
    (lambda b: b[:8, :8], "only 8 x 8 pixels"),
    (lambda b: np.roll(b, (30, 20), axis=(0, 1)), "not near the centre"),
    (lambda b: -b, "not a dirty beam"),
    (lambda b: np.where(np.hypot(*np.mgrid[-64:64, -64:64]) < 3, b, np.minimum(b, -0.995 * (b.max() - 1e-3))),
     "not a PSF"),
    (lambda b: np.full_like(b, np.nan), "blank"),
])
def test_refuses_what_is_not_a_beam(sim_files, tmp_path, make, words):
    field, image_path, _ = sim_files
    path = _write(tmp_path / "bad_psf.fits", make(field.beam_image.astype(float)))
    with pytest.raises(DecorasError) as info:
        load_psf(path, load_fits(image_path))
    assert "bad_psf.fits" in str(info.value) and words in str(info.value)


def test_an_image_is_not_a_psf(sim_files):
    """The dirty image itself (its brightest source off the centre) is refused, naming it."""
    field, image_path, _ = sim_files
    brightest = int(np.argmax(field.peaks))
    assert np.hypot(field.sky.x[brightest] - 64, field.sky.y[brightest] - 64) > 8
    with pytest.raises(DecorasError, match="field.fits.*not a dirty beam"):
        load_psf(image_path, load_fits(image_path))


def test_missing_file_named(tmp_path):
    with pytest.raises(DecorasError, match="nope_psf.fits: no such file"):
        load_psf(tmp_path / "nope_psf.fits")
