"""measure_ellipse reads only the ellipse's bounding box and measures what it measured before.

``_reference_measure_ellipse`` is the function as it was before it cut out the bounding box
(commit 5950690), copied verbatim: the new one must give the same values on real images, at
random ellipses, partly or wholly off the edge, tiny ones, on NaN-blanked pixels."""

from __future__ import annotations

import math
import tracemalloc
from typing import Any

import numpy as np
import pytest
from astropy.io import fits

from decoras_gui.core.geometry import condon_errors, deconvolve, pa_from_pixel_angle
from decoras_gui.core.image import SkyImage, load_fits
from decoras_gui.core.measure import MIN_AXIS_PIX, _is_per_beam, beam_area_pixels, measure_ellipse
from decoras_gui.paths import resources_dir
from tests.conftest import sky_header

ANGLES = ("theta_img", "pa", "pa_deconv")


def _reference_measure_ellipse(image: SkyImage, x: float, y: float, maj_img: float, min_img: float,
                    theta_img: float) -> dict[str, Any]:
    """The catalogue values of the source inside this pixel ellipse (a dict for ``Source.replace``)."""
    from photutils.aperture import EllipticalAperture, aperture_photometry

    maj_img, min_img = float(abs(maj_img)), float(abs(min_img))
    theta_img = float(theta_img)
    if min_img > maj_img:  # keep maj >= min; the major axis turns by 90 degrees
        maj_img, min_img, theta_img = min_img, maj_img, theta_img + 90.0
    theta_img = (theta_img + 90.0) % 180.0 - 90.0
    maj_img, min_img = max(maj_img, MIN_AXIS_PIX), max(min_img, MIN_AXIS_PIX)
    x, y = float(x), float(y)
    data = np.asarray(image.data, dtype=np.float64)
    aperture = EllipticalAperture((x, y), a=0.5 * maj_img, b=0.5 * min_img, theta=math.radians(theta_img))
    finite = np.isfinite(data)
    table = aperture_photometry(np.where(finite, data, 0.0), aperture, mask=~finite, method="exact")
    aperture_sum = float(table["aperture_sum"][0])
    mask = aperture.to_mask(method="center")
    cut = mask.get_values(data)
    cut = cut[np.isfinite(cut)] if cut is not None and len(cut) else np.array([])
    n_pix = float(mask.get_values(np.ones_like(data)).sum()) if cut.size else 0.0
    peak = float(cut.max()) if cut.size else math.nan
    if not cut.size:  # a tiny ellipse between pixel centres: the nearest pixel
        ix, iy = int(round(x)), int(round(y))
        if 0 <= iy < data.shape[0] and 0 <= ix < data.shape[1] and finite[iy, ix]:
            peak, n_pix = float(data[iy, ix]), 1.0
    beam_area = beam_area_pixels(image)
    if _is_per_beam(image) and beam_area:
        total = aperture_sum / beam_area
    else:
        total = aperture_sum
    rms = float(image.rms) if math.isfinite(image.rms) else math.nan
    out: dict[str, Any] = {
        "x": x, "y": y, "maj_img": maj_img, "min_img": min_img, "theta_img": theta_img,
        "peak_flux": peak, "total_flux": total, "local_rms": rms,
        "snr": peak / rms if rms > 0 and math.isfinite(peak) else math.nan,
        "peak_flux_err": rms,
        "total_flux_err": (rms * math.sqrt(max(n_pix, 1.0) / beam_area) if beam_area and rms > 0
                           else rms * math.sqrt(max(n_pix, 1.0))),
        "ra": math.nan, "dec": math.nan, "ra_err": math.nan, "dec_err": math.nan,
        "maj": math.nan, "min": math.nan, "pa": math.nan, "maj_deconv": math.nan, "min_deconv": math.nan,
        "pa_deconv": math.nan, "r_eff": math.nan,
    }
    wcs = image.wcs
    scale = image.pixel_scale_deg
    if wcs is not None and scale:
        sky = wcs.pixel_to_world(x, y)
        sph = sky.spherical
        arcsec = scale * 3600.0
        maj, mn = maj_img * arcsec, min_img * arcsec
        pa = pa_from_pixel_angle(wcs, x, y, theta_img)
        out.update(ra=float(sph.lon.deg) % 360.0, dec=float(sph.lat.deg), maj=maj, min=mn, pa=pa,
                   r_eff=0.5 * math.sqrt(maj * mn))
        if image.beam is not None:
            b = image.beam
            dmaj, dmin, dpa = deconvolve(maj, mn, pa, b.major_arcsec, b.minor_arcsec, b.pa)
            out.update(maj_deconv=dmaj, min_deconv=dmin, pa_deconv=dpa)
            beam_geo = math.sqrt(b.major_arcsec * b.minor_arcsec)
            err = condon_errors(peak, rms, maj, mn, beam_geo)
            if math.isfinite(err["x_major"]):
                p = math.radians(pa)
                out["ra_err"] = math.hypot(err["x_major"] * math.sin(p), err["x_minor"] * math.cos(p))
                out["dec_err"] = math.hypot(err["x_major"] * math.cos(p), err["x_minor"] * math.sin(p))
                out["peak_flux_err"] = err["peak"]
    return out


def _random_ellipses(shape: tuple[int, int], n: int, seed: int):
    """Centres across and beyond the image (a fifth of a side past each edge), axes from
    0.05 to 80 pixels (log-uniform, in either order), any angle; plus a few fixed cases."""
    rng = np.random.default_rng(seed)
    ny, nx = shape
    out = [(0.0, 0.0, 0.1, 0.1, 0.0), (nx - 1.0, ny - 1.0, 3.0, 1.0, 45.0), (10.5, 10.5, 0.3, 0.2, 10.0),
           (-3.0, ny / 2, 10.0, 4.0, 90.0), (nx + 50.0, ny + 50.0, 5.0, 5.0, 0.0), (nx / 2, ny / 2, 2 * nx, nx, 30.0)]
    for _ in range(n):
        x, y = rng.uniform(-0.2 * nx, 1.2 * nx), rng.uniform(-0.2 * ny, 1.2 * ny)
        a, b = np.exp(rng.uniform(math.log(0.05), math.log(80.0), 2))
        out.append((x, y, a, b, rng.uniform(-360.0, 360.0)))
    return out


def _assert_same(new: dict[str, Any], old: dict[str, Any], where) -> None:
    assert new.keys() == old.keys(), where
    for key, want in old.items():
        got = new[key]
        if isinstance(want, float) and math.isnan(want):
            assert math.isnan(got), (where, key, got)
        elif key in ANGLES:
            assert abs((got - want + 90.0) % 180.0 - 90.0) <= 1e-6, (where, key, got, want)
        else:
            assert got == pytest.approx(want, rel=1e-9, abs=1e-300), (where, key, got, want)


def _compare(image: SkyImage, n: int, seed: int) -> int:
    measured = 0
    for ellipse in _random_ellipses(image.shape, n, seed):
        old = _reference_measure_ellipse(image, *ellipse)
        _assert_same(measure_ellipse(image, *ellipse), old, (image.name, ellipse))
        measured += math.isfinite(old["peak_flux"])
    return measured


def test_same_values_as_before_on_the_sample():
    image = load_fits(resources_dir() / "sample_vlba_dirty.fits")
    assert _compare(image, 300, 1) > 150  # most on the image; the others off it


def test_same_values_as_before_on_observed_images(real_data):
    paths = sorted(real_data.glob("*.fits"))
    assert paths
    for i, path in enumerate(paths):
        image = load_fits(path)
        assert _compare(image, 80, 10 + i) > 30, path.name


def test_same_values_as_before_on_blanked_pixels(tmp_path):
    sample = fits.getdata(resources_dir() / "sample_vlba_dirty.fits").squeeze().astype(np.float32)
    rng = np.random.default_rng(7)
    sample[rng.random(sample.shape) < 0.05] = np.nan  # scattered blanks
    sample[100:160, 60:130] = np.nan  # a blanked block
    sample[20, 20] = np.inf
    header = fits.getheader(resources_dir() / "sample_vlba_dirty.fits")
    path = tmp_path / "blanked.fits"
    fits.PrimaryHDU(sample.reshape(fits.getdata(resources_dir() / "sample_vlba_dirty.fits").shape),
                    header).writeto(path)
    image = load_fits(path)
    assert np.isnan(image.data).sum() > 4000
    _compare(image, 300, 2)
    inside_blank = measure_ellipse(image, 95.0, 130.0, 10.0, 6.0, 0.0)  # wholly on blanked pixels
    assert math.isnan(inside_blank["peak_flux"]) and inside_blank["total_flux"] == 0.0


def test_one_measurement_on_a_memory_mapped_8192_image_reads_only_its_box(tmp_path):
    n = 8192
    h = sky_header(n, n)
    h["BMAJ"], h["BMIN"], h["BPA"] = 6 * 2.7777778e-7, 3 * 2.7777778e-7, 0.0
    h.insert(0, ("SIMPLE", True))
    h.insert(1, ("BITPIX", -32))
    h.insert(2, ("NAXIS", 2))
    h.insert(3, ("NAXIS1", n))
    h.insert(4, ("NAXIS2", n))
    path = tmp_path / "big.fits"
    stream = fits.StreamingHDU(path, h)
    rows = np.random.default_rng(5).normal(0.0, 1e-3, (512, n)).astype(np.float32)
    for _ in range(n // 512):
        stream.write(rows)
    stream.close()
    image = load_fits(path)
    assert image.memory_mapped and image.shape == (n, n)
    assert image.rms > 0 and image.pixel_scale_deg  # computed (and cached) before measuring
    image_bytes = n * n * 4
    measure_ellipse(image, 10.0, 10.0, 3.0, 2.0, 0.0)  # the first call imports photutils and astropy parts
    for ellipse in ((4100.3, 4000.7, 40.0, 20.0, 30.0), (3.0, n - 5.0, 25.0, 12.0, -60.0)):
        tracemalloc.start()
        try:
            m = measure_ellipse(image, *ellipse)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert math.isfinite(m["peak_flux"]) and math.isfinite(m["ra"])
        assert peak < image_bytes / 64, f"{peak / 2**20:.1f} MiB traced for a {image_bytes / 2**20:.0f} MiB image"
