"""Detection on the five observed images in ../shared/data/real (data we did not tune to).

    .venv/bin/python benchmarks/real_images.py [FOLDER]

Prints, per image: beam sampling and the resampling the model applied, rms, number of
sources, the brightest few with peak, SNR and probability, and the wall time.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from decoras_gui.core.image import load_fits
from decoras_gui.ml.pipeline import detect
from decoras_gui.ml.registry import load_model

DEFAULT = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "real"


def main() -> None:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    model = load_model()
    print(f"model {model.label}; trained for {model.card.pixels_per_beam_minor:.2f} pixels per beam minor axis")
    for path in sorted(folder.glob("*.fits")):
        t0 = time.perf_counter()
        image = load_fits(path)
        catalogue, maps = detect(image, model, device="cpu")
        dt = time.perf_counter() - t0
        beam = image.beam_pixels
        print(f"\n{path.name}: {image.shape[1]}x{image.shape[0]} px, beam {beam[0]:.1f}x{beam[1]:.1f} px, "
              f"zoom {maps.zoom:.2f}, rms {image.rms:.3g} {image.unit}, {len(catalogue)} sources, {dt:.1f} s")
        brightest = sorted(catalogue, key=lambda s: -s.peak_flux)[:5]
        for s in brightest:
            print(f"  id {s.source_id:3d}  x {s.x:7.1f} y {s.y:7.1f}  peak {s.peak_flux:.4g}  "
                  f"total {s.total_flux:.4g}  maj {s.maj * 1000:.3g} mas  SNR {s.snr:6.1f}  P {s.det_prob:.2f}")


if __name__ == "__main__":
    main()
