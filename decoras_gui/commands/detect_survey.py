"""``decoras detect IMAGES... --out-dir DIR --workers N | --scheduler ADDRESS``: survey mode on Dask.

The images (files, or folders of them) are detected on a Dask cluster by
:class:`decoras_gui.survey.engine.SurveyRun`: a manifest in DIR says what became of each, a rerun
does only what is left (``--retry-failed`` retries the failures), and DIR gets one catalogue and
region file per image and the survey catalogue (``survey.parquet`` and ``survey.<format>``, the
image's name a column). stdout has one line per image; stderr the cluster (and its dashboard),
a progress bar and, at the end, counts, failures, throughput and where everything went.
"""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path

from ..cli import EXIT_USER_ERROR
from ..core.errors import DecorasError
from .progress import ProgressBar


def survey_options(args: argparse.Namespace) -> dict:
    """The per-image options of ``decoras detect`` that go to the workers."""
    return {"model": args.model, "device": args.device, "threshold": args.threshold,
            "psf": str(Path(args.psf).absolute()) if args.psf else None, "drop_sidelobes": args.drop_sidelobes,
            "per": args.per, "format": args.format, "frame": args.frame, "timing": False}


def run_survey(args: argparse.Namespace) -> int:
    from ..survey.cluster import require_distributed

    if getattr(args, "planes", None) is not None:
        raise DecorasError("--planes is for single images and --out-dir: a survey detects on each image's first plane")
    if getattr(args, "layout", "native") != "native":
        raise DecorasError(f"--layout {args.layout} is for single images and --out-dir: a survey's merged "
                           "catalogue is written in the native layout (decoras export converts a session)")
    require_distributed()
    from ..survey.engine import SurveyRun
    from ..survey.inputs import expand

    if not args.out_dir:
        raise DecorasError("survey mode (--workers, --scheduler) needs --out-dir")
    if args.catalog or args.regions:
        raise DecorasError("survey mode writes to --out-dir; --catalog and --regions are for a single image")
    if args.workers is not None and args.workers < 1:
        raise DecorasError(f"--workers must be at least 1, not {args.workers}")
    if args.workers and args.scheduler:
        raise DecorasError("give --workers (a local cluster) or --scheduler (an existing one), not both")
    inputs = expand(args.images)
    bar = ProgressBar("survey")
    say_lock = threading.Lock()

    def say(line: str, stream=sys.stderr) -> None:
        with say_lock:
            bar.close()
            print(line, file=stream, flush=True)

    def on_event(event: dict) -> None:
        kind = event["event"]
        if kind == "plan":
            say(f"decoras detect: {event['total']} images: {event['plan'].describe()}")
        elif kind == "cluster":
            where = f"Dask cluster of {event['workers']} workers (scheduler {event['scheduler']})"
            say(f"decoras detect: {where}" + (f"; dashboard {event['dashboard']}" if event["dashboard"] else ""))
        elif kind == "start" and event["again"]:
            say(f"decoras detect: note: {Path(event['input']).name} started again on {event['worker']} "
                "(the worker it was on was lost)")
        elif kind == "image":
            entry = event["entry"]
            if entry["status"] == "done":
                say(f"{entry['input']}: {entry['sources']} sources -> {args.out_dir}/{entry['catalogue']}, "
                    f"{args.out_dir}/{entry['regions']}", sys.stdout)
            else:
                say(f"decoras detect: error: {entry['error']}")
            with say_lock:
                bar.counter(event["done"], event["of"])

    run = SurveyRun(inputs, args.out_dir, survey_options(args), workers=args.workers, scheduler=args.scheduler,
                    retry_failed=args.retry_failed, on_event=on_event)
    try:
        summary = run.run()
    except KeyboardInterrupt:
        say("decoras detect: interrupted: the manifest keeps every image finished; the same command resumes")
        return 130
    bar.close()
    for line in summary.lines():
        print(f"decoras detect: {line}", file=sys.stderr)
    if summary.failures:
        print(f"decoras detect: {summary.failed_now} of {summary.inputs} images failed (the manifest has each "
              "error; --retry-failed tries them again)", file=sys.stderr)
        return EXIT_USER_ERROR
    return 0
