"""Cubes (core/cube): detection on every plane of a real 4-D FITS FREQ cube, spectra and spectral
indices of power-law sources, plane parsing, and reading one plane at a time."""

from __future__ import annotations

import math
import resource
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from astropy.io import fits

from decoras_gui.core.catalogue import Catalogue
from decoras_gui.core.cube import cube_axis, detect_cube, fit_spectral_index, measure_spectra, parse_planes
from decoras_gui.core.errors import DecorasError
from decoras_gui.core.image import load_fits, load_plane
from decoras_gui.eval.baseline import photutils_baseline
from tests.conftest import sky_header

NU0 = 1.4e9
#: (x, y, flux at NU0 in Jy, spectral index): a steep-spectrum, a flat and an inverted source
SOURCES = [(40.0, 50.0, 0.02, -0.7), (90.0, 80.0, 0.015, 0.0), (60.0, 100.0, 0.01, 1.0)]


def write_cube(path, n_planes: int = 8, size: int = 128, noise: float = 2e-4, sources=SOURCES, seed: int = 2):
    """A 4-D (RA, DEC, FREQ, STOKES) cube, 1-2 GHz, 5-pixel beam, power-law point sources."""
    h = sky_header(size, size, naxis=4, scale_deg=1 / 3600)
    h["CRVAL3"], h["CDELT3"], h["CRPIX3"], h["CUNIT3"] = 1.0e9, 1.0e9 / (n_planes - 1), 1.0, "Hz"
    h["BMAJ"] = h["BMIN"] = 5 / 3600
    h["BPA"] = 0.0
    rng = np.random.default_rng(seed)
    freqs = 1.0e9 + np.arange(n_planes) * h["CDELT3"]
    sigma = 5 / 2.3548
    yy, xx = np.mgrid[:size, :size]
    data = rng.normal(0, noise, (1, n_planes, size, size)).astype(np.float32)
    for x, y, s0, alpha in sources:
        blob = np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * sigma**2))
        for k, nu in enumerate(freqs):
            data[0, k] += (s0 * (nu / NU0) ** alpha * blob).astype(np.float32)
    fits.PrimaryHDU(data, h).writeto(path, overwrite=True)
    return freqs


@pytest.fixture
def cube(tmp_path):
    path = tmp_path / "cube.fits"
    freqs = write_cube(path)
    return load_fits(path), freqs


def test_the_freq_axis_is_the_cube_axis(cube):
    image, freqs = cube
    axis = cube_axis(image)
    assert axis.name == "FREQ" and axis.length == 8 and axis.is_frequency
    assert axis.values == pytest.approx(freqs)
    assert axis.label(2) == f"{freqs[2] / 1e9:.4f} GHz (plane 2 of 0–7)"
    plane5 = load_plane(image, (5,))
    assert plane5.plane == (5,) and plane5.memory_mapped and plane5.wcs is image.wcs
    assert plane5.data[50, 40] > image.data[50, 40] * 0.5  # the steep source fades with frequency
    assert plane5.data[50, 40] < image.data[50, 40]
    assert cube_axis(load_fits(_flat(image))) is None


def _flat(image):
    path = image.path.with_name("flat.fits")
    fits.PrimaryHDU(np.asarray(image.data), sky_header(128, 128, scale_deg=1 / 3600)).writeto(path)
    return path


def test_parse_planes():
    assert parse_planes("all", 4) == [0, 1, 2, 3]
    assert parse_planes("2:", 4) == [2, 3] and parse_planes("1:3", 8) == [1, 2]
    assert parse_planes("0, 3,3,1", 8) == [0, 1, 3]
    with pytest.raises(DecorasError, match="outside"):
        parse_planes("9", 8)
    with pytest.raises(DecorasError, match="cannot read"):
        parse_planes("a-b", 8)


def test_detect_every_plane_and_fit_spectral_indices(cube):
    image, freqs = cube
    seen = []
    cat = detect_cube(image, range(8), lambda plane: photutils_baseline(plane, nsigma=6.0),
                      progress=lambda f, m: seen.append(m))
    assert seen[0] == "detection: plane 0 of 0–7" and "8 planes" in seen[-1]
    assert sorted({s.plane for s in cat}) == list(range(8))
    per_plane = [sum(s.plane == k for s in cat) for k in range(8)]
    assert all(n == 3 for n in per_plane), per_plane
    assert all(s.freq == pytest.approx(freqs[s.plane]) for s in cat)
    assert [s.source_id for s in cat] == list(range(1, len(cat) + 1))
    assert cat.meta["cube_axis"] == "FREQ"
    # spectra measured at the plane-0 detections' positions, on every plane
    first = Catalogue([s for s in cat if s.plane == 0])
    out, spectra = measure_spectra(first, image)
    assert spectra.flux.shape == (3, 8) and np.all(spectra.error > 0)
    for s in out:
        x, y, s0, alpha = min(SOURCES, key=lambda t: math.hypot(t[0] - s.x, t[1] - s.y))
        assert s.spectral_index == pytest.approx(alpha, abs=max(0.1, 4 * s.spectral_index_err)), (s.x, s.y)
        assert 0 < s.spectral_index_err < 0.1
        flux, _ = spectra.of(s.source_id)
        assert flux[3] == pytest.approx(s0 * (freqs[3] / NU0) ** alpha, rel=0.1)  # peak = flux of a point source
    table = spectra.to_table()
    assert len(table) == 24 and table["freq"].unit == "Hz" and str(table["flux"].unit) == "Jy / beam"


def test_power_law_fit_and_its_error():
    nu = np.linspace(1e9, 2e9, 10)
    s = 0.01 * (nu / 1.4e9) ** -0.8
    alpha, err = fit_spectral_index(nu, s, np.full(10, 1e-4))
    assert alpha == pytest.approx(-0.8, abs=1e-9) and 0 < err < 0.05
    assert math.isnan(fit_spectral_index(nu[:1], s[:1], np.full(1, 1e-4))[0])  # one plane: no index
    faint = fit_spectral_index(nu, s, np.full(10, 0.1))  # nothing above 3 sigma
    assert math.isnan(faint[0]) and math.isnan(faint[1])


def test_a_cube_is_read_one_plane_at_a_time(tmp_path):
    """Spectra of a 32-plane 1024 x 1024 cube (128 MB) in a child process whose resident memory
    never holds more than a few planes: the cube is memory-mapped and read plane by plane."""
    path = tmp_path / "big_cube.fits"
    n, size = 32, 1024
    h = sky_header(size, size, naxis=4, scale_deg=1 / 3600)
    h["CDELT3"] = 1e7
    h["BMAJ"] = h["BMIN"] = 5 / 3600
    h["BPA"] = 0.0
    hdu = fits.PrimaryHDU(header=h)  # written plane by plane: the test itself never holds the cube
    hdu.header["NAXIS"], hdu.header["BITPIX"] = 4, -32
    for i, v in enumerate((size, size, n, 1), start=1):
        hdu.header[f"NAXIS{i}"] = v
    hdu.header.tofile(path)
    rng = np.random.default_rng(0)
    with open(path, "ab") as fh:
        for _ in range(n):
            plane = rng.normal(0, 1e-3, (size, size)).astype(">f4")
            plane[500:505, 500:505] += 0.05
            fh.write(plane.tobytes())
        pad = (2880 - fh.tell() % 2880) % 2880
        fh.write(b"\0" * pad)
    child = textwrap.dedent(f"""
        import resource, sys
        from decoras_gui.core.catalogue import Catalogue, Source
        from decoras_gui.core.cube import measure_spectra
        from decoras_gui.core.image import load_fits
        image = load_fits({str(path)!r})
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        cat, spectra = measure_spectra(Catalogue([Source(x=502.0, y=502.0)]), image)
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(spectra.flux.shape[1], (after - before) / 1024.0, spectra.flux[0].min())
    """)
    r = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    planes, grew_mb, faintest = r.stdout.split()
    cube_mb = n * size * size * 4 / 2**20
    assert int(planes) == n and float(faintest) > 0.02
    assert float(grew_mb) < cube_mb / 4, f"resident memory grew {grew_mb} MB for a {cube_mb:.0f} MB cube"
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0 < 8 * 1024
