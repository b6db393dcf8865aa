"""AutoML trials on a Dask cluster: one task per trial, the study in shared storage.

The client opens (or resumes) the study, then submits one :func:`decoras_gui.ml.automl.run_trial`
task per trial left to run. Each task, on whichever worker the scheduler gives it, opens the study
from its storage (an SQLite or Optuna journal file on a file system the workers share, or a
database URL), asks the sampler for parameters, trains, reports the OOD scores (Hyperband prunes
on them, as in one process: the intermediate values are in the storage) and tells the result.
A worker lost mid-trial leaves that trial RUNNING in the study; the scheduler reruns the task, so
the study still ends with the trials asked for. On an NFS file system use a journal file
(``--storage NAME.log``): SQLite's locks do not hold there.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path

from ..core.errors import DecorasError
from ..ml.automl import StudySettings, finished_trials, open_study, prepare_study, run_trial, trial_line
from .cluster import connect


def shared_storage(storage: str) -> str:
    """The storage as every worker reaches it: files by their absolute path."""
    return storage if "://" in storage else str(Path(storage).absolute())


def trial_task(settings: StudySettings, storage: str, study_name: str, n_trials: int, work_dir: str) -> int | None:
    """A Dask task: one trial, marked with the worker it ran on."""
    from distributed import get_worker

    from ..core.malloc import tune_malloc

    tune_malloc()
    worker = get_worker()
    return run_trial(settings, storage, study_name, n_trials, work_dir,
                     user_attrs={"worker": worker.address, "pid": os.getpid()})


def run_study_on_cluster(settings: StudySettings, storage: str, study_name: str, n_trials: int,
                         work_dir: str | os.PathLike, *, workers: int | None = None, scheduler: str | None = None,
                         log: Callable[[str], None] = print, progress: Callable[[float, str], None] | None = None,
                         on_open: Callable | None = None, on_trial: Callable | None = None):
    """Run the study's trials on the cluster until it holds ``n_trials`` finished ones (as
    :func:`decoras_gui.ml.automl.run_study` does in one process); returns the study."""
    from distributed import as_completed

    storage = shared_storage(storage)
    work = str(Path(work_dir).absolute())
    study, _task = prepare_study(settings, storage, study_name)
    if on_open:
        on_open(study)
    left = n_trials - finished_trials(study)
    if left <= 0:
        return study
    conn = connect(workers, scheduler)
    try:
        log(f"{left} trials on a Dask cluster of {conn.n_workers} workers"
            + (f"; dashboard {conn.dashboard}" if conn.dashboard else "") + f"; study {study_name} in {storage}")
        token = uuid.uuid4().hex[:8]
        futures = [conn.client.submit(trial_task, settings, storage, study_name, n_trials, work,
                                      key=f"decoras-trial-{token}-{k}", pure=False) for k in range(left)]
        done = 0
        if progress:
            progress(finished_trials(study) / n_trials, f"{left} trials on the cluster")
        for future in as_completed(futures):
            try:
                number = future.result()
            except DecorasError:
                raise
            except Exception as exc:
                raise DecorasError(f"a trial failed on the cluster: {type(exc).__name__}: {exc}") from exc
            done += 1
            if number is None:
                continue
            study = open_study(storage, study_name, settings.seed, settings.n_reports)
            trial = next(t for t in study.trials if t.number == number)
            log(trial_line(trial))
            if on_trial:
                on_trial(trial)
            if progress:
                progress(finished_trials(study) / n_trials, f"{done} of {left} trials on the cluster done")
    finally:
        conn.close()
    return open_study(storage, study_name, settings.seed, settings.n_reports)
