"""`decoras deblend` end to end on simulated VST cutouts, with the bundled model."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table

from decoras_gui.cli import main
from decoras_gui.sim.blend_files import write_blend
from decoras_gui.sim.blends import BlendConfig, simulate_blend


def _bright_wide_pair(variety: str = "wide"):
    """A blend of two bright galaxies about two PSF FWHM apart (an easy, unambiguous case)."""
    for i in range(200):
        f = simulate_blend((61, i), BlendConfig(variety=variety))
        if 1.8 < f.separation_fwhm < 2.8 and f.flux_ratio < 3 and max(g.mag for g in f.galaxies) < 22.0:
            return f
    raise AssertionError("no bright, well separated pair in 200 seeds")


@pytest.fixture(scope="module")
def blend(tmp_path_factory):
    f = _bright_wide_pair()
    paths = write_blend(f, tmp_path_factory.mktemp("blend"), "pair", ra_deg=180.0, dec_deg=-1.0)
    return f, paths


def test_deblend_at_a_sky_position_writes_components_and_photometry(blend, tmp_path, capsys):
    f, paths = blend
    truth = Table.read(paths["truth"])
    at = f"{truth['ra'][0]:.6f},{truth['dec'][0]:.6f}"
    assert main(["deblend", str(paths["image"]), "--at", at, "--out", str(tmp_path), "--device", "cpu"]) == 0
    err = capsys.readouterr().err
    assert "1 split in two" in err and "MAGZP" in err and "PSF_FWHM" in err
    with fits.open(tmp_path / "pair_blend1.fits") as hdul:
        assert [h.name for h in hdul] == ["PRIMARY", "GALAXY1", "GALAXY2", "RESIDUAL"]
        cutout, g1, g2, resid = (np.asarray(h.data, float) for h in hdul)
        assert hdul["GALAXY1"].header["CTYPE1"] == "RA---TAN"
    assert np.allclose(cutout - g1 - g2, resid, atol=1e-3 * np.abs(cutout).max())
    assert 0.8 < resid.std() / f.noise_sigma < 1.3  # what is left is the noise
    cat = Table.read(tmp_path / "pair_deblend.ecsv")
    assert len(cat) == 2 and set(cat["galaxy"]) == {1, 2} and all(cat["significant"])
    for row in truth:  # each true galaxy has its own, at its place, with its magnitude
        d = np.hypot(cat["x"] - row["x"], cat["y"] - row["y"])
        k = int(np.argmin(d))
        assert d[k] < 1.5
        true_mag = 30.0 - 2.5 * np.log10(row["flux"])
        assert abs(cat["mag"][k] - true_mag) < 0.15
        assert abs(cat["ra"][k] - row["ra"]) * 3600 * np.cos(np.radians(row["dec"])) < 0.4


def test_deblend_a_catalogue_of_blends_and_a_zero_point_given(blend, tmp_path):
    f, paths = blend
    inp = tmp_path / "in.csv"
    Table({"x_image": [f.galaxies[0].x, f.galaxies[1].x], "y_image": [f.galaxies[0].y, f.galaxies[1].y]}).write(inp)
    out = tmp_path / "out"
    assert main(["deblend", str(paths["image"]), "--catalog", str(inp), "--out", str(out), "--zero-point", "31",
                 "--format", "csv", "--device", "cpu"]) == 0
    cat = Table.read(out / "pair_deblend.csv")
    assert len(cat) == 4 and sorted(set(cat["blend"])) == [1, 2]
    assert (out / "pair_blend2.fits").is_file()
    flux = np.asarray(cat["flux"], float)
    assert np.allclose(cat["mag"], 31.0 - 2.5 * np.log10(flux), atol=2e-4)  # 4 decimals written


def test_no_psf_fwhm_anywhere_is_a_clear_error(blend, tmp_path, capsys):
    f, paths = blend
    with fits.open(paths["image"]) as hdul:
        h = hdul[0].header.copy()
        data = hdul[0].data.copy()
    for key in ("PSF_FWHM", "SEEING"):
        del h[key]
    bare = tmp_path / "bare.fits"
    fits.PrimaryHDU(data, h).writeto(bare)
    assert main(["deblend", str(bare), "--pixel", "31.5,31.5", "--out", str(tmp_path / "o")]) != 0
    err = capsys.readouterr().err
    assert "bare.fits" in err and "PSF" in err and "Traceback" not in err
    # the FWHM given by hand (or the PSF image) makes it work
    assert main(["deblend", str(bare), "--pixel", "31.5,31.5", "--out", str(tmp_path / "o"),
                 "--psf", str(paths["psf"]), "--device", "cpu"]) == 0
    assert "the PSF image" in capsys.readouterr().err


def test_positions_off_the_image_and_bad_catalogues_are_refused(blend, tmp_path, capsys):
    _f, paths = blend
    assert main(["deblend", str(paths["image"]), "--pixel", "500,500", "--out", str(tmp_path)]) != 0
    assert "outside the image" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    Table({"name": ["a"], "mag": [20.0]}).write(bad)
    assert main(["deblend", str(paths["image"]), "--catalog", str(bad), "--out", str(tmp_path)]) != 0
    assert "no RA/Dec" in capsys.readouterr().err
    assert main(["deblend", str(paths["image"]), "--at", "nowhere", "--out", str(tmp_path)]) != 0
    assert "RA,DEC" in capsys.readouterr().err
