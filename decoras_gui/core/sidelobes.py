"""The sidelobe test: is a detection explained by the dirty-beam sidelobes of brighter sources?

In a dirty image every source adds its flux times the dirty beam B, shifted to its position,
to every pixel. A detection j at pixel p_j whose dirty-image value D_j (read from the image at
its nearest pixel: the networks' peak is the restored one, the dirty value is what sidelobes
add to) is tested against every brighter source i (D_i > D_j) whose offset lies outside B's
main lobe (the connected region >= 0.5 around its centre: a detection inside a source's FWHM
is a component of it, not a sidelobe) and within the PSF:

* predicted sidelobe level  P_j = sum_i c_i,  c_i = B(p_j - p_i) D_i (1 - p_sidelobe_i)
  (a brighter detection that is itself a sidelobe does not make sidelobes of its own: sources
  are taken in decreasing D, so p_sidelobe_i is known when j is tested);
* its uncertainty  sigma_j^2 = rms_j^2 + (f c_i)^2 summed over i: the noise at the detection
  in quadrature with a fractional sidelobe uncertainty f (:data:`SIDELOBE_UNCERTAINTY`, 15 %:
  residual calibration errors, sub-pixel positions and smearing make real sidelobes differ
  from the PSF's by that much). rms_j is the detection's ``local_rms``, or, where lower, the
  local rms of the *residual* image: the image less every detection's D (1 - p_sidelobe of a
  first pass) times B at its position (:func:`residual_rms`); around a bright source the local
  rms of a dirty image is mostly its sidelobes, which the test models and must not count as
  noise. The test is then run again with that noise;
* two hypotheses for D_j with z = (D_j - P_j) / sigma_j:
  sidelobe, D_j = P_j + noise: likelihood L_s = phi(z) / sigma_j;
  real source of peak S on top of the sidelobes, S uniform on [0, S_max] with S_max = 2 D_j
  (faint sources are far more common than bright ones, so a real source is most likely about
  as bright as what is seen): L_r = [Phi(z) - Phi(z - S_max / sigma_j)] / S_max;
  with even prior odds, **p_sidelobe = L_s / (L_s + L_r)** (phi, Phi: the standard normal
  density and distribution). A detection exactly at its predicted sidelobe level gets about
  0.85-0.9; one 1.5 sigma_j above it about 0.5; one 3 sigma_j above it under 0.05.
* **sidelobe_of** is the source_id of the brighter source with the largest predicted sidelobe
  c_i at the detection, when that is at least one local rms (a weaker one explains nothing);
  else -1.

Where the image is far *below* the prediction (z < -:data:`CONTRADICTION_Z`) the image does not
carry the brighter sources' sidelobes there: it is deconvolved (CLEANed), or the PSF is not
this image's. Such a detection gets p_sidelobe 0 (the test cannot call it a sidelobe), and when
most tested detections are like that the notes say the test does not apply. A detection with no
brighter source outside the main lobe within the PSF gets p_sidelobe 0 and sidelobe_of -1;
p_sidelobe NaN means not tested (no PSF, or no finite image value at the position).

Reliability: a detection with p_sidelobe > :data:`FLAG_LEVEL` (0.5) is *flagged*: its status
stays ``candidate`` (the astronomer decides) and, when it has no note yet, its note says
"likely a sidelobe of a brighter source". ``decoras detect`` keeps flagged detections in
its catalogues (the columns say why) unless ``--drop-sidelobes`` is given.

Brighter sources are treated as points: the sidelobes of a resolved source are the PSF smoothed
by its shape, weaker at large offsets than predicted here, so the test errs towards calling
detections near extended sources sidelobes no more than a fractional uncertainty allows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.special import ndtr

from .catalogue import Catalogue
from .image import SkyImage
from .psf import DirtyBeam

__all__ = ["SidelobeResult", "sidelobe_test", "FLAG_LEVEL", "SIDELOBE_UNCERTAINTY", "MAIN_LOBE_LEVEL",
           "CONTRADICTION_Z", "FLAG_NOTE", "RESIDUAL_MAX_PIXELS", "no_psf_note", "is_flagged", "residual_rms",
           "renumber_sidelobe_of"]

#: p_sidelobe above which a detection is flagged as a likely sidelobe
FLAG_LEVEL = 0.5
#: fractional uncertainty of a predicted sidelobe (calibration errors, sub-pixel positions)
SIDELOBE_UNCERTAINTY = 0.15
#: the dirty beam's main lobe (connected region around its centre at or above this) is not tested
MAIN_LOBE_LEVEL = 0.5
#: an image this many sigma below the predicted sidelobe contradicts the prediction
CONTRADICTION_Z = 3.0
#: images up to this many pixels get the residual noise estimate (an FFT convolution of the image)
RESIDUAL_MAX_PIXELS = 4096 * 4096
#: the note a flagged detection without a note of its own gets
FLAG_NOTE = "likely a sidelobe of a brighter source"
_SQRT_2PI = math.sqrt(2.0 * math.pi)


def no_psf_note(image_name: str) -> str:
    """What a run without a dirty beam tells the user."""
    return (f"no dirty beam found beside {image_name}; sidelobe test skipped — give one with --psf "
            "or File > Open Dirty Beam…")


def is_flagged(p_sidelobe: float) -> bool:
    """True for a detection the sidelobe test calls a likely sidelobe (NaN: not tested, False)."""
    return bool(p_sidelobe > FLAG_LEVEL)


@dataclass
class SidelobeResult:
    """The catalogue with ``sidelobe_of`` / ``p_sidelobe`` set, and what the test found."""

    catalogue: Catalogue
    tested: int = 0  # detections with a finite image value
    flagged: int = 0  # p_sidelobe > FLAG_LEVEL
    contradicted: int = 0  # image far below the predicted sidelobes
    notes: list[str] = field(default_factory=list)


def _p_sidelobe(d: float, predicted: float, sigma: float) -> float:
    """Posterior probability of the sidelobe hypothesis (module docstring), even prior odds."""
    z = (d - predicted) / sigma
    s_max = max(2.0 * d, sigma)
    l_s = math.exp(-0.5 * z * z) / (_SQRT_2PI * sigma)
    l_r = float(ndtr(z) - ndtr(z - s_max / sigma)) / s_max
    total = l_s + l_r
    return l_s / total if total > 0 else 0.0


def _one_pass(dirty: np.ndarray, rms: np.ndarray, iy: np.ndarray, ix: np.ndarray, ids: np.ndarray,
              beam: DirtyBeam, lobe: np.ndarray, uncertainty: float) -> tuple[np.ndarray, np.ndarray, int]:
    """p_sidelobe, sidelobe_of and the number of contradicted detections (module docstring)."""
    n = dirty.size
    p = np.full(n, np.nan)
    of = np.full(n, -1, dtype=np.int64)
    contradicted = 0
    order = [int(k) for k in np.argsort(-np.where(np.isfinite(dirty), dirty, -np.inf), kind="stable")]
    done: list[int] = []  # tested sources so far, brightest first
    for j in order:
        if not (np.isfinite(dirty[j]) and rms[j] > 0):
            continue
        brighter = np.array([i for i in done if dirty[i] > dirty[j]], dtype=np.int64)
        done.append(j)
        p[j] = 0.0
        if brighter.size == 0:
            continue
        dy, dx = iy[j] - iy[brighter], ix[j] - ix[brighter]
        b = beam.at(dy, dx)
        inside = np.isfinite(b)
        in_lobe = np.zeros(brighter.size, dtype=bool)
        in_lobe[inside] = lobe[dy[inside] + beam.centre[0], dx[inside] + beam.centre[1]]
        use = inside & ~in_lobe
        if not use.any():
            continue
        c = b[use] * dirty[brighter[use]] * (1.0 - p[brighter[use]])
        predicted = float(c.sum())
        sigma = math.sqrt(rms[j] ** 2 + float(np.sum((uncertainty * c) ** 2)))
        best = int(np.argmax(c))
        if c[best] >= rms[j]:
            of[j] = ids[brighter[use][best]]
        if (dirty[j] - predicted) / sigma < -CONTRADICTION_Z:
            contradicted += 1
            continue
        p[j] = _p_sidelobe(float(dirty[j]), predicted, sigma)
    return p, of, contradicted


def residual_rms(image: SkyImage, beam: DirtyBeam, iy: np.ndarray, ix: np.ndarray,
                 amplitude: np.ndarray) -> np.ndarray | None:
    """The local rms (:meth:`SkyImage.rms_map`) of the image less ``amplitude`` x the dirty beam at
    each pixel (iy, ix): the noise the detections' own responses do not explain. None for an image
    over :data:`RESIDUAL_MAX_PIXELS`."""
    from dataclasses import replace

    from scipy.signal import fftconvolve

    ny, nx = image.shape
    if ny * nx > RESIDUAL_MAX_PIXELS:
        return None
    deltas = np.zeros((ny, nx))
    ok = np.isfinite(amplitude)
    np.add.at(deltas, (iy[ok], ix[ok]), amplitude[ok])
    cy, cx = beam.centre
    model = fftconvolve(deltas, np.asarray(beam.data, np.float64), mode="full")[cy:cy + ny, cx:cx + nx]
    residual = np.asarray(image.data, np.float64) - model
    return replace(image, data=residual.astype(np.float32)).rms_map()


def sidelobe_test(catalogue: Catalogue, image: SkyImage, beam: DirtyBeam, *,
                  uncertainty: float = SIDELOBE_UNCERTAINTY, flag_notes: bool = True) -> SidelobeResult:
    """Test every source of ``catalogue`` (measured on ``image``) against the sidelobes of the
    brighter ones with ``beam`` (on the image's pixel grid, :func:`~.psf.load_psf`); see the module
    docstring. Returns a new catalogue (same order, ids and meta, plus ``meta['psf']``)."""
    sources = list(catalogue)
    out = catalogue.copy()
    out.meta["psf"] = beam.name
    result = SidelobeResult(out)
    result.notes.extend(beam.notes)
    if not sources:
        result.notes.append(f"sidelobe test with the dirty beam {beam.name}: no detections to test")
        return result
    ny, nx = image.shape
    ix = np.clip(np.rint([s.x for s in sources]).astype(np.int64), 0, nx - 1)
    iy = np.clip(np.rint([s.y for s in sources]).astype(np.int64), 0, ny - 1)
    dirty = np.asarray(image.data[iy, ix], dtype=np.float64)
    rms = np.array([s.local_rms for s in sources], dtype=np.float64)
    rms = np.where(np.isfinite(rms) & (rms > 0), rms, image.rms)
    ids = np.array([s.source_id for s in sources], dtype=np.int64)
    lobe = beam.main_lobe(MAIN_LOBE_LEVEL)
    p, of, contradicted = _one_pass(dirty, rms, iy, ix, ids, beam, lobe, uncertainty)
    res = residual_rms(image, beam, iy, ix, dirty * (1.0 - np.nan_to_num(p, nan=1.0)))
    if res is not None:  # the local rms counts the detections' sidelobes as noise: use what is left
        res_rms = np.asarray(res[iy, ix], dtype=np.float64)
        rms = np.where(np.isfinite(res_rms) & (res_rms > 0), np.minimum(rms, res_rms), rms)
        p, of, contradicted = _one_pass(dirty, rms, iy, ix, ids, beam, lobe, uncertainty)
    result.tested = int(np.isfinite(p).sum())
    result.contradicted = contradicted
    for k, s in enumerate(sources):
        changes: dict = {"sidelobe_of": int(of[k]), "p_sidelobe": float(p[k])}
        if is_flagged(p[k]):
            result.flagged += 1
            if flag_notes and not s.note:
                changes["note"] = FLAG_NOTE
        out.update(s.source_id, **changes)
    result.notes.append(f"sidelobe test with the dirty beam {beam.name}: {result.flagged} of {result.tested} "
                        f"detections are likely sidelobes of brighter sources (p_sidelobe > {FLAG_LEVEL:g})")
    if result.contradicted >= max(3, result.tested // 2):
        result.notes.append(f"the image lies far below the predicted sidelobes at {result.contradicted} "
                            "detections: it looks deconvolved (CLEANed), or the dirty beam "
                            f"{beam.name} is not this image's; the sidelobe test does not apply to it")
    return result


def renumber_sidelobe_of(merged: Catalogue, detections: Catalogue) -> int:
    """After :func:`~.vetting.merge_detections` gave ``detections`` new ids in ``merged``, point
    their ``sidelobe_of`` at the new ids, in place: a detection kept under a new id by its
    position, one dropped for falling in a kept source's ellipse at that kept source, else -1.
    Returns the number of sources changed."""
    from .vetting import ellipse_r2, pixel_ellipses

    by_position = {(s.x, s.y): s.source_id for s in merged}
    sources = list(merged)
    ellipses = pixel_ellipses(sources)
    new_id: dict[int, int] = {}
    for s in detections:
        target = by_position.get((s.x, s.y))
        if target is None and sources:
            inside = np.nonzero(ellipse_r2(s.x, s.y, *ellipses, min_semi_axis=1.0) <= 1.0)[0]
            if inside.size:
                d = np.hypot(ellipses[0][inside] - s.x, ellipses[1][inside] - s.y)
                target = sources[int(inside[np.argmin(d)])].source_id
        new_id[s.source_id] = -1 if target is None else int(target)
    changed = 0
    for s in detections:
        mine = by_position.get((s.x, s.y))
        if mine is None or s.sidelobe_of < 0:
            continue
        target = new_id.get(s.sidelobe_of, -1)
        if merged.get(mine).sidelobe_of != target:
            merged.update(mine, sidelobe_of=target)
            changed += 1
    return changed
