"""The one place the window's catalogue changes: views listen, edits go through it.

:class:`CatalogueDocument` owns the :class:`Catalogue` shown in the window, its undo stack,
the view filter (statuses shown, detection-probability threshold) and the selection. The
overlay, the table and the autosave journal listen to its signals and never change the
catalogue themselves. Every vetting change is a :class:`~decoras_gui.core.edits.CatalogueEdit`
given to :meth:`CatalogueDocument.apply`: one undo step, undone by the edit's inverse.

Signals:

``reset()``            the whole catalogue was replaced (new image, detections merged)
``changed(ids)``       these sources changed in place (same ids, same rows)
``added(ids)`` / ``removed(ids)``  rows appeared / disappeared
``applied(edit)``      a CatalogueEdit was applied (done, undone or redone): the journal's feed
``filter_changed()``   shown statuses, the probability threshold or the plane shown changed
``selection_changed(ids)``  the selected source ids (a list, possibly empty)
"""

from __future__ import annotations

import gc
import math
from collections.abc import Iterable

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from ..core.catalogue import CANDIDATE, STATUSES, Catalogue, Source
from ..core.edits import CatalogueEdit
from .commands import EditCommand

#: from this many sources, the objects the views built are moved out of the cyclic collector's reach
SETTLE_SOURCES = 5000


def _settle_heap(n_sources: int) -> None:
    """After a catalogue of thousands of sources and its views were built: ``gc.freeze()``, so the
    cyclic garbage collector's full passes (a few hundred ms over millions of objects, at random
    moments: a stalled plane step) skip them. Frozen objects are still freed when no longer used
    (reference counting); only cycles among them wait."""
    if n_sources >= SETTLE_SOURCES:
        gc.freeze()


class CatalogueDocument(QObject):
    reset = Signal()
    changed = Signal(list)
    added = Signal(list)
    removed = Signal(list)
    filter_changed = Signal()
    selection_changed = Signal(list)

    applied = Signal(object)  # CatalogueEdit

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._catalogue = Catalogue()
        self._shown_statuses: set[str] = set(STATUSES)
        self._min_prob = 0.0
        self._plane: int | None = None  # a cube's plane whose sources alone are shown (None: all)
        self._selected: list[int] = []
        self.undo_stack = QUndoStack(self)

    # ----------------------------------------------------------------- catalogue
    @property
    def catalogue(self) -> Catalogue:
        """The live catalogue: read it, but change it only through this document."""
        return self._catalogue

    def __len__(self) -> int:
        return len(self._catalogue)

    def set_catalogue(self, catalogue: Catalogue, clear_history: bool = True) -> None:
        """Show another catalogue (a new image, a session opened): not an undo step."""
        if clear_history:
            self.undo_stack.clear()
        self._catalogue = catalogue
        self._selected = [i for i in self._selected if i in catalogue]
        self.reset.emit()
        self.selection_changed.emit(list(self._selected))
        _settle_heap(len(catalogue))

    def apply(self, edit: CatalogueEdit) -> bool:
        """Apply ``edit`` as one undo step (nothing happens for an empty edit)."""
        if not edit:
            return False
        self.undo_stack.push(EditCommand(edit, edit.inverse(self._catalogue), self._apply_now))
        return True

    def _apply_now(self, edit: CatalogueEdit) -> None:
        """Apply an edit to the catalogue and tell the views (the undo commands call this)."""
        cat = self._catalogue
        removed, added, changed = edit.removed_ids(cat), edit.added_ids(cat), edit.changed_ids(cat)
        if any(i in self._selected for i in removed):
            self.set_selection([i for i in self._selected if i not in removed])
        edit.apply(cat)
        if edit.whole:
            self._selected = [i for i in self._selected if i in cat]
            self.reset.emit()
            self.selection_changed.emit(list(self._selected))
            _settle_heap(len(cat))
        else:
            for signal, ids in ((self.removed, removed), (self.added, added), (self.changed, changed)):
                if ids:
                    signal.emit(ids)
        self.applied.emit(edit)

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

    @property
    def plane(self) -> int | None:
        """The plane of a cube whose sources alone are shown (None: every plane's)."""
        return self._plane

    def set_plane(self, plane: int | None) -> None:
        plane = None if plane is None else int(plane)
        if plane != self._plane:
            self._plane = plane
            self.filter_changed.emit()

    def is_shown(self, source: Source) -> bool:
        """Shown statuses; the probability threshold hides only unvetted candidates
        (a source the user accepted or rejected never disappears behind the slider); with a
        plane set, a cube's sources of the other planes are hidden (a 2-D image's never)."""
        if source.status not in self._shown_statuses:
            return False
        if self._plane is not None and 0 <= source.plane != self._plane:
            return False
        if source.status == CANDIDATE and self._min_prob > 0 and math.isfinite(source.det_prob):
            return source.det_prob >= self._min_prob
        return True

    def shown_mask(self, status: np.ndarray, det_prob: np.ndarray, plane: np.ndarray) -> np.ndarray:
        """:meth:`is_shown` for whole arrays of statuses, detection probabilities and planes."""
        mask = np.isin(status, list(self._shown_statuses))
        if self._min_prob > 0:
            mask &= ~((status == CANDIDATE) & np.isfinite(det_prob) & (det_prob < self._min_prob))
        if self._plane is not None:
            mask &= (plane < 0) | (plane == self._plane)
        return mask

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


__all__ = ["CatalogueDocument"]
