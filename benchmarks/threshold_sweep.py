"""Detection threshold and SNR floor of a model, swept on validation fields (never the test sets).

    .venv/bin/python benchmarks/threshold_sweep.py [--seed 123457] [--n-fields 150]
        [--thresholds 0.1 0.15 0.2 0.3] [--floors 0 1 2 3] [--model vlba-l-band]

The same sweep as the calibration of ``decoras train`` (``decoras_gui.eval.calibrate.sweep``:
the networks once per field, the measuring step once per threshold, the floor a filter),
scored with the matcher of ``decoras evaluate`` and ``benchmarks/compare.py``.  The fields mix
the model's own with crowded, empty and mjive20 ones (like compare.py's groups, other seeds).
Prints completeness at SNR 5-7.5 and >= 7.5, purity at SNR >= 5.5 and over all detections,
false detections per empty field and position error for every pair.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace

from decoras_gui.eval.calibrate import sweep
from decoras_gui.eval.evaluate import sim_config_for, summarise
from decoras_gui.ml.registry import load_model
from decoras_gui.ml.train import EVALUATION_SEEDS
from decoras_gui.sim.field import simulate_field


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, default=123457, help="validation seed (not an evaluation seed)")
    p.add_argument("--n-fields", type=int, default=150)
    p.add_argument("--model", default="vlba-l-band")
    p.add_argument("--thresholds", type=float, nargs="+", default=[0.1, 0.15, 0.2, 0.3])
    p.add_argument("--floors", type=float, nargs="+", default=[0.0, 1.0, 2.0, 3.0])
    args = p.parse_args(argv)
    if args.seed in EVALUATION_SEEDS:
        raise SystemExit(f"seed {args.seed} is reserved for test sets; choose a validation seed")
    model = load_model(args.model)
    base = sim_config_for(model)
    mixes = (base, replace(base, max_sources=14, empty_fraction=0.0), replace(base, max_sources=0, empty_fraction=1.0),
             replace(base, schedule="mjive20", max_sources=8))
    fields = (simulate_field((args.seed, i), mixes[i % len(mixes)]) for i in range(args.n_fields))
    records = sweep(model, fields, args.thresholds, args.floors,
                    progress=lambda done: print(f"\r{done}/{args.n_fields}", end="", file=sys.stderr, flush=True))
    print(file=sys.stderr)
    print(f"{model.label}, {args.n_fields} validation fields, seed {args.seed} (card threshold {model.card.threshold}, "
          f"SNR floor {model.card.min_snr})")
    print(f"{'threshold':>9s} {'floor':>5s} {'compl 5-7.5':>11s} {'compl >=7.5':>11s} {'purity >=5.5':>12s} "
          f"{'purity all':>10s} {'false/empty':>11s} {'pos err':>7s}")
    for (thr, floor, _cap), rec in records.items():
        s = summarise(rec)
        print(f"{thr:9.2f} {floor:5.1f} {s['completeness_snr_5_7.5']:11.3f} {s['completeness_snr_ge_7.5']:11.3f} "
              f"{s['purity_snr_ge_5.5']:12.3f} {s['purity_all']:10.3f} {s['false_per_empty_field']:11.3f} "
              f"{s['position_error_mas']['mean']:7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
