"""The status-bar readout under the cursor: pixel, sky position and value (no Qt)."""

from __future__ import annotations

import math

from ..core.image import SkyImage

SEPARATOR = "   │   "


def cursor_readout(image: SkyImage, x: float, y: float) -> str:
    """'x 12  y 40 (0-based) │ RA … Dec … │ 1.2e-3 Jy/beam (8.1 σ)' for the pixel under (x, y)."""
    ix, iy = int(round(x)), int(round(y))
    ny, nx = image.shape
    if not (0 <= ix < nx and 0 <= iy < ny):
        return f"x {x:.1f}  y {y:.1f}  (outside the image)"
    parts = [f"x {ix}  y {iy} (0-based)"]
    world = image.world_at(ix, iy)
    if world is not None:
        try:
            ra = world.ra.to_string(unit="hourangle", sep=":", precision=4, pad=True)
            dec = world.dec.to_string(unit="deg", sep=":", precision=3, alwayssign=True, pad=True)
            parts.append(f"RA {ra}  Dec {dec}  ({world.ra.deg:.6f}°, {world.dec.deg:+.6f}°)")
        except Exception:  # a WCS that cannot convert this pixel
            pass
    value = float(image.data[iy, ix])
    if math.isfinite(value):
        rms = image.rms
        snr = f"  ({value / rms:.1f} σ)" if rms and math.isfinite(rms) and rms > 0 else ""
        parts.append(f"{value:.4g} {image.unit.to_string() or ''}{snr}")
    else:
        parts.append("blank")
    return SEPARATOR.join(parts)


__all__ = ["cursor_readout"]
