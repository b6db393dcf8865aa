"""Simulator speed: fields per second on one core for 256 and 512 pixel fields.

Run: ``.venv/bin/python benchmarks/sim_speed.py [--seconds 3]``.  Reports steady state
(uv coverages for the preset schedule already cached, as in a long training run) for the
training targets alone (dirty, restored, mask) and with the truth catalogue and header.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

from decoras_gui.sim import SimConfig, simulate_field  # noqa: E402
from decoras_gui.sim.field import cached_coverage  # noqa: E402


def rate(cfg: SimConfig, seconds: float, truth: bool) -> float:
    """Fields per second simulating with ``cfg`` for about ``seconds``."""
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        f = simulate_field((1234, n), cfg)
        if truth:
            f.truth
        n += 1
    return n / (time.perf_counter() - t0)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=3.0)
    a = p.parse_args()
    for size in (256, 512):
        for schedule in ("mjive20", "random"):
            cfg = SimConfig(size=size, schedule=schedule)
            if schedule == "mjive20":  # warm the coverage cache over the declination range
                t0 = time.perf_counter()
                for i in range(200):
                    simulate_field((99, i), SimConfig(size=size, max_sources=0))
                warm = time.perf_counter() - t0
                print(f"size {size}: cache warm-up {warm:.1f} s, {cached_coverage.cache_info().currsize} coverages")
            for truth in (False, True):
                what = "images + truth/header" if truth else "images only"
                print(f"size {size:4d}  {schedule:8s}  {what:22s}: {rate(cfg, a.seconds, truth):7.1f} fields/s")


if __name__ == "__main__":
    main()
