"""Vetting logic without Qt: which sources a click or a rule picks, and the edits decisions make.

The window's vetting controller turns keys and clicks into calls here and pushes the
:class:`~.edits.CatalogueEdit` it gets back onto its undo stack; ``decoras`` commands and
tests use the same functions directly.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Iterable, Sequence

import numpy as np

from .catalogue import ACCEPTED, CANDIDATE, REJECTED, Catalogue, Source
from .edits import CatalogueEdit

__all__ = ["QUANTITIES", "OPS", "VERBS", "is_unvetted_detection", "merge_detections", "ellipse_r2",
           "pixel_ellipses", "sources_where", "status_edit", "note_edit", "describe"]

#: quantities a threshold rule can test, with their labels
QUANTITIES = {"det_prob": "Detection probability", "snr": "SNR"}
OPS = {">=": operator.ge, "<": operator.lt}
OP_SYMBOLS = {">=": "≥", "<": "<"}
VERBS = {ACCEPTED: "Accept", REJECTED: "Reject", CANDIDATE: "Unvet"}
SHORT = {"det_prob": "P", "snr": "SNR"}
DEFAULT_AXIS_PIX = 3.0  # the pixel ellipse of a source that has none (an imported point)


def describe(ids: Sequence[int]) -> str:
    """'source 7' or '12 sources': the object of an undo label."""
    return f"source {ids[0]}" if len(ids) == 1 else f"{len(ids)} sources"


def is_unvetted_detection(source: Source) -> bool:
    """A model detection nobody has looked at yet: replaced by the next Detect run."""
    return source.status == CANDIDATE and source.origin == "model" and not source.edited


def pixel_ellipses(sources: Iterable[Source]) -> tuple[np.ndarray, ...]:
    """(x, y, maj, min, theta) arrays of the sources' pixel ellipses (FWHM, degrees from +x);
    missing axes get :data:`DEFAULT_AXIS_PIX`, a missing angle 0."""
    rows = [(s.x, s.y, s.maj_img, s.min_img, s.theta_img) for s in sources]
    a = np.array(rows, dtype=float).reshape(-1, 5)
    x, y, maj, mn, th = a.T
    maj = np.where(np.isfinite(maj) & (maj > 0), maj, DEFAULT_AXIS_PIX)
    mn = np.where(np.isfinite(mn) & (mn > 0), mn, DEFAULT_AXIS_PIX)
    th = np.where(np.isfinite(th), th, 0.0)
    return x, y, maj, mn, th


def ellipse_r2(px: float, py: float, x: np.ndarray, y: np.ndarray, maj: np.ndarray, mn: np.ndarray,
               theta_deg: np.ndarray, min_semi_axis: float = 0.0) -> np.ndarray:
    """Squared elliptical radius of the point (px, py) in each ellipse (centre x, y; FWHM axes
    maj, mn; angle theta from +x): <= 1 inside. Semi-axes are at least ``min_semi_axis``."""
    dx, dy = px - np.asarray(x, float), py - np.asarray(y, float)
    t = np.radians(theta_deg)
    u = dx * np.cos(t) + dy * np.sin(t)
    v = -dx * np.sin(t) + dy * np.cos(t)
    a = np.maximum(0.5 * np.asarray(maj, float), min_semi_axis)
    b = np.maximum(0.5 * np.asarray(mn, float), min_semi_axis)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (u / a) ** 2 + (v / b) ** 2


def merge_detections(current: Catalogue, detections: Catalogue) -> Catalogue:
    """The catalogue after a new Detect run.

    Sources the user has vetted (accepted, rejected), edited or added by hand are kept with
    their ids; the unvetted model candidates of the previous run are replaced by the new
    detections. A new detection whose centre falls inside a kept source's FWHM ellipse
    (semi-axes at least one pixel) is dropped, so a rejected source does not come back as a
    candidate. New detections get ids after the kept ones. On a cube, only the planes the new
    detections are on are replaced: the other planes' sources stay as they are.
    """
    planes = {s.plane for s in detections} or {-1}

    def here(s: Source) -> bool:  # on the planes detected now (a 2-D image: plane -1 everywhere)
        return s.plane in planes or s.plane < 0 or planes == {-1}

    kept = [s for s in current if not (is_unvetted_detection(s) and here(s))]
    out = Catalogue(kept, meta={**current.meta, **detections.meta})
    near = [s for s in kept if here(s)]
    ellipses = pixel_ellipses(near)
    next_id = out.next_id()
    for s in detections:
        if near and np.any(ellipse_r2(s.x, s.y, *ellipses, min_semi_axis=1.0) <= 1.0):
            continue
        out.add(s.replace(source_id=next_id))
        next_id += 1
    return out


def sources_where(cat: Catalogue, quantity: str, op: str, value: float, only_candidates: bool = True) -> list[int]:
    """Ids of the sources with ``quantity op value`` (``op`` '>=' or '<'); NaN never matches."""
    test = OPS[op]
    out = []
    for s in cat:
        v = getattr(s, quantity)
        if math.isfinite(v) and not (only_candidates and s.status != CANDIDATE) and test(v, value):
            out.append(s.source_id)
    return out


def status_edit(cat: Catalogue, ids: Iterable[int], status: str, label: str | None = None) -> CatalogueEdit:
    """The edit giving ``status`` to every listed source that has another (empty if none)."""
    old = [cat.get(int(i)) for i in ids if int(i) in cat and cat.get(int(i)).status != status]
    if not old:
        return CatalogueEdit(label or "")
    text = label or f"{VERBS[status]} {describe([s.source_id for s in old])}"
    return CatalogueEdit.update(cat, [s.replace(status=status) for s in old], text)


def rule_label(status: str, quantity: str, op: str, value: float, count: int) -> str:
    return f"{VERBS[status]} {count} sources with {SHORT[quantity]} {OP_SYMBOLS[op]} {value:g}"


def note_edit(cat: Catalogue, ids: Iterable[int], text: str) -> CatalogueEdit:
    """The edit writing ``text`` as the note of every listed source whose note differs."""
    old = [cat.get(int(i)) for i in ids if int(i) in cat and cat.get(int(i)).note != text]
    if not old:
        return CatalogueEdit()
    return CatalogueEdit.update(cat, [s.replace(note=text) for s in old],
                                f"Note on {describe([s.source_id for s in old])}")
