"""Tools > Train a Model for This Image…: ``decoras automl --like`` in the background.

The study runs in its own process (``python -m decoras_gui automl --like IMAGE --events``), so
training never holds the window's event loop or its interpreter; the panel reads the process's
JSON lines (:class:`decoras_gui.commands.automl.Events`) as they come and shows the trial in
hand (n of N), the best score so far, a plot of the study (each trial's OOD score, pruned ones
marked, the best so far as a step line), the stage's progress and the command's lines.
Cancel interrupts the process as Ctrl+C would: the study file keeps every finished trial and
the final training its checkpoints, so Resume (now, or after the window was closed) goes on
where it stopped. The model and its card land in the user's model folder; the window then lists
it and chooses it for the image when its domain fits best.
"""

from __future__ import annotations

import html
import json
import os
import signal
import sys
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import QProcess, QProcessEnvironment, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ..core.errors import DecorasError
from ..core.image import SkyImage
from ..ml.automl import study_trials
from ..ml.like_image import config_like
from ..paths import user_data_dir, user_models_dir

STAGES = {"study": "Study", "train": "Final training", "calibrate": "Calibration"}
KINDS = (("From the header", ""), ("Dirty", "dirty"), ("Restored (CLEANed)", "restored"))
#: how long a cancelled process may take to stop (it finishes the step in hand, shuts its data
#: workers down and marks the interrupted trial failed) before it is killed
STOP_GRACE_MS = 60000


def automl_arguments(image_path: Path, kind: str, trials: int, trial_steps: int, final_steps: int,
                     calibration_fields: int, val_fields: int, crop: int) -> list[str]:
    """The command line (after ``python -m decoras_gui``) of the panel's study."""
    report_every = max(1, trial_steps // 3)
    args = ["automl", "--like", str(image_path), "--events", "--trials", str(trials),
            "--trial-steps", str(report_every * max(1, trial_steps // report_every)),
            "--report-every", str(report_every), "--final-steps", str(final_steps),
            "--calibration-fields", str(calibration_fields), "--val-fields", str(val_fields),
            "--crop", str(crop)]
    return args + (["--kind", kind] if kind else [])


class StudyPlot(pg.PlotWidget):
    """Each finished trial's OOD score (complete: filled, pruned: its last score, as a cross)
    and the best score so far as a step line."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent, background="w")
        self.setObjectName("studyPlot")
        self.setMinimumHeight(220)
        self.setLabel("bottom", "trial")
        self.setLabel("left", "OOD completeness × purity, SNR 5–7.5")
        self.showGrid(x=True, y=True, alpha=0.25)
        self.setYRange(0.0, 1.05, padding=0)  # the score is a product of two fractions
        self.getAxis("bottom").setTickSpacing(major=5, minor=1)  # trials are whole numbers
        self.addLegend(offset=(-10, 10))
        self.best_line = self.plot([], [], pen=pg.mkPen("#0072B2", width=2), stepMode="left", name="best so far")
        self.complete = self.plot([], [], pen=None, symbol="o", symbolBrush="#0072B2", symbolPen="w", symbolSize=9,
                                  name="complete")
        self.pruned = self.plot([], [], pen=None, symbol="x", symbolBrush="#999999", symbolPen="#999999",
                                symbolSize=9, name="pruned")
        self.trials: dict[int, dict] = {}

    def add(self, trial: dict) -> None:
        value = trial.get("value")
        if value is None and trial.get("intermediate"):
            value = trial["intermediate"][-1]  # a pruned trial: its last score
        self.trials[int(trial["number"])] = {"state": trial.get("state"), "value": value}
        self._redraw()

    def clear_trials(self) -> None:
        self.trials.clear()
        self._redraw()

    def _redraw(self) -> None:
        rows = sorted((n, t) for n, t in self.trials.items() if t["value"] is not None)
        done = [(n, t["value"]) for n, t in rows if t["state"] == "complete"]
        cut = [(n, t["value"]) for n, t in rows if t["state"] != "complete"]
        self.complete.setData([n for n, _ in done], [v for _, v in done])
        self.pruned.setData([n for n, _ in cut], [v for _, v in cut])
        best, xs, ys = None, [], []
        for n, v in done:
            best = v if best is None else max(best, v)
            xs.append(n)
            ys.append(best)
        if xs:
            xs.append(max(n for n, _ in rows) + 0.5)  # the best so far holds to the latest trial
            ys.append(ys[-1])
        self.best_line.setData(xs, ys)
        self.setXRange(-0.5, max([n for n, _ in rows], default=0) + 1.0, padding=0)

    @property
    def best(self) -> float | None:
        values = [t["value"] for t in self.trials.values() if t["state"] == "complete" and t["value"] is not None]
        return max(values) if values else None


class TrainingPanel(QDialog):
    """The study for the open image: its domain and budget, Start / Resume and Cancel, progress."""

    finished_model = Signal(str)  # the new model's card path
    stopped = Signal(str)  # the process ended without a model: 'cancelled' or the error

    def __init__(self, image: SkyImage, parent: QWidget | None = None):
        super().__init__(parent)
        self.image = image
        self.setObjectName("trainingPanel")
        self.setWindowTitle(f"Train a Model for {image.name}")
        self.resize(980, 760)
        self.process: QProcess | None = None
        self.config = None
        self.stage = ""
        self.cancelling = False
        self.study_started = False  # the process has said 'start': it takes Ctrl+C as Ctrl+C
        self.stop_grace_ms = STOP_GRACE_MS  # a cancelled study has this long to stop before it is killed
        self.error_lines: list[str] = []
        self._buffer = b""
        self.card_path: str | None = None

        layout = QVBoxLayout(self)
        self.domain_label = QLabel()
        self.domain_label.setObjectName("trainingDomain")
        self.domain_label.setWordWrap(True)
        self.domain_label.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self.domain_label)

        budget = QGroupBox("Budget")
        form = QGridLayout(budget)
        self.kind_combo = QComboBox()
        for text, value in KINDS:
            self.kind_combo.addItem(text, value)
        self.kind_combo.setToolTip("Dirty or CLEANed: what the simulator makes (the header's word, unless you say)")
        self.trials_spin = self._spin(1, 200, 12, "Trials of the study: each fine-tunes the networks one way and "
                                      "is scored on out-of-distribution fields")
        self.trial_steps_spin = self._spin(3, 6000, 300, "Training steps of a trial that is not pruned", step=30)
        self.final_steps_spin = self._spin(2, 100000, 3000, "Training steps of the final model (the best "
                                           "trial's settings, on full-size fields)", step=500)
        self.calibration_spin = self._spin(0, 2000, 240, "Fields the final model's threshold is calibrated on "
                                           "(0: keep the base model's)", step=40)
        self.val_spin = self._spin(2, 200, 16, "Out-of-distribution fields every trial is scored on", step=4)
        self.crop_spin = self._spin(32, 256, 64, "Training crop of the trials (pixels)", step=32)
        cells = (("Image kind", self.kind_combo), ("Trials", self.trials_spin),
                 ("Steps a trial", self.trial_steps_spin), ("Validation fields", self.val_spin),
                 ("Final steps", self.final_steps_spin), ("Calibration fields", self.calibration_spin),
                 ("Trial crop", self.crop_spin))
        for i, (text, widget) in enumerate(cells):
            form.addWidget(QLabel(text), i // 4, 2 * (i % 4))
            form.addWidget(widget, i // 4, 2 * (i % 4) + 1)
        layout.addWidget(budget)

        state = QHBoxLayout()
        status = QFormLayout()
        self.trial_label = QLabel("—")
        self.trial_label.setObjectName("trialLabel")
        self.best_label = QLabel("—")
        self.best_label.setObjectName("bestLabel")
        self.stage_label = QLabel("Not started")
        self.stage_label.setObjectName("stageLabel")
        status.addRow("Trial", self.trial_label)
        status.addRow("Best score so far", self.best_label)
        status.addRow("Stage", self.stage_label)
        state.addLayout(status, 1)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(True)
        self.progress.setFormat("%p%")
        state.addWidget(self.progress, 2)
        layout.addLayout(state)

        self.plot = StudyPlot(self)
        layout.addWidget(self.plot, 3)
        self.log = QPlainTextEdit()
        self.log.setObjectName("trainingLog")
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(2000)
        self.log.setMinimumHeight(110)
        layout.addWidget(self.log, 1)

        buttons = QHBoxLayout()
        self.out_label = QLabel(f"Models go to {html.escape(str(user_models_dir()))}")
        self.out_label.setObjectName("trainingOut")
        buttons.addWidget(self.out_label, 1)
        self.start_button = QPushButton("Start")
        self.start_button.setObjectName("startTraining")
        self.start_button.setDefault(True)
        self.start_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancelTraining")
        self.cancel_button.setToolTip("Stop now: finished trials are kept, and Resume goes on from them")
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.close)
        for b in (self.start_button, self.cancel_button, self.close_button):
            buttons.addWidget(b)
        layout.addLayout(buttons)
        self.kind_combo.currentIndexChanged.connect(self.read_domain)
        self.read_domain()
        if self.config is not None:
            self.final_steps_spin.setValue(self.config.steps)  # the base's; the user's choice stays after

    def _spin(self, lo: int, hi: int, value: int, tip: str, step: int = 1) -> QSpinBox:
        spin = QSpinBox()
        spin.setRange(lo, hi)
        spin.setValue(value)
        spin.setSingleStep(step)
        spin.setToolTip(tip)
        return spin

    # ------------------------------------------------------------ what it would build
    @property
    def storage(self) -> Path | None:
        return None if self.config is None else user_data_dir() / "automl" / f"{self.config.name}.db"

    def read_domain(self) -> None:
        """What the header says, the model it leads to, and the study already on disk for it."""
        try:
            self.config, domain = config_like(self.image, kind=self.kind_combo.currentData() or None)
        except DecorasError as exc:
            self.config = None
            self.domain_label.setText(f"<b>No model can be trained for {html.escape(self.image.name)}:</b> "
                                      f"{html.escape(str(exc))}")
            self.domain_label.setProperty("warning", True)
            self._set_running(False)
            return
        c = self.config
        lo, hi = c.sim.ppb_range
        self.domain_label.setProperty("warning", False)
        self.domain_label.setText(
            f"<b>{html.escape(self.image.name)}</b>: {html.escape(domain.describe())}<br>"
            f"A <b>{c.image_kind}</b> model for <b>{html.escape(c.instrument)} {html.escape(c.band)}</b>, "
            f"{lo:g}–{hi:g} pixels per beam: <b>{html.escape(c.name)}</b>, "
            + (f"fine-tuned from {html.escape(c.init_from)}. " if c.init_from else "from scratch. ")
            + "Each trial is scored on simulated fields of observations training never samples "
            "(other schedules, weightings, imaging and noise).")
        self._load_history()

    def _load_history(self) -> None:
        self.plot.clear_trials()
        trials = study_trials(self.storage, self.config.name) if self.config else []
        for t in trials:
            self.plot.add(t)
        self._show_counts(len(trials))
        self._set_running(False)

    def _show_counts(self, done: int) -> None:
        of = self.trials_spin.value()
        self.trial_label.setText(f"{done} of {of} finished" if done else f"0 of {of}")
        best = self.plot.best
        self.best_label.setText("—" if best is None else f"{best:.3f}")
        self.start_button.setText(f"Resume ({done} of {of} trials done)" if done else "Start")

    def _set_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running and self.config is not None)
        self.cancel_button.setEnabled(running)
        for w in (self.kind_combo, self.trials_spin, self.trial_steps_spin, self.final_steps_spin,
                  self.calibration_spin, self.val_spin, self.crop_spin):
            w.setEnabled(not running)

    # ------------------------------------------------------------ the process
    @property
    def running(self) -> bool:
        return self.process is not None and self.process.state() != QProcess.ProcessState.NotRunning

    def arguments(self) -> list[str]:
        return ["-m", "decoras_gui"] + automl_arguments(
            self.image.path, self.kind_combo.currentData(), self.trials_spin.value(), self.trial_steps_spin.value(),
            self.final_steps_spin.value(), self.calibration_spin.value(), self.val_spin.value(),
            self.crop_spin.value())

    def start(self) -> None:
        """Start (or resume) the study in its own process."""
        if self.running or self.config is None:
            return
        self.cancelling, self.error_lines, self._buffer, self.card_path = False, [], b"", None
        self.stage, self.study_started = "", False  # until this process says so (its 'start' event)
        proc = QProcess(self)
        env = QProcessEnvironment.systemEnvironment()
        env.insert("PYTHONUNBUFFERED", "1")
        proc.setProcessEnvironment(env)
        proc.readyReadStandardOutput.connect(self._read_stdout)
        proc.readyReadStandardError.connect(self._read_stderr)
        proc.finished.connect(self._finished)
        proc.errorOccurred.connect(self._process_error)
        self.process = proc
        self.stage_label.setText("Starting…")
        self.progress.setValue(0)
        self._set_running(True)
        self.log.appendPlainText("$ decoras " + " ".join(self.arguments()[2:]))
        proc.start(sys.executable, self.arguments())

    def cancel(self) -> None:
        """Interrupt the process as Ctrl+C does (it keeps what it finished), killing it if it lingers."""
        if not self.running:
            return
        self.cancelling = True
        self.stage_label.setText("Stopping…")
        self.cancel_button.setEnabled(False)
        if not self.study_started:  # still starting: nothing of a study to keep, and Ctrl+C may not reach it yet
            self.process.kill()
            return
        pid = int(self.process.processId())
        if pid > 0 and hasattr(signal, "SIGINT") and os.name == "posix":
            os.kill(pid, signal.SIGINT)
        else:
            self.process.terminate()
        proc = self.process
        # proc as the context: no call once it is gone; kill() of an ended process does nothing
        QTimer.singleShot(self.stop_grace_ms, proc, proc.kill)

    def stop_and_wait(self, msecs: int | None = None) -> None:
        """Stop the study before the window closes (its trials stay on disk for a later Resume)."""
        if self.running:
            self.cancel()
            if not self.process.waitForFinished(self.stop_grace_ms if msecs is None else msecs):
                self.process.kill()
                self.process.waitForFinished(5000)

    def _read_stdout(self) -> None:
        self._buffer += bytes(self.process.readAllStandardOutput())
        *lines, self._buffer = self._buffer.split(b"\n")
        for raw in lines:
            text = raw.decode("utf-8", "replace").strip()
            if not text:
                continue
            try:
                event = json.loads(text)
            except json.JSONDecodeError:
                self.log.appendPlainText(text)
                continue
            self.handle_event(event)

    def _read_stderr(self) -> None:
        text = bytes(self.process.readAllStandardError()).decode("utf-8", "replace")
        for line in text.splitlines():
            line = line.strip()
            if line and not line.startswith(("warnings.warn", "optuna_warn(")):
                self.error_lines.append(line)
                self.log.appendPlainText(line)

    def handle_event(self, event: dict) -> None:
        """One line of the process's progress (decoras_gui.commands.automl.Events)."""
        kind = event.get("event")
        if kind == "start":
            self.study_started = True  # from here on Ctrl+C (SIGINT) stops the study cleanly
            self.log.appendPlainText(f"study {event.get('study')} in {event.get('storage')}: "
                                     f"{event.get('space')} search" + (f" from {event['init_from']}"
                                                                      if event.get("init_from") else ""))
        elif kind == "trial":
            self.plot.add(event)
            done, of = int(event.get("done", 0)), int(event.get("of", self.trials_spin.value()))
            self.trial_label.setText(f"{done} of {of} finished")
            best = self.plot.best
            self.best_label.setText("—" if best is None else f"{best:.3f}")
            value = event.get("value")
            self.log.appendPlainText(f"trial {event['number']} {event.get('state')}"
                                     + (f": {value:.3f}" if isinstance(value, (int, float)) else ""))
        elif kind == "progress":
            stage = event.get("stage", "")
            self.stage = stage
            message = str(event.get("message", ""))
            self.stage_label.setText(f"{STAGES.get(stage, stage)}: {message}")
            self.progress.setValue(int(round(1000 * float(event.get("fraction", 0.0)))))
            if stage == "study" and "running" in event:
                self.trial_label.setText(f"{event['running']} of {event.get('of', '?')} running")
        elif kind == "line":
            self.log.appendPlainText(str(event.get("text", "")))
        elif kind == "done":
            self.card_path = event.get("card")

    def _finished(self, code: int, _status) -> None:
        self._read_stdout()
        self._set_running(False)
        if code == 0 and self.card_path:
            self.progress.setValue(1000)
            self.stage_label.setText(f"Done: {Path(self.card_path).stem} is installed")
            self.start_button.setText("Start")
            self.finished_model.emit(self.card_path)
            return
        if self.cancelling:
            done = len(study_trials(self.storage, self.config.name)) if self.config else 0
            self.stage_label.setText(f"Cancelled: {done} finished trial(s) kept — Resume goes on from them")
            self._show_counts(done)
            self.stopped.emit("cancelled")
            return
        errors = [line for line in self.error_lines if "error:" in line] or self.error_lines[-1:]
        message = errors[-1] if errors else f"the study stopped (exit status {code})"
        self.stage_label.setText(f"Failed: {message}")
        self._show_counts(len(study_trials(self.storage, self.config.name)) if self.config else 0)
        self.stopped.emit(message)

    def _process_error(self, error) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self._set_running(False)
            self.stage_label.setText(f"Failed: could not start {sys.executable}")
            self.stopped.emit("could not start the study's process")
