"""`decoras info` on the kinds of file astronomers have, and clean failures on bad ones."""

from __future__ import annotations

import gzip
import shutil
import subprocess
import sys

import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table

from decoras_gui.cli import main
from tests.conftest import sky_header


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(5)
    data = rng.normal(0, 1e-3, (64, 64)).astype(np.float32)
    out = {}
    h2 = sky_header()
    h2["BMAJ"], h2["BMIN"], h2["BPA"] = 16e-3 / 3600, 6e-3 / 3600, 10.0
    out["2d"] = tmp_path / "two_d.fits"
    fits.PrimaryHDU(data, h2).writeto(out["2d"])
    h4 = sky_header(naxis=4)
    h4.add_history("AIPS   CLEAN BMAJ=  4.4444E-06 BMIN=  1.6667E-06 BPA=  -3.00")
    out["aips"] = tmp_path / "aips4d.fits"
    fits.PrimaryHDU(data[None, None], h4).writeto(out["aips"])
    out["gz"] = tmp_path / "img.fits.gz"
    with open(out["2d"], "rb") as src, gzip.open(out["gz"], "wb") as dst:
        shutil.copyfileobj(src, dst)
    out["fz"] = tmp_path / "img.fz"
    fits.HDUList([fits.PrimaryHDU(), fits.CompImageHDU(data, h2)]).writeto(out["fz"])
    ints = fits.PrimaryHDU((data * 1e4).astype(np.int16), h2)
    ints.header["BLANK"] = -32768
    ints.header["BSCALE"] = 1e-4
    out["int"] = tmp_path / "int.fits"
    ints.writeto(out["int"])
    out["nowcs"] = tmp_path / "nowcs.fits"
    fits.PrimaryHDU(data).writeto(out["nowcs"])
    out["truncated"] = tmp_path / "truncated.fits"
    out["truncated"].write_bytes(out["2d"].read_bytes()[:6000])
    out["text"] = tmp_path / "readme.fits"
    out["text"].write_text("SIMPLE? no, just some notes about an observation\n" * 20)
    out["table"] = tmp_path / "table.fits"
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU(Table({"ra": [1.0], "dec": [2.0]}))]).writeto(out["table"])
    return out


@pytest.mark.parametrize("kind, beam", [("2d", "16 x 6 mas"), ("aips", "16 x 6 mas"), ("gz", "16 x 6 mas"),
                                        ("fz", "16 x 6 mas"), ("int", "16 x 6 mas"), ("nowcs", None)])
def test_info_reads(files, kind, beam, capsys):
    assert main(["info", str(files[kind])]) == 0
    out = capsys.readouterr().out
    assert str(files[kind]) in out
    if beam:
        assert f"beam:        {beam}" in out
    else:
        assert "WCS:         none" in out and "beam:        unknown" in out


@pytest.mark.parametrize("kind", ["truncated", "text", "table"])
def test_info_fails_cleanly(files, kind, capsys):
    assert main(["info", str(files[kind])]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and str(files[kind]) in err[0] and "Traceback" not in captured.err


def test_console_script_exit_code(files):
    proc = subprocess.run([sys.executable, "-m", "decoras_gui", "info", str(files["text"])],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "readme.fits" in proc.stderr


REAL_BEAMS = {
    "evn_L_4C39.25_n05l1_ICLN.fits": "17.27 x 12.71 mas",
    "vlba_X_NGC1052_2017-04-04_map.fits": "2.3 x 0.9949 mas",
    "nvss_postage_stamp_aips.fits": '(45" x 45")',
    "atca_phoenix_deep_1.4GHz_sub.fits": '(12" x 6")',
    "nvas_vla_K_W51.fits": '(8.551" x 2.792")',
}


@pytest.mark.parametrize("name", sorted(REAL_BEAMS))
def test_info_on_observed_images(real_data, name, capsys):
    assert main(["info", str(real_data / name)]) == 0
    out = capsys.readouterr().out
    assert REAL_BEAMS[name] in out


def test_a_reader_that_leaves_early_gets_no_traceback(files):
    """`decoras info FILE | head -1`: the pipe closes before everything is written."""
    proc = subprocess.Popen([sys.executable, "-m", "decoras_gui", "info", str(files["2d"])],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before the first line
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141 and "Traceback" not in err and "BrokenPipe" not in err, err
