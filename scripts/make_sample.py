"""Regenerate resources/sample_vlba_dirty.fits: a simulated mJIVE-20-like VLBA dirty image.

    .venv/bin/python scripts/make_sample.py

Deterministic: the first field of seed 2022 with every kind of source, 256 x 256 pixels of 1 mas,
mjive20 snapshot schedule at dec +35: at least seven components (points, resolved Gaussians, a
double and a core-jet) drawn with thermal SNR 8..80, of which at least three stand out at a
measured SNR >= 8 (peak over the local rms, which the other sources' sidelobes raise) while
the rest sit near the detection limit: what a real snapshot field asks of a source finder.
Writes the image, its dirty beam and the truth catalogue beside each other in resources/.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from decoras_gui.sim import SimConfig, simulate_field
from decoras_gui.sim.output import write_field

OUT = Path(__file__).resolve().parent.parent / "resources"


def main() -> None:
    config = replace(SimConfig(), size=256, dec_deg=35.0, max_sources=8, empty_fraction=0.0,
                     snr_range=(8.0, 80.0), kind_probs=(0.35, 0.35, 0.15, 0.15))
    index = 0
    while True:  # the first field of seed 2022 that shows every kind of source
        field = simulate_field((2022, index), config)
        kinds = set(field.truth["kind"])
        snr = field.truth["snr"]
        if len(field.truth) >= 7 and {"point", "gaussian", "double", "jet"} <= kinds and sum(snr >= 8) >= 3:
            break
        index += 1
    paths = write_field(field, OUT, "sample_vlba_dirty")
    print("\n".join(str(p) for p in paths))
    print(field.truth["kind", "x", "y", "snr"])


if __name__ == "__main__":
    main()
