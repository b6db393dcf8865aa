"""`decoras detect`'s start-up and its networks' worker process (issue 15's speed targets).

No timing here: the command line must be read without importing the heavy libraries, the
networks run in a worker process (ml/network_worker) whose catalogues are those of one process,
batch mode hands the worker each next image ahead (prefetch) with exactly the arguments the
pipeline then asks for, and a worker that cannot load the model or dies is a one-line error.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import numpy as np
import pytest
from astropy.table import Table

from decoras_gui.cli import main
from decoras_gui.paths import resources_dir

SAMPLE = resources_dir() / "sample_vlba_dirty.fits"
HEAVY = ("numpy", "scipy", "astropy", "torch", "photutils", "skimage", "matplotlib", "regions", "PySide6",
         "pyqtgraph", "shiboken6")


def _imported_after(code: str) -> list[str]:
    """The heavy top-level packages a fresh interpreter has imported after running ``code``."""
    probe = f"import json, sys\n{code}\nprint(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    return [m for m in json.loads(out.stdout.strip().splitlines()[-1]) if m in HEAVY]


def test_reading_the_detect_command_line_imports_nothing_heavy():
    code = ("import decoras_gui.commands.detect\nfrom decoras_gui.cli import build_parser\n"
            "args = build_parser().parse_args(['detect', 'a.fits', '--catalog', 'b.ecsv', '--timing'])\n"
            "assert args.timing and args.images == ['a.fits']")
    assert _imported_after(code) == []


def test_the_top_level_help_imports_nothing_heavy():
    code = ("from decoras_gui.cli import build_parser\nimport contextlib, io\n"
            "with contextlib.redirect_stdout(io.StringIO()) as out, contextlib.suppress(SystemExit):\n"
            "    build_parser().parse_args(['--help'])\nassert 'detect' in out.getvalue()")
    assert _imported_after(code) == []


def test_each_command_still_has_its_options(capsys):
    """Options are added when a sub-command is used (cli._LazyParser): its help shows them."""
    for command, option in (("detect", "--drop-sidelobes"), ("export", "--statuses"), ("info", "--hdu")):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        assert option in capsys.readouterr().out


def _run_and_report_torch(argv: list[str], env: dict) -> dict:
    """``decoras ARGV`` in a fresh process; its exit code and whether it imported torch itself."""
    code = ("import json, sys\nfrom decoras_gui.cli import main\n"
            f"code = main({argv!r})\nprint(json.dumps({{'code': code, 'torch': 'torch' in sys.modules}}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    report["stderr"] = out.stderr  # said on failure, not compared
    return report


def _same_tables(a, b) -> None:
    ta, tb = Table.read(a), Table.read(b)
    assert ta.colnames == tb.colnames and len(ta) == len(tb) > 0
    for name in ta.colnames:
        x, y = np.asarray(ta[name]), np.asarray(tb[name])
        if x.dtype.kind == "f":
            assert np.array_equal(x, y, equal_nan=True), name
        else:
            assert np.array_equal(x, y), name


def test_the_worker_gives_the_catalogue_of_one_process(tmp_path, monkeypatch):
    """A fresh `decoras detect` runs its networks in the worker and never imports torch itself;
    its catalogue and regions are those of the networks run in one process."""
    import os

    env = {**os.environ, "DECORAS_NETWORK_WORKER": ""}  # the default choice: a fresh process has no torch
    split = _run_and_report_torch(["detect", str(SAMPLE), "--catalog", str(tmp_path / "w.ecsv"), "--regions",
                                   str(tmp_path / "w.reg"), "--device", "cpu"], env)
    assert {k: split[k] for k in ("code", "torch")} == {"code": 0, "torch": False}, split["stderr"][-3000:]
    monkeypatch.setenv("DECORAS_NETWORK_WORKER", "0")
    assert main(["detect", str(SAMPLE), "--catalog", str(tmp_path / "p.ecsv"), "--regions", str(tmp_path / "p.reg"),
                 "--device", "cpu"]) == 0
    _same_tables(tmp_path / "w.ecsv", tmp_path / "p.ecsv")
    from regions import Regions

    assert len(Regions.read(tmp_path / "w.reg", format="ds9")) == len(Regions.read(tmp_path / "p.reg", format="ds9"))


def test_batch_mode_hands_each_image_to_the_worker_ahead(tmp_path):
    """The command prefetches each image with the arguments the pipeline then runs the networks
    with (else the worker would compute every image twice), and the maps are bit for bit those
    of run_networks in this process."""
    from decoras_gui.commands.detect import _load
    from decoras_gui.ml.inference import run_networks
    from decoras_gui.ml.network_worker import NetworkWorker, RemoteModel
    from decoras_gui.ml.registry import load_model
    from decoras_gui.ml.tasks import get_task

    refactor = SAMPLE.parents[1] / "tests" / "data" / "refactor"
    paths = [SAMPLE, refactor / "sim_field_0.fits"]
    args = argparse.Namespace(psf=None, device="cpu")
    task, local = get_task("detect"), load_model(task="detect")
    with NetworkWorker("vlba-l-band", task="detect") as worker:
        remote = RemoteModel(worker)
        loaded = [_load(args, p, remote) for p in paths]  # both handed over before the first is measured
        assert worker.requests == 2 and loaded[0].psf is not None  # the sample's dirty beam is beside it
        for item in loaded:
            out = task.run(item.image, remote, device="cpu", psf=item.psf)
            beam = item.image.beam_pixels
            here = run_networks(item.image.data, item.image.rms, local, beam_minor_px=beam[1] if beam else None,
                                device="cpu", psf=item.psf.data if item.psf is not None else None)
            assert np.array_equal(out.maps.probability, here.probability, equal_nan=True)
            assert np.array_equal(out.maps.restored, here.restored, equal_nan=True)
            assert out.maps.notes[:len(here.notes)] == here.notes  # the pipeline adds its own after them
        assert worker.prefetch_hits == 2 and worker.requests == 2
        assert worker.network_seconds > 0 and worker.ready_seconds > 0


def test_prefetch_covers_exactly_the_images_the_pipeline_does_whole():
    from decoras_gui.ml.network_worker import WHOLE_IMAGE_MAX
    from decoras_gui.ml.pipeline import BLOCK, MARGIN

    assert WHOLE_IMAGE_MAX == BLOCK + 2 * MARGIN


def test_a_model_the_worker_cannot_load_is_one_error(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("DECORAS_NETWORK_WORKER", "1")
    assert main(["detect", str(SAMPLE), "--catalog", str(tmp_path / "x.ecsv"), "--model", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.count("no model card for 'nope'") == 1 and "Traceback" not in err
    assert not (tmp_path / "x.ecsv").exists()


def test_a_bad_image_in_a_batch_is_skipped_with_the_worker(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("DECORAS_NETWORK_WORKER", "1")
    bad = tmp_path / "broken.fits"
    bad.write_text("not a FITS file")
    out = tmp_path / "out"
    assert main(["detect", str(bad), str(SAMPLE), "--out-dir", str(out), "--device", "cpu", "--timing"]) == 2
    err = capsys.readouterr().err
    assert "broken.fits" in err and "1 of 2 images failed" in err
    assert "networks' worker ready after" in err and "(1 runs)" in err
    assert (out / "sample_vlba_dirty.ecsv").is_file() and not (out / "broken.ecsv").exists()


def test_a_worker_that_dies_is_a_clear_error():
    from decoras_gui.ml.network_worker import ModelUnavailable, NetworkWorker

    with NetworkWorker("vlba-l-band", task="detect") as worker:
        assert worker.card.name == "vlba-l-band"
        worker._proc.kill()
        with pytest.raises(ModelUnavailable, match="ended unexpectedly"):
            worker.run(np.ones((64, 64), np.float32), 1.0, device="cpu")


def test_survey_mode_gives_the_catalogues_of_one_process(tmp_path, capsys, monkeypatch):
    """On a Dask cluster (--workers 2) every image's catalogue and region file are those of one
    process; a bad image is skipped and counted."""
    import shutil

    pytest.importorskip("distributed")
    refactor = SAMPLE.parents[1] / "tests" / "data" / "refactor"
    images = [shutil.copy(src, tmp_path / f"img{k}.fits")
              for k, src in enumerate([SAMPLE, refactor / "sim_field_0.fits", refactor / "sim_field_1.fits"])]
    images.append(tmp_path / "img3.fits")
    images[-1].write_text("not a FITS file")
    assert main(["detect", *map(str, images), "--out-dir", str(tmp_path / "w"), "--device", "cpu",
                 "--workers", "2"]) == 2
    out, err = capsys.readouterr()
    assert "img3.fits" in err and "1 of 4 images failed" in err
    good = [str(p) for p in images if "img3" not in str(p)]
    assert sorted(line.split(":")[0] for line in out.splitlines()) == sorted(good)
    monkeypatch.setenv("DECORAS_NETWORK_WORKER", "0")
    assert main(["detect", *good, "--out-dir", str(tmp_path / "p"), "--device", "cpu"]) == 0
    for path in good:
        stem = path.rsplit("/", 1)[-1].removesuffix(".fits")
        _same_tables(tmp_path / "w" / f"{stem}.ecsv", tmp_path / "p" / f"{stem}.ecsv")
        assert (tmp_path / "w" / f"{stem}.reg").read_text().count("\n") == (
            tmp_path / "p" / f"{stem}.reg").read_text().count("\n")


def test_a_big_batch_in_one_process_says_survey_mode_exists(tmp_path, capsys, monkeypatch):
    from decoras_gui.commands.detect import SURVEY_HINT_IMAGES

    monkeypatch.setenv("DECORAS_NETWORK_WORKER", "0")
    images = []
    for k in range(SURVEY_HINT_IMAGES):  # files that fail at once: the hint is said before any image
        images.append(tmp_path / f"bad{k}.fits")
        images[-1].write_text("not a FITS file")
    assert main(["detect", *map(str, images), "--out-dir", str(tmp_path / "p")]) == 2
    err = capsys.readouterr().err
    assert f"{SURVEY_HINT_IMAGES} images in one process; --workers 2 detects them on a Dask cluster" in err
    assert f"{SURVEY_HINT_IMAGES} of {SURVEY_HINT_IMAGES} images failed" in err


def test_the_program_ends_with_its_outputs_complete(tmp_path):
    """Run as the program, `decoras detect` skips the interpreter's tear-down (cli.FAST_EXIT_COMMANDS):
    its stdout line, catalogue and region file are all there, and an error still exits 2."""
    cat, reg = tmp_path / "x.ecsv", tmp_path / "x.reg"
    run = subprocess.run([sys.executable, "-m", "decoras_gui", "detect", str(SAMPLE), "--catalog", str(cat),
                          "--regions", str(reg), "--device", "cpu"], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    n = len(Table.read(cat))
    assert run.stdout.strip().endswith(f"{n} sources -> {cat}, {reg}") and n > 0
    from regions import Regions

    assert len(Regions.read(reg, format="ds9")) == n
    bad = subprocess.run([sys.executable, "-m", "decoras_gui", "detect", str(tmp_path / "none.fits"), "--catalog",
                          str(tmp_path / "y.ecsv")], capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "none.fits" in bad.stderr
