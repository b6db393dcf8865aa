"""Long tasks off the UI thread: a QObject worker in a QThread, with progress and cancel.

``task(progress, cancel)`` is a plain function: ``progress(fraction or None, message)``
(None = busy, unknown fraction) and ``cancel() -> bool``; core functions raise
:class:`Cancelled` when asked to stop. Results come back through Qt signals, queued
to the UI thread.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QThread, QTimer, Signal, Slot

from ..core.errors import Cancelled, DecorasError


class Worker(QObject):
    progress = Signal(object, str)  # fraction (float or None), message
    succeeded = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    done = Signal()  # after any of the three above

    def __init__(self, task: Callable, name: str = "task"):
        super().__init__()
        self._task = task
        self.name = name
        self._cancel = threading.Event()

    def cancel(self) -> None:
        self._cancel.set()

    @Slot()
    def run(self) -> None:
        try:
            result = self._task(self._report, self._cancel.is_set)
            if self._cancel.is_set():
                raise Cancelled(f"{self.name} cancelled")
        except Cancelled:
            self.cancelled.emit()
        except DecorasError as exc:
            self.failed.emit(str(exc))
        except MemoryError:
            self.failed.emit(f"{self.name}: not enough memory")
        except Exception as exc:  # a bug: say what, keep the window alive
            traceback.print_exc()
            self.failed.emit(f"{self.name} failed ({type(exc).__name__}: {exc})")
        else:
            self.succeeded.emit(result)
        self.done.emit()

    def _report(self, fraction, message: str = "") -> None:
        self.progress.emit(fraction, str(message))


class TaskRunner(QObject):
    """Starts one :class:`Worker` per task in its own QThread and cleans up after it."""

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._running: dict[Worker, QThread] = {}

    def start(self, task: Callable, name: str = "task") -> Worker:
        worker = Worker(task, name)
        thread = QThread(self)
        thread.setObjectName(name)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        # direct: QThread.quit is thread-safe, and a queued call would never run while the UI
        # thread waits for this thread in wait_all (closing the window mid-task)
        worker.done.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        thread.finished.connect(self._thread_finished)  # a bound slot: queued to this thread
        self._running[worker] = thread
        # started from the event loop, not here: the caller connects to the worker's signals after
        # this returns, and a quick task started now could finish (and emit) before it has
        QTimer.singleShot(0, thread, lambda: self._launch(thread))
        return worker

    def _launch(self, thread: QThread) -> None:
        """Start ``thread`` once (from the event loop, or from wait_all when that comes first)."""
        if thread.property("launched"):
            return
        thread.setProperty("launched", True)
        thread.start()

    @Slot()
    def _thread_finished(self) -> None:
        thread = self.sender()
        for worker, t in list(self._running.items()):
            if t is thread or t.isFinished():  # not one that is still to start
                self._running.pop(worker, None)
                t.deleteLater()
                worker.deleteLater()

    @property
    def busy(self) -> bool:
        return bool(self._running)

    def cancel_all(self) -> None:
        for worker in list(self._running):
            worker.cancel()

    def wait_all(self, msecs: int = 30000) -> None:
        for thread in list(self._running.values()):
            self._launch(thread)  # one not started yet runs now (a cancelled task ends at once) and is waited for
            thread.wait(msecs)
