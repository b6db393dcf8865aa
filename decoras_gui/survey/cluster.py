"""The Dask cluster of a run: a new ``LocalCluster``, or an existing one's scheduler."""

from __future__ import annotations

import importlib.util
import logging
import warnings
from dataclasses import dataclass

from ..core.errors import DecorasError


def has_distributed() -> bool:
    return importlib.util.find_spec("distributed") is not None


def require_distributed(what: str = "survey mode (--workers, --scheduler)") -> None:
    if not has_distributed():
        raise DecorasError(f"{what} runs on Dask, which is not installed here: pip install 'decoras-gui[cluster]' "
                           "(scripts/setup installs it)")


#: how long a client waits to reach a scheduler it is given
CONNECT_TIMEOUT = "20s"
#: how long a new LocalCluster's workers may take to register (a busy machine: minutes, not a hang)
WORKERS_TIMEOUT = "300s"


def has_dashboard() -> bool:
    return importlib.util.find_spec("bokeh") is not None


@dataclass
class Connection:
    """A client, and the LocalCluster it started (None: the scheduler was given, and stays up)."""

    client: object
    cluster: object | None = None

    @property
    def dashboard(self) -> str | None:
        return self.client.dashboard_link if has_dashboard() else None

    @property
    def n_workers(self) -> int:
        return len(self.client.scheduler_info(n_workers=-1)["workers"])

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def connect(workers: int | None = None, scheduler: str | None = None, dashboard: bool = True) -> Connection:
    """A client on the scheduler at ``scheduler``, or on a new LocalCluster of ``workers`` processes
    with one task thread each (the Dask dashboard on port 8787, or another when that is taken)."""
    require_distributed()
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            return Connection(Client(scheduler, timeout=CONNECT_TIMEOUT))
        except (OSError, TimeoutError, ValueError) as exc:
            raise DecorasError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from exc
    if not workers or workers < 1:
        raise DecorasError(f"a local cluster needs at least 1 worker, not {workers}")
    import dask

    # the workers' statistical profiler (the dashboard's Profile page) samples every task thread
    # every 10 ms: 9 % of an image's time here; the task stream and progress pages stay. OpenMP
    # threads that sleep when idle instead of spinning: each worker's torch may then use the cores
    # its neighbours leave idle while they measure (engine.local_torch_threads)
    settings = {"distributed.worker.profile.enabled": False,
                "distributed.nanny.pre-spawn-environ.OMP_WAIT_POLICY": "PASSIVE"}
    with warnings.catch_warnings(), dask.config.set(settings):
        # port 8787 taken (another cluster): Dask takes another, and the link says which
        warnings.filterwarnings("ignore", message="Port .* is already in use", category=UserWarning)
        try:
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                   dashboard_address=":8787" if dashboard and has_dashboard() else None,
                                   silence_logs=logging.ERROR)
        except Exception as exc:  # a worker process that cannot start (memory, a broken environment)
            raise DecorasError(f"cannot start a local Dask cluster of {workers} workers: "
                               f"{type(exc).__name__}: {exc}") from exc
    client = Client(cluster)
    try:  # on a loaded machine the workers may register after the cluster object is made
        client.wait_for_workers(workers, timeout=WORKERS_TIMEOUT)
    except Exception as exc:
        client.close()
        cluster.close()
        raise DecorasError(f"the local Dask cluster's {workers} workers did not start within "
                           f"{WORKERS_TIMEOUT}: {type(exc).__name__}: {exc}") from exc
    return Connection(client, cluster)
