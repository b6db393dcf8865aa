"""Networks over an image of any size: overlapping tiles, blended with linear ramps.

:func:`run_tiled` is what every task's inference does with its networks: pad a small image by
reflection to one tile (zero padding would show the networks a noise-free border they never saw in
training), cut a large one into tiles overlapping by ``overlap`` pixels, run each network on
batches of tiles (bfloat16 on CPUs that have it, :func:`decoras_gui.ml.inference.pick_precision`),
and blend the tiles back with weights that ramp over the overlaps.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..core.errors import Cancelled

if TYPE_CHECKING:
    import torch

#: progress(done, total) over tiles; cancel() -> True to stop
ProgressFn = Callable[[int, int], None]
CancelFn = Callable[[], bool]


def taper(size: int, overlap: int) -> np.ndarray:
    """1-D blending weight: linear ramps over the overlap, flat in the middle, never 0."""
    w = np.ones(size, np.float32)
    if overlap > 0:
        ramp = (np.arange(overlap, dtype=np.float32) + 0.5) / overlap
        w[:overlap] = ramp
        w[-overlap:] = ramp[::-1]
    return w


def tile_starts(length: int, tile: int, step: int) -> list[int]:
    """Tile origins covering ``length`` pixels with tiles of ``tile`` every ``step``."""
    if length <= tile:
        return [0]
    starts = list(range(0, length - tile, step))
    starts.append(length - tile)
    return starts


def run_tiled(work: np.ndarray, networks: Sequence[Callable[[torch.Tensor], torch.Tensor]], multiple: int, *,
              device: torch.device, precision: str = "fp32", tile: int = 512, overlap: int = 96, batch: int = 2,
              progress: ProgressFn | None = None, cancel: CancelFn | None = None,
              what: str = "the run") -> list[np.ndarray]:
    """Each of ``networks`` (batch (N, C, t, t) -> (N, 1, t, t)) over ``work`` (C, H, W, float32):
    one (H, W) float32 map per network. Tiles are multiples of ``multiple`` pixels. Raises
    Cancelled (saying ``what`` was cancelled) when ``cancel()`` turns true between batches."""
    import torch

    ny, nx = work.shape[1:]
    fit = -(-max(ny, nx) // multiple) * multiple
    tile = max(multiple, min(tile - tile % multiple, fit))
    overlap = min(overlap, tile // 2)
    py, px = max(0, tile - ny), max(0, tile - nx)
    if py or px:
        work = np.pad(work, ((0, 0), (0, py), (0, px)), mode="symmetric")
    h, w = work.shape[1:]
    step = tile - overlap
    corners = [(y, x) for y in tile_starts(h, tile, step) for x in tile_starts(w, tile, step)]
    weight = np.outer(taper(tile, overlap), taper(tile, overlap))
    sums = [np.zeros((h, w), np.float32) for _ in networks]
    weight_sum = np.zeros((h, w), np.float32)
    autocast = torch.autocast("cpu", dtype=torch.bfloat16) if precision == "bf16" else contextlib.nullcontext()
    total = len(corners)
    if progress:
        progress(0, total)
    with torch.inference_mode(), autocast:
        for first in range(0, total, batch):
            if cancel and cancel():
                raise Cancelled(f"{what} cancelled")
            group = corners[first:first + batch]
            inp = torch.from_numpy(np.stack([work[:, y:y + tile, x:x + tile] for y, x in group])).to(device)
            if precision == "bf16":
                inp = inp.contiguous(memory_format=torch.channels_last)
            outs = [net(inp).float().cpu().numpy()[:, 0] for net in networks]
            for k, (y, x) in enumerate(group):
                for total_map, out in zip(sums, outs):
                    total_map[y:y + tile, x:x + tile] += out[k] * weight
                weight_sum[y:y + tile, x:x + tile] += weight
            if progress:
                progress(min(first + batch, total), total)
    return [(s / weight_sum)[:ny, :nx] for s in sums]
