"""Random sky models: points, elliptical Gaussians, close doubles and core-jet pairs.

A *group* is one astrophysical source: a point or Gaussian is a group of one component, a
double or core-jet a group of two.  Positions are pixel coordinates (0-based, x west-going
as the image); sizes are intrinsic FWHM in mas, PA in degrees east of north.

Separability: the two components of a pair count as two sources for completeness when
their separation is at least ``separable_beams`` (1.2) x the restoring-beam FWHM along the
line joining them (which is BMIN when the pair lies along the minor axis).  Otherwise the
fainter (lower restored peak) one is marked ``separable=False`` and is considered part of
the brighter one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import SimConfig
from .imaging import MAS, RestoringBeam, gaussian_cov

KINDS = ("point", "gaussian", "double", "core-jet")


@dataclass(frozen=True)
class SkyModel:
    """Components of a field (arrays of equal length)."""

    x: np.ndarray
    y: np.ndarray
    flux: np.ndarray  # total flux, Jy
    maj: np.ndarray  # intrinsic FWHM, mas (0 for points)
    min: np.ndarray
    pa: np.ndarray  # deg east of north
    kind: np.ndarray  # 'point', 'gaussian', 'double', 'core', 'jet'
    group: np.ndarray  # int, one per source
    separable: np.ndarray  # bool

    def __len__(self) -> int:
        return int(self.flux.size)

    def lm(self, size: int, cell_mas: float) -> tuple[np.ndarray, np.ndarray]:
        """Direction cosines (l east, m north) in radians of each component."""
        c = size // 2
        return -(self.x - c) * cell_mas * MAS, (self.y - c) * cell_mas * MAS


def _peak_factor(beam: RestoringBeam, maj, mn, pa) -> np.ndarray:
    """Restored peak / total flux of a component."""
    cb = beam.cov()
    return np.sqrt(np.linalg.det(cb) / np.linalg.det(gaussian_cov(maj, mn, pa) + cb))


def random_sky(rng: np.random.Generator, cfg: SimConfig, beam: RestoringBeam, rms: float) -> SkyModel:
    """Draw a field's sources; peak SNR (restored peak / ``rms``) log-uniform in ``cfg.snr_range``."""
    n = 0 if (cfg.max_sources == 0 or rng.random() < cfg.empty_fraction) else int(rng.integers(1, cfg.max_sources + 1))
    beam_geo = float(np.sqrt(beam.bmaj * beam.bmin))
    min_sep_pix = cfg.min_sep_beams * beam.bmaj / cfg.cell_mas
    cols: dict[str, list] = {k: [] for k in ("x", "y", "flux", "maj", "min", "pa", "kind", "group", "separable")}
    placed = np.zeros((0, 2))  # component positions of earlier groups
    lo, hi = cfg.margin_pix, cfg.size - cfg.margin_pix
    lsnr = np.log(cfg.snr_range)
    probs = np.asarray(cfg.kind_probs, float) / np.sum(cfg.kind_probs)
    group = 0
    for _ in range(n):
        kind = KINDS[int(rng.choice(4, p=probs))]
        peak = rms * float(np.exp(rng.uniform(*lsnr)))
        comps = _group(rng, cfg, kind, beam, beam_geo, peak, rms * cfg.snr_range[0])
        offs = np.array([(c[0], c[1]) for c in comps])
        for _ in range(20):  # all components inside the margins, away from other groups
            pos = rng.uniform(lo, hi, 2) + offs
            inside = np.all((pos >= lo) & (pos < hi))
            if inside and (placed.size == 0 or np.min(np.hypot(*(pos[:, None, :] - placed[None]).T)) >= min_sep_pix):
                break
        else:
            continue
        placed = np.vstack([placed, pos])
        for (x, y), (_, _, flux, maj, mn, pa, ck) in zip(pos, comps):
            for key, val in zip(("x", "y", "flux", "maj", "min", "pa", "kind", "group", "separable"),
                                (x, y, flux, maj, mn, pa, ck, group, True)):
                cols[key].append(val)
        group += 1
        if len(comps) == 2:
            _mark_separability(cols, beam, cfg)
    return SkyModel(
        x=np.array(cols["x"], float), y=np.array(cols["y"], float), flux=np.array(cols["flux"], float),
        maj=np.array(cols["maj"], float), min=np.array(cols["min"], float), pa=np.array(cols["pa"], float),
        kind=np.array(cols["kind"], dtype="U8"), group=np.array(cols["group"], int),
        separable=np.array(cols["separable"], bool),
    )


def _offset_pix(sep_mas: float, theta_deg: float, cell_mas: float) -> tuple[float, float]:
    """Pixel offset (dx, dy) of a displacement ``sep_mas`` towards PA ``theta_deg`` (x runs west)."""
    t = np.deg2rad(theta_deg)
    return -sep_mas * np.sin(t) / cell_mas, sep_mas * np.cos(t) / cell_mas


def _group(rng, cfg: SimConfig, kind: str, beam: RestoringBeam, beam_geo: float, peak: float,
           floor: float) -> list[tuple]:
    """Components (dx, dy, flux, maj, min, pa, kind) of one source with restored peak ``peak``
    (``floor``: the restored peak at the lowest SNR of the range)."""
    if kind == "point":
        return [(0.0, 0.0, peak, 0.0, 0.0, 0.0, "point")]
    if kind == "gaussian":
        maj = beam_geo * float(np.exp(rng.uniform(*np.log(cfg.size_range_beams))))
        mn = maj * rng.uniform(0.3, 1.0)
        pa = rng.uniform(0.0, 180.0)
        return [(0.0, 0.0, peak / float(_peak_factor(beam, maj, mn, pa)), maj, mn, pa, "gaussian")]
    theta = rng.uniform(0.0, 360.0)
    sep = rng.uniform(*cfg.sep_range_beams) * float(beam.fwhm_along(theta))
    dx, dy = _offset_pix(sep, theta, cfg.cell_mas)
    if kind == "double":  # flux ratio log-uniform 1-5, the fainter kept at or above the lowest SNR
        second = max(peak / float(np.exp(rng.uniform(0.0, np.log(5.0)))), min(peak, floor))
        return [(-dx / 2, -dy / 2, peak, 0.0, 0.0, 0.0, "double"),
                (dx / 2, dy / 2, second, 0.0, 0.0, 0.0, "double")]
    # core-jet: a point core and an elongated Gaussian jet pointing away from it
    jmaj = beam_geo * rng.uniform(0.5, 2.5)
    jmin = jmaj * rng.uniform(0.2, 0.6)
    jpa = theta % 180.0
    jflux = peak * float(np.exp(rng.uniform(np.log(0.1), 0.0)))  # total jet flux: 0.1-1 x the core's
    return [(0.0, 0.0, peak, 0.0, 0.0, 0.0, "core"), (dx, dy, jflux, jmaj, jmin, jpa, "jet")]


def _mark_separability(cols: dict, beam: RestoringBeam, cfg: SimConfig) -> None:
    """Mark the fainter component of the last-added pair inseparable if it is too close."""
    x = np.array(cols["x"][-2:])
    y = np.array(cols["y"][-2:])
    dl, dm = -(x[1] - x[0]) * cfg.cell_mas, (y[1] - y[0]) * cfg.cell_mas
    theta = np.rad2deg(np.arctan2(dl, dm))
    if np.hypot(dl, dm) < cfg.separable_beams * float(beam.fwhm_along(theta)):
        pk = [cols["flux"][-2 + i]
              * float(_peak_factor(beam, cols["maj"][-2 + i], cols["min"][-2 + i], cols["pa"][-2 + i]))
              for i in range(2)]
        cols["separable"][-2 + int(np.argmin(pk))] = False
