"""SkyMap: a Jy/pixel map at its resolution, convolved back to the beam, residuals, FITS."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits
from astropy.wcs import WCS

from decoras_gui.core.errors import DecorasError
from decoras_gui.core.image import load_fits
from decoras_gui.core.sky_map import SkyMap, convolve_gaussian, convolve_psf, gaussian_kernel_cov

PIX = 1.5  # arcsec
BEAM = (6.0, 4.5, 30.0)  # arcsec, arcsec, deg


def a_map(data: np.ndarray) -> SkyMap:
    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---SIN", "DEC--SIN"]
    w.wcs.crval = [150.0, 50.0]
    w.wcs.crpix = [data.shape[1] / 2 + 1, data.shape[0] / 2 + 1]
    w.wcs.cdelt = [-PIX / 3600.0, PIX / 3600.0]
    return SkyMap(data.astype(np.float32), w, PIX, (3.0, 2.25, 30.0), BEAM, "img.fits", "test 1.0.0")


def test_gaussian_convolution_keeps_flux_and_its_shape():
    point = np.zeros((64, 64))
    point[32, 32] = 2.0
    cov = gaussian_kernel_cov(6.0, 3.0, 0.0)  # 6 px FWHM north-south
    out = convolve_gaussian(point, cov)
    assert out.sum() == pytest.approx(2.0, rel=1e-4)
    assert np.sum(out[:, 32] > 0.5 * out.max()) == pytest.approx(6, abs=1)
    assert np.sum(out[32, :] > 0.5 * out.max()) == pytest.approx(3, abs=1)
    peak = convolve_gaussian(point, cov, peak_normalised=True)
    assert peak.max() == pytest.approx(2.0, rel=1e-3)  # a point of 2 Jy is 2 Jy/beam


def test_a_point_seen_with_the_beam_peaks_at_its_flux_and_its_residual_is_empty():
    point = np.zeros((96, 96))
    point[40, 50] = 0.5
    sky = a_map(convolve_gaussian(point, gaussian_kernel_cov(3.0 / PIX, 2.25 / PIX, 30.0)))
    seen = sky.convolved()
    assert seen.max() == pytest.approx(0.5, rel=0.01) and np.unravel_index(seen.argmax(), seen.shape) == (40, 50)
    image = convolve_gaussian(point, gaussian_kernel_cov(BEAM[0] / PIX, BEAM[1] / PIX, BEAM[2]), peak_normalised=True)
    assert np.abs(sky.residual(image)).max() < 0.01 * image.max()
    assert sky.flux_in(np.ones((96, 96), bool)) == pytest.approx(0.5, rel=1e-3)
    with pytest.raises(DecorasError, match="does not fit"):
        sky.flux_in(np.ones((10, 10), bool))


def test_convolving_with_a_dirty_beam_puts_it_where_the_flux_is():
    psf = np.zeros((33, 33))
    psf[16, 16], psf[16, 20] = 1.0, -0.2  # a main lobe and one sidelobe 4 px along x
    point = np.zeros((64, 64))
    point[10, 30] = 3.0
    out = convolve_psf(point, psf)
    assert out[10, 30] == pytest.approx(3.0) and out[10, 34] == pytest.approx(-0.6)


def test_the_map_writes_as_fits_in_jy_per_pixel_with_the_images_wcs(tmp_path):
    sky = a_map(np.full((32, 32), 1e-4))
    path = sky.write(tmp_path / "map.fits")
    h = fits.getheader(path)
    assert h["BUNIT"] == "JY/PIXEL" and h["RESBMAJ"] * 3600 == pytest.approx(3.0) and h["DCRMODEL"] == "test 1.0.0"
    back = load_fits(path)
    assert back.data.shape == (32, 32) and back.wcs.wcs.crval[0] == pytest.approx(150.0)
    assert np.allclose(back.data, 1e-4)
