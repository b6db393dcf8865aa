"""DECORAS side by side with PyBDSF, Aegean and the photutils baseline on one simulated test set.

    .venv/bin/python benchmarks/compare.py [--scale 1] [--out benchmarks/out/compare]
                                           [--previous OLD.json] [--finders decoras,pybdsf,...]

The test set is written by ``decoras simulate`` (seeds 910001.., inside the range training
refuses) as several groups -- empty fields, sparse and crowded fields with random snapshot
schedules, and MOJAVE-like ``mjive20`` fields -- with point, Gaussian, close-double and
core-jet sources of SNR 3-200 at declinations -10..+70 deg, and 3 % / 3 deg residual antenna
gain errors.  The set does not depend on the model being measured.  Every finder reads every image file; one matcher
and one scorer judge them all (``decoras_gui.eval.evaluate.score_field``), with SNR on one
scale: peak over the robust local rms of the dirty image under the source.

Prints one table (completeness per true-SNR bin, purity per detected-SNR bin, completeness x
purity, false detections per empty field, position error, peak / flux / size within 20 %,
seconds per megapixel), the issue's targets with their verdicts, and writes ``compare.json``
(to compare later runs: ``--previous``) and ``compare.png`` (completeness and purity vs SNR).
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np
from astropy.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))

from finders import available, with_snr  # noqa: E402

from decoras_gui import __version__  # noqa: E402
from decoras_gui.cli import main as decoras  # noqa: E402
from decoras_gui.core.catalogue import Catalogue  # noqa: E402
from decoras_gui.core.image import load_fits  # noqa: E402
from decoras_gui.eval.evaluate import (  # noqa: E402
    SNR_BINS,
    MethodRecords,
    _bin_label,
    format_report,
    peak_within_on_common,
    score_field,
    summarise,
)
from decoras_gui.ml.registry import load_model  # noqa: E402


@dataclass(frozen=True)
class Group:
    """One slice of the test set: ``decoras simulate`` options and a seed."""

    name: str
    n_fields: int
    seed: int
    schedule: str
    max_sources: int
    empty_fraction: float
    size: int = 256
    variety: str = "none"  # sim/observations.py: 'wide' (the training families) or 'ood' (never trained on)
    snr_range: tuple[float, float] = (3.0, 200.0)
    crowded_fraction: float = 0.0


#: The test sets at --scale 1.  ``snapshot``: the 320 fields (1/8 empty) of the version-1 benchmark
#: (random snapshot schedules, mJIVE-20, 1 mas cells).  ``ood``: 240 fields of the validation
#: families no model is trained on (split tracks, cadence surveys, snapshot pairs; 3-128 channels
#: with smearing; |R| > 1.2 or tapered weights; bad stations; Kaiser-Bessel gridding; 3-8 pixels
#: per beam), 1/6 empty, a quarter bright (SNR to 1000) and crowded.  ``wide``: the same shape drawn
#: from the training families (in distribution for a model trained on them; other seeds).
SETS = {
    "snapshot": (
        Group("empty", 40, 910001, "random", 0, 1.0),
        Group("sparse", 100, 910002, "random", 3, 0.0),
        Group("typical", 60, 910003, "random", 6, 0.1),
        Group("crowded", 50, 910004, "random", 14, 0.0),
        Group("mjive20", 70, 910005, "mjive20", 8, 0.1),
    ),
    "ood": None,
    "wide": None,
}


def family_set(variety: str, seed: int) -> tuple[Group, ...]:
    """The four groups of a family test set: empty, sparse, typical, bright and crowded."""
    return (
        Group(f"{variety}-empty", 40, seed, "random", 0, 1.0, variety=variety),
        Group(f"{variety}-sparse", 80, seed + 1, "random", 3, 0.0, variety=variety),
        Group(f"{variety}-typical", 60, seed + 2, "random", 6, 0.0, variety=variety),
        Group(f"{variety}-bright", 60, seed + 3, "random", 8, 0.0, variety=variety, snr_range=(3.0, 1000.0),
              crowded_fraction=0.3),
    )


SETS["ood"], SETS["wide"] = family_set("ood", 920001), family_set("wide", 930001)
GROUPS = SETS["snapshot"]

#: Finer SNR bins for the plot.
PLOT_EDGES = (3.0, 4.0, 5.0, 6.0, 7.5, 10.0, 15.0, 25.0, 50.0, 200.0)


#: Residual antenna gain errors of every test field: fractional amplitude, phase (deg) rms.
GAIN_ERRORS = (0.03, 3.0)


def own_domain(card) -> bool:
    """True for a model of another domain than the default one (dirty VLBA images): its test set
    then starts from its own training fields (``decoras simulate --like-model``: their kind of
    image, instruments and bands), the families and groups drawn as for every model."""
    return bool(card.image_kind != "dirty" or card.domain.get("instruments") or card.instrument.upper() != "VLBA")


def simulate_groups(groups, folder: Path, scale: float, like_model: str | None = None) -> list[tuple[str, Path]]:
    """Write every group with ``decoras simulate``; (group name, image path) per field; with
    ``like_model``, of that model's domain (its training fields' kind, instruments, bands)."""
    fields = []
    for g in groups:
        n = max(1, round(g.n_fields * scale))
        out = folder / g.name
        argv = ["simulate", "--n-fields", str(n), "--seed", str(g.seed), "--size", str(g.size), "--out", str(out),
                "--schedule", g.schedule, "--max-sources", str(g.max_sources),
                "--empty-fraction", str(g.empty_fraction), "--snr-range", *map(str, g.snr_range)]
        if like_model:
            argv += ["--like-model", like_model]
        if g.variety != "none":  # the families draw their own gains, schedules and imaging
            argv += ["--variety", g.variety, "--crowded-fraction", str(g.crowded_fraction)]
        else:
            argv += ["--gain-errors", *map(str, GAIN_ERRORS)]
        if decoras(argv) != 0:
            raise SystemExit(f"decoras simulate failed for group {g.name}")
        fields += [(g.name, out / f"field_{i:05d}.fits") for i in range(n)]
    return fields


def run_all(fields, finders, progress=True) -> tuple[dict[str, MethodRecords], dict[str, int]]:
    """Run every finder on every field and score it; per-finder records and failure counts."""
    records = {name: MethodRecords() for name in finders}
    failures = {name: 0 for name in finders}
    for k, (_group, path) in enumerate(fields):
        truth = Table.read(path.with_name(path.stem + "_truth.ecsv"), format="ascii.ecsv")
        meta = truth.meta
        beam = SimpleNamespace(bmaj=meta["bmaj_mas"], bmin=meta["bmin_mas"], bpa=meta["bpa_deg"])
        image = load_fits(path)
        rms_map = image.rms_map()
        for name, finder in finders.items():
            t0 = time.perf_counter()
            try:
                cat = finder(path)
            except Exception as exc:  # a classical tool giving up on an image: no detections, counted
                failures[name] += 1
                print(f"  {name} failed on {path.name}: {type(exc).__name__}: {exc}", file=sys.stderr)
                cat = Catalogue()
            dt = time.perf_counter() - t0
            rec = records[name]
            score_field(truth, with_snr(cat, rms_map), image, rms_map, meta["cell_mas"], beam, rec)
            rec.seconds += dt
            rec.pixels += image.data.size
        if progress:
            print(f"\r  {k + 1}/{len(fields)} fields", end="", file=sys.stderr, flush=True)
    if progress:
        print(file=sys.stderr)
    return records, failures


def curve(snr, flag, edges=PLOT_EDGES) -> tuple[list[float], list[float], list[int]]:
    """Fraction of ``flag`` per SNR bin: bin centres (geometric), fractions, counts."""
    s, f = np.asarray(snr, float), np.asarray(flag, bool)
    centres, values, counts = [], [], []
    for lo, hi in zip(edges[:-1], edges[1:]):
        m = (s >= lo) & (s < hi)
        centres.append(math.sqrt(lo * hi))
        values.append(float(f[m].mean()) if m.any() else float("nan"))
        counts.append(int(m.sum()))
    return centres, values, counts


def plot(curves: dict[str, dict], path: Path) -> None:
    """Completeness and purity vs SNR, one line per finder (``curves``: as in compare.json)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    for name, c in curves.items():
        for ax, key in ((axes[0], "completeness"), (axes[1], "purity")):
            x, values, _ = c[key]
            ax.plot(x, values, "o-", label=name, lw=2 if name == "decoras" else 1.2)
    for ax, title, xl in ((axes[0], "completeness", "true SNR (peak / local rms)"),
                          (axes[1], "purity", "detected SNR (peak / local rms)")):
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(FixedLocator([3, 4, 5, 7.5, 10, 15, 20, 50, 100, 200]))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel(xl)
        ax.set_title(title)
        ax.axvline(5.5 if title == "purity" else 7.5, color="0.6", ls=":", lw=1)
        ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("fraction")
    axes[1].legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


TARGETS = (  # issue 15's, judged on the set run (the OOD set is the one that counts)
    ("purity SNR >= 5 >= 0.97", lambda d, b: d["purity_snr_ge_5"] >= 0.97),
    ("false detections per empty field <= 0.03", lambda d, b: d["false_per_empty_field"] <= 0.03),
    ("completeness SNR 5-7.5 >= 0.85", lambda d, b: d["completeness_snr_5_7.5"] >= 0.85),
    ("C x P at SNR 5-7.5 >= 3x the best classical", lambda d, b: d["completeness_x_purity"]["5-7.5"]
     >= 3 * max(m["completeness_x_purity"]["5-7.5"] for m in b)),
    ("peak within 20 % >= photutils', each on the sources it found",
     lambda d, b: d["peak_within_20pc"] >= b[-1]["peak_within_20pc"]),
    ("peak within 20 % >= photutils', on the sources both found",
     lambda d, b: d["peak_within_20pc_common"]["photutils"]["a"] >= d["peak_within_20pc_common"]["photutils"]["b"]),
    ("peak within 20 % >= 0.95 of the noise limit", lambda d, b: d["peak_within_20pc"]
     >= 0.95 * d["peak_within_20pc_noise_limit"]),
    ("r_eff within 20 % >= 0.90 for resolved sources", lambda d, b: d["r_eff_within_20pc_resolved"] >= 0.90),
    ("completeness SNR >= 7.5 >= 0.97", lambda d, b: d["completeness_snr_ge_7.5"] >= 0.97),
)


def verdicts(methods: dict) -> list[tuple[str, bool | None]]:
    """Each target with True / False, or None where it cannot be judged (a comparison with the
    classical finders when none ran)."""
    d = methods.get("decoras")
    others = [m for name, m in methods.items() if not _is_ours(name)]
    if d is None:
        return []
    out = []
    for label, test in TARGETS:
        try:
            ok = bool(test(d, others))
        except (ValueError, IndexError, KeyError):  # no classical finder ran to compare with
            ok = None
        out.append((label, ok))
    return out


def card_ood(card) -> dict[str, dict]:
    """The out-of-distribution figures the model's card states (``decoras evaluate`` on the
    validation families of its own domain, with and without the dirty beam), by column name:
    printed beside this run's so that the card's claim and the peers' figures can be read together."""
    families = (card.evaluation or {}).get("by_family") or {}
    out = {}
    for family, result in sorted(families.items()):
        figures = ((result or {}).get("methods") or {}).get(card.name)
        if family.startswith("ood") and figures:
            beam = "no psf" if "no dirty beam" in family else "psf"
            out[f"card ood, {beam}"] = {**figures, "_fields": result.get("n_fields"), "_seed": result.get("seed")}
    return out


def _is_ours(name: str) -> bool:
    """A column of DECORAS (this run's, without the PSF, or its card's) rather than a peer's."""
    return name.startswith(("decoras", "card "))


def report(result: dict, previous: dict | None = None) -> str:
    """The side-by-side table (this run's finders, then the card's own OOD figures), the C x P
    ratios, the targets and, if given, the change from before."""
    card = result.get("card_ood") or {}
    lines = [format_report({**result, "methods": {**result["methods"], **card}})]
    methods = result["methods"]
    lines.append(f"{'failed images (treated as no detections)':34s}"
                 + "".join(f"{result['failures'].get(m, 0):>18d}" for m in methods))
    for name, figures in card.items():
        lines.append(f"{name}: the card's figures, decoras evaluate on {figures.get('_fields', '?')} fields of "
                     f"{result['model']}'s validation families, seed {figures.get('_seed', '?')}")
    d = methods.get("decoras")
    if d:
        for label in (_bin_label(lo, hi) for lo, hi in SNR_BINS):
            best = max((m["completeness_x_purity"][label] for n, m in methods.items()
                        if not _is_ours(n)), default=float("nan"))
            ratio = d["completeness_x_purity"][label] / best if best and best > 0 else float("inf")
            lines.append(f"C x P at SNR {label}: decoras {d['completeness_x_purity'][label]:.3f}, best other "
                         f"{best:.3f} ({ratio:.1f}x)")
        for name, c in d.get("peak_within_20pc_common", {}).items():
            lines.append(f"peak within 20 % on the {c['n']} true sources decoras and {name} both found: decoras "
                         f"{c['a']:.3f}, {name} {c['b']:.3f} (noise limit {c['noise_limit']:.3f})")
        lines.append("targets:")
        for label, ok in verdicts(methods):
            lines.append(f"  [{'met' if ok else ('n/a' if ok is None else 'NOT met')}] {label}")
    if previous:
        lines.append(f"change for decoras from the previous run ({previous.get('model', '?')}):")
        old = previous["methods"].get("decoras", {})
        for key in ("completeness_snr_5_7.5", "completeness_snr_ge_7.5", "purity_snr_ge_5.5",
                    "false_per_empty_field", "peak_within_20pc", "r_eff_within_20pc"):
            if key in old and d:
                lines.append(f"  {key:28s} {old[key]:.3f} -> {d[key]:.3f}")
        if d and "position_error_mas" in old:
            lines.append(f"  {'position_error_mas mean':28s} {old['position_error_mas']['mean']:.3f} -> "
                         f"{d['position_error_mas']['mean']:.3f}")
    return "\n".join(lines)


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"decoras-gui": __version__, "python": platform.python_version()}
    for pkg in ("bdsf", "aegeantools", "photutils", "torch", "numpy", "astropy"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scale", type=float, default=1.0, help="fraction of each group's fields (1: 320 fields)")
    p.add_argument("--set", default="ood", choices=sorted(SETS),
                   help="test set: ood (families no model trains on: the figure that counts), wide (the training "
                   "families, other seeds), snapshot (the version-1 benchmark)")
    p.add_argument("--model", default="vlba-l-band", help="model to run: a bundled name or a card's path")
    p.add_argument("--finders", help="comma-separated subset of decoras,pybdsf,aegean,photutils")
    p.add_argument("--out", default="benchmarks/out/compare", help="folder for compare.json and compare.png")
    p.add_argument("--previous", help="an earlier compare.json to print the change against")
    p.add_argument("--device", default="cpu")
    p.add_argument("--replot", metavar="JSON", help="only redraw the plot of an earlier compare.json (beside it)")
    p.add_argument("--timeout", type=float, default=900.0, help="seconds one classical finder may take on one image")
    args = p.parse_args(argv)
    if args.replot:
        plot(json.loads(Path(args.replot).read_text())["curves"], Path(args.replot).with_suffix(".png"))
        return 0
    model = load_model(args.model)
    finders = available(model, args.device, args.timeout)
    if args.finders:
        wanted = args.finders.split(",")
        missing = [w for w in wanted if w not in finders]
        if missing:
            raise SystemExit(f"not available here: {', '.join(missing)} (pip install -e '.[bench]')")
        finders = {k: v for k, v in finders.items() if k in wanted}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="decoras-compare-") as tmp:
        groups = SETS[args.set]
        like = args.model if own_domain(model.card) else None
        fields = simulate_groups(groups, Path(tmp), args.scale, like)
        print(f"test set {args.set}{' in the domain of ' + model.card.name if like else ''}: {len(fields)} fields "
              f"({', '.join(g.name for g in groups)}); finders: "
              f"{', '.join(finders)}", file=sys.stderr)
        try:
            records, failures = run_all(fields, finders)
        finally:
            for finder in finders.values():
                if hasattr(finder, "close"):
                    finder.close()
    result = {"model": model.label, "n_fields": len(fields), "set": args.set, "card_ood": card_ood(model.card),
              "seed": f"{groups[0].seed}-{groups[-1].seed}", "groups": [g.__dict__ for g in groups],
              "scale": args.scale, "versions": versions(),
              "failures": failures, "methods": {name: summarise(rec) for name, rec in records.items()},
              "curves": {name: {"completeness": curve(rec.truth_snr, rec.truth_found),
                                "purity": curve(rec.det_snr, rec.det_true)} for name, rec in records.items()}}
    if "decoras" in records:  # peaks on the true sources DECORAS and each other finder both found
        result["methods"]["decoras"]["peak_within_20pc_common"] = {
            name: peak_within_on_common(records["decoras"], rec) for name, rec in records.items() if name != "decoras"}
    previous = json.loads(Path(args.previous).read_text()) if args.previous else None
    print(report(result, previous))
    (out / "compare.json").write_text(json.dumps(result, indent=1, default=float))
    plot(result["curves"], out / "compare.png")
    print(f"wrote {out / 'compare.json'} and {out / 'compare.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
