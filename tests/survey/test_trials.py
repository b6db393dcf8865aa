"""decoras automl --scheduler: a real (tiny) study whose trials run on a Dask LocalCluster of 2 workers."""

from __future__ import annotations

import optuna
import pytest

from decoras_gui.cli import main

distributed = pytest.importorskip("distributed")


def test_the_trials_run_on_the_cluster_through_shared_storage(tmp_path, capsys):
    storage = tmp_path / "study.log"  # an Optuna journal file, as on a cluster's shared disk
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) \
            as cluster:
        args = ["automl", "--task", "detect", "--instrument", "VLBA", "--band", "L", "--trials", "4",
                "--trial-steps", "4", "--report-every", "2", "--crop", "32", "--batch-size", "2", "--val-fields", "2",
                "--val-size", "64", "--work-dir", str(tmp_path / "runs"), "--storage", str(storage),
                "--scheduler", cluster.scheduler_address]
        assert main(args) == 0
        err_out = capsys.readouterr()
        text = err_out.out + err_out.err
        assert "4 trials on a Dask cluster of 2 workers" in text
        workers = set(cluster.scheduler_info["workers"])
        study = optuna.load_study(study_name="vlba-l-band", storage=optuna.storages.JournalStorage(
            optuna.storages.journal.JournalFileBackend(str(storage))))
        finished = [t for t in study.trials if t.state.name in ("COMPLETE", "PRUNED")]
        assert len(finished) == 4 and len(study.trials) == 4
        for trial in finished:
            assert trial.user_attrs["worker"] in workers  # each trial a task on a worker of the cluster
            assert trial.intermediate_values  # scored on the OOD fields there, for the pruner
        assert text.count("trial ") >= 4
        # resumed: the study already holds its trials, nothing runs
        assert main(args) == 0
        assert "trials on a Dask cluster" not in capsys.readouterr().err
