"""Measurement at the noise limit: peaks, positions and sizes of the sources DECORAS finds, per SNR bin.

    .venv/bin/python benchmarks/measurement.py [--fields 120] [--variety ood] [--seed 940001]

On simulated fields of a family (default: the validation families no model is trained on, each
with its dirty beam beside it), every true source DECORAS finds is measured four ways:

* ``decoras``: the catalogue as ``decoras detect`` writes it (the peak as the model's card says:
  ``peak_cap``);
* ``decoras-image-peak``: the same sources with the peak from the image refit, unbounded
  (``CharacterizeSettings.peak_cap`` inf: amplitude and centre fit on the image less the
  predicted sidelobes, the shape held at the network's);
* ``decoras-beam-low-snr``: the centres of sources below SNR 10 refit with the restoring beam's
  shape instead of the network's (``CharacterizeSettings.beam_shape_at_low_snr``);
* ``fixed-beam``: a fit of amplitude and centre on the image with the restoring beam's shape,
  started at DECORAS's position: what an astronomer's Gaussian fit (JMFIT, imfit) gives;
* ``photutils``: the 5-sigma segmentation baseline's own detections of the same true sources.

Printed per true-SNR bin: how many, peak within 20 % for each (and the noise limit: the
fraction an unbiased estimator with one-rms errors would get), mean position error (mas);
then r_eff within 20 % of resolved sources, and the close-double completeness.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
from dataclasses import replace

import numpy as np

from decoras_gui.core.geometry import pixel_angle_from_pa
from decoras_gui.core.image import load_fits
from decoras_gui.core.psf import find_psf, load_psf
from decoras_gui.eval.baseline import photutils_baseline
from decoras_gui.eval.evaluate import SNR_BINS, WITHIN, _bin_label, noise_limited_fraction_within, rms_at
from decoras_gui.eval.matching import match
from decoras_gui.ml.characterize import CharacterizeSettings, characterize
from decoras_gui.ml.inference import run_networks
from decoras_gui.ml.refine import refine_positions
from decoras_gui.ml.registry import load_model
from decoras_gui.sim.config import SimConfig
from decoras_gui.sim.field import simulate_field
from decoras_gui.sim.output import write_field

METHODS = ("decoras", "decoras-image-peak", "decoras-beam-low-snr", "fixed-beam", "photutils")


def fixed_beam_fit(data: np.ndarray, x: float, y: float, beam_px: tuple[float, float, float]) -> tuple[float, ...]:
    """(peak, x, y) of a restoring-beam-shaped Gaussian fit on ``data`` started at (x, y)."""
    bmaj, bmin, theta = beam_px
    iy, ix = int(round(y)), int(round(x))
    start = float(data[min(max(iy, 0), data.shape[0] - 1), min(max(ix, 0), data.shape[1] - 1)])
    m = {"x": x, "y": y, "peak": max(start, 1e-12), "maj": bmaj, "min": bmin, "theta": theta}
    (_, fit), = refine_positions(data, [(1, m)], bmin)
    return fit.get("image_peak", fit["peak"]), fit["x"], fit["y"]


def run(n_fields: int, variety: str, seed: int, model_name: str) -> dict:
    model = load_model(model_name)
    cfg = SimConfig.from_dict(model.card.training["config"]["sim"])
    cfg = replace(cfg, variety=variety, snr_range=(4.0, 100.0), crowded_fraction=0.0, max_sources=6,
                  empty_fraction=0.0)
    rec = {m: {"snr": [], "peak": [], "pos": []} for m in METHODS}
    reff_dec, resolved = [], []
    doubles = {"n": 0, "found": 0}
    with tempfile.TemporaryDirectory(prefix="decoras-meas-") as tmp:
        for i in range(n_fields):
            f = simulate_field((seed, i), cfg)
            path = write_field(f, tmp, f"f{i}")[0]
            image = load_fits(path)
            rms_map = image.rms_map()
            psf = load_psf(find_psf(path), image)
            beam = image.beam_pixels
            maps = run_networks(image.data, image.rms, model, beam_minor_px=beam[1], device="cpu", psf=psf.data)
            base = CharacterizeSettings(threshold=model.card.threshold, min_snr=model.card.min_snr,
                                        peak_cap=model.card.peak_cap)
            cats = {"decoras": characterize(image, maps, settings=base, rms_map=rms_map),
                    "decoras-image-peak": characterize(image, maps, settings=replace(base, peak_cap=math.inf),
                                                       rms_map=rms_map),
                    "decoras-beam-low-snr": characterize(image, maps, rms_map=rms_map,
                                                         settings=replace(base, beam_shape_at_low_snr=True)),
                    "photutils": photutils_baseline(image, rms_map=rms_map)}
            theta = pixel_angle_from_pa(image.wcs, image.shape[1] / 2, image.shape[0] / 2, f.beam.bpa)
            beam_px = (beam[0], beam[1], theta)
            truth = f.truth[np.asarray(f.truth["separable"], bool)] if len(f.truth) else f.truth
            txy = np.c_[np.asarray(truth["x"], float), np.asarray(truth["y"], float)]
            cell = f.config.cell_mas
            data = np.asarray(image.data, np.float64) - np.nan_to_num(maps.sidelobes)
            for name, cat in cats.items():
                dxy = np.array([[s.x, s.y] for s in cat], float).reshape(-1, 2)
                pairs = match(txy, dxy, beam[0], beam[1], theta).pairs
                if name == "decoras":
                    found = {ti for ti, _ in pairs}
                    for k, row in enumerate(truth):
                        if row["kind"] == "double" and row["snr"] >= 5:
                            doubles["n"] += 1
                            doubles["found"] += k in found
                for ti, di in pairs:
                    row, s = truth[ti], cat[di]
                    snr = float(row["peak_flux"]) / rms_at(rms_map, row["x"], row["y"])
                    for method, (peak, x, y) in ((name, (s.peak_flux, s.x, s.y)),) + (
                            (("fixed-beam", fixed_beam_fit(data, s.x, s.y, beam_px)),) if name == "decoras" else ()):
                        rec[method]["snr"].append(snr)
                        rec[method]["peak"].append(peak / float(row["peak_flux"]))
                        rec[method]["pos"].append(math.hypot(x - row["x"], y - row["y"]) * cell)
                    if name == "decoras" and float(row["maj"]) > 0.5 * f.beam.bmin:
                        reff_dec.append(s.r_eff * 1000.0 / float(row["r_eff"]))
                        resolved.append(True)
            print(f"\r  {i + 1}/{n_fields} fields", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return {"rec": rec, "reff": reff_dec, "doubles": doubles, "model": model.label, "variety": variety}


def report(result: dict) -> str:
    rec = result["rec"]
    lines = [f"measurement of {result['model']} on '{result['variety']}' fields (matched true sources)",
             f"{'true SNR':>10s} {'n':>5s}" + "".join(f"{m:>20s}" for m in METHODS) + f"{'noise limit':>13s}"
             + "   position error (mas): " + " / ".join(METHODS)]
    for lo, hi in SNR_BINS[1:] + ((5.0, math.inf),):
        cells, errs = [], []
        for m in METHODS:
            s, p, e = (np.asarray(rec[m][k], float) for k in ("snr", "peak", "pos"))
            sel = (s >= lo) & (s < hi)
            cells.append(f"{np.mean(np.abs(p[sel] - 1) <= WITHIN):.3f} ({sel.sum()})" if sel.any() else "-")
            errs.append(f"{e[sel].mean():.2f}" if sel.any() else "-")
        s = np.asarray(rec["decoras"]["snr"], float)
        sel = (s >= lo) & (s < hi)
        limit = noise_limited_fraction_within(s[sel].tolist())
        label = "all >= 5" if math.isinf(hi) and lo == 5.0 else _bin_label(lo, hi)
        lines.append(f"{label:>10s} {int(sel.sum()):5d}" + "".join(f"{c:>20s}" for c in cells) + f"{limit:13.3f}"
                     + "   " + " / ".join(errs))
    lines.append("position error, decoras less the fixed-beam fit on the same sources (paired; mean +/- standard "
                 "error, mas; 'no worse' unless the difference exceeds twice its standard error):")
    s = np.asarray(rec["decoras"]["snr"], float)
    diff = np.asarray(rec["decoras"]["pos"], float) - np.asarray(rec["fixed-beam"]["pos"], float)
    for lo, hi in SNR_BINS[1:]:
        sel = (s >= lo) & (s < hi)
        if sel.sum() > 1:
            mean, sem = float(diff[sel].mean()), float(diff[sel].std(ddof=1) / math.sqrt(sel.sum()))
            verdict = "worse" if mean > 2 * sem else ("better" if mean < -2 * sem else "no worse")
            lines.append(f"  {_bin_label(lo, hi):>8s}: {mean:+.3f} +/- {sem:.3f} ({int(sel.sum())} sources): {verdict}")
    r = np.asarray(result["reff"], float)
    lines.append(f"r_eff within 20 % of resolved sources (decoras): {np.mean(np.abs(r - 1) <= WITHIN):.3f} "
                 f"({r.size})" if r.size else "no resolved sources matched")
    d = result["doubles"]
    if d["n"]:
        lines.append(f"close-double components (SNR >= 5) found: {d['found']}/{d['n']} = {d['found'] / d['n']:.3f}")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--fields", type=int, default=120)
    p.add_argument("--variety", default="ood", choices=("ood", "wide"))
    p.add_argument("--seed", type=int, default=940001)
    p.add_argument("--model", default="vlba-l-band")
    args = p.parse_args(argv)
    print(report(run(args.fields, args.variety, args.seed, args.model)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
