"""Detection threshold and SNR floor of a model, swept on validation fields (never the test sets).

    .venv/bin/python benchmarks/threshold_sweep.py [--seed 123457] [--n-fields 150]
        [--thresholds 0.1 0.15 0.2 0.3] [--floors 0 1 2 3] [--model vlba-l-band]

The networks run once per field; each (threshold, floor) pair is then only the measuring step,
scored with the same matcher as ``decoras evaluate`` and ``benchmarks/compare.py``.  The
fields mix the model's training sky with crowded and empty ones (like compare.py's groups, but
other seeds).  Prints completeness at SNR 5-7.5 and >= 7.5, purity at SNR >= 5.5 and over all
detections, and false detections per empty field for every pair (and, with --confident, for
a rule that keeps a detection below the floor when the detection network is sure of it).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

from decoras_gui.core.catalogue import Catalogue
from decoras_gui.core.image import load_fits
from decoras_gui.eval.evaluate import MethodRecords, score_field, sim_config_for, summarise
from decoras_gui.ml.characterize import CharacterizeSettings, characterize
from decoras_gui.ml.inference import run_networks
from decoras_gui.ml.registry import load_model
from decoras_gui.ml.train import EVALUATION_SEEDS
from decoras_gui.sim.field import simulate_field
from decoras_gui.sim.output import write_field


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, default=123457, help="validation seed (not an evaluation seed)")
    p.add_argument("--n-fields", type=int, default=150)
    p.add_argument("--model", default="vlba-l-band")
    p.add_argument("--thresholds", type=float, nargs="+", default=[0.1, 0.15, 0.2, 0.3])
    p.add_argument("--floors", type=float, nargs="+", default=[0.0, 1.0, 2.0, 3.0])
    p.add_argument("--confident", type=float, nargs="+", default=[1.01],
                   help="detection probabilities at or above which a source is kept whatever its SNR "
                   "(1.01: never; the floor alone decides)")
    args = p.parse_args(argv)
    if args.seed in EVALUATION_SEEDS:
        raise SystemExit(f"seed {args.seed} is reserved for test sets; choose a validation seed")
    model = load_model(args.model)
    base = sim_config_for(model)
    mixes = (base, replace(base, max_sources=14, empty_fraction=0.0), replace(base, max_sources=0, empty_fraction=1.0),
             replace(base, schedule="mjive20", max_sources=8))
    pairs = [(t, f, c) for t in args.thresholds for f in args.floors for c in args.confident]
    records = {pair: MethodRecords() for pair in pairs}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.n_fields):
            cfg = mixes[i % len(mixes)]
            field = simulate_field((args.seed, i), cfg)
            image = load_fits(write_field(field, tmp, "f")[0])
            rms_map = image.rms_map()
            beam_px = image.beam_pixels
            maps = run_networks(image.data, image.rms, model, beam_minor_px=beam_px[1] if beam_px else None,
                                device="cpu")
            beam = SimpleNamespace(bmaj=field.beam.bmaj, bmin=field.beam.bmin, bpa=field.beam.bpa)
            for thr in args.thresholds:
                cat = characterize(image, maps, model_name=model.card.name,
                                   fallback_beam_minor_px=model.card.pixels_per_beam_minor / max(maps.zoom, 1e-6),
                                   settings=CharacterizeSettings(threshold=thr, min_snr=0.0), rms_map=rms_map)
                for floor in args.floors:
                    for conf in args.confident:
                        kept = Catalogue([s for s in cat if not s.snr < floor or s.det_prob >= conf], cat.meta)
                        score_field(field.truth, kept, image, rms_map, cfg.cell_mas, beam, records[(thr, floor, conf)])
            print(f"\r{i + 1}/{args.n_fields}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    print(f"{model.label}, {args.n_fields} validation fields, seed {args.seed} (card threshold {model.card.threshold})")
    print(f"{'threshold':>9s} {'floor':>5s} {'conf':>5s} {'compl 5-7.5':>11s} {'compl >=7.5':>11s} {'purity >=5.5':>12s} "
          f"{'purity all':>10s} {'false/empty':>11s} {'pos err':>7s}")
    for (thr, floor, conf), rec in records.items():
        s = summarise(rec)
        print(f"{thr:9.2f} {floor:5.1f} {conf:5.2f} {s['completeness_snr_5_7.5']:11.3f} {s['completeness_snr_ge_7.5']:11.3f} "
              f"{s['purity_snr_ge_5.5']:12.3f} {s['purity_all']:10.3f} {s['false_per_empty_field']:11.3f} "
              f"{s['position_error_mas']['mean']:7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
