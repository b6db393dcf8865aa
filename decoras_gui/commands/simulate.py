"""`decoras simulate`: VLBA dirty images with truth catalogues, deterministic per seed."""

from __future__ import annotations

import argparse

from ..cli import command
from ..sim.array import SCHEDULE_NAMES
from .progress import ProgressBar


def _add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--n-fields", type=int, required=True, help="number of fields to simulate")
    p.add_argument("--seed", type=int, default=0, help="field i uses seed (SEED, i)")
    p.add_argument("--size", type=int, default=512, help="image side in pixels")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--schedule", choices=SCHEDULE_NAMES, default="mjive20", help="observing schedule")


@command("simulate", "Simulate VLBA dirty images, dirty beams and truth catalogues.")(_add_arguments)
def run(args: argparse.Namespace) -> int:
    from ..sim.output import run_simulate

    bar = ProgressBar("simulate")
    try:
        paths = run_simulate(args.n_fields, args.seed, args.size, args.out, args.schedule, progress=bar.counter)
    finally:
        bar.close()
    print(f"wrote {len(paths)} fields to {args.out}")
    return 0
