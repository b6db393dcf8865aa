"""``decoras-gui --script FILE``: replay user actions, for end-to-end tests (hidden option).

One command a line, run in order on the event loop; every vetting step goes through the
same QActions (and so the same shortcuts, commands and journal) as the user's keys::

    wait-image                 # until the image (and a session's catalogue) is shown
    wait-sources N             # until the catalogue holds at least N sources
    action accept              # trigger a QAction by its object name (accept, reject, unvet,
                               # next, previous, delete, auto_advance, add_mode…)
    key A                      # a real key press sent to the window (shortcut path)
    note text…                 # what the Note dialog sets on the selection
    sleep MS
    repaint                    # repaint the whole image view
    touch PATH                 # a marker file (e.g. "all done, kill me now")
    step MS                    # the pause between commands (default 30)
    progress PATH              # from now on, after each action/key/note append
                               # "<count> <catalogue digest>" to PATH (crash tests)
    dump PATH                  # write the catalogue (.ecsv)
    train TRIALS STEPS VAL FINAL CAL  # Tools > Train a Model…: start a study of that budget
    wait-trials N              # until the training panel's study shows N finished trials
    deblend X Y [SIDE]         # Detect > Deblend at pixel (X, Y), 0-based, a cutout of SIDE pixels
    wait-idle                  # until no task (open, detect, deblend…) runs
    survey FOLDER [WORKERS]    # File > Detect in Folder… on FOLDER (output FOLDER/decoras-survey)
    wait-survey                # until the survey has ended
    survey-open NAME           # double-click the Survey dock's row of image NAME (opens it with its catalogue)
    crossmatch PATH [BEAMS]    # File > Import > Reference Catalogue for Cross-match… with PATH (wait-idle after)
    open-catalogue PATH        # show the catalogue PATH on the open image (as a session would)
    select ID                  # select source ID (as a click in the table)
    plane N                    # show plane N of a cube (the plane slider)
    detect-planes              # Detect > Detect on All Planes… over every plane (wait-idle after)
    raise-dock NAME            # bring a dock to the front by its object name (spectrumDock, sourcesDock…)
    quit
"""

from __future__ import annotations

import shlex
import time
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication

from ..core.session import catalogue_digest

STEP_MS = 30


class ScriptRunner(QObject):
    def __init__(self, window, path: str | Path):
        super().__init__(window)
        self.w = window
        self.lines = [ln.strip() for ln in Path(path).read_text(encoding="utf-8").splitlines()]
        self.lines = [ln for ln in self.lines if ln and not ln.startswith("#")]
        self.i = 0
        self._step_ms = STEP_MS
        self._progress: Path | None = None
        self._actions = 0

    def start(self) -> None:
        QTimer.singleShot(STEP_MS, self._step)

    def _action(self, name: str) -> QAction:
        for a in self.w.findChildren(QAction):
            if a.objectName() == name:
                return a
        raise KeyError(f"no action named {name!r}")

    def _step(self) -> None:
        if self.i >= len(self.lines):
            return
        cmd, *rest = shlex.split(self.lines[self.i])
        arg = " ".join(rest)
        delay = self._step_ms
        done = True
        if cmd == "wait-image":
            done = self.w.image is not None and not self.w.busy and self.w.sessions.pending is None
        elif cmd == "wait-sources":
            done = len(self.w.doc) >= int(arg)
        elif cmd == "action":
            self._action(arg).trigger()
        elif cmd == "key":
            from PySide6.QtTest import QTest

            self.w.activateWindow()
            QTest.keyClick(self.w.canvas.graphics.viewport(), arg[0] if len(arg) == 1 else getattr(Qt.Key, arg))
        elif cmd == "note":
            self.w.vetting.set_note(arg)
        elif cmd == "repaint":
            self.w.canvas.graphics.viewport().update()
        elif cmd == "sleep":
            delay = int(arg)
        elif cmd == "step":
            self._step_ms = delay = int(arg)
        elif cmd == "progress":
            self._progress = Path(arg)
        elif cmd == "touch":
            Path(arg).write_text(str(time.time()), encoding="utf-8")
        elif cmd == "dump":
            self.w.doc.catalogue.write(arg)
        elif cmd == "train":
            trials, steps, val, final, cal = (int(v) for v in rest)
            panel = self.w.show_training()
            for spin, value in ((panel.trials_spin, trials), (panel.trial_steps_spin, steps), (panel.val_spin, val),
                                (panel.final_steps_spin, final), (panel.calibration_spin, cal)):
                spin.setValue(value)
            panel.start()
        elif cmd == "wait-trials":
            panel = getattr(self.w, "training_panel", None)
            done = panel is not None and len(panel.plot.trials) >= int(arg)
        elif cmd == "deblend":
            x, y, *side = rest
            self.w.deblend.start(float(x), float(y), int(side[0]) if side else None)
        elif cmd == "survey":
            folder, *workers = rest
            if workers:
                self.w.survey_panel.workers_spin.setValue(int(workers[0]))
            self.w.detect_in_folder(folder)
        elif cmd == "survey-open":
            panel = self.w.survey_panel
            panel.table.cellDoubleClicked.emit(panel.row_of(arg), 0)
        elif cmd == "wait-survey":
            done = not self.w.survey.running and self.w.survey_panel.summary is not None
        elif cmd == "crossmatch":
            path, *beams = rest
            self.w.crossmatch.run(path, None, float(beams[0]) if beams else 1.0)
        elif cmd == "open-catalogue":
            from ..core.catalogue import Catalogue

            self.w.doc.set_catalogue(Catalogue.read(arg))
        elif cmd == "select":
            self.w.doc.set_selection([int(arg)])
        elif cmd == "plane":
            self.w.cube.set_plane(int(arg))
        elif cmd == "detect-planes":
            self.w.cube.detect(list(range(self.w.cube.axis.length)))
        elif cmd == "raise-dock":
            from PySide6.QtWidgets import QDockWidget

            dock = self.w.findChild(QDockWidget, arg)
            dock.show()
            dock.raise_()
        elif cmd == "wait-idle":
            done = not self.w.busy
        elif cmd == "quit":
            self.w.close()
            QApplication.quit()
            return
        else:
            raise ValueError(f"script: unknown command {cmd!r}")
        if done and cmd in ("action", "key", "note") and self._progress is not None:
            self._actions += 1
            with open(self._progress, "a", encoding="utf-8") as fh:  # after the journal's fsync
                fh.write(f"{self._actions} {catalogue_digest(self.w.doc.catalogue)}\n")
        if done:
            self.i += 1
        else:
            delay = 50
        QTimer.singleShot(delay, self._step)
