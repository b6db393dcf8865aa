"""Vetting: accept / reject / edit / add / delete sources, keyboard first, every change undoable.

:class:`VettingController` turns keys, clicks and drags into
:class:`~decoras_gui.core.edits.CatalogueEdit` s (built by :mod:`decoras_gui.core.vetting`)
given to the :class:`~decoras_gui.gui.document.CatalogueDocument`, which makes each one an
undo step. It owns the vetting QActions, the edit handles on the selected source and the
Add Source tool (:mod:`.tools`). It is handed what it works with: the document, the
image canvas, the source table (for the table's order in next / previous), a function
giving the open image, and one to show status messages.

A source of several components is vetted whole: selecting its row (in the table, or with
N / P) selects all its components, and accept / reject / back to candidate / delete act on
them in one undo step.

Shortcuts: A accept, R reject, U back to candidate, N / Tab next, P / Shift+Tab
previous, T note, M add-source tool, Delete delete, Ctrl+Z undo, Ctrl+Shift+Z redo.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QInputDialog, QStyle, QWidget

from ..core.catalogue import ACCEPTED, CANDIDATE, REJECTED, Source
from ..core.components import source_groups
from ..core.edits import CatalogueEdit
from ..core.image import SkyImage
from ..core.measure import measure_ellipse
from ..core.vetting import note_edit, rule_label, sources_where, status_edit
from .actions import make_action, with_standard
from .dialogs import ThresholdDialog
from .document import CatalogueDocument
from .image_view import ImageCanvas
from .source_table import SourceTableWidget
from .style import STATUS_COLORS, add_source_icon, status_icon
from .tools import DrawTool, EditHandle

Notify = Callable[[str, int], None]


def remeasured(image: SkyImage, base: Source, x: float, y: float, maj: float, mn: float, theta: float) -> Source:
    """``base`` with everything measured inside the pixel ellipse on ``image``."""
    return base.replace(**measure_ellipse(image, x, y, maj, mn, theta))


class VettingController(QObject):
    """The vetting actions of one window (see the module docstring)."""

    def __init__(self, doc: CatalogueDocument, canvas: ImageCanvas, table: SourceTableWidget,
                 image: Callable[[], SkyImage | None], notify: Notify, parent: QWidget):
        super().__init__(parent)
        self.doc, self.canvas, self.table = doc, canvas, table
        self.image, self.notify, self.parent_widget = image, notify, parent
        self.auto_advance = False
        self.ellipses_shown = True  # no edit handles on hidden ellipses
        self.dialog = None
        self.edit = EditHandle(canvas.vb, self)
        self.draw = DrawTool(canvas.vb, self)
        self.edit.edited.connect(self.commit_ellipse)
        self.draw.drawn.connect(self.add_drawn)
        for sig in (doc.selection_changed, doc.changed, doc.reset, doc.removed, doc.filter_changed):
            sig.connect(self._sync_handle)
        self._build_actions()
        for sig in (doc.selection_changed, doc.reset, doc.added, doc.removed):
            sig.connect(self.update_actions)

    # ------------------------------------------------------------------ actions
    def _build_actions(self) -> None:
        w = self.parent_widget
        st = w.style()
        SP = QStyle.StandardPixmap

        def act(*args, **kw):
            return make_action(w, *args, **kw)

        self.act_accept = act("&Accept", lambda: self.set_status(ACCEPTED), "A", "Accept the selected sources (A)",
                              name="accept", icon=status_icon(STATUS_COLORS[ACCEPTED]))
        self.act_reject = act("&Reject", lambda: self.set_status(REJECTED), "R", "Reject the selected sources (R)",
                              name="reject", icon=status_icon(STATUS_COLORS[REJECTED]))
        self.act_unvet = act("Back to &Candidate", lambda: self.set_status(CANDIDATE), "U",
                             "Undo the decision: back to candidate (U)", name="unvet",
                             icon=status_icon(STATUS_COLORS[CANDIDATE]))
        self.act_next = act("&Next Source", self.next_source, ["N", "Tab"],
                            "Select the next source in the table and centre on it (N, Tab)", name="next",
                            icon=st.standardIcon(SP.SP_ArrowRight))
        self.act_prev = act("&Previous Source", self.previous_source, ["P", "Shift+Tab", "Shift+Backtab"],
                            "Select the previous source (P, Shift+Tab)", name="previous",
                            icon=st.standardIcon(SP.SP_ArrowLeft))
        self.act_auto = act("Auto-&Advance", self._set_auto_advance, (), "After accept / reject, go to the next "
                            "source", checkable=True, name="auto_advance", icon=st.standardIcon(SP.SP_MediaSeekForward))
        self.act_note = act("&Note…", self.edit_note, "T", "Write a note on the selected sources (T)", name="note")
        self.act_delete = act("&Delete Source", self.delete_selected, [QKeySequence.StandardKey.Delete, "Backspace"],
                              "Delete the selected sources (Delete)", name="delete",
                              icon=st.standardIcon(SP.SP_TrashIcon))
        self.act_add = act("Add &Source", self.set_add_mode, "M",
                           "Add a source: drag a box on the image, its ellipse is measured (M)", checkable=True,
                           name="add_mode", icon=add_source_icon())
        self.act_bulk_accept = act("Accept by &Threshold…", lambda: self.threshold_dialog(ACCEPTED), (),
                                   "Accept every candidate above a probability or SNR", name="bulk_accept")
        self.act_bulk_reject = act("Reject by T&hreshold…", lambda: self.threshold_dialog(REJECTED), (),
                                   "Reject every candidate below a probability or SNR", name="bulk_reject")
        stack = self.doc.undo_stack
        self.act_undo = stack.createUndoAction(w, "&Undo")
        self.act_undo.setShortcuts(with_standard([QKeySequence("Ctrl+Z")], QKeySequence.StandardKey.Undo))
        self.act_redo = stack.createRedoAction(w, "&Redo")
        self.act_redo.setShortcuts(with_standard([QKeySequence("Ctrl+Shift+Z")], QKeySequence.StandardKey.Redo))
        for a, name, icon in ((self.act_undo, "undo", SP.SP_ArrowBack), (self.act_redo, "redo", SP.SP_ArrowForward)):
            a.setObjectName(name)
            a.setIcon(st.standardIcon(icon))
            w.addAction(a)
        self.image_actions = [self.act_accept, self.act_reject, self.act_unvet, self.act_next, self.act_prev,
                              self.act_note, self.act_delete, self.act_add, self.act_bulk_accept,
                              self.act_bulk_reject]

    def update_actions(self, *_) -> None:
        has_image = self.image() is not None
        for a in self.image_actions:
            a.setEnabled(has_image)
        selected = has_image and bool(self.doc.selected_ids)
        for a in (self.act_accept, self.act_reject, self.act_unvet, self.act_note, self.act_delete):
            a.setEnabled(selected)
        has_sources = has_image and len(self.doc) > 0
        for a in (self.act_next, self.act_prev, self.act_bulk_accept, self.act_bulk_reject):
            a.setEnabled(has_sources)

    def _set_auto_advance(self, on: bool) -> None:
        self.auto_advance = bool(on)

    def set_ellipses_shown(self, on: bool) -> None:
        self.ellipses_shown = bool(on)
        self._sync_handle()

    # ------------------------------------------------------------------ status
    def _ids(self, ids) -> list[int]:
        return self.doc.selected_ids if ids is None else [int(i) for i in ids]

    def set_status(self, status: str, ids=None) -> int:
        """Set the status of ``ids`` (default: the selection); one undo step. Returns the count changed."""
        ids = self._ids(ids)
        edit = status_edit(self.doc.catalogue, ids, status)
        self.doc.apply(edit)
        cat = self.doc.catalogue
        if self.auto_advance and len(source_groups(cat.get(i) for i in ids if i in cat)) == 1:  # one row
            self.next_source()
        return len(edit.upsert)

    def count_where(self, status: str, quantity: str, op: str, value: float, only_candidates: bool = True) -> int:
        cat = self.doc.catalogue
        return sum(1 for i in sources_where(cat, quantity, op, value, only_candidates) if cat.get(i).status != status)

    def set_status_where(self, status: str, quantity: str, op: str, value: float,
                         only_candidates: bool = True) -> int:
        """Accept/reject/unvet every source with ``quantity op value`` (one undo step)."""
        cat = self.doc.catalogue
        ids = sources_where(cat, quantity, op, value, only_candidates)
        n = sum(1 for i in ids if cat.get(i).status != status)
        self.doc.apply(status_edit(cat, ids, status, rule_label(status, quantity, op, value, n)))
        self.notify(f"{n} sources set to {status}.", 6000)
        return n

    def threshold_dialog(self, status: str) -> ThresholdDialog:
        d = ThresholdDialog(self.parent_widget, status)
        d.count = self.count_where
        d.update_preview()
        d.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        d.accepted.connect(lambda: self.set_status_where(*d.choice()))
        self.dialog = d
        d.open()
        return d

    # ------------------------------------------------------------------ notes
    def set_note(self, text: str, ids=None) -> int:
        edit = note_edit(self.doc.catalogue, self._ids(ids), text)
        self.doc.apply(edit)
        return len(edit.upsert)

    def edit_note(self) -> QInputDialog | None:
        ids = self.doc.selected_ids
        if not ids:
            self.notify("Select a source to write a note on.", 4000)
            return None
        d = QInputDialog(self.parent_widget)
        d.setWindowTitle("Note")
        d.setLabelText(f"Note on source {ids[0]}" if len(ids) == 1 else f"Note on {len(ids)} sources")
        d.setTextValue(self.doc.catalogue.get(ids[0]).note)
        d.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        d.textValueSelected.connect(lambda text, ids=list(ids): self.set_note(text, ids))
        self.dialog = d
        d.open()
        return d

    # -------------------------------------------------------------- navigation
    def _go(self, step: int) -> int | None:
        """Select the next (previous) row of the table: a source's row selects all its
        components, so the next accept / reject vets the whole source in one step."""
        sel = self.doc.selected_ids
        current = sel[-1] if sel else None
        ids = self.table.neighbour_ids(sel, step)
        if not ids:
            if current is not None:
                self.notify("Last source." if step > 0 else "First source.", 3000)
            return current
        self.doc.set_selection(ids)
        self.centre_on(ids[0])
        return ids[0]

    def next_source(self) -> int | None:
        return self._go(+1)

    def previous_source(self) -> int | None:
        return self._go(-1)

    def centre_on(self, sid: int) -> None:
        """Centre the view on the source; zoom in (never out) so its ellipse and handles are usable."""
        s = self.doc.catalogue.get(sid)
        if not (math.isfinite(s.x) and math.isfinite(s.y)):
            return
        size = s.maj_img if math.isfinite(s.maj_img) and s.maj_img > 0 else 3.0
        image = self.image()
        beam = image.beam_pixels if image is not None else None
        if beam:
            size = max(size, beam[0])
        self.canvas.center_on(s.x, s.y, size=size)

    # ------------------------------------------------------------------ editing
    def _sync_handle(self, *_) -> None:
        ids = self.doc.selected_ids
        cat = self.doc.catalogue
        if (len(ids) == 1 and ids[0] in cat and self.doc.is_shown(cat.get(ids[0])) and self.image() is not None
                and self.ellipses_shown):
            self.edit.show_for(cat.get(ids[0]))
        else:
            self.edit.hide()

    def commit_ellipse(self, sid: int, x: float, y: float, maj: float, mn: float, theta: float) -> None:
        """The edit handles were let go: re-measure inside the new ellipse, one undo step."""
        image = self.image()
        if image is None or sid not in self.doc.catalogue:
            return
        old = self.doc.catalogue.get(sid)
        before = (old.x, old.y, old.maj_img, old.min_img, old.theta_img)
        if all(math.isfinite(b) and abs(a - b) < 1e-6 for a, b in zip((x, y, maj, mn, theta), before)):
            return  # a click on the handles, not a change
        new = remeasured(image, old, x, y, maj, mn, theta).replace(edited=True)
        if new != old:
            self.doc.apply(CatalogueEdit.update(self.doc.catalogue, [new], f"Edit source {sid}"))

    def set_add_mode(self, on: bool) -> None:
        self.draw.set_active(on)
        self.canvas.graphics.setCursor(Qt.CursorShape.CrossCursor if on else Qt.CursorShape.ArrowCursor)
        self.notify("Add source: drag a box on the image (M or the toolbar button to stop)." if on else "", 0)

    def add_drawn(self, x: float, y: float, maj: float, mn: float, theta: float) -> Source | None:
        image = self.image()
        if image is None:
            return None
        cat = self.doc.catalogue
        base = Source(source_id=cat.next_id(), origin="manual", status=ACCEPTED, model=str(cat.meta.get("model", "")))
        s = remeasured(image, base, x, y, maj, mn, theta)
        self.doc.apply(CatalogueEdit.add(cat, [s], f"Add source {s.source_id}"))
        self.doc.set_selection([s.source_id])
        return s

    def delete_selected(self, ids=None) -> int:
        ids = [i for i in self._ids(ids) if i in self.doc.catalogue]
        if not ids:
            return 0
        table = self.table
        after = before = ids[-1]
        while after is not None and after in ids:
            after = table.neighbour_id(after, +1)
        while before is not None and before in ids:
            before = table.neighbour_id(before, -1)
        if not table.has_row(ids[-1]):
            after = before = None
        shown = ", ".join(str(i) for i in ids[:4]) + ("…" if len(ids) > 4 else "")
        self.doc.apply(CatalogueEdit.delete(self.doc.catalogue, ids,
                                            f"Delete source{'s' if len(ids) > 1 else ''} {shown}"))
        follow = after if after is not None else before  # like a mail client: the next source
        if follow is not None and follow in self.doc.catalogue:
            self.doc.set_selection([follow])
            self.centre_on(follow)
        return len(ids)


__all__ = ["VettingController", "remeasured"]
