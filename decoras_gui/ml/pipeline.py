"""One call from an opened image to a catalogue: networks, then characterization.

Images larger than :data:`BLOCK` pixels on a side are processed block by block (each block
with a :data:`MARGIN` of its neighbours, so sources near its edge are measured whole; a
source belongs to the block its centre falls in), so memory stays bounded by the block,
not the image: a 16k x 16k memory-mapped image is read one block at a time.

With a dirty beam (``psf``: a :class:`~decoras_gui.core.psf.DirtyBeam` or its file), every
detection is then tested against the sidelobes of the brighter ones
(:func:`decoras_gui.core.sidelobes.sidelobe_test`: ``sidelobe_of``, ``p_sidelobe``, flagged
notes) on the whole image, after the blocks; without one, the notes say the test was skipped.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np

from ..core.catalogue import Catalogue
from ..core.errors import Cancelled, DecorasError
from ..core.image import SkyImage, release_pages
from ..core.psf import DirtyBeam
from .characterize import CharacterizeSettings, catalogue_meta, characterize
from .inference import CancelFn, NetworkMaps, run_networks
from .registry import DecorasModel

#: progress(fraction 0..1, message)
StageProgress = Callable[[float, str], None]

NETWORK_SHARE = 0.85  # of the progress bar; the rest is measuring sources
#: side of the core of a block, and the margin of neighbouring pixels each block also sees
BLOCK = 4096
MARGIN = 256


def detect(
    image: SkyImage,
    model: DecorasModel,
    *,
    device: str = "auto",
    threshold: float | None = None,
    progress: StageProgress | None = None,
    cancel: CancelFn | None = None,
    rms_map: np.ndarray | None = None,
    psf: DirtyBeam | str | os.PathLike | None = None,
) -> tuple[Catalogue, NetworkMaps]:
    """Detect and measure every source in ``image``; returns the catalogue and the maps.

    ``rms_map`` (the image's local rms, :meth:`SkyImage.rms_map`) is computed when not given.
    An image bigger than BLOCK + 2 MARGIN on a side is done in blocks; the maps returned
    then carry the notes only (no whole-image arrays). ``psf``: the image's dirty beam, for
    the sidelobe test (module docstring); its notes are added to the maps' notes."""
    if psf is not None and not isinstance(psf, DirtyBeam):
        from ..core.psf import load_psf

        psf = load_psf(psf, image)
    if max(image.shape) > BLOCK + 2 * MARGIN:
        catalogue, maps = _detect_in_blocks(image, model, device=device, threshold=threshold, progress=progress,
                                            cancel=cancel, psf=psf)
    else:
        catalogue, maps = _detect_whole(image, model, device=device, threshold=threshold, progress=progress,
                                        cancel=cancel, rms_map=rms_map, psf=psf)
    return _test_sidelobes(catalogue, maps, image, psf), maps


def _detect_whole(image: SkyImage, model: DecorasModel, *, device: str, threshold: float | None,
                  progress: StageProgress | None, cancel: CancelFn | None,
                  rms_map: np.ndarray | None, psf: DirtyBeam | None = None) -> tuple[Catalogue, NetworkMaps]:
    """:func:`detect` on an image small enough to hold whole maps of, without the sidelobe test
    (the networks read ``psf`` when the model has a dirty-beam channel)."""
    rms = image.rms
    if not rms > 0:
        raise DecorasError("the image has no usable noise level (all pixels blank or constant)", image.path)
    beam = image.beam_pixels

    def net_progress(done: int, total: int) -> None:
        if progress:
            progress(NETWORK_SHARE * done / max(total, 1), f"networks: tile {done}/{total}")

    maps = run_networks(image.data, rms, model, beam_minor_px=beam[1] if beam else None, device=device,
                        progress=net_progress, cancel=cancel, psf=psf.data if psf is not None else None)
    if cancel and cancel():
        raise Cancelled("detection cancelled")
    if progress:
        progress(NETWORK_SHARE, "measuring sources")
    chosen = model.card.settings(with_psf=psf is not None)  # calibrated with and without the dirty beam
    settings = CharacterizeSettings(threshold=chosen["threshold"] if threshold is None else threshold,
                                    min_snr=chosen["min_snr"], peak_cap=chosen["peak_cap"])
    catalogue = characterize(image, maps, model_name=model.card.name, model_version=model.card.version,
                             fallback_beam_minor_px=model.card.pixels_per_beam_minor / max(maps.zoom, 1e-6),
                             settings=settings, rms_map=rms_map)
    if progress:
        progress(1.0, f"{len(catalogue)} sources")
    return catalogue, maps


def _test_sidelobes(catalogue: Catalogue, maps: NetworkMaps, image: SkyImage, psf: DirtyBeam | None) -> Catalogue:
    """The catalogue after the sidelobe test with ``psf``; what it found (or that there was no
    PSF) goes into ``maps.notes``."""
    if psf is None:
        from ..core.sidelobes import no_psf_note

        maps.notes.append(no_psf_note(image.name))
        return catalogue
    from ..core.sidelobes import sidelobe_test

    result = sidelobe_test(catalogue, image, psf)
    maps.notes.extend(n for n in result.notes if n not in maps.notes)
    return result.catalogue


def block_grid(shape: tuple[int, int], block: int = BLOCK, margin: int = MARGIN):
    """(core, padded) slices pairs covering ``shape``: cores tile the image without overlap,
    each padded by ``margin`` pixels on every side where the image allows."""
    ny, nx = shape
    for y0 in range(0, ny, block):
        for x0 in range(0, nx, block):
            y1, x1 = min(y0 + block, ny), min(x0 + block, nx)
            yield (y0, y1, x0, x1), (max(0, y0 - margin), min(ny, y1 + margin), max(0, x0 - margin),
                                     min(nx, x1 + margin))


def _detect_in_blocks(image: SkyImage, model: DecorasModel, *, device: str, threshold: float | None,
                      progress: StageProgress | None, cancel: CancelFn | None,
                      psf: DirtyBeam | None = None) -> tuple[Catalogue, NetworkMaps]:
    blocks = list(block_grid(image.shape, BLOCK, MARGIN))
    sources, notes, zoom, dev, precision = [], [], 1.0, device, "fp32"
    for k, ((y0, y1, x0, x1), (Y0, Y1, X0, X1)) in enumerate(blocks):
        if cancel and cancel():
            raise Cancelled("detection cancelled")

        def block_progress(fraction: float, message: str, k: int = k) -> None:
            if progress:
                progress((k + fraction) / len(blocks), f"block {k + 1}/{len(blocks)}: {message}")

        piece = image.cutout(Y0, Y1, X0, X1)
        if not piece.rms > 0:
            continue  # a blanked or constant block: nothing to find there
        cat, maps = _detect_whole(piece, model, device=device, threshold=threshold, progress=block_progress,
                                  cancel=cancel, rms_map=None, psf=psf)
        release_pages(image.data)  # this block's pages of a memory map need not stay resident
        zoom, dev, precision = maps.zoom, maps.device, maps.precision
        notes.extend(n for n in maps.notes if n not in notes)
        for s in cat:
            gx, gy = s.x + X0, s.y + Y0
            if y0 <= round(gy) < y1 and x0 <= round(gx) < x1:
                sources.append(s.replace(x=gx, y=gy, source_id=-1))
    meta = dict(catalogue_meta(image, model.card.name, model.card.version))
    catalogue = Catalogue(sources, meta)
    return catalogue, NetworkMaps(None, None, image.rms, zoom, dev, notes, precision)
