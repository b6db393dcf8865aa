"""`decoras detect` and `decoras simulate` end to end, with the bundled model."""

from __future__ import annotations

import filecmp

import numpy as np
import pytest
from astropy.table import Table
from regions import Regions

from decoras_gui.cli import main
from decoras_gui.paths import resources_dir

SAMPLE = resources_dir() / "sample_vlba_dirty.fits"


def test_detect_one_image(tmp_path, capsys):
    cat, reg = tmp_path / "out.ecsv", tmp_path / "out.reg"
    assert main(["detect", str(SAMPLE), "--catalog", str(cat), "--regions", str(reg), "--device", "cpu"]) == 0
    crtf = tmp_path / "out.crtf"  # CASA region text, told by the extension
    srl = tmp_path / "out_srl.fits"  # and a PyBDSF source list with LoTSS-DR1 column names
    assert main(["detect", str(SAMPLE), "--regions", str(crtf), "--catalog", str(srl), "--layout", "srl",
                 "--flux-scale-error", "0.1", "--device", "cpu"]) == 0
    lotss = Table.read(srl)
    assert lotss.colnames[:3] == ["Source_Name", "RA", "E_RA"] and lotss["Peak_flux"].unit == "mJy / beam"
    assert np.allclose(np.sort(lotss["Peak_flux"]), np.sort(1e3 * Table.read(cat)["peak_flux"]))
    assert crtf.read_text().startswith("#CRTF")
    assert len(Regions.read(crtf, format="crtf")) == len(Regions.read(reg, format="ds9"))
    table = Table.read(cat)
    assert len(table) >= 3
    for col, unit in (("ra", "deg"), ("dec", "deg"), ("peak_flux", "Jy / beam"), ("total_flux", "Jy"),
                      ("maj", "arcsec"), ("min", "arcsec"), ("pa", "deg")):
        assert table[col].unit.to_string() == unit
    assert {"snr", "det_prob"} <= set(table.colnames)
    assert len(Regions.read(reg, format="ds9")) == len(table)
    truth = Table.read(resources_dir() / "sample_vlba_dirty_truth.ecsv")
    bright = truth[truth["snr"] > 8]
    for row in bright:  # every bright true component has a detection within 2 mas
        d = np.hypot(table["x"] - row["x"], table["y"] - row["y"])
        assert d.min() < 2.0
    assert "sources" in capsys.readouterr().out


def test_detect_batch_skips_a_bad_image(tmp_path, capsys):
    bad = tmp_path / "broken.fits"
    bad.write_text("not a FITS file")
    out = tmp_path / "out"
    code = main(["detect", str(SAMPLE), str(bad), str(SAMPLE.parent / "sample_vlba_dirty_beam.fits"),
                 "--out-dir", str(out), "--device", "cpu"])
    assert code == 2
    err = capsys.readouterr().err
    assert "broken.fits" in err and "1 of 3 images failed" in err
    assert (out / "sample_vlba_dirty.ecsv").is_file() and (out / "sample_vlba_dirty.reg").is_file()
    assert (out / "sample_vlba_dirty_beam.ecsv").is_file()


def test_detect_usage_errors(tmp_path, capsys):
    assert main(["detect", str(SAMPLE), str(SAMPLE)]) == 2
    assert "--out-dir" in capsys.readouterr().err
    assert main(["detect", str(SAMPLE)]) == 2
    assert main(["detect", str(SAMPLE), "--catalog", str(tmp_path / "x.ecsv"), "--model", "nope"]) == 2
    assert "no model card for 'nope'" in capsys.readouterr().err


def test_simulate_is_deterministic(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    for out, seed in ((a, 5), (b, 5), (c, 6)):
        assert main(["simulate", "--n-fields", "2", "--seed", str(seed), "--size", "64", "--out", str(out)]) == 0
    names = sorted(p.name for p in a.iterdir())
    assert len(names) == 6
    assert all(filecmp.cmp(a / n, b / n, shallow=False) for n in names)
    assert not filecmp.cmp(a / "field_00000.fits", c / "field_00000.fits", shallow=False)
    assert main(["info", str(a / "field_00000.fits")]) == 0


def test_evaluate_runs_and_refuses_training_seeds(tmp_path, capsys):
    from decoras_gui.ml.registry import load_model

    data_seed = load_model().card.training["config"]["data_seed"]
    assert main(["evaluate", "--seed", str(data_seed), "--n-fields", "1"]) == 2
    assert "was used to train" in capsys.readouterr().err
    out = tmp_path / "eval.json"
    assert main(["evaluate", "--seed", "987654", "--n-fields", "3", "--device", "cpu", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "completeness, true SNR" in text and "photutils-5sigma" in text
    assert out.is_file()


@pytest.mark.parametrize("argv", [["train", "--config", "missing.toml"]])
def test_train_reports_missing_config(argv, capsys):
    assert main(argv) == 2
    assert "missing.toml" in capsys.readouterr().err


def test_simulate_field_mix_options(tmp_path):
    """--empty-fraction, --max-sources, --dec and --like-model shape the test sets benchmarks need."""
    from astropy.io import fits
    from astropy.table import Table

    empty, crowded, like = tmp_path / "empty", tmp_path / "crowded", tmp_path / "like"
    assert main(["simulate", "--n-fields", "2", "--seed", "3", "--size", "128", "--out", str(empty),
                 "--empty-fraction", "1"]) == 0
    assert all(len(Table.read(p, format="ascii.ecsv")) == 0 for p in empty.glob("*_truth.ecsv"))
    assert main(["simulate", "--n-fields", "3", "--seed", "3", "--size", "256", "--out", str(crowded),
                 "--max-sources", "12", "--empty-fraction", "0", "--dec", "45"]) == 0
    truths = [Table.read(p, format="ascii.ecsv") for p in sorted(crowded.glob("*_truth.ecsv"))]
    assert max(len(set(t["group"])) for t in truths) > 5  # more sources than the default allows
    assert all(abs(t.meta["dec_deg"] - 45.0) < 1e-9 for t in truths)
    assert main(["simulate", "--n-fields", "1", "--seed", "3", "--size", "128", "--out", str(like),
                 "--like-model", "vlba-l-band", "--schedule", "random"]) == 0
    history = " ".join(str(h) for h in fits.getheader(like / "field_00000.fits")["HISTORY"])
    # the model's training families (drawn schedules, smearing, gains), not the simulator's defaults
    assert "smearing: channel" in history and "gridder=nearest" in history and "gain=0," not in history


def test_detect_on_every_plane_of_a_cube(tmp_path, capsys):
    from tests.core.test_cube import SOURCES, write_cube

    cube = tmp_path / "cube.fits"
    freqs = write_cube(cube, n_planes=5, size=128)
    cat, spectra = tmp_path / "cube.ecsv", tmp_path / "spectra.fits"
    assert main(["detect", str(cube), "--planes", "all", "--catalog", str(cat), "--spectra", str(spectra),
                 "--device", "cpu"]) == 0
    t = Table.read(cat)
    assert sorted(set(t["plane"])) == [0, 1, 2, 3, 4] and t["freq"].unit == "Hz"
    assert np.allclose(sorted(set(t["freq"])), freqs)
    for row in t[t["plane"] == 2]:  # each power law recovered at each detection
        x, y, s0, alpha = min(SOURCES, key=lambda s: np.hypot(s[0] - row["x"], s[1] - row["y"]))
        assert abs(row["spectral_index"] - alpha) < 0.1
    long = Table.read(spectra)
    assert len(long) == 5 * len(t) and {"source_id", "plane", "freq", "flux", "flux_err"} <= set(long.colnames)
    assert "spectral index fitted" in capsys.readouterr().err
    assert main(["detect", str(cube), "--planes", "7", "--catalog", str(cat), "--device", "cpu"]) == 2
    assert "outside the cube's 5 planes" in capsys.readouterr().err
    assert main(["detect", str(SAMPLE), "--planes", "all", "--catalog", str(cat), "--device", "cpu"]) == 2
    assert "single plane" in capsys.readouterr().err
