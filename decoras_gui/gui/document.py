"""The one place the window's catalogue changes: views listen, commands go through it.

:class:`CatalogueDocument` owns the :class:`Catalogue` shown in the window, the view
filter (statuses shown, detection-probability threshold) and the selection. The
overlay and the source table both listen to its signals and never change the
catalogue themselves, so vetting (accept / reject / edit, QUndoStack commands) only
has to call :meth:`update_source`, :meth:`add_source`, :meth:`remove_source`.

Signals:

``reset()``            the whole catalogue was replaced (new image, detections merged)
``changed(ids)``       these sources changed in place (same ids, same rows)
``added(ids)`` / ``removed(ids)``  rows appeared / disappeared
``filter_changed()``   shown statuses or the probability threshold changed
``selection_changed(ids)``  the selected source ids (a list, possibly empty)
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
from PySide6.QtCore import QObject, Signal

from ..core.catalogue import ACCEPTED, CANDIDATE, REJECTED, STATUSES, Catalogue, Source


def is_unvetted_detection(source: Source) -> bool:
    """A model detection nobody has looked at yet: replaced by the next Detect run."""
    return source.status == CANDIDATE and source.origin == "model" and not source.edited


def merge_detections(current: Catalogue, detections: Catalogue) -> Catalogue:
    """The catalogue after a new Detect run.

    Sources the user has vetted (accepted, rejected), edited or added by hand are
    kept with their ids; the unvetted model candidates of the previous run are
    replaced by the new detections. A new detection whose centre falls inside a
    kept source's FWHM ellipse (at least one pixel) is dropped, so a rejected source
    does not come back as a candidate. New detections get ids after the kept ones.
    """
    kept = [s for s in current if not is_unvetted_detection(s)]
    meta = {**current.meta, **detections.meta}
    out = Catalogue(kept, meta=meta)
    kx = np.array([s.x for s in kept], dtype=float)
    ky = np.array([s.y for s in kept], dtype=float)
    kr = np.array([max(1.0, 0.5 * s.maj_img) if math.isfinite(s.maj_img) else 1.0 for s in kept], dtype=float)
    next_id = out.next_id()
    for s in detections:
        if kept:
            d2 = (kx - s.x) ** 2 + (ky - s.y) ** 2
            if np.any(d2 <= kr**2):
                continue
        out.add(s.replace(source_id=next_id))
        next_id += 1
    return out


class CatalogueDocument(QObject):
    reset = Signal()
    changed = Signal(list)
    added = Signal(list)
    removed = Signal(list)
    filter_changed = Signal()
    selection_changed = Signal(list)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._catalogue = Catalogue()
        self._shown_statuses: set[str] = set(STATUSES)
        self._min_prob = 0.0
        self._selected: list[int] = []

    # ----------------------------------------------------------------- catalogue
    @property
    def catalogue(self) -> Catalogue:
        """The live catalogue: read it, but change it only through this document."""
        return self._catalogue

    def __len__(self) -> int:
        return len(self._catalogue)

    def set_catalogue(self, catalogue: Catalogue) -> None:
        self._catalogue = catalogue
        self._selected = [i for i in self._selected if i in catalogue]
        self.reset.emit()
        self.selection_changed.emit(list(self._selected))

    def clear(self) -> None:
        self.set_catalogue(Catalogue())

    def merge_detections(self, detections: Catalogue) -> Catalogue:
        """Replace the unvetted candidates with ``detections`` (see :func:`merge_detections`)."""
        merged = merge_detections(self._catalogue, detections)
        self.set_catalogue(merged)
        return merged

    def update_source(self, source_id: int, **changes) -> tuple[Source, Source]:
        old, new = self._catalogue.update(source_id, **changes)
        self.changed.emit([source_id])
        return old, new

    def update_many(self, changes: dict[int, dict]) -> None:
        for sid, kw in changes.items():
            self._catalogue.update(sid, **kw)
        self.changed.emit(list(changes))

    def add_source(self, source: Source, index: int | None = None) -> Source:
        """Append ``source`` (or insert it at row ``index``); ``added`` either way."""
        added = self._catalogue.add(source, index)
        self.added.emit([added.source_id])
        return added

    def add_sources(self, sources: Iterable[Source]) -> list[Source]:
        added = [self._catalogue.add(s) for s in sources]
        self.added.emit([s.source_id for s in added])
        return added

    def remove_source(self, source_id: int) -> Source:
        return self.remove_sources([source_id])[0]

    def remove_sources(self, ids: Iterable[int]) -> list[Source]:
        ids = [int(i) for i in ids]
        if any(i in self._selected for i in ids):
            self.set_selection([i for i in self._selected if i not in ids])
        removed = [self._catalogue.remove(i) for i in ids]
        self.removed.emit(ids)
        return removed

    # -------------------------------------------------------------------- filter
    @property
    def shown_statuses(self) -> set[str]:
        return set(self._shown_statuses)

    def set_status_shown(self, status: str, shown: bool) -> None:
        if status not in STATUSES:
            raise ValueError(status)
        before = set(self._shown_statuses)
        (self._shown_statuses.add if shown else self._shown_statuses.discard)(status)
        if before != self._shown_statuses:
            self.filter_changed.emit()

    @property
    def min_prob(self) -> float:
        return self._min_prob

    def set_min_prob(self, value: float) -> None:
        value = float(min(1.0, max(0.0, value)))
        if value != self._min_prob:
            self._min_prob = value
            self.filter_changed.emit()

    def is_shown(self, source: Source) -> bool:
        """Shown statuses; the probability threshold hides only unvetted candidates
        (a source the user accepted or rejected never disappears behind the slider)."""
        if source.status not in self._shown_statuses:
            return False
        if source.status == CANDIDATE and self._min_prob > 0 and math.isfinite(source.det_prob):
            return source.det_prob >= self._min_prob
        return True

    def shown_ids(self) -> list[int]:
        return [s.source_id for s in self._catalogue if self.is_shown(s)]

    # ----------------------------------------------------------------- selection
    @property
    def selected_ids(self) -> list[int]:
        return list(self._selected)

    def set_selection(self, ids: Iterable[int]) -> None:
        ids = [int(i) for i in ids if int(i) in self._catalogue]
        if ids != self._selected:
            self._selected = ids
            self.selection_changed.emit(list(ids))


__all__ = ["CatalogueDocument", "merge_detections", "is_unvetted_detection", "ACCEPTED", "REJECTED", "CANDIDATE"]
