"""Deblending two galaxies in VST/OmegaCAM r-band cutouts: every method on the same GalSim blends.

    .venv/bin/python benchmarks/deblend_compare.py [--blends 200] [--seed 980001] [--variety ood]
                                                   [--model vst-deblend] [--methods ...] [--json OUT.json]

The blends are :mod:`decoras_gui.sim.blends`'s (the validation family by default: Sersic galaxies,
a Kolmogorov PSF and correlated noise that training never samples). Methods: the deblend network
(``--model``, batched as ``decoras deblend --catalog`` runs it), photutils (``deblend_sources`` plus
segmentation photometry, the SExtractor way) and scarlet2 (its sources started at photutils'
peaks). Per method it prints :mod:`decoras_gui.eval.deblend_metrics`'s figures: the fraction of
blends split into two, flux MAPE per galaxy, centroid and shape errors, SSIM per galaxy and time
per blend, overall, at separations of 1 FWHM or more, and by separation and flux-ratio bin. The
published reference is Boucaud et al. 2020 (MNRAS 491, 2481): about 7 % flux MAPE on CANDELS pairs.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from decoras_gui.eval.deblend_baseline import photutils_deblend
from decoras_gui.eval.deblend_metrics import format_report, score_blend, summarise
from decoras_gui.sim.blends import BlendConfig, BlendField, simulate_blend

#: every method this benchmark knows, in the order of the table's columns
METHOD_NAMES = ("network", "photutils", "scarlet2")


def methods(model: str = "vst-deblend", names: Sequence[str] = METHOD_NAMES) -> dict[str, Callable]:
    """Each method: a function of a list of blends giving each blend's objects (a method that
    works blend by blend is looped; the network runs batched)."""
    out: dict[str, Callable] = {}
    for name in names:
        if name == "network":
            from decoras_gui.ml.registry import load_model
            from decoras_gui.ml.tasks.deblend import deblend_blends

            net = load_model(model, task="deblend")
            out[net.card.name] = lambda blends, net=net: deblend_blends(blends, net, "cpu")
        elif name == "photutils":
            out["photutils"] = lambda blends: [photutils_deblend(f.image, f.psf_fwhm_arcsec / f.camera.pixel_arcsec,
                                                                 f.noise_sigma) for f in blends]
        elif name == "scarlet2":
            from decoras_gui.eval.deblend_scarlet import scarlet2_deblend

            out["scarlet2"] = lambda blends: [scarlet2_deblend(f.image, f.psf, f.noise_sigma) for f in blends]
        else:
            raise SystemExit(f"unknown method {name!r} (known: {', '.join(METHOD_NAMES)})")
    return out


def run_methods(blends: list[BlendField], chosen: dict[str, Callable]) -> dict[str, dict]:
    """Each method's figures on ``blends`` (time per blend: the method's whole run over all of them)."""
    results = {}
    for name, run in chosen.items():
        run(blends[:2])  # warm up (torch's and JAX's first calls compile)
        t0 = time.perf_counter()
        objects = run(blends)
        per = (time.perf_counter() - t0) / max(1, len(blends))
        results[name] = summarise([score_blend(o, f, per) for o, f in zip(objects, blends)])
    return results


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--blends", type=int, default=200)
    p.add_argument("--seed", type=int, default=980001)
    p.add_argument("--variety", default="ood", choices=("ood", "wide"))
    p.add_argument("--model", default="vst-deblend", help="the deblend model of the network column")
    p.add_argument("--methods", nargs="+", default=list(METHOD_NAMES), choices=METHOD_NAMES)
    p.add_argument("--json", help="write the figures here")
    args = p.parse_args(argv)
    cfg = BlendConfig(variety=args.variety)
    blends = [simulate_blend((args.seed, i), cfg) for i in range(args.blends)]
    results = run_methods(blends, methods(args.model, args.methods))
    print(format_report(results, f"{args.blends} {args.variety} blends, seeds ({args.seed}, 0..)"))
    if args.json:
        Path(args.json).write_text(json.dumps({"blends": args.blends, "seed": args.seed, "variety": args.variety,
                                               "methods": results}, indent=1, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
