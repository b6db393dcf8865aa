"""`decoras simulate`: dirty images of any instrument (VLBA by default) with their dirty beams
and truth catalogues, deterministic per seed."""

from __future__ import annotations

import argparse
from dataclasses import replace

from ..cli import command
from .progress import ProgressBar


def _add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--n-fields", type=int, required=True, help="number of fields to simulate")
    p.add_argument("--seed", type=int, default=0, help="field i uses seed (SEED, i)")
    p.add_argument("--size", type=int, default=512, help="image side in pixels")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--instrument", default="VLBA",
                   help="the array (decoras instruments lists them; or an instrument .toml file; default VLBA)")
    p.add_argument("--band", default="", help="the instrument's band (default: its first)")
    p.add_argument("--schedule",
                   help="one of the instrument's schedules (VLBA: mjive20, full-track) or random (default: mjive20 "
                   "for the VLBA, else the instrument's first)")
    p.add_argument("--cell", type=float, metavar="MAS",
                   help="pixel size in mas (default 1 for the VLBA; for other instruments a fifth of the "
                   "array's resolution, lambda / longest baseline)")
    p.add_argument("--like-model", metavar="NAME",
                   help="start from the simulator settings this model was trained with (its card's "
                   "training config: gain errors, source mix, declinations); the options here override them")
    p.add_argument("--max-sources", type=int, help="at most this many sources per field (default 5)")
    p.add_argument("--empty-fraction", type=float, help="fraction of fields with no source (default 0.1)")
    p.add_argument("--dec", type=float, help="declination of every field, deg (default: drawn per field)")
    p.add_argument("--gain-errors", type=float, nargs=2, metavar=("AMP", "PHASE_DEG"),
                   help="residual antenna gain errors per antenna and scan: fractional amplitude and phase rms "
                   "(default: none)")
    p.add_argument("--variety", choices=("none", "wide", "ood"),
                   help="draw each field's observation from the training families (wide) or the validation "
                   "families training never samples (ood): schedule, channels and smearing, stations, weighting, "
                   "gains, imaging route, 3-8 pixels per beam (default: none, observe as the other options say)")
    p.add_argument("--snr-range", type=float, nargs=2, metavar=("LOW", "HIGH"),
                   help="peak signal-to-noise of the sources, drawn log-uniform (default 3 200)")
    p.add_argument("--crowded-fraction", type=float,
                   help="fraction of fields crowded with up to 25 sources (default 0)")


def sim_config_from_args(args: argparse.Namespace):
    """The simulator configuration the options describe (size and schedule applied by run_simulate)."""
    from ..sim.config import SimConfig

    if args.like_model:
        from ..eval.evaluate import sim_config_for
        from ..ml.registry import load_model

        cfg = sim_config_for(load_model(args.like_model))
    else:
        cfg = SimConfig()
    changes = {"max_sources": args.max_sources, "empty_fraction": args.empty_fraction, "dec_deg": args.dec,
               "variety": args.variety, "crowded_fraction": args.crowded_fraction,
               "snr_range": tuple(args.snr_range) if args.snr_range else None}
    if args.gain_errors:
        changes["gain_amp_sigma"], changes["gain_phase_deg"] = args.gain_errors
    if args.like_model is None or args.instrument.upper() != "VLBA":
        changes.update(instrument=args.instrument, band=args.band or None)
    changes["schedule"] = args.schedule or default_schedule(args.instrument)
    changes["cell_mas"] = args.cell if args.cell else default_cell_mas(args.instrument, args.band or None)
    return replace(cfg, **{k: v for k, v in changes.items() if v is not None})


def default_schedule(instrument: str) -> str:
    """mjive20 for the VLBA, else the instrument's first named schedule (random if it has none)."""
    from ..sim.instrument import get_instrument

    inst = get_instrument(instrument)
    if inst.name == "VLBA":
        return "mjive20"
    return next(iter(inst.schedules), "random")


def default_cell_mas(instrument: str, band: str | None) -> float | None:
    """The VLBA's 1 mas (the bundled models' sampling); elsewhere a fifth of lambda / longest
    baseline, to three significant figures (about 5 pixels across the beam's minor axis)."""
    from ..sim.instrument import get_instrument

    inst = get_instrument(instrument)
    if inst.name == "VLBA":
        return None
    return float(f"{inst.resolution_mas(band) / 5.0:.3g}")


@command("simulate", "Simulate dirty images, dirty beams and truth catalogues (any instrument).")(_add_arguments)
def run(args: argparse.Namespace) -> int:
    from ..sim.output import run_simulate

    config = sim_config_from_args(args)
    bar = ProgressBar("simulate")
    try:
        paths = run_simulate(args.n_fields, args.seed, args.size, args.out, config.schedule, progress=bar.counter,
                             config=config)
    finally:
        bar.close()
    print(f"wrote {len(paths)} fields to {args.out}")
    return 0
