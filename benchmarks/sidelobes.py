"""How many of the bundled model's false detections the sidelobe test flags, and how many true
sources it wrongly flags, on simulated fields with bright sources (issue 15.2).

Each field is simulated (seed (SEED, i)), written as NAME.fits + NAME_beam.fits, read back, its
dirty beam found beside it and loaded (core.psf), detected with the model and the PSF (the
sidelobe test, core.sidelobes), and matched to its truth with the evaluation's rule (eval.matching:
separable components first, within the beam's half-width; a detection of a too-close companion is
neither true nor false). A detection is *flagged* when p_sidelobe > 0.5.

    .venv/bin/python benchmarks/sidelobes.py [--fields 60] [--seed 515] [--size 256]
        [--schedule mjive20] [--snr-max 1000] [--uncertainty 0.15]
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from decoras_gui.core.geometry import pixel_angle_from_pa  # noqa: E402
from decoras_gui.core.image import load_fits  # noqa: E402
from decoras_gui.core.psf import find_psf, load_psf  # noqa: E402
from decoras_gui.core.sidelobes import SIDELOBE_UNCERTAINTY, sidelobe_test  # noqa: E402
from decoras_gui.eval.matching import match  # noqa: E402
from decoras_gui.ml.registry import load_model  # noqa: E402
from decoras_gui.ml.tasks import get_task  # noqa: E402
from decoras_gui.sim import SimConfig, simulate_field, write_field  # noqa: E402


def true_detections(truth, cat, image, cell_mas: float) -> np.ndarray:
    """Which detections match a true component (eval.evaluate.score_field's rule)."""
    det_xy = np.array([[s.x, s.y] for s in cat], float).reshape(-1, 2)
    true = np.zeros(len(cat), bool)
    if not len(truth) or not len(cat):
        return true
    meta = truth.meta
    bmaj, bmin = meta["bmaj_mas"] / cell_mas, meta["bmin_mas"] / cell_mas
    theta = pixel_angle_from_pa(image.wcs, image.shape[1] / 2, image.shape[0] / 2, meta["bpa_deg"])
    tx, ty = np.asarray(truth["x"], float), np.asarray(truth["y"], float)
    sep = np.asarray(truth["separable"], bool)
    first = match(np.c_[tx[sep], ty[sep]], det_xy, bmaj, bmin, theta)
    for _, d in first.pairs:
        true[d] = True
    rest, left = np.flatnonzero(~sep), np.asarray(first.unmatched_detections, int)
    if rest.size and left.size:
        for _, d in match(np.c_[tx[rest], ty[rest]], det_xy[left], bmaj, bmin, theta).pairs:
            true[left[d]] = True
    return true


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--fields", type=int, default=60)
    p.add_argument("--seed", type=int, default=515)
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--schedule", default="mjive20")
    p.add_argument("--snr-max", type=float, default=1000.0)
    p.add_argument("--uncertainty", type=float, default=SIDELOBE_UNCERTAINTY, help="fractional sidelobe uncertainty")
    p.add_argument("--device", default="cpu")
    args = p.parse_args(argv)
    cfg = SimConfig(size=args.size, schedule=args.schedule, snr_range=(5.0, args.snr_max), max_sources=5,
                    empty_fraction=0.0)
    model = load_model()
    task = get_task("detect")
    rows = []  # (true, flagged, snr, p)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.fields):
            field = simulate_field((args.seed, i), cfg)
            image_path = write_field(field, tmp, f"field_{i:05d}")[0]
            image = load_fits(image_path)
            psf = load_psf(find_psf(image_path), image)
            cat = task.run(image, model, device=args.device, psf=psf).result  # as decoras detect does
            if args.uncertainty != SIDELOBE_UNCERTAINTY:
                cat = sidelobe_test(cat, image, psf, uncertainty=args.uncertainty).catalogue
            true = true_detections(field.truth, cat, image, cfg.cell_mas)
            rows += [(bool(t), s.p_sidelobe > 0.5, s.snr, s.p_sidelobe) for t, s in zip(true, cat)]
    seconds = time.perf_counter() - started
    a = np.array(rows, dtype=float).reshape(-1, 4)
    true, flagged, snr = a[:, 0] > 0, a[:, 1] > 0, a[:, 2]
    false = ~true
    print(f"model {model.card.name} {model.card.version}; {args.fields} fields {args.size}^2, schedule "
          f"{args.schedule}, peak SNR 5-{args.snr_max:g} (up to 5 sources each), seed {args.seed}; "
          f"sidelobe uncertainty {args.uncertainty:g}; {seconds:.0f} s")
    print(f"detections: {len(a)}  true: {int(true.sum())}  false: {int(false.sum())}")
    print(f"false detections flagged (p_sidelobe > 0.5): {int((false & flagged).sum())} of {int(false.sum())}")
    print(f"true detections wrongly flagged: {int((true & flagged).sum())} of {int(true.sum())}")
    for name, sel in (("all", np.ones(len(a), bool)), ("SNR >= 5", snr >= 5)):
        n, t = int(sel.sum()), int((sel & true).sum())
        kept = sel & ~flagged
        nk, tk = int(kept.sum()), int((kept & true).sum())
        pur = t / n if n else math.nan
        purk = tk / nk if nk else math.nan
        print(f"purity ({name}): {pur:.3f} ({n - t} false of {n})  ->  with flagged dropped {purk:.3f} "
              f"({nk - tk} false of {nk}); true kept {tk} of {t}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
