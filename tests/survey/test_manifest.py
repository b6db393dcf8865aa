"""The manifest: one JSON line per outcome, the last one an input's state; what a rerun does."""

from __future__ import annotations

import json
import os

from decoras_gui.survey.manifest import NAME, Manifest, file_stamp

SETTINGS = {"model": None, "threshold": None}


def _done(manifest: Manifest, path, name: str) -> None:
    (manifest.folder / f"{name}.ecsv").write_text("x")
    (manifest.folder / f"{name}.reg").write_text("x")
    manifest.record({"input": str(path), "name": name, "status": "done", "sources": 3, "catalogue": f"{name}.ecsv",
                     "regions": f"{name}.reg", "settings": SETTINGS, **file_stamp(path)})


def test_plan_skips_done_and_failed_and_retries_failures_on_request(tmp_path):
    a, b, c = (tmp_path / f"{n}.fits" for n in "abc")
    for p in (a, b, c):
        p.write_bytes(b"data")
    out = tmp_path / "out"
    out.mkdir()
    m = Manifest(out)
    _done(m, a, "a")
    m.record({"input": str(b), "name": "b", "status": "failed", "error": "b.fits: broken", "settings": SETTINGS})
    again = Manifest(out)  # read back from the file
    plan = again.plan([a, b, c], SETTINGS)
    assert (plan.todo, plan.done, plan.failed) == ([c], [a], [b])
    assert again.plan([a, b, c], SETTINGS, retry_failed=True).todo == [b, c]
    assert again.names() == {a: "a", b: "b"}
    assert "1 failed before" in plan.describe()


def test_done_is_redone_when_settings_file_or_outputs_change(tmp_path):
    a = tmp_path / "a.fits"
    a.write_bytes(b"data")
    m = Manifest(tmp_path)
    _done(m, a, "a")
    assert m.is_done(a, SETTINGS) is None
    assert m.is_done(a, {**SETTINGS, "threshold": 0.5}) == "other settings than this run's"
    os.utime(a, (1e9, 1e9))
    assert m.is_done(a, SETTINGS) == "the file changed since"
    _done(m, a, "a")
    (tmp_path / "a.reg").unlink()
    assert m.is_done(a, SETTINGS) == "its outputs are missing"
    assert m.plan([a], SETTINGS).redo == {"its outputs are missing": 1}


def test_the_last_line_wins_and_a_line_cut_short_is_ignored(tmp_path):
    a = tmp_path / "a.fits"
    a.write_bytes(b"data")
    m = Manifest(tmp_path)
    m.record({"input": str(a), "name": "a", "status": "failed", "error": "x", "settings": SETTINGS})
    _done(m, a, "a")
    with open(tmp_path / NAME, "a") as fh:
        fh.write('{"input": "/cut/short", "sta')  # the client was killed mid-write
    again = Manifest(tmp_path)
    assert again.skipped_lines == 1 and list(again.entries) == [a]
    assert again.entries[a]["status"] == "done"
    lines = (tmp_path / NAME).read_text().splitlines()
    assert [json.loads(x)["status"] for x in lines[:2]] == ["failed", "done"]
