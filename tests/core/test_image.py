"""load_fits on real FITS files written by the tests, and on the observed images."""

from __future__ import annotations

import gzip
import math
import resource
import shutil
import tracemalloc

import numpy as np
import pytest
from astropy import units as u
from astropy.io import fits
from astropy.table import Table

from decoras_gui.core.errors import DecorasError
from decoras_gui.core.image import load_fits, parse_bunit, robust_rms
from tests.conftest import sky_header

# ----------------------------------------------------------------------------- HDUs


def test_primary_2d(tmp_path, noise_image):
    path = tmp_path / "plain.fits"
    fits.PrimaryHDU(noise_image, sky_header()).writeto(path)
    image = load_fits(path)
    assert image.shape == (64, 64)
    assert image.hdu_index == 0
    np.testing.assert_array_equal(image.data, noise_image)
    assert image.wcs is not None and image.wcs.naxis == 2
    assert image.pixel_scale_deg == pytest.approx(2.7777778e-7)


def test_image_in_extension_and_choice_of_hdu(tmp_path, noise_image):
    path = tmp_path / "ext.fits"
    first = fits.ImageHDU(noise_image, sky_header(), name="FIRST")
    second = fits.ImageHDU(noise_image * 2, sky_header(), name="SECOND")
    table = fits.BinTableHDU(Table({"a": [1, 2]}), name="CC")
    fits.HDUList([fits.PrimaryHDU(), table, first, second]).writeto(path)
    assert load_fits(path).hdu_index == 2  # first image-capable HDU
    by_index = load_fits(path, hdu=3)
    by_name = load_fits(path, hdu="SECOND")
    np.testing.assert_array_equal(by_index.data, noise_image * 2)
    assert by_name.hdu_index == 3
    with pytest.raises(DecorasError, match="ext.fits.*no HDU 9"):
        load_fits(path, hdu=9)
    with pytest.raises(DecorasError, match="does not hold a 2-D image"):
        load_fits(path, hdu="CC")


def test_table_only_file_is_a_clear_error(tmp_path):
    path = tmp_path / "table.fits"
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU(Table({"flux": [1.0]}))]).writeto(path)
    with pytest.raises(DecorasError) as err:
        load_fits(path)
    assert "table.fits" in str(err.value) and "no image" in str(err.value)


# --------------------------------------------------------------------- dimensionality


def test_4d_aips_axes_are_squeezed(tmp_path, noise_image):
    path = tmp_path / "aips.fits"
    fits.PrimaryHDU(noise_image[None, None], sky_header(naxis=4)).writeto(path)
    image = load_fits(path)
    assert image.shape == (64, 64)
    assert image.wcs.naxis == 2 and image.wcs.has_celestial
    assert [a.name for a in image.extra_axes] == ["FREQ", "STOKES"]
    assert image.extra_axes[0].value == pytest.approx(1.4e9)
    np.testing.assert_array_equal(image.data, noise_image)


def test_stokes_before_freq_like_nvss(tmp_path, noise_image):
    h = sky_header(naxis=2)
    h["CTYPE3"], h["CRVAL3"], h["CDELT3"], h["CRPIX3"] = "STOKES", 1.0, 1.0, 1.0
    h["CTYPE4"], h["CRVAL4"], h["CDELT4"], h["CRPIX4"] = "FREQ", 1.4e9, 1e8, 1.0
    path = tmp_path / "nvss_like.fits"
    fits.PrimaryHDU(noise_image[None, None], h).writeto(path)
    image = load_fits(path)
    assert [a.name for a in image.extra_axes] == ["STOKES", "FREQ"]
    assert image.wcs.has_celestial


def test_cube_planes(tmp_path):
    cube = np.stack([np.full((32, 48), float(k), np.float32) for k in range(3)])
    path = tmp_path / "cube.fits"
    fits.PrimaryHDU(cube, sky_header(48, 32, naxis=3)).writeto(path)
    assert load_fits(path).data.mean() == 0.0
    image = load_fits(path, plane=2)
    assert image.shape == (32, 48)
    assert image.data.mean() == 2.0 and image.plane == (2,)
    assert image.extra_axes[0].value == pytest.approx(1.4e9 + 2 * 3.2e7)
    with pytest.raises(DecorasError, match="outside FREQ"):
        load_fits(path, plane=3)


def test_dec_before_ra_is_transposed(tmp_path):
    data = np.arange(20 * 30, dtype=np.float32).reshape(20, 30)  # [y, x] with x = FITS axis 1
    h = fits.Header()
    h["CTYPE1"], h["CRVAL1"], h["CDELT1"], h["CRPIX1"] = "DEC--SIN", 40.0, 1e-6, 16.0
    h["CTYPE2"], h["CRVAL2"], h["CDELT2"], h["CRPIX2"] = "RA---SIN", 150.0, -1e-6, 11.0
    path = tmp_path / "swapped.fits"
    fits.PrimaryHDU(data, h).writeto(path)
    image = load_fits(path)
    assert image.shape == (30, 20)  # RA is now x
    np.testing.assert_array_equal(image.data, data.T)
    sky = image.world_at(10.0, 15.0)
    assert sky.ra.deg == pytest.approx(150.0) and sky.dec.deg == pytest.approx(40.0)


# -------------------------------------------------------------------- compression, mmap


def test_gzip_and_tile_compressed(tmp_path, noise_image):
    plain = tmp_path / "img.fits"
    fits.PrimaryHDU(noise_image, sky_header()).writeto(plain)
    gz = tmp_path / "img.fits.gz"
    with open(plain, "rb") as src, gzip.open(gz, "wb") as dst:
        shutil.copyfileobj(src, dst)
    fz = tmp_path / "img.fz"
    comp = fits.CompImageHDU(noise_image, sky_header(), compression_type="GZIP_2")
    fits.HDUList([fits.PrimaryHDU(), comp]).writeto(fz)
    np.testing.assert_array_equal(load_fits(gz).data, noise_image)
    image = load_fits(fz)
    assert image.hdu_index == 1
    np.testing.assert_allclose(image.data, noise_image, rtol=0, atol=1e-4)  # lossy float quantisation
    assert image.wcs is not None


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize() / 2**20


def test_huge_image_is_memory_mapped_not_read(tmp_path):
    n = 16384
    header = sky_header(n, n)
    header["BITPIX"] = -32
    hdu = fits.PrimaryHDU(header=header)
    hdu.header["NAXIS"], hdu.header["NAXIS1"], hdu.header["NAXIS2"] = 2, n, n
    hdu.header["BITPIX"] = -32
    path = tmp_path / "huge.fits"
    with open(path, "wb") as fh:  # header, then a sparse 1 GiB data block
        fh.write(hdu.header.tostring().encode("ascii"))
        data_bytes = n * n * 4
        fh.truncate(len(hdu.header.tostring()) + data_bytes + (-data_bytes) % 2880)
    before = _rss_mb()
    image = load_fits(path)  # how long it takes: benchmarks/huge_image.py
    assert image.shape == (n, n)
    assert image.memory_mapped
    assert _rss_mb() - before < 100, "opening must not read the 1 GiB image"


# ----------------------------------------------------------------------------- blanks


def test_nan_and_inf_blanks_are_ignored_by_rms(tmp_path, noise_image):
    data = noise_image.copy()
    data[:10] = np.nan
    data[20, :] = np.inf
    data[30, :] = -np.inf
    path = tmp_path / "blanks.fits"
    fits.PrimaryHDU(data, sky_header()).writeto(path)
    image = load_fits(path)
    assert math.isfinite(image.rms)
    assert image.rms == pytest.approx(1e-3, rel=0.15)


def test_all_blank_image_has_undefined_rms(tmp_path):
    path = tmp_path / "nan.fits"
    fits.PrimaryHDU(np.full((16, 16), np.nan, np.float32), sky_header(16, 16)).writeto(path)
    assert math.isnan(load_fits(path).rms)


def test_integer_image_with_blank_bscale_bzero(tmp_path):
    raw = np.arange(-50, 50, dtype=np.int16).reshape(10, 10)
    raw[0, 0] = -32768
    hdu = fits.PrimaryHDU(raw, sky_header(10, 10))
    hdu.header["BLANK"] = -32768
    hdu.header["BSCALE"] = 0.5
    hdu.header["BZERO"] = 10.0
    path = tmp_path / "int.fits"
    hdu.writeto(path, output_verify="silentfix")
    image = load_fits(path)
    assert image.data.dtype.kind == "f"
    assert np.isnan(image.data[0, 0])
    assert image.data[5, 5] == pytest.approx(raw[5, 5] * 0.5 + 10.0)


def test_integer_image_with_blank_no_scaling(tmp_path):
    raw = np.arange(100, dtype=np.int32).reshape(10, 10)
    raw[3, 3] = -1
    hdu = fits.PrimaryHDU(raw, sky_header(10, 10))
    hdu.header["BLANK"] = -1
    path = tmp_path / "int32.fits"
    hdu.writeto(path)
    image = load_fits(path)
    assert np.isnan(image.data[3, 3]) and image.data[4, 4] == 44.0


def test_blank_on_float_data_is_reported(tmp_path, noise_image):
    hdu = fits.PrimaryHDU(noise_image, sky_header())
    path = tmp_path / "fblank.fits"
    hdu.writeto(path)
    with fits.open(path, mode="update") as hdul:  # astropy refuses to write it directly
        hdul[0].header["BLANK"] = -1
    image = load_fits(path)
    assert any("BLANK" in w for w in image.warnings)


# ------------------------------------------------------------------------------- beam


def test_beam_from_keywords(tmp_path, noise_image):
    h = sky_header()
    h["BMAJ"], h["BMIN"], h["BPA"] = 16e-3 / 3600, 6e-3 / 3600, -5.0
    path = tmp_path / "beam.fits"
    fits.PrimaryHDU(noise_image, h).writeto(path)
    image = load_fits(path)
    assert image.beam.major_mas == pytest.approx(16.0)
    assert image.beam.minor_mas == pytest.approx(6.0)
    assert image.beam.pa == pytest.approx(-5.0)
    assert image.beam_pixels == pytest.approx((16.0, 6.0), rel=1e-6)


def test_beam_from_aips_history_last_clean_wins(tmp_path, noise_image):
    h = sky_header(naxis=4)
    h.add_history("AIPS   CLEAN BMAJ=  1.0000E-06 BMIN=  1.0000E-06 BPA=   0.00")
    h.add_history("AIPS   IMAGR something else")
    h.add_history("AIPS   CLEAN BMAJ=  4.7959E-06 BMIN=  3.5315E-06 BPA=   4.37")
    path = tmp_path / "history.fits"
    fits.PrimaryHDU(noise_image[None, None], h).writeto(path)
    beam = load_fits(path).beam
    assert beam.major_mas == pytest.approx(17.265, abs=0.01)
    assert beam.minor_mas == pytest.approx(12.713, abs=0.01)
    assert beam.pa == pytest.approx(4.37)
    assert "HISTORY" in beam.source


def test_missing_beam_warns(tmp_path, noise_image):
    path = tmp_path / "nobeam.fits"
    fits.PrimaryHDU(noise_image, sky_header()).writeto(path)
    image = load_fits(path)
    assert image.beam is None and image.beam_pixels is None
    assert any("no beam" in w for w in image.warnings)


# ------------------------------------------------------------------------------ units


@pytest.mark.parametrize(
    "text, unit",
    [("JY/BEAM", u.Jy / u.beam), ("Jy/beam", u.Jy / u.beam), ("mJy/beam", u.mJy / u.beam), ("JY", u.Jy), ("K", u.K)],
)
def test_bunit_spellings(text, unit):
    parsed, note = parse_bunit(text)
    assert note is None and parsed == unit


def test_missing_or_odd_bunit_warns(tmp_path, noise_image):
    h = sky_header()
    del h["BUNIT"]
    path = tmp_path / "nounit.fits"
    fits.PrimaryHDU(noise_image, h).writeto(path)
    image = load_fits(path)
    assert image.unit == u.dimensionless_unscaled
    assert any("BUNIT" in w for w in image.warnings)
    unit, note = parse_bunit("COUNTS PER FURLONG")
    assert unit == u.dimensionless_unscaled and "COUNTS" in note


# -------------------------------------------------------------------------------- WCS


def test_no_wcs_loads_in_pixels(tmp_path, noise_image):
    path = tmp_path / "nowcs.fits"
    fits.PrimaryHDU(noise_image).writeto(path)
    image = load_fits(path)
    assert image.wcs is None and image.world_at(1, 1) is None and image.pixel_scale_deg is None
    assert any("pixel coordinates only" in w for w in image.warnings)


def test_linear_wcs_is_not_celestial(tmp_path, noise_image):
    h = fits.Header()
    h["CTYPE1"], h["CTYPE2"] = "LINEAR", "LINEAR"
    path = tmp_path / "linear.fits"
    fits.PrimaryHDU(noise_image, h).writeto(path)
    image = load_fits(path)
    assert image.wcs is None
    assert any("no celestial WCS" in w for w in image.warnings)


# ------------------------------------------------------------------------------- noise


def test_rms_is_robust_to_sources(noise_image):
    data = noise_image.copy()
    yy, xx = np.mgrid[:64, :64]
    data += 0.5 * np.exp(-((xx - 30) ** 2 + (yy - 20) ** 2) / 8.0)
    assert robust_rms(data) == pytest.approx(1e-3, rel=0.1)
    assert np.std(data) > 5e-3


def test_rms_of_quantised_image_with_many_zeros_is_not_zero():
    rng = np.random.default_rng(3)
    data = np.round(rng.normal(0, 0.03e-3, (61, 61)) / 1e-4) * 1e-4  # mostly exact zeros
    assert np.median(np.abs(data)) == 0.0
    assert robust_rms(data) > 0


def test_rms_map(tmp_path):
    rng = np.random.default_rng(2)
    data = rng.normal(0, 1.0, (256, 256)).astype(np.float32)
    data[:, 128:] *= 3.0
    path = tmp_path / "grad.fits"
    fits.PrimaryHDU(data, sky_header(256, 256)).writeto(path)
    image = load_fits(path)
    rms = image.rms_map(box_size=32)
    assert rms.shape == (256, 256)
    assert np.median(rms[:, :100]) == pytest.approx(1.0, rel=0.15)
    assert np.median(rms[:, 160:]) == pytest.approx(3.0, rel=0.15)


# ----------------------------------------------------------------------------- errors


def test_errors_name_the_file(tmp_path, noise_image):
    text = tmp_path / "notes.fits"
    text.write_text("this is not a FITS file\n")
    good = tmp_path / "good.fits"
    fits.PrimaryHDU(noise_image, sky_header()).writeto(good)
    truncated = tmp_path / "truncated.fits"
    truncated.write_bytes(good.read_bytes()[:4000])
    header_cut = tmp_path / "headercut.fits"
    header_cut.write_bytes(good.read_bytes()[:1000])
    for path in (text, truncated, header_cut, tmp_path / "missing.fits", tmp_path):
        with pytest.raises(DecorasError) as err:
            load_fits(path)
        assert str(path) in str(err.value)
        assert "\n" not in str(err.value)


# ---------------------------------------------------------------------- observed images

REAL_BEAMS_MAS = {  # from the data README and the headers
    "evn_L_4C39.25_n05l1_ICLN.fits": (17.27, 12.71),
    "vlba_X_NGC1052_2017-04-04_map.fits": (2.30, 0.995),
    "nvss_postage_stamp_aips.fits": (45000.0, 45000.0),
    "atca_phoenix_deep_1.4GHz_sub.fits": (12000.0, 6000.0),
    "nvas_vla_K_W51.fits": (8550.7, 2791.9),
}


@pytest.mark.parametrize("name", sorted(REAL_BEAMS_MAS))
def test_observed_images(real_data, name):
    image = load_fits(real_data / name)
    bmaj, bmin = REAL_BEAMS_MAS[name]
    assert image.beam.major_mas == pytest.approx(bmaj, rel=0.005)
    assert image.beam.minor_mas == pytest.approx(bmin, rel=0.005)
    assert image.wcs is not None and image.wcs.naxis == 2
    assert image.unit == u.Jy / u.beam
    assert image.rms > 0 and math.isfinite(image.rms)
    assert image.data.ndim == 2


def test_observed_oddities(real_data):
    nvas = load_fits(real_data / "nvas_vla_K_W51.fits")
    assert nvas.shape == (124, 114)
    assert np.isnan(nvas.data).sum() == 2827
    atca = load_fits(real_data / "atca_phoenix_deep_1.4GHz_sub.fits")
    assert atca.projection == "NCP"
    assert any("BLANK" in w for w in atca.warnings)
    vlba = load_fits(real_data / "vlba_X_NGC1052_2017-04-04_map.fits")
    assert any("STOKES value -9" in w for w in vlba.warnings)
    nvss = load_fits(real_data / "nvss_postage_stamp_aips.fits")
    assert nvss.rms == pytest.approx(0.45e-3, rel=0.3)  # the NVSS HISTORY quotes ~0.45 mJy/beam


@pytest.mark.parametrize("bscale", [None, 1e-5])
def test_header_declaring_more_data_than_the_file_holds(tmp_path, bscale):
    """Found by the fuzz test: NAXIS1 = 10^9 on a 32 x 32 scaled int16 image made astropy
    allocate 64 GB; now it is refused from the header alone."""
    h = sky_header(32, 32)
    if bscale:
        h["BSCALE"], h["BZERO"] = bscale, 0.0
    path = tmp_path / "liar.fits"
    fits.PrimaryHDU(np.zeros((32, 32), np.int16), h).writeto(path)
    raw = bytearray(path.read_bytes())
    at = raw.index(b"NAXIS1  =")
    raw[at:at + 80] = f"NAXIS1  = {10**9:>20d}".ljust(80).encode()
    path.write_bytes(bytes(raw))
    tracemalloc.start()
    try:
        with pytest.raises(DecorasError, match="declares 64,000,000,000 bytes") as err:
            load_fits(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "liar.fits" in str(err.value)
    assert peak < 16 << 20, f"allocated {peak / 2**20:.0f} MiB before refusing"  # nothing data-sized
