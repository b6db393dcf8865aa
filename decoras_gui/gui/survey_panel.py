"""File > Detect in Folder…: a survey run of every image of a folder, in the background.

:class:`SurveyController` runs :class:`decoras_gui.survey.engine.SurveyRun` -- the engine of
``decoras detect --workers N`` -- in a thread of its own (a Dask LocalCluster of worker processes,
so the window stays responsive), and turns its events into a Qt signal queued to the UI thread.
:class:`SurveyPanel` (the window's Survey dock) shows the folder, the output folder and the
number of workers; a progress bar, the cluster and its dashboard link; and one row an image
(status, sources, worker, seconds, and the note or error). Images done in an earlier run of
the same output folder are listed as such and not done again (the manifest). A double-click on
a done image opens it in the window with its catalogue; Cancel stops the run (the images
finished are kept, and Start resumes).
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..core.errors import DecorasError
from .workers import TaskRunner

COLUMNS = ("Image", "Status", "Sources", "Worker", "Seconds", "Note")
STATUS_COLOURS = {"done": "#2e9e44", "failed": "#d23c3c", "running": "#2f7ed8", "to do": "#8a8a8a",
                  "done before": "#5f9e6e", "failed before": "#b86060", "cancelled": "#c08a00"}


def default_out_dir(folder: Path) -> Path:
    return folder / "decoras-survey"


class SurveyController(QObject):
    """Runs one survey at a time off the UI thread; ``event`` carries the engine's events."""

    event = Signal(dict)
    failed = Signal(str)
    ended = Signal()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.runner = TaskRunner(self)
        self.run = None  # the SurveyRun in progress
        self.worker = None
        self._through = threading.Event()  # set by the run's thread as it ends

    @property
    def running(self) -> bool:
        """A run started and its thread not through (known at once, not when the UI hears of it)."""
        return self.worker is not None and not self._through.is_set()

    def start(self, folder: str | Path, out_dir: str | Path, workers: int, model: str | None = None,
              retry_failed: bool = False) -> None:
        from ..survey.cluster import require_distributed
        from ..survey.engine import SurveyRun
        from ..survey.inputs import expand

        if self.running:
            raise DecorasError("a survey is running already: cancel it first")
        require_distributed("Detect in Folder")  # not in the desktop bundle
        inputs = expand([folder])  # a folder without images is said here, before anything starts
        options = {"model": model, "device": "auto", "threshold": None, "psf": None, "drop_sidelobes": False,
                   "per": "component", "format": "ecsv", "frame": "fk5", "timing": False}
        self.run = SurveyRun(inputs, out_dir, options, workers=workers, retry_failed=retry_failed,
                             on_event=self.event.emit)  # emitted from the run's threads: queued to the UI

        run, through = self.run, self._through
        through.clear()

        def task(progress, cancel):
            try:
                return run.run()
            finally:
                through.set()

        self.worker = self.runner.start(task, "survey")
        self.worker.failed.connect(self.failed)
        self.worker.done.connect(self._done)

    def _done(self) -> None:
        self.worker = None
        self.ended.emit()

    def cancel(self) -> None:
        if self.run is not None:
            self.run.cancel()

    def stop_and_wait(self, msecs: int = 60000) -> None:
        """Cancel, and wait for the cluster to close (the window is closing)."""
        self.cancel()
        self.runner.wait_all(msecs)


class SurveyPanel(QWidget):
    """The Survey dock: what to run, how it goes, and every image's outcome."""

    open_requested = Signal(str, str)  # image path, its catalogue

    def __init__(self, controller: SurveyController, parent: QWidget | None = None):
        super().__init__(parent)
        self.controller = controller
        self.rows: dict[str, int] = {}
        self.worker_numbers: dict[str, int] = {}  # worker address -> its number in this run (1, 2, ...)
        self.out_dir: Path | None = None
        self.summary = None
        self.folder_edit, self.out_edit = QLineEdit(), QLineEdit()
        self.folder_edit.setPlaceholderText("a folder of FITS images")
        self.out_edit.setPlaceholderText("where catalogues, regions and the survey catalogue go")
        self.folder_edit.editingFinished.connect(self._folder_changed)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self.browse)
        cores = max(1, os.cpu_count() or 1)
        self.workers_spin = QSpinBox()
        self.workers_spin.setRange(1, max(cores, 1) * 2)
        self.workers_spin.setValue(min(cores, 8))
        self.workers_spin.setToolTip("Dask worker processes (one image each at a time; each loads the model once)")
        self.retry_box = QCheckBox("Retry failed")
        self.retry_box.setToolTip("Detect again the images an earlier run of this output folder failed on")
        self.start_button, self.cancel_button = QPushButton("Start"), QPushButton("Cancel")
        self.start_button.setObjectName("surveyStart")
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(controller.cancel)
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setFormat("%v of %m images")
        self.cluster_label = QLabel("")
        self.cluster_label.setOpenExternalLinks(True)
        self.cluster_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.summary_label = QLabel("Choose a folder: every FITS image in it is detected, in the background.")
        self.summary_label.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.setToolTip("Double-click a done image to open it with its catalogue")
        self.table.cellDoubleClicked.connect(self._double_clicked)

        top = QHBoxLayout()
        top.addWidget(QLabel("Folder"))
        top.addWidget(self.folder_edit, 3)
        top.addWidget(browse)
        top.addWidget(QLabel("Output"))
        top.addWidget(self.out_edit, 3)
        top.addWidget(QLabel("Workers"))
        top.addWidget(self.workers_spin)
        top.addWidget(self.retry_box)
        top.addWidget(self.start_button)
        top.addWidget(self.cancel_button)
        status = QHBoxLayout()
        status.addWidget(self.progress, 2)
        status.addWidget(self.cluster_label, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addLayout(top)
        layout.addLayout(status)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.summary_label)
        controller.event.connect(self.handle_event)
        controller.failed.connect(self._failed)
        controller.ended.connect(self._ended)

    # ------------------------------------------------------------------ choosing
    def browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Detect in folder", self.folder_edit.text())
        if folder:
            self.set_folder(folder)

    def set_folder(self, folder: str | Path) -> None:
        self.folder_edit.setText(str(folder))
        self._folder_changed()

    def _folder_changed(self) -> None:
        folder = self.folder_edit.text().strip()
        if folder and not self.out_edit.isModified():
            self.out_edit.setText(str(default_out_dir(Path(folder))))

    # ------------------------------------------------------------------ running
    def start(self) -> bool:
        folder, out = self.folder_edit.text().strip(), self.out_edit.text().strip()
        if not folder:
            self.summary_label.setText("Choose a folder first.")
            return False
        out = out or str(default_out_dir(Path(folder)))
        self.out_dir = Path(out)
        try:
            self.controller.start(folder, out, self.workers_spin.value(), retry_failed=self.retry_box.isChecked())
        except DecorasError as exc:
            self.summary_label.setText(f"<b>Cannot start:</b> {exc}")
            return False
        self.table.setRowCount(0)
        self.rows.clear()
        self.worker_numbers.clear()
        self.summary = None
        self.progress.setRange(0, 0)  # busy until the plan says how many
        self.cluster_label.setText("Starting a Dask cluster…")
        self.summary_label.setText(f"Detecting the images of {folder} into {out}…")
        self.start_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        return True

    def handle_event(self, event: dict) -> None:
        kind = event["event"]
        if kind == "plan":
            self._fill(event)
        elif kind == "cluster":
            link = event.get("dashboard")
            text = f"Dask cluster of {event['workers']} workers"
            self.cluster_label.setText(text + (f" — dashboard <a href='{link}'>{link}</a>" if link else ""))
        elif kind == "start":
            self._set(event["input"], "running", worker=self._worker(event.get("worker")))
        elif kind == "image":
            entry = event["entry"]
            self._show_entry(entry, entry["status"])
            self.progress.setValue(event["done"])
        elif kind == "finished":
            self.summary = event["summary"]

    def _fill(self, event: dict) -> None:
        plan, previous = event["plan"], event["previous"]
        order = [*map(str, plan.todo), *map(str, plan.done), *map(str, plan.failed)]
        self.table.setRowCount(len(order))
        for row, path in enumerate(sorted(order, key=lambda p: Path(p).name)):
            self.rows[path] = row
            item = QTableWidgetItem(Path(path).name)
            item.setData(Qt.ItemDataRole.UserRole, path)
            item.setToolTip(path)
            self.table.setItem(row, 0, item)
            for col in range(1, len(COLUMNS)):
                self.table.setItem(row, col, QTableWidgetItem(""))
            self._set(path, "to do")
        for path, entry in previous.items():
            self._show_entry(entry, f"{entry['status']} before")
        self.progress.setRange(0, max(1, event["total"]))
        self.progress.setValue(len(plan.done) + len(plan.failed))

    def _show_entry(self, entry: dict, status: str) -> None:
        note = entry.get("error") or "; ".join(entry.get("warnings") or []) or _useful_note(entry.get("notes") or [])
        self._set(entry["input"], status, sources=entry.get("sources"), worker=self._worker(entry.get("worker")),
                  seconds=entry.get("seconds"), note=note, catalogue=entry.get("catalogue"))

    def _set(self, path: str, status: str, sources=None, worker=None, seconds=None, note=None,
             catalogue=None) -> None:
        row = self.rows.get(path)
        if row is None:
            return
        cells = {1: status, 2: "" if sources is None else str(sources), 3: worker,
                 4: None if seconds is None else f"{float(seconds):.2f}", 5: note}
        for col, text in cells.items():
            if text is not None:
                self.table.item(row, col).setText(text)
        self.table.item(row, 1).setForeground(QColor(STATUS_COLOURS.get(status, "#444444")))
        if note:
            self.table.item(row, 5).setToolTip(note)
        if catalogue:
            self.table.item(row, 0).setData(Qt.ItemDataRole.UserRole + 1, catalogue)

    def _worker(self, address: str | None) -> str | None:
        """A worker by its number in this run (a restarted worker process gets the next one)."""
        if not address:
            return None
        number = self.worker_numbers.setdefault(address, len(self.worker_numbers) + 1)
        return f"{number}"

    def _failed(self, message: str) -> None:
        self.summary_label.setText(f"<b>The survey stopped:</b> {message}")

    def _ended(self) -> None:
        self.start_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        if self.progress.maximum() == 0:
            self.progress.setRange(0, 1)
        if self.summary is None:
            return
        for path, row in self.rows.items():
            if self.table.item(row, 1).text() in ("to do", "running"):
                self._set(path, "cancelled")
        self.summary_label.setText("<br>".join(self.summary.lines()))

    def _double_clicked(self, row: int, _col: int) -> None:
        item = self.table.item(row, 0)
        catalogue = item.data(Qt.ItemDataRole.UserRole + 1)
        if catalogue and self.out_dir is not None:
            self.open_requested.emit(item.data(Qt.ItemDataRole.UserRole), str(self.out_dir / catalogue))

    def row_of(self, name: str) -> int:
        """The table row of the image called ``name`` (tests, scripts)."""
        return next(r for p, r in self.rows.items() if Path(p).name == name)


_SIDELOBES = re.compile(r"sidelobe test with the dirty beam (\S+): (\d+) of (\d+) detections are likely sidelobes")


def _useful_note(notes: list[str]) -> str:
    """The notes worth a glance, short: not that the model's domain covers the image or where the
    beam was; the sidelobe test as its count."""
    out = []
    for note in notes:
        if "its domain covers this image" in note or "found beside the image" in note:
            continue
        hit = _SIDELOBES.search(note)
        out.append(f"{hit.group(2)} of {hit.group(3)} likely sidelobes ({hit.group(1)})" if hit else note)
    return "; ".join(out)
