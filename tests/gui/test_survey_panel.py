"""File > Detect in Folder… in the real window: a Dask LocalCluster in the background, one row an
image with its status and source count, a bad file listed as failed, a double-click that opens an
image with its catalogue, a rerun that does nothing again, and Cancel.

Every wait is on what the run reports (the controller's events and its end), never a sleep."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

pytest.importorskip("distributed")

RUN_TIMEOUT_MS = 300_000  # a hang, not a slow machine


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    from decoras_gui.cli import main

    out = tmp_path_factory.mktemp("survey_gui") / "fields"
    assert main(["simulate", "--n-fields", "3", "--size", "256", "--seed", "77", "--out", str(out)]) == 0
    (out / "zz_broken.fits").write_text("not a FITS file")
    return out


def _run(qtbot, window, folder: Path, out: Path, workers: int = 2) -> None:
    panel = window.survey_panel
    panel.out_edit.setText(str(out))
    panel.out_edit.setModified(True)
    panel.workers_spin.setValue(workers)
    with qtbot.waitSignal(window.survey.ended, timeout=RUN_TIMEOUT_MS):
        assert window.detect_in_folder(folder)
        assert not panel.start_button.isEnabled() and panel.cancel_button.isEnabled()


def _status(panel, name: str) -> str:
    return panel.table.item(panel.row_of(name), 1).text()


def test_detect_in_folder_lists_every_image_and_opens_one_with_its_catalogue(qtbot, window, folder, tmp_path):
    out = tmp_path / "out"
    _run(qtbot, window, folder, out)
    panel = window.survey_panel
    assert window.survey_dock.isVisible()
    assert panel.table.rowCount() == 4  # the dirty beams and truth files beside the fields are not images
    assert _status(panel, "zz_broken.fits") == "failed"
    assert "not a FITS file" in panel.table.item(panel.row_of("zz_broken.fits"), 5).text()
    entries = {Path(e["input"]).name: e for e in map(json.loads, (out / "manifest.jsonl").read_text().splitlines())}
    for name in ("field_00000.fits", "field_00001.fits", "field_00002.fits"):
        assert _status(panel, name) == "done"
        assert panel.table.item(panel.row_of(name), 2).text() == str(entries[name]["sources"])
        assert panel.table.item(panel.row_of(name), 3).text() in {"1", "2"}  # the worker that did it
    assert "4 images: 3 done, 1 failed" in panel.summary_label.text()
    assert "Dask cluster of 2 workers" in panel.cluster_label.text()
    assert panel.progress.value() == 4 and panel.start_button.isEnabled()

    busiest = max(("field_00000.fits", "field_00001.fits", "field_00002.fits"), key=lambda n: entries[n]["sources"])
    row = panel.row_of(busiest)
    with qtbot.waitSignal(window.image_opened, timeout=60000):
        panel.table.cellDoubleClicked.emit(row, 0)
    qtbot.waitUntil(lambda: len(window.doc) == entries[busiest]["sources"], timeout=30000)
    assert window.image.path.name == busiest
    assert len(window.doc) > 0

    # the same folder again: nothing left to do, every image listed as done (or failed) before
    _run(qtbot, window, folder, out, workers=1)
    assert _status(panel, "field_00001.fits") == "done before"
    assert _status(panel, "zz_broken.fits") == "failed before"
    assert "3 done (0 now, 3 before)" in panel.summary_label.text()


def test_cancel_keeps_the_images_finished_and_start_resumes(qtbot, window, folder, tmp_path):
    out = tmp_path / "out"
    panel = window.survey_panel
    many = tmp_path / "many"
    many.mkdir()
    for k in range(6):
        for suffix in (".fits", "_beam.fits"):
            shutil.copy(folder / f"field_{k % 3:05d}{suffix}", many / f"f{k}{suffix}")
    finished: list[str] = []

    def on_event(event: dict) -> None:
        if event["event"] == "image":
            finished.append(event["entry"]["input"])
            if len(finished) == 1:
                panel.cancel_button.click()

    window.survey.event.connect(on_event)
    _run(qtbot, window, many, out, workers=1)
    statuses = [_status(panel, f"f{k}.fits") for k in range(6)]
    assert statuses.count("done") >= 1 and "cancelled" in statuses
    assert "left to do (cancelled" in panel.summary_label.text()
    done_first = statuses.count("done")
    window.survey.event.disconnect(on_event)
    _run(qtbot, window, many, out, workers=2)
    statuses = [_status(panel, f"f{k}.fits") for k in range(6)]
    assert statuses.count("done before") == done_first and statuses.count("done") == 6 - done_first


def test_an_empty_folder_is_said_in_the_panel(qtbot, window, tmp_path):
    assert not window.detect_in_folder(tmp_path)
    assert "no FITS images in the folder" in window.survey_panel.summary_label.text()
    assert str(tmp_path) in window.survey_panel.summary_label.text()
    assert not window.survey.running


def test_closing_the_window_stops_a_running_survey(qtbot, window, folder, tmp_path):
    """Closed while its first image is being detected: the cluster is stopped and waited for, and
    what finished is in the manifest for the next run."""
    out = tmp_path / "out"
    panel = window.survey_panel
    panel.out_edit.setText(str(out))
    panel.out_edit.setModified(True)
    with qtbot.waitSignal(window.survey.event, timeout=RUN_TIMEOUT_MS,
                          check_params_cb=lambda event: event["event"] == "start"):
        assert window.detect_in_folder(folder)
    window.close()
    assert not window.survey.running  # stopped and waited for by closeEvent, not left behind
    from decoras_gui.survey.manifest import Manifest

    manifest = Manifest(out)
    assert manifest.skipped_lines == 0 and len(manifest.entries) < 4  # cancelled before the end
    for entry in manifest.entries.values():  # what finished is recorded whole, with its outputs
        assert entry["status"] == "failed" or (out / entry["catalogue"]).is_file()
