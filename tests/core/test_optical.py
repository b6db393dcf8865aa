"""The PSF FWHM and zero point an optical image's header gives, and where each came from."""

from __future__ import annotations

import pytest
from astropy.io import fits

from decoras_gui.core.optical import NANOMAGGY_ZP, is_optical, psf_fwhm_arcsec, zero_point


def _header(**cards) -> fits.Header:
    h = fits.Header()
    for key, value in cards.items():
        h[key] = value
    return h


def test_the_fwhm_comes_from_the_first_keyword_that_holds_one():
    h = _header(SEEING=0.71, PSF_FWHM=0.68)
    got = psf_fwhm_arcsec(h, 0.214)
    assert got.value == pytest.approx(0.68) and got.source == "PSF_FWHM"
    assert psf_fwhm_arcsec(_header(SEEING=0.9), 0.214).source == "SEEING"


def test_a_fwhm_in_pixels_is_converted_with_the_pixel_size():
    h = fits.Header()
    h["FWHM"] = (4.0, "[pix] PSF FWHM")
    got = psf_fwhm_arcsec(h, 0.2)
    assert got.value == pytest.approx(0.8) and "pixels" in got.source
    assert psf_fwhm_arcsec(h, None) is None  # pixels but no pixel size: not usable


def test_no_usable_fwhm_gives_none():
    assert psf_fwhm_arcsec(_header(SEEING="bad", FWHM=-1.0), 0.2) is None
    assert psf_fwhm_arcsec(fits.Header(), 0.2) is None


def test_zero_points_from_the_header_or_nanomaggies():
    assert zero_point(_header(PHOTZP=26.1)).value == pytest.approx(26.1)
    assert zero_point(_header(MAGZP=30.0, PHOTZP=26.1)).source == "MAGZP"
    assert zero_point(_header(MAGZP=0.0)) is None  # a placeholder zero is not a zero point
    got = zero_point(_header(BUNIT="nanomaggy"))
    assert got.value == NANOMAGGY_ZP and "nanomaggies" in got.source
    assert zero_point(_header(BUNIT="ADU")) is None


def test_optical_images_are_told_from_radio_ones():
    assert is_optical(_header(BUNIT="ADU", FILTER="r"), has_beam=False)
    assert is_optical(_header(BUNIT="nanomaggy"), has_beam=False)
    assert not is_optical(_header(BUNIT="JY/BEAM"), has_beam=False)
    assert not is_optical(_header(BUNIT="ADU", FILTER="r"), has_beam=True)
    assert not is_optical(fits.Header(), has_beam=False)
