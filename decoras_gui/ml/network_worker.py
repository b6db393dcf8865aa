"""The networks in a process of their own, so that ``decoras detect`` uses both CPU cores.

Importing torch and loading a model take about 2 s, and so does importing what measures
sources (astropy, photutils, scipy); one after the other they were most of a lone 512^2
field's 4-5 s. :class:`NetworkWorker` starts a second Python process first, which imports
torch and loads the model while the command imports the rest and reads the first image.
In batch mode the networks of image k+1 then run in the worker while the command measures
the sources of image k (:meth:`RemoteModel.prefetch`).

:class:`RemoteModel` stands in for a :class:`~decoras_gui.ml.registry.DecorasModel`:
:func:`decoras_gui.ml.inference.run_networks` hands it the call, so :func:`decoras_gui.ml.pipeline.detect`
runs unchanged, and the maps are the worker's own ``run_networks`` output, pickled: the same
numbers as in one process.

Protocol, pickled messages on the worker's stdin and stdout:

* to the worker: ``{"model": name, "task": task, "threads": n}``, then ``("run", id, data, rms, kwargs)``
  for each request; end of input ends it.
* from the worker: ``("ready", card, time)`` (its ``time.time()`` then) or ``("fatal", problem, path)``;
  then for each request ``("progress", id, done, total)`` messages and one of
  ``("maps", id, NetworkMaps, seconds)`` (seconds: the networks' own time),
  ``("error", id, problem, path)`` (a :class:`DecorasError`) or ``("crash", id, traceback)``.
"""

from __future__ import annotations

import inspect
import os
import pickle
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..core.errors import Cancelled, DecorasError
from .registry import ModelIdentity

if TYPE_CHECKING:
    import numpy as np

    from .inference import CancelFn, NetworkMaps, ProgressFn
    from .registry import ModelCard

#: $DECORAS_NETWORK_WORKER: "1" always use a worker, "0" never; unset: when torch is not imported yet
ENV = "DECORAS_NETWORK_WORKER"


#: the largest image side :func:`decoras_gui.ml.pipeline.detect` does whole, with one call of the
#: networks (``BLOCK + 2 * MARGIN`` there; a test checks): only such images are prefetched
WHOLE_IMAGE_MAX = 4096 + 2 * 256
#: prefetched requests kept unanswered at most (each holds its image here and in the worker)
MAX_PREFETCH = 2


class ModelUnavailable(DecorasError):
    """The worker could not load the model (or ended): no image can be done, the command ends."""


def worker_pays() -> bool:
    """Whether ``decoras detect`` should run its networks in a worker: in a fresh process (torch
    not imported yet, so its import overlaps the rest), not in one that has torch already (a
    Python session, the tests) or in a frozen bundle (no interpreter to start). $DECORAS_NETWORK_WORKER
    ("1"/"0") decides when set."""
    choice = os.environ.get(ENV, "").strip()
    if getattr(sys, "frozen", False) or not sys.executable:
        return False
    if choice in ("0", "1"):
        return choice == "1"
    return "torch" not in sys.modules


_BOOT = "import sys; sys.path[:] = {path!r}; from decoras_gui.ml.network_worker import serve; sys.exit(serve())"


@dataclass
class _Prefetch:
    ticket: int
    data: Any
    rms: float
    kwargs: dict = field(default_factory=dict)

    def matches(self, data: Any, rms: float, kwargs: dict) -> bool:
        return data is self.data and rms == self.rms and kwargs.keys() == self.kwargs.keys() and all(
            _same(kwargs[k], self.kwargs[k]) for k in kwargs)


def _same(a: Any, b: Any) -> bool:
    """Arrays by identity, everything else by value."""
    if a is b:
        return True
    if hasattr(a, "__array__") or hasattr(b, "__array__"):
        return False
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


def _call_kwargs(kwargs: dict) -> dict:
    """``run_networks`` keyword arguments with its defaults filled in (progress and cancel left out)."""
    from .inference import run_networks

    full = {name: p.default for name, p in inspect.signature(run_networks).parameters.items()
            if p.kind is inspect.Parameter.KEYWORD_ONLY}
    full.update(kwargs)
    for name in ("progress", "cancel"):
        full.pop(name, None)
    return full


class NetworkWorker:
    """A worker process that has loaded ``model_name`` (checked against ``task``, as
    :func:`~decoras_gui.ml.registry.load_model` does) and runs the networks on request.
    Requests are answered in the order they were made. Use as a context manager, or :meth:`close`."""

    def __init__(self, model_name: str, task: str | None = None, threads: int | None = None):
        self.started = time.time()
        self.ready_seconds = float("nan")  # from the start to the model loaded in the worker
        self.network_seconds = 0.0  # the worker's time in run_networks, all requests answered
        self.wait_seconds = 0.0  # this process's time waiting for answers
        self._proc = subprocess.Popen([sys.executable, "-c", _BOOT.format(path=list(sys.path))],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self._card: ModelCard | None = None
        self._fatal: ModelUnavailable | None = None
        self._tickets = 0
        self._dropped: set[int] = set()  # answers nobody waits for any more (a prefetch not used)
        self._stash: dict[int, tuple] = {}  # answers that came while another was waited for
        self._prefetched: list[_Prefetch] = []  # oldest first
        self.prefetch_hits = 0  # requests answered by a prefetch (the tests check that batch mode uses it)
        self.requests = 0
        #: things to do while waiting for an answer (imports the command needs later): one is run
        #: whenever no answer has come yet, so that they cost nothing when the networks are slower
        self.idle: list[Callable[[], Any]] = []
        # the answers are read as they come, into ``inbox``; None: the worker ended
        self.inbox: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, args=(self._proc.stdout,), daemon=True).start()
        self._send({"model": model_name, "task": task, "threads": threads})

    def _read(self, stream) -> None:
        while True:
            try:
                message = pickle.load(stream)
            except (EOFError, OSError, ValueError, pickle.UnpicklingError):
                self.inbox.put(None)
                return
            self.inbox.put(message)

    # ------------------------------------------------------------------ plumbing
    def _send(self, message: Any) -> None:
        try:
            pickle.dump(message, self._proc.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            self._proc.stdin.flush()
        except (BrokenPipeError, OSError):
            self._died()

    def _receive(self) -> tuple:
        message = self.inbox.get()
        if message is None:
            self._died()
        return message

    def _died(self):
        code = self._proc.wait()
        self._fatal = self._fatal or ModelUnavailable(f"the networks' worker process ended unexpectedly "
                                                      f"(exit code {code})")
        raise self._fatal

    def _ready(self) -> None:
        if self._fatal is not None:
            raise self._fatal
        if self._card is not None:
            return
        message = self._receive()
        if message[0] == "fatal":
            self._fatal = ModelUnavailable(message[1], message[2])
            raise self._fatal
        self._card = message[1]
        self.ready_seconds = message[2] - self.started

    # ------------------------------------------------------------------ the model
    @property
    def card(self) -> ModelCard:
        """The loaded model's card (waits for the worker to have loaded it)."""
        self._ready()
        return self._card

    def submit(self, data: np.ndarray, rms: float, **kwargs) -> int:
        """Ask for the networks' maps of ``data`` (``run_networks`` arguments); returns a ticket."""
        if self._fatal is not None:
            raise self._fatal
        self._tickets += 1
        self.requests += 1
        self._send(("run", self._tickets, data, rms, kwargs))
        return self._tickets

    def result(self, ticket: int, progress: ProgressFn | None = None, cancel: CancelFn | None = None) -> NetworkMaps:
        """The maps of ``ticket``, reporting the worker's progress; answers to dropped tickets are
        skipped, answers to other live ones kept for their turn."""
        t0 = time.perf_counter()
        try:
            while self.idle and self.inbox.empty():
                self.idle.pop(0)()
            self._ready()
            return self._answer(ticket, progress, cancel)
        finally:
            self.wait_seconds += time.perf_counter() - t0

    def _answer(self, ticket: int, progress: ProgressFn | None, cancel: CancelFn | None) -> NetworkMaps:
        while True:
            message = self._stash.pop(ticket, None)
            if message is None:
                message = self._receive()
                if message[0] == "maps":
                    self.network_seconds += message[3]
            kind, got = message[0], message[1]
            final = kind != "progress"
            if got != ticket:
                if got in self._dropped:
                    if final:
                        self._dropped.discard(got)
                elif final:
                    self._stash[got] = message
                continue
            if kind == "progress":
                if progress:
                    progress(message[2], message[3])
                if cancel and cancel():
                    self._dropped.add(ticket)
                    raise Cancelled("detection cancelled")
                continue
            if kind == "maps":
                return message[2]
            if kind == "error":
                raise DecorasError(message[2], message[3])
            raise RuntimeError(f"the networks' worker process failed:\n{message[2]}")

    def prefetch(self, data: np.ndarray, rms: float, **kwargs) -> None:
        """Start the networks on ``data`` now (after the requests made before); the :meth:`run`
        that asks for the same arguments (``data`` the same array object) gets this answer.
        At most :data:`MAX_PREFETCH` are kept: an older one is then dropped."""
        kwargs = _call_kwargs(kwargs)
        self._prefetched.append(_Prefetch(self.submit(data, rms, **kwargs), data, rms, kwargs))
        while len(self._prefetched) > MAX_PREFETCH:
            self._dropped.add(self._prefetched.pop(0).ticket)

    def run(self, data: np.ndarray, rms: float, *, progress: ProgressFn | None = None,
            cancel: CancelFn | None = None, **kwargs) -> NetworkMaps:
        """``run_networks(data, rms, model, **kwargs)`` in the worker (a prefetched answer when one matches)."""
        if cancel and cancel():
            raise Cancelled("detection cancelled")
        kwargs = _call_kwargs(kwargs)
        hit = next((i for i, p in enumerate(self._prefetched) if p.matches(data, rms, kwargs)), None)
        if hit is not None:
            # answers come in order: the prefetches made before this one will not be asked for now
            ticket = self._prefetched[hit].ticket
            self._dropped.update(p.ticket for p in self._prefetched[:hit])
            del self._prefetched[:hit + 1]
            self.prefetch_hits += 1
        else:
            ticket = self.submit(data, rms, **kwargs)
        return self.result(ticket, progress, cancel)

    def close(self) -> None:
        """End the worker (it stops at the end of its input; killed if it does not within 10 s)."""
        for stream in (self._proc.stdin, self._proc.stdout):
            try:
                stream.close()
            except OSError:
                pass
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()

    def __enter__(self) -> "NetworkWorker":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class RemoteModel(ModelIdentity):
    """Stands in for a :class:`~decoras_gui.ml.registry.DecorasModel` whose networks run in ``worker``:
    it has the card, and :func:`~decoras_gui.ml.inference.run_networks` hands it its calls."""

    def __init__(self, worker: NetworkWorker):
        self.worker = worker

    @property
    def card(self) -> ModelCard:
        return self.worker.card

    def run_networks(self, data: np.ndarray, rms: float, **kwargs) -> NetworkMaps:
        return self.worker.run(data, rms, **kwargs)

    def prefetch(self, data: np.ndarray, rms: float, **kwargs) -> None:
        self.worker.prefetch(data, rms, **kwargs)


# ---------------------------------------------------------------------- the worker's side
def serve() -> int:
    """The worker process: load the model named on stdin, answer requests until end of input."""
    import queue
    import signal
    import threading
    import traceback

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the command's to handle; it ends us
    inp = sys.stdin.buffer
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # a stray print must not corrupt the answers

    # every message is read as soon as it comes, from the start: the command hands over its first
    # image while torch is still being imported here, and image k+1 while the maps of image k
    # are being handed back, and never waits for that
    messages: queue.Queue = queue.Queue()
    # unpickling an image imports numpy in the reader thread: numpy is imported here first, since
    # two threads importing it at once can see it half-initialised (a circular-import error seen
    # when the first image arrived while this thread was importing scipy)
    import numpy  # noqa: F401

    def read() -> None:
        while True:
            try:
                messages.put(pickle.load(inp))
            except (EOFError, OSError, pickle.UnpicklingError):
                messages.put(None)
                return

    threading.Thread(target=read, daemon=True).start()

    def send(message: Any) -> None:
        pickle.dump(message, out, protocol=pickle.HIGHEST_PROTOCOL)
        out.flush()

    try:
        init = messages.get()
        if init is None:
            return 0
        try:
            if init.get("threads"):
                import torch

                torch.set_num_threads(int(init["threads"]))
            from .registry import load_model

            model = load_model(init["model"], task=init.get("task"))
        except DecorasError as exc:
            send(("fatal", exc.problem, exc.path))
            return 0
        send(("ready", model.card, time.time()))
        from .inference import run_networks

        while (request := messages.get()) is not None:
            _, ticket, data, rms, kwargs = request

            def progress(done: int, total: int, ticket: int = ticket) -> None:
                send(("progress", ticket, done, total))

            t0 = time.perf_counter()
            try:
                maps = run_networks(data, rms, model, progress=progress, **kwargs)
            except DecorasError as exc:
                send(("error", ticket, exc.problem, exc.path))
            except Exception:  # a bug: the command shows the traceback
                send(("crash", ticket, traceback.format_exc()))
            else:
                send(("maps", ticket, maps, time.perf_counter() - t0))
    except (BrokenPipeError, OSError):  # the command is gone
        pass
    # done: skip the interpreter's tear-down of torch (half a second the command would wait for)
    sys.stderr.flush()
    os._exit(0)
