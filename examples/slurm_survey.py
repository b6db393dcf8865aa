"""A Dask cluster on SLURM for ``decoras detect --scheduler`` and ``decoras automl --scheduler``.

Run it on the cluster's login node, in the environment where decoras-gui is installed with its
cluster extra (``pip install 'decoras-gui[cluster]'``; the compute nodes must see the same
environment and the same file systems)::

    python examples/slurm_survey.py --jobs 8 --account myproject --queue normal
    # prints: scheduler tcp://10.1.2.3:8786 ... ; keep it running, and in another shell:
    decoras detect /data/mjive20/*.fits --out-dir /scratch/$USER/mjive20 --scheduler tcp://10.1.2.3:8786

Each SLURM job runs ``--processes`` Dask workers of one task thread each (one image at a time,
each loading the model once; torch gets the job's cores shared out). ``--print-job`` shows the
batch script SLURM would get, without submitting anything.
"""

from __future__ import annotations

import argparse
import sys


def make_cluster(*, queue: str | None = None, account: str | None = None, cores: int = 4, processes: int = 4,
                 memory: str = "8GB", walltime: str = "04:00:00", venv: str | None = None,
                 local_directory: str = "$TMPDIR"):
    """A dask-jobqueue SLURMCluster whose jobs each run ``processes`` workers of ``cores / processes``
    task threads (1 by default: one image at a time per worker)."""
    from dask_jobqueue import SLURMCluster

    prologue = [f"source {venv}/bin/activate"] if venv else []
    return SLURMCluster(queue=queue, account=account, cores=cores, processes=processes, memory=memory,
                        walltime=walltime, job_script_prologue=prologue, local_directory=local_directory,
                        scheduler_options={"dashboard_address": ":8787"})


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--jobs", type=int, default=4, help="SLURM jobs to start (each --processes workers)")
    p.add_argument("--adapt", type=int, metavar="MAX_JOBS", help="scale between 1 and MAX_JOBS jobs as work comes")
    p.add_argument("--queue"), p.add_argument("--account")
    p.add_argument("--cores", type=int, default=4), p.add_argument("--processes", type=int, default=4)
    p.add_argument("--memory", default="8GB", help="per job (a 512^2 field peaks near 0.5 GB a worker)")
    p.add_argument("--walltime", default="04:00:00")
    p.add_argument("--venv", default=sys.prefix, help="the environment the jobs activate (default: this one)")
    p.add_argument("--print-job", action="store_true", help="print the job script and exit")
    args = p.parse_args(argv)
    cluster = make_cluster(queue=args.queue, account=args.account, cores=args.cores, processes=args.processes,
                           memory=args.memory, walltime=args.walltime, venv=args.venv)
    try:
        if args.print_job:
            print(cluster.job_script())
            return 0
        if args.adapt:
            cluster.adapt(minimum_jobs=1, maximum_jobs=args.adapt)
        else:
            cluster.scale(jobs=args.jobs)
        print(f"scheduler {cluster.scheduler_address}; dashboard {cluster.dashboard_link}", flush=True)
        print("keep this running; Ctrl+C stops the cluster and cancels its jobs", flush=True)
        try:
            input()
        except (KeyboardInterrupt, EOFError):
            pass
        return 0
    finally:
        cluster.close()


if __name__ == "__main__":
    sys.exit(main())
