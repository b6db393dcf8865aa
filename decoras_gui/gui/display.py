"""Display settings for an image: stretch, limits, colormap -> an array in 0..1.

No Qt here: the window hands :func:`render` a 2-D array and gives the ImageItem the
result with levels 0..1. Stretches and intervals are astropy.visualization's.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass, replace

import numpy as np
from astropy.stats import mad_std
from astropy.visualization import (
    AsinhStretch,
    LinearStretch,
    LogStretch,
    ManualInterval,
    MinMaxInterval,
    PercentileInterval,
    PowerStretch,
    SqrtStretch,
    ZScaleInterval,
)

from ..core.image import release_pages, strided_sample

STRETCHES: dict[str, str] = {
    "linear": "Linear",
    "sqrt": "Square root",
    "log": "Log",
    "asinh": "Asinh",
    "power": "Power",
}
LIMITS: dict[str, str] = {
    "noise": "-2 sigma / max",
    "minmax": "Min / max",
    "99.5": "99.5 %",
    "99": "99 %",
    "zscale": "ZScale",
    "manual": "Manual",
}
#: colormap key -> label; "gray" is built here, the others come from pyqtgraph.colormap.get
COLORMAPS: dict[str, str] = {
    "inferno": "Inferno",
    "magma": "Magma",
    "viridis": "Viridis",
    "cividis": "Cividis",
    "gray": "Gray",
    "CET-L3": "Heat (CET-L3)",
    "CET-L16": "Cubehelix-like (CET-L16)",
}
#: the "noise" limits start this many robust sigmas below the median
NOISE_SIGMAS = 2.0
#: pixels sampled to compute limits on big images
LIMIT_SAMPLE = 1_000_000


@dataclass(frozen=True)
class DisplaySettings:
    """How an image is shown. Defaults suit dirty radio images (faint sources, sidelobes)."""

    # linear from 2 sigma below the median to the maximum, as radio images are usually
    # shown: the noise dark, sources bright, the brightest never clipped
    stretch: str = "linear"
    limits: str = "noise"
    vmin: float = math.nan  # used when limits == "manual"
    vmax: float = math.nan
    colormap: str = "gray"  # the status colours of the ellipses stand out on grey
    invert: bool = False
    power: float = 2.0  # exponent of the power stretch
    asinh_a: float = 0.1  # softening of the asinh stretch

    def replace(self, **changes) -> "DisplaySettings":
        return replace(self, **changes)

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "DisplaySettings":
        known = {k: v for k, v in (d or {}).items() if k in cls.__dataclass_fields__}
        out = cls()
        try:
            out = cls(**{**out.as_dict(), **known})
        except TypeError:
            return cls()
        if out.stretch not in STRETCHES or out.limits not in LIMITS or out.colormap not in COLORMAPS:
            return cls()
        return out


def make_stretch(settings: DisplaySettings):
    kind = settings.stretch
    if kind == "linear":
        return LinearStretch()
    if kind == "sqrt":
        return SqrtStretch()
    if kind == "log":
        return LogStretch()
    if kind == "asinh":
        return AsinhStretch(a=settings.asinh_a)
    if kind == "power":
        return PowerStretch(settings.power)
    raise ValueError(f"unknown stretch {kind!r}")


def sample(data: np.ndarray, max_pixels: int = LIMIT_SAMPLE) -> np.ndarray:
    """Finite values of a regular subsample (cheap on an 8192x8192 memory map)."""
    return strided_sample(data, max_pixels, np.float32)


def make_interval(settings: DisplaySettings):
    kind = settings.limits
    if kind == "noise":
        raise ValueError("the noise interval depends on the data: use compute_limits")
    if kind == "minmax":
        return MinMaxInterval()
    if kind in ("99.5", "99"):
        return PercentileInterval(float(kind))
    if kind == "zscale":
        return ZScaleInterval()
    if kind == "manual":
        return ManualInterval(settings.vmin, settings.vmax)
    raise ValueError(f"unknown limits {kind!r}")


def compute_limits(data: np.ndarray, settings: DisplaySettings) -> tuple[float, float]:
    """(vmin, vmax) in data units; always finite with vmax > vmin."""
    values = sample(data)
    if settings.limits == "manual" and math.isfinite(settings.vmin) and math.isfinite(settings.vmax):
        lo, hi = settings.vmin, settings.vmax
    elif values.size == 0:
        return 0.0, 1.0
    elif settings.limits == "noise":
        lo = float(np.median(values) - NOISE_SIGMAS * mad_std(values))
        hi = float(values.max())
    else:
        interval = make_interval(settings if settings.limits != "manual" else settings.replace(limits="minmax"))
        lo, hi = (float(v) for v in interval.get_limits(values))
    if not (math.isfinite(lo) and math.isfinite(hi)):
        lo, hi = 0.0, 1.0
    if hi <= lo:
        hi = lo + (abs(lo) * 1e-6 or 1.0)
    return lo, hi


def render(data: np.ndarray, settings: DisplaySettings,
           limits: tuple[float, float] | None = None) -> tuple[np.ndarray, tuple[float, float]]:
    """The stretched image in 0..1 (float32, NaN where blank) and the limits used."""
    lo, hi = limits if limits is not None else compute_limits(data, settings)
    out = np.array(data, dtype=np.float32, copy=True)
    blank = ~np.isfinite(out)
    out -= np.float32(lo)
    out *= np.float32(1.0 / (hi - lo))
    np.clip(out, 0.0, 1.0, out=out)
    make_stretch(settings)(out, clip=True, out=out)
    if blank.any():
        out[blank] = np.nan
    return out, (lo, hi)


def nice_length(max_value: float) -> float:
    """The largest 1, 2 or 5 x 10^n not above ``max_value`` (for scale bars)."""
    if not max_value > 0 or not math.isfinite(max_value):
        return 0.0
    exp = math.floor(math.log10(max_value))
    for m in (5.0, 2.0, 1.0):
        if m * 10**exp <= max_value:
            return m * 10**exp
    return 10 ** (exp - 1) * 5.0


def angle_label(deg: float) -> str:
    """A short angular length: 5 mas, 20 µas, 1.5", 2', 1°."""
    arcsec = deg * 3600.0
    if arcsec >= 3600:
        return f"{deg:g}°"
    if arcsec >= 60:
        return f"{arcsec / 60:g}′"
    if arcsec >= 1:
        return f'{arcsec:g}″'
    if arcsec >= 1e-3:
        return f"{arcsec * 1e3:g} mas"
    return f"{arcsec * 1e6:g} µas"


def scale_bar_length(pixel_scale_deg: float, max_pixels: float) -> tuple[float, str]:
    """(length in pixels, label) of a round angular scale bar no longer than ``max_pixels``."""
    max_deg = max_pixels * pixel_scale_deg
    arcsec = max_deg * 3600.0
    if arcsec >= 60:
        unit = 60.0 if arcsec < 3600 else 3600.0
    elif arcsec >= 1:
        unit = 1.0
    elif arcsec >= 1e-3:
        unit = 1e-3
    else:
        unit = 1e-6
    length_deg = nice_length(arcsec / unit) * unit / 3600.0
    return length_deg / pixel_scale_deg, angle_label(length_deg)


def format_sexagesimal(ra_deg: np.ndarray, dec_deg: np.ndarray, precision: int = 4) -> tuple[list[str], list[str]]:
    """RA as hh:mm:ss.ssss and Dec as ±dd:mm:ss.sss, vectorised (NaN -> empty)."""
    from astropy.coordinates import Angle

    ra = np.atleast_1d(np.asarray(ra_deg, dtype=float))
    dec = np.atleast_1d(np.asarray(dec_deg, dtype=float))
    ok = np.isfinite(ra) & np.isfinite(dec)
    ras = [""] * ra.size
    decs = [""] * dec.size
    if ok.any():
        r = Angle(ra[ok], unit="deg").to_string(unit="hourangle", sep=":", precision=precision, pad=True)
        d = Angle(dec[ok], unit="deg").to_string(unit="deg", sep=":", precision=precision - 1,
                                                 alwayssign=True, pad=True)
        for i, a, b in zip(np.flatnonzero(ok), np.atleast_1d(r), np.atleast_1d(d)):
            ras[i], decs[i] = str(a), str(b)
    return ras, decs


#: images with a side longer than this are shown from a block-averaged overview, with
#: full-resolution detail rendered for the visible region once zoomed in
OVERVIEW_MAX = 4096
#: the largest visible region (pixels a side) rendered at full resolution
DETAIL_MAX = 2048
OVERVIEW_CHUNK_PIXELS = 16_000_000


def overview_factor(shape: tuple[int, int], max_side: int | None = None) -> int:
    """Integer block size that brings the longer side to at most ``max_side`` (default
    :data:`OVERVIEW_MAX`; 1: no overview needed)."""
    return max(1, int(math.ceil(max(shape) / (max_side or OVERVIEW_MAX))))


def overview(data: np.ndarray, factor: int) -> np.ndarray:
    """Block means (NaN-aware) of ``factor`` x ``factor`` pixels, read in row chunks so a memory
    map is never loaded whole; the partial blocks at the top and right edges are left out."""
    if factor <= 1:
        return np.asarray(data, dtype=np.float32)
    ny, nx = (data.shape[0] // factor) * factor, (data.shape[1] // factor) * factor
    out = np.empty((ny // factor, nx // factor), np.float32)
    rows = max(1, OVERVIEW_CHUNK_PIXELS // max(nx * factor, 1)) * factor
    with np.errstate(invalid="ignore", divide="ignore"):  # all-blank blocks: 0 / 0 = NaN, as wanted
        for r0 in range(0, ny, rows):
            r1 = min(ny, r0 + rows)
            block = np.array(data[r0:r1, :nx], dtype=np.float32)
            finite = np.isfinite(block)
            block[~finite] = 0.0
            weight = finite.astype(np.float32)
            # block sums by strided slices (factor^2 whole-array adds): far faster than a
            # reduction over small reshaped axes
            cols = sum(block[:, k::factor] for k in range(factor))
            wcols = sum(weight[:, k::factor] for k in range(factor))
            total = sum(cols[k::factor] for k in range(factor))
            count = sum(wcols[k::factor] for k in range(factor))
            out[r0 // factor:r1 // factor] = total / count
            release_pages(data)  # a memory map's pages need not stay resident
    return out


def detail_region(view: tuple[float, float, float, float], shape: tuple[int, int],
                  max_side: int | None = None) -> tuple[int, int, int, int] | None:
    """Integer (x0, x1, y0, y1) of the visible part of the image, or None when it is empty or
    larger than ``max_side`` on a side (the overview is then sharp enough)."""
    max_side = max_side or DETAIL_MAX
    x0, x1, y0, y1 = view
    ny, nx = shape
    ix0, iy0 = max(0, int(math.floor(x0 + 0.5))), max(0, int(math.floor(y0 + 0.5)))
    ix1, iy1 = min(nx, int(math.ceil(x1 + 0.5))), min(ny, int(math.ceil(y1 + 0.5)))
    if ix1 <= ix0 or iy1 <= iy0 or ix1 - ix0 > max_side or iy1 - iy0 > max_side:
        return None
    return ix0, ix1, iy0, iy1
