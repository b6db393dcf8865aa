"""How well detections are grouped into sources (core/components), on simulated double and
core-jet fields and on the observed images of ../shared/data/real.

    .venv/bin/python benchmarks/grouping.py --fields 12 --seed 5 [--real]

Simulated fields hold only doubles and core-jets (the truth table's ``group`` is the source
id). Each detected component is matched to the nearest truth component within one beam
FWHM; over pairs of matched components of one field, *pair precision* is the fraction of
pairs put in one source that are one truth source, *pair recall* the fraction of truth
pairs (both components detected) put in one source. *Sources whole* is the fraction of
truth sources with both components detected that come out as exactly one source, with
nothing else in it.
"""

from __future__ import annotations

import argparse
import collections
import tempfile
from pathlib import Path

import numpy as np
from astropy.table import Table

from decoras_gui.core.components import source_groups
from decoras_gui.core.image import load_fits
from decoras_gui.ml.registry import DEFAULT_MODEL, load_model
from decoras_gui.ml.tasks import get_task
from decoras_gui.sim.config import SimConfig
from decoras_gui.sim.field import simulate_field
from decoras_gui.sim.output import write_field

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"


def detect(path: Path, model):
    return get_task("detect").run(load_fits(path), model, device="cpu").result


def field_scores(cat, truth: Table, beam_px: float) -> tuple[int, int, int, int, int, int]:
    """(pairs joined, of which true; truth pairs seen, of which joined; truth sources seen, whole)."""
    tx, ty, tg = np.asarray(truth["x"], float), np.asarray(truth["y"], float), np.asarray(truth["group"], int)
    groups = source_groups(cat)
    source_of = {cid: g.source_id for g in groups for cid in g.component_ids}
    matched: dict[int, int] = {}  # component id -> truth row
    for s in cat:
        d = np.hypot(tx - s.x, ty - s.y)
        k = int(np.argmin(d)) if d.size else -1
        if k >= 0 and d[k] <= beam_px:
            matched[s.source_id] = k
    ids = list(matched)
    joined = true_joined = truth_pairs = truth_joined = 0
    for a in range(len(ids)):
        for b in range(a + 1, len(ids)):
            i, j = ids[a], ids[b]
            same_src = source_of[i] == source_of[j]
            same_truth = tg[matched[i]] == tg[matched[j]] and matched[i] != matched[j]
            joined += same_src
            true_joined += same_src and same_truth
            truth_pairs += same_truth
            truth_joined += same_truth and same_src
    seen = whole = 0
    members = collections.defaultdict(set)
    for cid, k in matched.items():
        members[tg[k]].add(k)
    for g, rows in members.items():
        if len(rows) < int(np.sum(tg == g)) or len(rows) < 2:
            continue
        seen += 1
        cids = [c for c, k in matched.items() if tg[k] == g]
        srcs = {source_of[c] for c in cids}
        if len(srcs) == 1:
            only = srcs.pop()
            group = next(x for x in groups if x.source_id == only)
            whole += all(c in matched and tg[matched[c]] == g for c in group.component_ids)
    return joined, true_joined, truth_pairs, truth_joined, seen, whole


def simulated(n: int, seed: int, model) -> None:
    cfg = SimConfig(size=256, max_sources=8, empty_fraction=0.0, kind_probs=(0.0, 0.0, 0.5, 0.5))
    totals = np.zeros(6, int)
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(n):
            field = simulate_field((seed, k), cfg)
            image, _, truth_path = write_field(field, tmp, f"f{k}")
            cat = detect(image, model)
            beam_px = float(load_fits(image).beam_pixels[0])
            totals += field_scores(cat, Table.read(truth_path), beam_px)
    joined, true_joined, truth_pairs, truth_joined, seen, whole = totals
    print(f"simulated doubles and core-jets: {n} fields (seed {seed})")
    print(f"  pair precision {true_joined / max(joined, 1):.3f} ({true_joined}/{joined})  "
          f"pair recall {truth_joined / max(truth_pairs, 1):.3f} ({truth_joined}/{truth_pairs})  "
          f"sources whole {whole / max(seen, 1):.3f} ({whole}/{seen})")


def real(model) -> None:
    for path in sorted(REAL.glob("*.fits")):
        cat = detect(path, model)
        groups = source_groups(cat)
        codes = collections.Counter(g.s_code for g in groups)
        print(f"{path.name}: {len(cat)} components -> {len(groups)} sources "
              f"(S {codes['S']}, M {codes['M']}, C {codes['C']}); largest source: "
              f"{max((len(g.component_ids) for g in groups), default=0)} components")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--fields", type=int, default=12)
    p.add_argument("--seed", type=int, default=5)
    p.add_argument("--real", action="store_true", help="also the observed images of ../shared/data/real")
    args = p.parse_args()
    model = load_model(DEFAULT_MODEL)
    if args.fields:
        simulated(args.fields, args.seed, model)
    if args.real and REAL.is_dir():
        real(model)


if __name__ == "__main__":
    main()
