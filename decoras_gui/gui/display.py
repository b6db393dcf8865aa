"""Display settings for an image: stretch, limits, colormap -> an array in 0..1.

No Qt here: the window hands :func:`render` a 2-D array and gives the ImageItem the
result with levels 0..1. Stretches and intervals are astropy.visualization's.

The default ("Asinh, noise-scaled" from 1 sigma below the median to the maximum) is chosen
for real radio images, whose peak is often thousands of sigmas: an asinh stretch whose
softening is set, image by image, so that 5 sigma is drawn at least :data:`FAINT_LEVEL`
grey. Faint jets and sources show, the noise stays dark grey, the core is not clipped, and
an image of little dynamic range (a dirty image with a 12 sigma peak) stays linear.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

import numpy as np
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
from scipy.optimize import brentq

from ..core.image import release_pages, robust_rms, strided_sample

STRETCHES: dict[str, str] = {
    "asinh_noise": "Asinh, noise-scaled",
    "linear": "Linear",
    "sqrt": "Square root",
    "log": "Log",
    "asinh": "Asinh",
    "power": "Power",
}
LIMITS: dict[str, str] = {
    "noise1": "-1 sigma / max",
    "noise": "-2 sigma / max",
    "minmax": "Min / max",
    "99.9": "99.9 %",
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
#: the "noise" / "noise1" limits start this many robust sigmas below the median
NOISE_SIGMAS = 2.0
LIMIT_SIGMAS: dict[str, float] = {"noise": NOISE_SIGMAS, "noise1": 1.0}
#: the "asinh_noise" stretch draws the median + FAINT_SIGMAS robust sigmas at least this grey
#: (0..1); measured on the observed images in ../shared/data/real (tests/gui/test_display_real.py)
FAINT_SIGMAS = 5.0
FAINT_LEVEL = 0.3
#: pixels sampled to compute limits on big images
LIMIT_SAMPLE = 1_000_000


@dataclass(frozen=True)
class DisplaySettings:
    """How an image is shown. Defaults suit real radio images (a bright core, faint jets and
    sources, sidelobes) as well as dirty ones."""

    # asinh scaled to the noise, from 1 sigma below the median to the maximum: the noise
    # dark grey, everything above 5 sigma visible, the brightest never clipped
    stretch: str = "asinh_noise"
    limits: str = "noise1"
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


#: the stretch and limits an optical image (no beam, in ADU, counts or nanomaggies) is shown with
#: unless the user chose others: DS9's zscale, linear -- the sky's noise visible, galaxies' outskirts
#: grey, their cores white
OPTICAL_STRETCH, OPTICAL_LIMITS = "linear", "zscale"


def optical_settings(settings: DisplaySettings) -> DisplaySettings:
    """``settings`` with the optical stretch and limits (colormap and inversion kept)."""
    return settings.replace(stretch=OPTICAL_STRETCH, limits=OPTICAL_LIMITS)


def default_look(settings: DisplaySettings) -> bool:
    """True when ``settings`` have the default stretch and limits (the user chose none of their own)."""
    d = DisplaySettings()
    return (settings.stretch, settings.limits) == (d.stretch, d.limits)


class Limits(tuple):
    """(vmin, vmax) in data units, a plain pair to unpack and compare, that also carries the
    image's robust rms (``noise``) and median (``background``), NaN when not computed: the
    noise-scaled stretch of a zoomed-in patch, rendered with these limits, then matches the
    whole image's."""

    def __new__(cls, vmin: float, vmax: float, noise: float = math.nan, background: float = math.nan):
        self = super().__new__(cls, (float(vmin), float(vmax)))
        self.noise = float(noise)
        self.background = float(background)
        return self

    def __repr__(self) -> str:
        return f"Limits({self[0]!r}, {self[1]!r}, noise={self.noise!r}, background={self.background!r})"


def noise_softening(limits: Limits) -> float | None:
    """The asinh softening ``a`` that draws median + :data:`FAINT_SIGMAS` sigma at
    :data:`FAINT_LEVEL` within ``limits``, or None where a linear stretch already draws it at
    least that bright (little dynamic range) or the noise is unknown."""
    lo, hi = limits
    noise, background = getattr(limits, "noise", math.nan), getattr(limits, "background", math.nan)
    if not (noise > 0 and math.isfinite(noise) and math.isfinite(background) and hi > lo):
        return None
    x = (background + FAINT_SIGMAS * noise - lo) / (hi - lo)
    if not 0.0 < x < FAINT_LEVEL:
        return None

    def excess(log_a: float) -> float:  # grey of the faint level minus the wanted one; falls with a
        return float(AsinhStretch(a=10.0**log_a)(np.array([x]))[0]) - FAINT_LEVEL

    if excess(-12.0) <= 0.0:  # a dynamic range beyond 1e12: as log-like as it gets
        return 1e-12
    return 10.0 ** brentq(excess, -12.0, 3.0, xtol=1e-4)


def make_stretch(settings: DisplaySettings, limits: Limits | None = None):
    """The astropy stretch; "asinh_noise" needs the limits (with noise) it will be used with."""
    kind = settings.stretch
    if kind == "asinh_noise":
        a = noise_softening(limits) if limits is not None else None
        return LinearStretch() if a is None else AsinhStretch(a=a)
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
    if kind in LIMIT_SIGMAS:
        raise ValueError("the noise interval depends on the data: use compute_limits")
    if kind == "minmax":
        return MinMaxInterval()
    if kind in ("99.9", "99.5", "99"):
        return PercentileInterval(float(kind))
    if kind == "zscale":
        return ZScaleInterval()
    if kind == "manual":
        return ManualInterval(settings.vmin, settings.vmax)
    raise ValueError(f"unknown limits {kind!r}")


def image_noise(values: np.ndarray) -> tuple[float, float]:
    """(robust rms, median) of sampled finite values: the rms of core.image.robust_rms (sigma
    clipped, with its fallbacks for quantised images such as NVSS), the plain median."""
    if values.size == 0:
        return math.nan, math.nan
    return robust_rms(values.reshape(1, -1)), float(np.median(values))


def compute_limits(data: np.ndarray, settings: DisplaySettings) -> Limits:
    """(vmin, vmax) in data units, always finite with vmax > vmin; with the image's noise and
    median where the limits or the stretch need them."""
    values = sample(data)
    noise = background = math.nan
    if values.size and (settings.limits in LIMIT_SIGMAS or settings.stretch == "asinh_noise"):
        noise, background = image_noise(values)
    if settings.limits == "manual" and math.isfinite(settings.vmin) and math.isfinite(settings.vmax):
        lo, hi = settings.vmin, settings.vmax
    elif values.size == 0:
        return Limits(0.0, 1.0)
    elif settings.limits in LIMIT_SIGMAS:
        lo = background - LIMIT_SIGMAS[settings.limits] * (noise if math.isfinite(noise) else 0.0)
        hi = float(values.max())
    else:
        interval = make_interval(settings if settings.limits != "manual" else settings.replace(limits="minmax"))
        lo, hi = (float(v) for v in interval.get_limits(values))
    if not (math.isfinite(lo) and math.isfinite(hi)):
        lo, hi = 0.0, 1.0
    if hi <= lo:
        hi = lo + (abs(lo) * 1e-6 or 1.0)
    return Limits(lo, hi, noise, background)


def render(data: np.ndarray, settings: DisplaySettings,
           limits: tuple[float, float] | None = None) -> tuple[np.ndarray, Limits]:
    """The stretched image in 0..1 (float32, NaN where blank) and the limits used.

    Pass the :class:`Limits` of the whole image when ``data`` is a part of it (a zoomed-in
    patch, a block-averaged overview) so that it is stretched the same way."""
    if limits is None:
        limits = compute_limits(data, settings)
    elif not isinstance(limits, Limits):
        limits = Limits(*limits)
    if settings.stretch == "asinh_noise" and not math.isfinite(limits.noise):
        limits = Limits(*limits, *image_noise(sample(data)))  # a plain pair: the noise of this data
    lo, hi = limits
    out = np.array(data, dtype=np.float32, copy=True)
    blank = ~np.isfinite(out)
    out -= np.float32(lo)
    out *= np.float32(1.0 / (hi - lo))
    np.clip(out, 0.0, 1.0, out=out)
    make_stretch(settings, limits)(out, clip=True, out=out)
    if blank.any():
        out[blank] = np.nan
    return out, limits


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


def _sexagesimal(values: np.ndarray, per_unit: float, decimals: int, wrap: int | None) -> list[tuple[int, ...]]:
    """(whole units, minutes, seconds, fraction) of ``values`` (in units of ``per_unit`` seconds),
    rounded at ``decimals`` with the carry into minutes and units (59.99995 s -> 1 min 00.0000 s)."""
    scale = 10**decimals
    ticks = np.rint(np.abs(values) * per_unit * scale).astype(np.int64)  # tenth-milli-seconds, exactly
    if wrap is not None:
        ticks %= wrap * 3600 * scale
    units, rest = np.divmod(ticks, 3600 * scale)
    minutes, rest = np.divmod(rest, 60 * scale)
    seconds, fraction = np.divmod(rest, scale)
    return list(zip(units.tolist(), minutes.tolist(), seconds.tolist(), fraction.tolist()))


def format_sexagesimal(ra_deg: np.ndarray, dec_deg: np.ndarray, precision: int = 4) -> tuple[list[str], list[str]]:
    """RA as hh:mm:ss.ssss and Dec as ±dd:mm:ss.sss (``precision`` decimals of RA seconds, one
    fewer for Dec), vectorised with integer arithmetic (thousands of table rows in milliseconds;
    NaN -> empty)."""
    ra = np.atleast_1d(np.asarray(ra_deg, dtype=float))
    dec = np.atleast_1d(np.asarray(dec_deg, dtype=float))
    ok = np.isfinite(ra) & np.isfinite(dec)
    ras = [""] * ra.size
    decs = [""] * dec.size
    if ok.any():
        pr, pd = precision, max(precision - 1, 0)
        r = _sexagesimal(np.mod(ra[ok], 360.0), 3600.0 / 15.0, pr, wrap=24)
        d = _sexagesimal(dec[ok], 3600.0, pd, wrap=None)
        signs = np.where(dec[ok] < 0, "-", "+").tolist()
        fr, fd = (f".{{:0{p}d}}" if p else "" for p in (pr, pd))
        for i, (h, m, sec, f), sign, (dd, dm, ds, df) in zip(np.flatnonzero(ok), r, signs, d):
            ras[i] = f"{h:02d}:{m:02d}:{sec:02d}" + (fr.format(f) if pr else "")
            decs[i] = f"{sign}{dd:02d}:{dm:02d}:{ds:02d}" + (fd.format(df) if pd else "")
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
