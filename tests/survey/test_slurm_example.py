"""The worked SLURM example of docs/survey.md: the job script dask-jobqueue writes for it, run
here with bash as a SLURM node would run it (the #SBATCH lines are comments to bash), gives the
workers that ``decoras detect --scheduler`` detects on."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from decoras_gui.cli import main

pytest.importorskip("dask_jobqueue")
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "slurm_survey.py"


def _example():
    spec = importlib.util.spec_from_file_location("slurm_survey", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_slurm_job_runs_workers_that_decoras_detect_uses(tmp_path, capsys):
    fields = tmp_path / "fields"
    assert main(["simulate", "--n-fields", "3", "--size", "256", "--seed", "5", "--out", str(fields)]) == 0
    cluster = _example().make_cluster(queue="normal", account="astro", cores=2, processes=2, memory="4GB",
                                      venv=sys.prefix, local_directory=str(tmp_path / "dask"))
    job = None
    try:
        script = cluster.job_script()
        assert "#SBATCH -p normal" in script and "#SBATCH -A astro" in script and "--cpus-per-task=2" in script
        assert f"source {sys.prefix}/bin/activate" in script and "--nworkers 2" in script
        assert "--nthreads 1" in script
        path = tmp_path / "job.sh"
        path.write_text(script)
        job = subprocess.Popen(["bash", str(path)], start_new_session=True, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        from distributed import Client

        with Client(cluster.scheduler_address) as client:
            client.wait_for_workers(2, timeout=240)
        out = tmp_path / "out"
        code = main(["detect", str(fields), "--out-dir", str(out), "--scheduler", cluster.scheduler_address])
        err = capsys.readouterr().err
        assert code == 0, err
        assert "Dask cluster of 2 workers" in err and "3 images: 3 done" in err
        assert (out / "survey.parquet").is_file()
    finally:
        if job is not None:
            os.killpg(job.pid, signal.SIGTERM)
            job.wait(timeout=60)
        cluster.close()
