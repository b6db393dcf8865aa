"""One call from an opened image to a catalogue: networks, then characterization."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..core.catalogue import Catalogue
from ..core.errors import Cancelled, DecorasError
from ..core.image import SkyImage
from .characterize import CharacterizeSettings, characterize
from .inference import CancelFn, NetworkMaps, run_networks
from .registry import DecorasModel

#: progress(fraction 0..1, message)
StageProgress = Callable[[float, str], None]

NETWORK_SHARE = 0.85  # of the progress bar; the rest is measuring sources


def detect(
    image: SkyImage,
    model: DecorasModel,
    *,
    device: str = "auto",
    threshold: float | None = None,
    progress: StageProgress | None = None,
    cancel: CancelFn | None = None,
    rms_map: np.ndarray | None = None,
) -> tuple[Catalogue, NetworkMaps]:
    """Detect and measure every source in ``image``; returns the catalogue and the maps.

    ``rms_map`` (the image's local rms, :meth:`SkyImage.rms_map`) is computed when not given."""
    rms = image.rms
    if not rms > 0:
        raise DecorasError("the image has no usable noise level (all pixels blank or constant)", image.path)
    beam = image.beam_pixels

    def net_progress(done: int, total: int) -> None:
        if progress:
            progress(NETWORK_SHARE * done / max(total, 1), f"networks: tile {done}/{total}")

    maps = run_networks(image.data, rms, model, beam_minor_px=beam[1] if beam else None, device=device,
                        progress=net_progress, cancel=cancel)
    if cancel and cancel():
        raise Cancelled("detection cancelled")
    if progress:
        progress(NETWORK_SHARE, "measuring sources")
    settings = CharacterizeSettings(threshold=model.card.threshold if threshold is None else threshold)
    catalogue = characterize(image, maps, model_name=model.card.name, model_version=model.card.version,
                             fallback_beam_minor_px=model.card.pixels_per_beam_minor / max(maps.zoom, 1e-6),
                             settings=settings, rms_map=rms_map)
    if progress:
        progress(1.0, f"{len(catalogue)} sources")
    return catalogue, maps
