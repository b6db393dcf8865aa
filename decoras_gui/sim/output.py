"""Writing simulated fields to disk (``decoras simulate`` calls :func:`run_simulate`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from astropy.io import fits

from ..core.errors import DecorasError
from ..core.fileio import atomic_path
from .config import SimConfig
from .field import SimField, simulate_field


def field_seed(seed: int, index: int) -> tuple[int, int]:
    """The seed of field ``index`` of a run: independent of how many fields the run makes."""
    return (int(seed), int(index))


def write_field(field: SimField, out_dir: str | Path, stem: str) -> tuple[Path, Path, Path]:
    """Write ``<stem>.fits`` (dirty image), ``<stem>_beam.fits`` and ``<stem>_truth.ecsv``."""
    out = Path(out_dir)
    paths = (out / f"{stem}.fits", out / f"{stem}_beam.fits", out / f"{stem}_truth.ecsv")
    n = field.config.size
    beam_header = field.header.copy()
    beam_header["OBJECT"] = "DIRTY BEAM"
    beam_header.add_history("DECORAS SIM dirty beam, peak normalised to 1")
    for path, data, header in ((paths[0], field.dirty, field.header), (paths[1], field.beam_image, beam_header)):
        with atomic_path(path) as tmp:
            fits.PrimaryHDU(np.asarray(data, np.float32).reshape(1, 1, n, n), header).writeto(tmp)
    with atomic_path(paths[2]) as tmp:
        field.truth.write(tmp, format="ascii.ecsv")
    return paths


def run_simulate(n_fields: int, seed: int, size: int = 512, out_dir: str | Path = ".",
                 schedule: str = "mjive20", progress: Callable[[int, int], None] | None = None,
                 config: SimConfig | None = None) -> list[Path]:
    """Simulate ``n_fields`` fields into ``out_dir`` as field_00000.fits, _beam.fits, _truth.ecsv.

    Field i uses seed (seed, i): the same seed gives byte-identical files.  ``progress(done,
    total)`` is called after each field.  Returns the image paths.
    """
    if n_fields < 0:
        raise DecorasError(f"the number of fields must be >= 0, not {n_fields}")
    out = Path(out_dir)
    if not out.is_dir():
        try:
            out.mkdir(parents=True)
        except OSError as exc:
            raise DecorasError(f"cannot create the output folder: {exc.strerror}", out) from None
    base = config or SimConfig()
    cfg = SimConfig(**{**base.__dict__, "size": size, "schedule": schedule})
    written = []
    for i in range(n_fields):
        field = simulate_field(field_seed(seed, i), cfg)
        written.append(write_field(field, out, f"field_{i:05d}")[0])
        if progress is not None:
            progress(i + 1, n_fields)
    return written
