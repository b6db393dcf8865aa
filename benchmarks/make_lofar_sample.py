"""The bundled LOFAR sample: a dirty HBA image of extended emission and its PSF, imaged by WSClean.

    .venv/bin/python benchmarks/make_lofar_sample.py [--out resources] [--seed 960001 0]

One field of the restore task's validation family (:mod:`decoras_gui.sim.surface`, ``variety =
'ood'``: an FR II, a relic and a compact source under a short track) written as a Measurement Set,
WSClean predicting the true sky into it, gains and noise applied, and ``wsclean -niter 0
-make-psf`` imaging it (:mod:`decoras_gui.eval.wsclean`): ``sample_lofar-dirty.fits`` and
``sample_lofar-psf.fits``, WSClean's own files and headers, the PSF found beside the image as a
user's would be. Open it with ``./scripts/run resources/sample_lofar-dirty.fits`` and use
Detect > Recover Surface Brightness.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from decoras_gui.eval.wsclean import observe_with_wsclean, wsclean_image
from decoras_gui.sim.surface import SurfaceConfig, simulate_surface_field


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="resources", help="folder for sample_lofar-dirty.fits and sample_lofar-psf.fits")
    p.add_argument("--seed", type=int, nargs=2, default=(960001, 0), metavar=("BASE", "INDEX"))
    args = p.parse_args(argv)
    cfg = SurfaceConfig(size=256, variety="ood", empty_fraction=0.0, kind_probs=(0.2, 0.2, 0.15, 0.15, 0.15, 0.15))
    seed = tuple(args.seed)
    f = simulate_surface_field(seed, cfg)
    out = Path(args.out)
    with tempfile.TemporaryDirectory(prefix="decoras-lofar-sample-") as tmp:
        obs = observe_with_wsclean(f, Path(tmp), seed=seed)
        d = wsclean_image(obs.ms, Path(tmp), "sample_lofar", obs.size, obs.scale_arcsec, obs.weighting)
        for kind in ("dirty", "psf"):
            shutil.copy(d.files[kind], out / f"sample_lofar-{kind}.fits")
    kinds = ", ".join(s.kind for s in f.sky.sources)
    print(f"wrote {out}/sample_lofar-dirty.fits and sample_lofar-psf.fits: a {f.observation.family} observation, "
          f"{f.observation.weighting} weighting, sources: {kinds}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
