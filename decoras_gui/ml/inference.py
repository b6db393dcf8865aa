"""Run the networks over an image of any size: resampling, tiling, batching, devices.

Tiles overlap by more than half the networks' receptive field and are blended with a
tapered weight, so seams do not show; memory
grows with the tile batch, not the image (the two output maps aside). Progress is
reported after each batch and cancellation is honoured between batches.

On a CPU with native bfloat16 (AVX512-BF16 or AMX; :func:`pick_precision`) the networks run
under bfloat16 autocast with channels-last tensors: 2.3x faster on this project's CI machine,
probabilities within 0.01 and restored peaks within 0.5 % of float32 (``benchmarks/RESULTS.md``).
``DECORAS_PRECISION=fp32`` forces float32 everywhere.

torch is imported when the networks run, not with this module: :class:`NetworkMaps` is read
by processes that never run a network (``decoras detect``'s, whose networks run in a worker
process: :mod:`decoras_gui.ml.network_worker`).
"""

from __future__ import annotations

import math
import os
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from scipy import ndimage

from ..core.errors import DecorasError
from .tiling import CancelFn, ProgressFn, run_tiled

if TYPE_CHECKING:
    import torch

    from .registry import DecorasModel


#: Beam sampling within this fraction of the model's is used as it is (no resampling).
RESAMPLE_TOLERANCE = 0.15


@dataclass
class NetworkMaps:
    """What the networks say about an image, on the image's own pixel grid."""

    # None for an image done in blocks (pipeline.BLOCK), too big to hold whole maps of:
    probability: np.ndarray | None  # float32, per-pixel source probability (NaN where blanked)
    restored: np.ndarray | None  # float32, beam-free restored brightness in the image's unit
    rms: float  # the robust rms the input was normalised by
    zoom: float  # model pixels per image pixel that were used (1.0: no resampling)
    device: str
    notes: list[str] = field(default_factory=list)  # things the user should know about this run
    precision: str = "fp32"  # what the networks computed in: 'fp32' or 'bf16'
    # the bright sources' sidelobes predicted from the dirty beam (image units), when one was given
    sidelobes: np.ndarray | None = None


def pick_precision(device: torch.device) -> str:
    """'bf16' on a CPU with native bfloat16 support, else 'fp32' ($DECORAS_PRECISION=fp32 forces it)."""
    if os.environ.get("DECORAS_PRECISION", "").lower() == "fp32" or device.type != "cpu":
        return "fp32"
    import torch

    supported = getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", None)
    try:
        return "bf16" if supported is not None and supported() else "fp32"
    except RuntimeError:
        return "fp32"


def pick_device(choice: str = "auto") -> torch.device:
    """'auto' (CUDA when available), 'cpu' or 'cuda'; a clear error when CUDA is absent."""
    import torch

    choice = (choice or "auto").lower()
    if choice == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if choice == "cuda" and not torch.cuda.is_available():
        raise DecorasError("CUDA was asked for, but torch sees no CUDA device here")
    if choice not in ("cpu", "cuda"):
        raise DecorasError(f"unknown device {choice!r}: use auto, cpu or cuda")
    return torch.device(choice)


def zoom_factor(model: DecorasModel, beam_minor_px: float | None) -> float:
    """Model pixels per image pixel so the beam is sampled as in training (1 if unknown)."""
    if not beam_minor_px or not math.isfinite(beam_minor_px):
        return 1.0
    span = model.card.pixels_per_beam_range
    if span is not None:  # trained on a range of samplings: resample only from outside it
        return float(np.clip(beam_minor_px, *span) / beam_minor_px)
    factor = model.card.pixels_per_beam_minor / beam_minor_px
    return 1.0 if abs(factor - 1.0) <= RESAMPLE_TOLERANCE else factor


def run_networks(
    data: np.ndarray,
    rms: float,
    model: DecorasModel,
    *,
    beam_minor_px: float | None = None,
    device: str = "auto",
    tile: int = 512,
    overlap: int = 96,
    batch: int = 2,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
    psf: np.ndarray | None = None,
) -> NetworkMaps:
    """Source probability and restored brightness maps for a 2-D image ``data`` [y, x].

    ``psf``: the image's dirty beam on its pixel grid (peak 1), for a model that reads the
    predicted-sidelobe channel (:mod:`.sidelobe_map`); without it that channel says "no PSF".

    A model whose networks run in another process (one with a ``run_networks`` method:
    :class:`decoras_gui.ml.network_worker.RemoteModel`) is handed the call as it is."""
    remote = getattr(model, "run_networks", None)
    if remote is not None:  # every keyword argument of this call, as it was given
        return remote(data, rms, **{k: v for k, v in locals().items() if k not in ("data", "rms", "model", "remote")})
    if not (rms > 0 and math.isfinite(rms)):
        raise DecorasError("the image has no usable noise level (rms is 0 or undefined)")
    import torch

    dev = pick_device(device)
    if not model.card.reads_psf:
        psf = None  # a model trained without the dirty beam is not shown one
    zoom = zoom_factor(model, beam_minor_px)
    work = np.array(data, dtype=np.float32)  # a native-endian copy; the input may be a memory map
    blank = ~np.isfinite(work)
    work[blank] = 0.0
    work /= np.float32(rms)
    if zoom != 1.0:
        work = ndimage.zoom(work, zoom, order=1, prefilter=False)
    uses_psf = model.card.uses_psf
    work = with_psf_channels(work, psf, zoom) if (uses_psf or psf is not None) else work[None]
    sidelobes = work[1].copy() if psf is not None else None
    if not uses_psf:
        work = work[:1]
    multiple = 2 ** max(model.detection.config.depth, model.characterization.config.depth)
    model.to(dev)
    precision = pick_precision(dev)
    # channels-last for bf16, and back to the plain layout otherwise: the same model object gives
    # the same float32 figures whatever ran on it before
    layout = torch.channels_last if precision == "bf16" else torch.contiguous_format
    model.detection.to(memory_format=layout)
    model.characterization.to(memory_format=layout)
    prob, rest = run_tiled(work, [lambda x: torch.sigmoid(model.detection(x)), model.characterization], multiple,
                           device=dev, precision=precision, tile=tile, overlap=overlap, batch=batch,
                           progress=progress, cancel=cancel, what="detection")
    if zoom != 1.0:
        target = data.shape
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            prob = _resize(prob, target)
            rest = _resize(rest, target)
        if sidelobes is not None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                sidelobes = _resize(sidelobes, target)
    rest *= np.float32(rms)
    prob[blank] = np.nan
    rest[blank] = np.nan
    if sidelobes is not None:
        sidelobes = (sidelobes * np.float32(rms)).astype(np.float32)
        sidelobes[blank] = np.nan
    notes = []
    if model.card.reads_psf and psf is None:
        notes.append("no dirty beam was given: the networks ran without their sidelobe channel "
                     "(give the PSF for fewer sidelobe false detections)")
    if beam_minor_px is None:
        notes.append("the image has no beam in its header: assumed sampled like the model's training images "
                     f"({model.card.pixels_per_beam_minor:.1f} pixels per beam minor axis)")
    elif zoom != 1.0:
        notes.append(f"resampled by {zoom:.3g} to the model's beam sampling "
                     f"({beam_minor_px:.2f} -> {beam_minor_px * zoom:.2f} pixels per beam minor axis)")
    return NetworkMaps(prob.astype(np.float32), rest.astype(np.float32), float(rms), zoom, str(dev), notes,
                       precision, sidelobes)


def with_psf_channels(work: np.ndarray, psf: np.ndarray | None, zoom: float) -> np.ndarray:
    """(3, H, W): the image in rms units, the predicted sidelobes, the has-a-PSF flag."""
    from .sidelobe_map import predicted_sidelobes

    if psf is None:
        return np.stack([work, np.zeros_like(work), np.zeros_like(work)])
    beam = np.nan_to_num(np.asarray(psf, np.float32))
    if zoom != 1.0:
        beam = ndimage.zoom(beam, zoom, order=1, prefilter=False)
    side = predicted_sidelobes(work, beam)
    return np.stack([work, side, np.ones_like(work)])


def _resize(array: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Linear resampling of a map back onto the image grid (exact output shape)."""
    factors = (shape[0] / array.shape[0], shape[1] / array.shape[1])
    out = ndimage.zoom(array, factors, order=1, prefilter=False, grid_mode=True, mode="nearest")
    if out.shape != tuple(shape):  # zoom can be off by one pixel through rounding
        out = np.pad(out, [(0, max(0, s - o)) for s, o in zip(shape, out.shape)], mode="edge")[: shape[0], : shape[1]]
    return out
