"""The docs' figure of the deblend task: blends, their truth, and each method's two galaxies.

    .venv/bin/python benchmarks/deblend_figure.py [--out docs/deblend.png] [--seed 980001]
                                                  [--model vst-deblend] [--methods network photutils scarlet2]

One row per blend (OOD family: Sersic galaxies, a Kolmogorov PSF, correlated noise), picked from
the seeds (seed, 0..) to span the separations (about 0.8, 1.3, 2 and 2.7 PSF FWHM); columns: the
blend, the two true galaxies, then each method's two (matched to the truth by centroid; an empty
panel where a method found no match) with its flux error in the corner. Every panel of a row shares
the blend's asinh stretch, so that a galaxy's light that went to its neighbour shows.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from deblend_compare import METHOD_NAMES, methods  # noqa: E402

from decoras_gui.eval.deblend_metrics import match  # noqa: E402
from decoras_gui.sim.blends import BlendConfig, simulate_blend  # noqa: E402

TARGET_SEPARATIONS = (0.8, 1.3, 2.0, 2.7)


def pick_blends(seed: int, n_search: int = 80) -> list:
    """A blend near each target separation, with a flux ratio below 4 (both galaxies visible)."""
    pool = [simulate_blend((seed, i), BlendConfig(variety="ood")) for i in range(n_search)]
    pool = [f for f in pool if f.flux_ratio < 4.0 and max(g.mag for g in f.galaxies) < 23.0] or pool
    chosen = []
    for target in TARGET_SEPARATIONS:
        best = min((f for f in pool if all(f is not c for c in chosen)), key=lambda f: abs(f.separation_fwhm - target))
        chosen.append(best)
    return chosen


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="docs/deblend.png")
    p.add_argument("--seed", type=int, default=980001)
    p.add_argument("--model", default="vst-deblend")
    p.add_argument("--methods", nargs="+", default=list(METHOD_NAMES), choices=METHOD_NAMES)
    args = p.parse_args(argv)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    blends = pick_blends(args.seed)
    runs = methods(args.model, args.methods)
    found = {name: run(blends) for name, run in runs.items()}
    cols = 3 + 2 * len(runs)
    fig, axes = plt.subplots(len(blends), cols, figsize=(1.55 * cols, 1.95 * len(blends) + 0.4),
                             squeeze=False)
    for r, f in enumerate(blends):
        scale = max(float(f.noise_sigma), 1e-9)
        top = np.arcsinh(float(f.image.max()) / scale)
        panels = [(f.image, f"blend {f.separation_fwhm:.1f} FWHM\nratio {f.flux_ratio:.1f}"),
                  (f.components[0], "truth 1"), (f.components[1], "truth 2")]
        for name, objects in found.items():
            pairs = match(objects[r], f)
            for k, m in enumerate(pairs):
                truth = float(f.components[k].sum())
                if m is None:
                    panels.append((np.zeros_like(f.image), f"{name} {k + 1}\nnot found"))
                else:
                    o = objects[r][m]
                    panels.append((o.image, f"{name} {k + 1}\nflux {100 * (o.flux - truth) / truth:+.0f} %"))
        for c, (img, title) in enumerate(panels):
            ax = axes[r, c]
            ax.imshow(np.arcsinh(np.asarray(img, float) / scale), origin="lower", cmap="magma", vmin=-1.0,
                      vmax=top, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(title, fontsize=7, pad=2)
    fig.suptitle(f"Deblending OOD blends (Sersic galaxies, Kolmogorov PSF, correlated noise): truth and "
                 f"{', '.join(found)}", fontsize=9)
    fig.tight_layout(rect=(0, 0, 1, 0.96), pad=0.3, h_pad=1.2)
    out = Path(args.out)
    fig.savefig(out, dpi=110)
    print(f"wrote {out} ({len(blends)} blends: separations "
          f"{', '.join(f'{f.separation_fwhm:.2f}' for f in blends)} FWHM)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
