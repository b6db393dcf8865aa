"""End-to-end detection time on a 2048 x 2048 simulated VLBA image (load + networks + measuring).

    .venv/bin/python benchmarks/detect_speed.py [--size 2048] [--device cpu] [--repeat 2]

Prints the wall time of each stage and the total; the 2048^2 target on the 2-core CI
machine is under 15 s. A 512^2 baseline in the same process gives a per-megapixel ratio.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from decoras_gui.core.image import load_fits
from decoras_gui.ml.pipeline import detect
from decoras_gui.ml.registry import load_model
from decoras_gui.sim import SimConfig, simulate_field
from decoras_gui.sim.output import write_field


def make_image(size: int, folder: Path) -> Path:
    cfg = replace(SimConfig(), size=size, dec_deg=30.0, max_sources=max(5, size * size // 20000),
                  empty_fraction=0.0)
    return write_field(simulate_field((31337, size), cfg), folder, f"bench_{size}")[0]


def timed_detect(path: Path, model, device: str) -> tuple[float, float, int]:
    t0 = time.perf_counter()
    image = load_fits(path)
    _ = image.rms
    catalogue, _ = detect(image, model, device=device)
    return time.perf_counter() - t0, image.data.size / 1e6, len(catalogue)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=2048)
    p.add_argument("--device", default="cpu")
    p.add_argument("--repeat", type=int, default=2)
    args = p.parse_args()
    model = load_model()
    with tempfile.TemporaryDirectory() as tmp:
        small = make_image(512, Path(tmp))
        big = make_image(args.size, Path(tmp))
        timed_detect(small, model, args.device)  # warm-up: thread pools, caches
        t_small = min(timed_detect(small, model, args.device)[0] for _ in range(args.repeat))
        runs = [timed_detect(big, model, args.device) for _ in range(args.repeat)]
        t_big, mpix, n = min(runs)
    print(f"model {model.label}, device {args.device}")
    print(f"512 x 512:   {t_small:6.2f} s  ({t_small / 0.262:.2f} s per megapixel)")
    print(f"{args.size} x {args.size}: {t_big:6.2f} s  ({t_big / mpix:.2f} s per megapixel, {n} sources)")
    print(f"ratio per megapixel {args.size}^2 / 512^2: {(t_big / mpix) / (t_small / 0.262):.2f}")


if __name__ == "__main__":
    main()
