"""Survey runs on a real Dask LocalCluster of 2 worker processes: resume, a bad file, a killed worker.

Events are ordered by what the run reports (its ``start`` and ``image`` events), never by sleeps.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest
from astropy.table import Table

from decoras_gui.cli import main
from decoras_gui.survey.engine import SurveyRun
from decoras_gui.survey.inputs import expand
from decoras_gui.survey.manifest import NAME

pytest.importorskip("distributed")

OPTIONS = {"model": None, "device": "cpu", "threshold": None, "psf": None, "drop_sidelobes": False,
           "per": "component", "format": "ecsv", "frame": "fk5", "timing": False}


@pytest.fixture(scope="module")
def fields(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("survey") / "fields"
    assert main(["simulate", "--n-fields", "4", "--size", "256", "--seed", "41", "--out", str(folder)]) == 0
    (folder / "broken.fits").write_bytes(b"this is not a FITS file" * 10)
    return folder


def _lines(out: Path) -> list[dict]:
    return [json.loads(x) for x in (out / NAME).read_text().splitlines()]


def test_a_run_resumes_records_a_bad_file_and_retries_it(fields, tmp_path):
    out = tmp_path / "out"
    events: list[dict] = []
    inputs = expand([fields])
    assert len(inputs) == 5  # 4 fields and the broken file; beams and truth left out
    summary = SurveyRun(inputs, out, OPTIONS, workers=2, on_event=events.append).run()
    assert (summary.done_now, summary.failed_now, summary.workers) == (4, 1, 2)
    failed = summary.failures[0]
    assert failed["input"].endswith("broken.fits") and "broken.fits" in failed["error"]
    assert "not a FITS file" in failed["error"]
    entries = [e for e in _lines(out) if e["status"] == "done"]
    # each worker process loaded the model once, whatever the number of images it did
    by_pid: dict[int, list[int]] = {}
    for e in entries:
        by_pid.setdefault(e["pid"], []).append(e["model_loads"])
    assert all(set(loads) == {1} for loads in by_pid.values())
    assert sum(len(v) for v in by_pid.values()) == 4
    # the survey catalogue: every image's rows once, the image named
    merged = Table.read(out / "survey.ecsv")
    assert len(merged) == sum(e["sources"] for e in entries) == summary.rows > 0
    assert set(merged["image"]) <= {Path(e["input"]).name for e in entries}
    for e in entries:
        assert (merged["image"] == Path(e["input"]).name).sum() == e["sources"]
        assert len(Table.read(out / e["catalogue"])) == e["sources"]
    parquet = Table.read(out / "survey.parquet")
    assert parquet.colnames == merged.colnames and len(parquet) == len(merged)
    assert [e["event"] for e in events][:2] == ["plan", "cluster"] and events[-1]["event"] == "finished"

    # a rerun does only what is left: nothing (the failure is left as it is) ...
    again = SurveyRun(inputs, out, OPTIONS, workers=2).run()
    assert (again.done_now, again.failed_now, again.done_before, again.failed_before) == (0, 0, 4, 1)
    assert len(_lines(out)) == 5
    # ... and with retry_failed the broken file only, which fails again
    retried = SurveyRun(inputs, out, OPTIONS, workers=2, retry_failed=True).run()
    assert (retried.done_now, retried.failed_now, retried.done_before) == (0, 1, 4)
    assert len(_lines(out)) == 6


def test_a_worker_killed_mid_run_loses_nothing_and_duplicates_nothing(fields, tmp_path):
    """The first image a worker starts is killed with it (SIGKILL, while the worker is still
    loading the model for it): the scheduler gives the image to another worker and the nanny
    starts a new worker process; every image is done once, in the manifest and the catalogue."""
    out = tmp_path / "out"
    inputs = [p for p in expand([fields]) if p.name != "broken.fits"]
    killed: dict = {}

    def on_event(event: dict) -> None:
        if event["event"] == "start" and not killed:
            killed.update(input=event["input"], pid=event["pid"], worker=event["worker"])
            os.kill(event["pid"], signal.SIGKILL)

    summary = SurveyRun(inputs, out, OPTIONS, workers=2, on_event=on_event).run()
    assert killed, "no image was started"
    assert (summary.done_now, summary.failed_now) == (4, 0)
    assert summary.restarts >= 1
    lines = _lines(out)
    assert sorted(e["input"] for e in lines) == sorted(str(p) for p in inputs)  # one line each: no duplicates
    victim = next(e for e in lines if e["input"] == killed["input"])
    assert victim["status"] == "done" and victim["attempts"] >= 2 and victim["pid"] != killed["pid"]
    merged = Table.read(out / "survey.parquet")
    assert len(merged) == sum(e["sources"] for e in lines)
    assert len(set(zip(merged["image"], merged["component_id"]))) == len(merged)
    assert not list(out.glob(".*.part"))  # no half-written output left behind


def test_the_command_in_survey_mode(fields, tmp_path, capsys):
    out = tmp_path / "cli"
    code = main(["detect", str(fields), "--out-dir", str(out), "--workers", "2", "--format", "fits"])
    captured = capsys.readouterr()
    assert code == 2  # the broken file failed: said, and the exit code says so
    assert captured.out.count(" sources -> ") == 4
    err = captured.err
    assert "5 images: 5 to do" in err and "Dask cluster of 2 workers" in err
    assert "broken.fits: not a FITS file" in err
    assert "5 images: 4 done, 1 failed" in err and "images/s" in err
    assert f"{out / 'survey.parquet'}" in err and (out / "survey.fits").is_file()
    # the failure is old news; the same settings leave the done images be
    assert main(["detect", str(fields), "--out-dir", str(out), "--workers", "1", "--format", "fits"]) == 0
    assert "0 to do, 4 done before, 1 failed before" in capsys.readouterr().err


def test_survey_mode_errors_are_clear(fields, tmp_path, capsys, monkeypatch):
    from decoras_gui.survey import cluster

    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT", "2s")  # nothing listens there: no need to wait 20 s
    assert main(["detect", str(fields), "--workers", "2"]) == 2
    assert "needs --out-dir" in capsys.readouterr().err
    assert main(["detect", str(fields), "--out-dir", str(tmp_path), "--workers", "0"]) == 2
    assert "--workers must be at least 1" in capsys.readouterr().err
    assert main(["detect", str(tmp_path / "nothing"), "--out-dir", str(tmp_path), "--scheduler",
                 "tcp://127.0.0.1:1"]) == 2
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:1" in capsys.readouterr().err
