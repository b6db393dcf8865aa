"""Surface brightness of LOFAR fields: the restore network beside WSClean, on the same visibilities.

    .venv/bin/python benchmarks/restore_compare.py --model lofar-restore [--restored-model lofar-restored]
                                                   [--fields 12] [--seed 960001] [--variety ood]
                                                   [--json OUT.json] [--figure OUT.png]

Each field is a LOFAR HBA observation of a sky of extended emission (:mod:`decoras_gui.sim.surface`,
the validation families by default: schedules, weightings, bad stations and calibration errors
training never samples) written as a Measurement Set. WSClean predicts the true sky into it with its
own degridder, the gains and thermal noise are applied, and then, on that DATA column:

* ``wsclean -niter 0``: the dirty image and PSF the network reads (an imaging code training never
  used), and the network's map (``decoras restore``'s code);
* ``wsclean -multiscale``: multi-scale CLEAN to 1 sigma with a 3-sigma auto-mask (the anchor);
* ``wsclean`` without ``-multiscale``: Hogbom CLEAN to the same depth (the lower bar);
* with ``--restored-model``, that model on WSClean's multi-scale *restored* image (a CLEANed
  image without its dirty beam, as a LoTSS cutout comes: the header's restoring beam is the PSF).

Every model image is compared with the truth at the restore task's resolution (half the
restoring beam the network fits to WSClean's PSF; CLEAN components convolved to it; the
restored-image model's at half WSClean's header beam, which restored its input) by
:mod:`decoras_gui.eval.restore_metrics`: surface-brightness error on emission above 3 sigma,
SSIM, extended sources' flux within 10 %, dynamic range, flux invented off the sources, and
seconds per field (WSClean's own wall time for its runs; for the network, its run plus the dirty
imaging it needs). The restored images (model at the beam plus residual) are scored the same way
at the beam, as a second table.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from decoras_gui import __version__
from decoras_gui.core.geometry import gaussian_area
from decoras_gui.eval.restore_metrics import at_beam, format_table, score_map, summarise
from decoras_gui.eval.wsclean import observe_with_wsclean, wsclean_image, wsclean_version
from decoras_gui.ml.registry import load_model
from decoras_gui.ml.tasks.restore import beam_of, resolution_of, restore, sky_at_resolution
from decoras_gui.sim.surface import SurfaceConfig, simulate_surface_field

METHODS = ("network", "wsclean-multiscale", "wsclean-hogbom")
ON_RESTORED = "network-on-restored"


def run_field(f, cwd: Path, model, seed, restored_model=None) -> dict:
    """Every method on one field; the scores (model maps at the map resolution, restored images at
    the beam) and the pictures for the figure."""
    from decoras_gui.core.image import load_fits

    obs = observe_with_wsclean(f, cwd, seed=seed)
    dirty = wsclean_image(obs.ms, cwd, "dirty", obs.size, obs.scale_arcsec, obs.weighting)
    image = load_fits(dirty.files["dirty"])
    pix = obs.scale_arcsec
    t0 = time.perf_counter()
    sky = restore(image, model, psf=dirty.psf)
    net_seconds = time.perf_counter() - t0 + dirty.seconds
    # the maps are judged at the map's resolution: half the restoring beam fitted to WSClean's PSF
    beam_pix = tuple(b / pix for b in sky.image_beam[:2]) + (sky.image_beam[2],)
    res_pix = resolution_of(beam_pix)
    truth = sky_at_resolution(f.truth, beam_pix)
    rms = float(image.rms)
    runs = {"network": (sky.data, net_seconds, None)}
    for name, multiscale in (("wsclean-multiscale", True), ("wsclean-hogbom", False)):
        w = wsclean_image(obs.ms, cwd, name, obs.size, obs.scale_arcsec, obs.weighting, niter=100000,
                          multiscale=multiscale, auto_threshold=1.0, auto_mask=3.0)
        runs[name] = (sky_at_resolution(w.model, beam_pix), w.seconds, w.restored)
    # restored images are judged at the beam WSClean restores with: its header's
    ws_beam = beam_of(image)
    ws_pix = (ws_beam[0] / pix, ws_beam[1] / pix, ws_beam[2])
    area = gaussian_area(ws_pix[0], ws_pix[1])
    seen_truth = at_beam(f.truth, ws_pix) / area
    labels, sources = f.sky.labels, f.sky.sources
    scores, restored_scores, pictures = {}, {}, {"truth": truth}
    if restored_model is not None:  # the restored-image model on WSClean's multi-scale restored image
        clean = load_fits(cwd / "wsclean-multiscale-image.fits")
        t0 = time.perf_counter()
        on_clean = restore(clean, restored_model)
        seconds = time.perf_counter() - t0 + runs["wsclean-multiscale"][1]
        scores[ON_RESTORED] = score_map(on_clean.data, sky_at_resolution(f.truth, ws_pix), labels, sources,
                                        float(clean.rms), ws_pix, resolution_of(ws_pix), seconds)
        pictures[ON_RESTORED] = on_clean.data
    for name, (model_map, seconds, restored_image) in runs.items():
        scores[name] = score_map(model_map, truth, labels, sources, rms, beam_pix, res_pix, seconds)
        pictures[name] = model_map
        if restored_image is None:  # the network's map at WSClean's beam plus what it leaves in the image
            restored_image = at_beam(model_map, ws_pix, res_pix) + sky.residual(image.data, dirty.psf)
        # a restored image (Jy/beam) as a map at the beam, in Jy/pixel, against the truth there
        restored_scores[name] = score_map(restored_image / area, seen_truth, labels, sources, rms, ws_pix, ws_pix,
                                          seconds)
    return {"scores": scores, "restored": restored_scores, "pictures": pictures, "rms": rms, "beam_pix": beam_pix,
            "family": f.observation.family, "kinds": [s.kind for s in sources]}


def figure(examples: list[dict], path: Path) -> None:
    """Truth, WSClean multi-scale and the network on a few fields (asinh stretch, rms per beam)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = ("truth", "wsclean-multiscale", "wsclean-hogbom", "network") + (
        (ON_RESTORED,) if ON_RESTORED in examples[0]["pictures"] else ())
    fig, axes = plt.subplots(len(examples), len(cols), figsize=(3.2 * len(cols), 3.2 * len(examples)), squeeze=False)
    for row, ex in zip(axes, examples):
        area = gaussian_area(ex["beam_pix"][0], ex["beam_pix"][1])
        scale = area / ex["rms"]
        vmax = float(np.arcsinh(ex["pictures"]["truth"].max() * scale))
        for ax, name in zip(row, cols):
            ax.imshow(np.arcsinh(ex["pictures"][name] * scale), origin="lower", cmap="inferno", vmin=0, vmax=vmax)
            title = name if name == "truth" else f"{name}\nSSIM {ex['scores'][name].ssim:.2f}"
            ax.set_title(title, fontsize=9)
            ax.set_xticks([])
            ax.set_yticks([])
        row[0].set_ylabel(f"{ex['family']}: {', '.join(sorted(set(ex['kinds'])))}", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", required=True, help="restore model: a name or a card (.json)")
    p.add_argument("--fields", type=int, default=12)
    p.add_argument("--seed", type=int, default=960001)
    p.add_argument("--variety", default="ood", choices=("ood", "wide"))
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--json", help="write the figures here")
    p.add_argument("--figure", help="write truth / WSClean / network pictures of three fields here (PNG)")
    p.add_argument("--restored-model", help="also run this restore model for CLEANed images on WSClean's "
                                            "multi-scale restored image")
    args = p.parse_args(argv)
    model = load_model(args.model, task="restore")
    restored_model = load_model(args.restored_model, task="restore") if args.restored_model else None
    base = SurfaceConfig.from_dict(model.card.training.get("config", {}).get("sim", {}))
    cfg = replace(base, variety=args.variety, size=args.size, kind_probs=(0.2, 0.2, 0.15, 0.15, 0.15, 0.15),
                  empty_fraction=0.0)
    results = []
    with tempfile.TemporaryDirectory(prefix="decoras-restore-compare-") as tmp:
        for i in range(args.fields):
            f = simulate_surface_field((args.seed, i), cfg)
            results.append(run_field(f, Path(tmp) / f"f{i:03d}", model, (args.seed, i), restored_model))
            print(f"\r  {i + 1}/{args.fields} fields", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    methods = METHODS + ((ON_RESTORED,) if restored_model is not None else ())
    models = {name: summarise([r["scores"][name] for r in results]) for name in methods}
    restored = {name: summarise([r["restored"][name] for r in results]) for name in METHODS}
    print(format_table(models, f"model maps at half the beam: {model.label} vs {wsclean_version()}, {args.fields} "
                               f"{args.variety} fields of {args.size}^2, seeds ({args.seed}, 0..)"
                               + (f"; {ON_RESTORED}: {restored_model.label} on WSClean's multi-scale restored "
                                  "image, at half its beam" if restored_model is not None else "")))
    print()
    print(format_table(restored, "restored images at the beam (the network's: its map at the beam + residual)"))
    ms, net = models["wsclean-multiscale"], models["network"]
    print("\ntargets:")
    for label, ok in (
        ("extended flux within 10 % for >= 90 % of sources above 10 sigma", net["flux_within_10pc"] >= 0.9),
        ("SSIM better than WSClean multi-scale's", net["ssim"] > ms["ssim"]),
        ("surface-brightness error below WSClean multi-scale's", net["sb_error"] < ms["sb_error"]),
        ("faster than WSClean multi-scale", net["seconds_per_field"] < ms["seconds_per_field"]),
        ("no invented emission (median off-source flux within 1 sigma)", abs(net["invented_sigma_median"]) <= 1.0),
    ):
        print(f"  [{'met' if ok else 'NOT met'}] {label}")
    if args.json:
        Path(args.json).write_text(json.dumps({"model": model.label, "wsclean": wsclean_version(),
                                               "decoras": __version__, "fields": args.fields, "seed": args.seed,
                                               "variety": args.variety, "maps": models, "restored": restored,
                                               "restored_model": restored_model.label if restored_model else None},
                                              indent=1, default=float))
    if args.figure:
        picks, seen = [], set()
        for r in results:  # three fields of different kinds
            key = max(set(r["kinds"]) - {"compact"} or {"compact"}, key=lambda k: r["kinds"].count(k))
            if key not in seen:
                seen.add(key)
                picks.append(r)
            if len(picks) == 3:
                break
        figure(picks, Path(args.figure))
        print(f"wrote {args.figure}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
