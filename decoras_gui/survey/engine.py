"""A survey run: many images detected on a Dask cluster, with a manifest, resumable, fault tolerant.

:class:`SurveyRun` starts a ``LocalCluster`` of ``workers`` processes (one task thread each, the
machine's cores shared out to torch) or connects to the scheduler at ``scheduler`` (a
dask-jobqueue ``SLURMCluster``'s, say), registers :class:`~.worker.DetectPlugin` on its workers
(each loads the model once) and submits one task per image left to do (:meth:`.Manifest.plan`).

* A worker killed mid-image loses nothing and duplicates nothing: the scheduler gives its image
  to another worker; outputs are written atomically under one name per image, and the manifest
  entry is the client's, written once when the result arrives. An image whose workers die
  ``distributed.scheduler.allowed-failures`` + 1 times (a file that crashes the reader, say) is
  recorded as failed.
* A bad file is a failed entry naming the file and the problem; the run goes on.
* The survey catalogue (:mod:`.merge`) is rebuilt at the end from the manifest.

What happens is told through ``on_event(dict)`` (from the client's threads): ``plan``, ``cluster``
(dashboard link), ``start`` (an image began on a worker), ``image`` (its manifest entry),
``merged`` and ``finished`` (the :class:`SurveySummary`). :meth:`SurveyRun.cancel` (any thread)
stops it: images running are cancelled and stay to do.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.errors import DecorasError
from .cluster import connect
from .inputs import unique_stems
from .manifest import Manifest, Plan
from .merge import write_merged
from .worker import PLUGIN, TABLE, TOPIC, DetectPlugin, available_cores, detect_image

EventFn = Callable[[dict], None]

#: the options of ``decoras detect`` that change an image's outputs (a change redoes done images)
SETTINGS = ("model", "threshold", "psf", "drop_sidelobes", "per", "format", "frame", "device")


def detect_settings(options: dict) -> dict:
    return {key: options.get(key) for key in SETTINGS}


@dataclass
class SurveySummary:
    """What a run did, and where everything went."""

    out_dir: Path
    inputs: int
    done_now: int = 0
    failed_now: int = 0
    done_before: int = 0
    failed_before: int = 0
    left: int = 0  # not done: the run was cancelled
    restarts: int = 0  # images started again after their worker was lost
    seconds: float = 0.0  # from the first task submitted to the last result
    workers: int = 0
    dashboard: str | None = None
    outputs: list[Path] = field(default_factory=list)
    rows: int = 0
    failures: list[dict] = field(default_factory=list)  # this run's failed entries

    @property
    def images_per_second(self) -> float:
        done = self.done_now + self.failed_now
        return done / self.seconds if self.seconds > 0 else 0.0

    def lines(self) -> list[str]:
        """The closing report: counts, failures, throughput, where everything went."""
        done, failed = self.done_now + self.done_before, self.failed_now + self.failed_before
        head = f"{_n(self.inputs, 'image')}: {done} done"
        if self.done_before:
            head += f" ({self.done_now} now, {self.done_before} before)"
        if failed:
            head += f", {failed} failed" + (f" ({self.failed_now} now)" if self.failed_before else "")
        if self.left:
            head += f", {self.left} left to do (cancelled: the same command resumes)"
        out = [head]
        worked = self.done_now + self.failed_now
        if worked:
            out.append(f"{_n(worked, 'image')} in {self.seconds:.1f} s on {_n(self.workers, 'worker')}: "
                       f"{self.images_per_second:.2f} images/s ({self.seconds / worked:.2f} s an image)"
                       + (f"; {self.restarts} started again after their worker was lost" if self.restarts else ""))
        where = [f"catalogues and regions in {self.out_dir}"]
        if self.outputs:
            where.append(f"survey catalogue {', '.join(str(p) for p in self.outputs)} ({self.rows} rows)")
        where.append(f"manifest {self.out_dir / 'manifest.jsonl'}")
        out.append("; ".join(where))
        return out


class SurveyRun:
    """Detect ``inputs`` (absolute paths) into ``out_dir`` on a Dask cluster (see the module)."""

    def __init__(self, inputs: list[Path], out_dir: str | Path, options: dict, *, workers: int | None = None,
                 scheduler: str | None = None, retry_failed: bool = False, torch_threads: int | None = None,
                 dashboard: bool = True, on_event: EventFn | None = None):
        if not scheduler and not workers:
            raise DecorasError("a survey run needs --workers N (a local cluster) or --scheduler ADDRESS")
        self.inputs = [Path(p).absolute() for p in inputs]
        self.out_dir = Path(out_dir).absolute()
        self.options = dict(options)
        self.workers, self.scheduler = workers, scheduler
        self.retry_failed, self.torch_threads, self.dashboard = retry_failed, torch_threads, dashboard
        self.on_event = on_event or (lambda event: None)
        self._cancelled = threading.Event()
        self._lock = threading.Lock()
        self._pending: list = []
        self._client = None
        self.starts: dict[str, int] = {}
        self.tables: dict[str, Any] = {}  # input -> its catalogue as the worker read it back

    # -- the parts ---------------------------------------------------------------------------------
    def cancel(self) -> None:
        """Stop the run (from any thread): running images are cancelled and stay to do."""
        self._cancelled.set()
        with self._lock:
            client, pending = self._client, [f for f in self._pending if not f.done()]
        if client is not None and pending:
            try:
                client.cancel(pending)
            except Exception:  # the client is closing: the loop ends anyway
                pass

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def _emit(self, event: str, **fields: Any) -> None:
        self.on_event({"event": event, **fields})

    def _on_topic(self, event: tuple) -> None:
        _, message = event  # (time, msg) from Worker.log_event
        if message.get("event") != "start":
            return
        key = message["input"]
        with self._lock:
            self.starts[key] = self.starts.get(key, 0) + 1
            again = self.starts[key] > 1
        self._emit("start", input=key, name=message.get("name"), worker=message.get("worker"),
                   pid=message.get("pid"), again=again)

    def _connect(self):
        """The connection, on a new LocalCluster or the given scheduler, with the plugin registered."""
        conn = connect(self.workers, self.scheduler, self.dashboard)
        threads = self.torch_threads or (None if self.scheduler else local_torch_threads(self.workers))
        try:
            conn.client.register_plugin(DetectPlugin(threads), name=PLUGIN)
        except Exception as exc:
            conn.close()
            raise DecorasError(f"the Dask workers cannot load decoras-gui ({type(exc).__name__}: {exc}); install "
                               "the same decoras-gui on every worker") from exc
        conn.client.subscribe_topic(TOPIC, self._on_topic)
        return conn

    def _close(self, conn) -> None:
        with self._lock:
            self._client = None
        try:
            conn.client.unsubscribe_topic(TOPIC)
        except Exception:
            pass
        conn.close()

    # -- the run -----------------------------------------------------------------------------------
    def plan(self, manifest: Manifest) -> tuple[Plan, dict[Path, str]]:
        names = unique_stems(self.inputs, {p: n for p, n in manifest.names().items() if p in set(self.inputs)})
        settings = detect_settings(self.options)
        return manifest.plan(self.inputs, settings, self.retry_failed), names

    def run(self) -> SurveySummary:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        manifest = Manifest(self.out_dir)
        plan, names = self.plan(manifest)
        summary = SurveySummary(self.out_dir, len(self.inputs), done_before=len(plan.done),
                                failed_before=len(plan.failed))
        self._emit("plan", plan=plan, total=len(self.inputs), names={str(k): v for k, v in names.items()},
                   previous={str(p): manifest.entries[p] for p in plan.done + plan.failed})
        if plan.todo and not self.cancelled:
            self._detect(plan, names, manifest, summary)
        entries = manifest.done_entries(self.inputs)
        summary.outputs = write_merged(self.out_dir, entries, self.options.get("format") or "ecsv", self.tables)
        summary.rows = sum(int(e.get("sources") or 0) for e in entries) if self.options.get("per") != "source" \
            else _rows(summary.outputs[0])
        self._emit("merged", paths=summary.outputs, rows=summary.rows)
        self._emit("finished", summary=summary)
        return summary

    def _detect(self, plan: Plan, names: dict[Path, str], manifest: Manifest, summary: SurveySummary) -> None:
        from distributed import as_completed
        from distributed.scheduler import KilledWorker

        conn = self._connect()
        client = conn.client
        with self._lock:
            self._client = client
        try:
            summary.workers = conn.n_workers
            summary.dashboard = conn.dashboard if self.dashboard else None
            self._emit("cluster", workers=summary.workers, dashboard=summary.dashboard,
                       scheduler=client.scheduler.address)
            options = {"detect": {**self.options, "out_dir": str(self.out_dir), "catalog": None, "regions": None},
                       "settings": detect_settings(self.options), "model": self.options.get("model")}
            token = uuid.uuid4().hex[:8]
            t0 = time.perf_counter()
            owner = {}
            for path in plan.todo:
                future = client.submit(detect_image, str(path), names[path], str(self.out_dir), options,
                                       key=f"decoras-detect-{token}-{names[path]}", pure=False)
                owner[future.key] = path
                self._pending.append(future)
            if self.cancelled:
                self.cancel()
            finished = 0
            for future in as_completed(list(self._pending)):
                path = owner[future.key]
                if future.status == "cancelled":
                    summary.left += 1
                    continue
                try:
                    entry = future.result()
                except KilledWorker as exc:
                    entry = {"input": str(path), "name": names[path], "status": "failed",
                             "error": f"{path.name}: the workers detecting it died {self.starts.get(str(path), '')} "
                             f"times (out of memory, or a crash reading it): {exc}"}
                except Exception as exc:  # cancelled while fetched, or the cluster went away
                    if self.cancelled:
                        summary.left += 1
                        continue
                    entry = {"input": str(path), "name": names[path], "status": "failed",
                             "error": f"{path.name}: the task failed on the cluster: {type(exc).__name__}: {exc}"}
                table = entry.pop(TABLE, None)
                if table is not None:
                    self.tables[entry["input"]] = table
                entry["attempts"] = self.starts.get(str(path), 1)
                summary.restarts += entry["attempts"] > 1
                manifest.record(entry)
                finished += 1
                if entry["status"] == "done":
                    summary.done_now += 1
                else:
                    summary.failed_now += 1
                    summary.failures.append(entry)
                summary.seconds = time.perf_counter() - t0
                self._emit("image", entry=entry, done=finished + summary.done_before + summary.failed_before,
                           of=len(self.inputs))
                future.release()
        finally:
            self._close(conn)


def local_torch_threads(workers: int, cores: int | None = None) -> int:
    """torch's threads in each worker of a LocalCluster: twice its share of the cores, at most all
    of them. A worker spends most of an image measuring on one core; its networks, the rest, then
    use a neighbour's idle core (OpenMP threads sleep when idle there: cluster.connect). On 2 cores,
    2 workers of 2 threads gave 2.70 images/s, against 2.56-2.61 with 1 thread each and 1.58 with
    2 spinning threads each (benchmarks/RESULTS.md, session 14)."""
    cores = cores or available_cores()
    return max(1, min(cores, 2 * cores // max(1, workers)))


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _rows(path: Path) -> int:
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).metadata.num_rows
