"""Vetting: accept / reject / edit / add / delete sources, all undoable, plus import/export.

:class:`VettingController` belongs to the main window. It owns the QUndoStack and the
vetting QActions (keyboard first), the edit handles on the selected source
(:class:`EditHandle`, a pyqtgraph EllipseROI: drag the body to move, the left/top
handles to resize one axis, the corner handle to scale, the round handle to rotate;
the source is re-measured on the image when the drag ends), the Add Source tool
(:class:`DrawTool`: drag a box, the ellipse inscribed in it becomes a manual source),
the reference layer (regions of another program drawn dashed), and the exports.

Shortcuts: A accept, R reject, U back to candidate, N / Tab next, P / Shift+Tab
previous, T note, M add-source tool, Delete delete, Ctrl+Z undo, Ctrl+Shift+Z redo.
Every change is a command in :mod:`.commands`, applied through the CatalogueDocument.
"""

from __future__ import annotations

import math
import operator
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QAction, QColor, QKeySequence, QUndoStack
from PySide6.QtWidgets import (
    QCheckBox,
    QColorDialog,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGraphicsEllipseItem,
    QGraphicsPathItem,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QToolButton,
    QWidget,
)

from ..core.catalogue import ACCEPTED, CANDIDATE, REJECTED, STATUSES, Catalogue, Source
from ..core.errors import DecorasError
from ..core.fileio import atomic_path
from ..core.measure import measure_ellipse
from ..core.regions_io import (
    STATUS_COLORS,
    read_regions,
    regions_to_sources,
    write_regions,
)
from .commands import (
    AddSourceCommand,
    AddSourcesCommand,
    RemoveSourcesCommand,
    UpdateSourcesCommand,
)
from .overlays import SELECTED_COLOR, ellipse_path

REFERENCE_COLOR = "#CC79A7"  # Okabe-Ito reddish purple: distinct from the status colours
HANDLE_COLOR = "#ffffff"
DRAW_COLOR = "#F0E442"  # Okabe-Ito yellow: the ellipse being drawn
QUANTITIES = {"det_prob": "Detection probability", "snr": "SNR"}
OPS = {">=": operator.ge, "<": operator.lt}
CATALOGUE_FORMATS = {"ecsv": ("ECSV (*.ecsv)", ".ecsv"), "csv": ("CSV (*.csv)", ".csv"),
                     "fits": ("FITS table (*.fits)", ".fits"), "votable": ("VOTable (*.vot *.xml)", ".vot")}


def _add_icon():
    """A dashed yellow ellipse with a plus: the Add Source tool."""
    from PySide6.QtGui import QIcon, QPainter, QPixmap

    pix = QPixmap(16, 16)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(pg.mkPen(DRAW_COLOR, width=1.6))
    p.drawEllipse(1, 4, 11, 8)
    p.setPen(pg.mkPen("#ffffff", width=1.8))
    p.drawLine(12, 1, 12, 7)
    p.drawLine(9, 4, 15, 4)
    p.end()
    return QIcon(pix)


def _unique(first: list, standard) -> list:
    out = list(first)
    for k in QKeySequence.keyBindings(standard):
        if k not in out:
            out.append(k)
    return out


# ------------------------------------------------------------------ edit handles

class EditHandle(QObject):
    """An EllipseROI on the one selected source; a finished drag commits the new ellipse."""

    edited = Signal(int, float, float, float, float, float)  # id, x, y, maj_img, min_img, theta_img

    def __init__(self, view_box: pg.ViewBox, parent: QObject | None = None):
        super().__init__(parent)
        self.vb = view_box
        self.source_id: int | None = None
        self._syncing = False
        pen = pg.mkPen(SELECTED_COLOR, width=2, style=Qt.PenStyle.DashLine)
        self.roi = pg.EllipseROI([0, 0], [1, 1], pen=pen, hoverPen=pg.mkPen("#ffffff", width=2),
                                 handlePen=pg.mkPen(HANDLE_COLOR, width=1.5),
                                 handleHoverPen=pg.mkPen(DRAW_COLOR, width=2), movable=True,
                                 rotatable=True, resizable=True)
        # EllipseROI has a rotate (right end) and a scale (corner) handle; add one per axis
        self.roi.addScaleHandle([0.0, 0.5], [1.0, 0.5])
        self.roi.addScaleHandle([0.5, 1.0], [0.5, 0.0])
        self.roi.setZValue(40)
        self.roi.setVisible(False)
        self.roi.setToolTip("Drag to move; side handles resize one axis, the corner handle scales, "
                            "the round handle rotates. The source is re-measured when you let go.")
        self.vb.addItem(self.roi, ignoreBounds=True)
        self.roi.sigRegionChangeFinished.connect(self._finished)

    def show_for(self, source: Source | None) -> None:
        ok = source is not None and all(math.isfinite(v) for v in (source.x, source.y))
        if not ok:
            self.source_id = None
            self.roi.setVisible(False)
            return
        maj = source.maj_img if math.isfinite(source.maj_img) and source.maj_img > 0 else 3.0
        mn = source.min_img if math.isfinite(source.min_img) and source.min_img > 0 else 3.0
        theta = source.theta_img if math.isfinite(source.theta_img) else 0.0
        t = math.radians(theta)
        px = source.x - (0.5 * maj * math.cos(t) - 0.5 * mn * math.sin(t))
        py = source.y - (0.5 * maj * math.sin(t) + 0.5 * mn * math.cos(t))
        self._syncing = True
        try:
            self.roi.setPos(QPointF(px, py), update=False, finish=False)
            self.roi.setSize(pg.Point(maj, mn), update=False, finish=False)
            self.roi.setAngle(theta, update=False, finish=False)
            self.roi.stateChanged(finish=False)
        finally:
            self._syncing = False
        self.source_id = source.source_id
        self.roi.setVisible(True)

    def hide(self) -> None:
        self.source_id = None
        self.roi.setVisible(False)

    def ellipse(self) -> tuple[float, float, float, float, float]:
        """(x, y, maj_img, min_img, theta_img) of the ROI now."""
        size = self.roi.size()
        w, h = float(size[0]), float(size[1])
        centre = self.roi.mapToParent(QPointF(0.5 * w, 0.5 * h))
        return float(centre.x()), float(centre.y()), abs(w), abs(h), float(self.roi.angle())

    def _finished(self, *_) -> None:
        if self._syncing or self.source_id is None or not self.roi.isVisible():
            return
        self.edited.emit(self.source_id, *self.ellipse())


class DrawTool(QObject):
    """Add Source tool: a left-button drag on the image draws an ellipse (inscribed in the box)."""

    drawn = Signal(float, float, float, float, float)  # x, y, maj_img, min_img, theta_img

    def __init__(self, view_box, parent: QObject | None = None):
        super().__init__(parent)
        self.vb = view_box
        self.active = False
        self.rubber = QGraphicsEllipseItem()
        self.rubber.setPen(pg.mkPen(DRAW_COLOR, width=2, style=Qt.PenStyle.DashLine))
        self.rubber.setZValue(45)
        self.rubber.setVisible(False)
        self.vb.addItem(self.rubber, ignoreBounds=True)
        self._start: QPointF | None = None

    def set_active(self, on: bool) -> None:
        self.active = bool(on)
        self.vb.drag_handler = self.handle if on else None
        self.rubber.setVisible(False)

    def handle(self, ev) -> bool:
        if not self.active:
            return False
        p = self.vb.mapSceneToView(ev.scenePos())
        if ev.isStart():
            self._start = self.vb.mapSceneToView(ev.buttonDownScenePos())
        if self._start is None:
            return True
        rect = QRectF(self._start, p).normalized()
        self.rubber.setRect(rect)
        self.rubber.setVisible(True)
        if ev.isFinish():
            self.rubber.setVisible(False)
            self._start = None
            w, h = rect.width(), rect.height()
            if max(w, h) >= 1.0:
                c = rect.center()
                if w >= h:
                    self.drawn.emit(c.x(), c.y(), w, max(h, 0.5), 0.0)
                else:
                    self.drawn.emit(c.x(), c.y(), h, max(w, 0.5), 90.0)
        return True


class ReferenceLayer(QObject):
    """Read-only regions of another run (PyBDSF, Aegean…): dashed ellipses, own colour."""

    def __init__(self, view_box, parent: QObject | None = None):
        super().__init__(parent)
        self.item = QGraphicsPathItem()
        pen = pg.mkPen(REFERENCE_COLOR, width=1.5, style=Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        self.item.setPen(pen)
        self.item.setZValue(9)
        view_box.addItem(self.item, ignoreBounds=True)
        self.sources: list[Source] = []
        self.path: Path | None = None

    def set_sources(self, sources: list[Source], path: Path | None = None) -> None:
        self.sources = [s for s in sources if math.isfinite(s.x) and math.isfinite(s.y)]
        self.path = path
        x = np.array([s.x for s in self.sources], dtype=float)
        y = np.array([s.y for s in self.sources], dtype=float)
        maj = np.array([s.maj_img if math.isfinite(s.maj_img) else 3.0 for s in self.sources], dtype=float)
        mn = np.array([s.min_img if math.isfinite(s.min_img) else 3.0 for s in self.sources], dtype=float)
        th = np.array([s.theta_img if math.isfinite(s.theta_img) else 0.0 for s in self.sources], dtype=float)
        self.item.setPath(ellipse_path(x, y, maj, mn, th))

    def clear(self) -> None:
        self.set_sources([])

    def set_visible(self, on: bool) -> None:
        self.item.setVisible(bool(on))

    def __len__(self) -> int:
        return len(self.sources)


# ------------------------------------------------------------------------ dialogs

class ThresholdDialog(QDialog):
    """Set the status of every source above/below a probability or SNR."""

    def __init__(self, parent=None, status: str = ACCEPTED):
        super().__init__(parent)
        self.setWindowTitle("Set status by threshold")
        form = QFormLayout(self)
        self.status = QComboBox(self)
        for s, label in ((ACCEPTED, "Accept"), (REJECTED, "Reject"), (CANDIDATE, "Back to candidate")):
            self.status.addItem(label, s)
        self.status.setCurrentIndex(self.status.findData(status))
        self.quantity = QComboBox(self)
        for k, label in QUANTITIES.items():
            self.quantity.addItem(label, k)
        self.op = QComboBox(self)
        self.op.addItem("at or above (≥)", ">=")
        self.op.addItem("below (<)", "<")
        if status == REJECTED:
            self.op.setCurrentIndex(1)
        self.value = QDoubleSpinBox(self)
        self.value.setDecimals(3)
        self.value.setRange(-1e6, 1e6)
        self.value.setValue(0.9 if status == ACCEPTED else 0.5)
        self.only_candidates = QCheckBox("Only sources still candidates (keep earlier decisions)", self)
        self.only_candidates.setChecked(True)
        form.addRow("Set status", self.status)
        form.addRow("of sources whose", self.quantity)
        form.addRow("is", self.op)
        form.addRow("value", self.value)
        form.addRow(self.only_candidates)
        self.preview = QLabel(self)
        form.addRow(self.preview)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.count = None  # set by the controller: choice -> number of sources it changes
        for sig in (self.status.currentIndexChanged, self.quantity.currentIndexChanged, self.op.currentIndexChanged,
                    self.value.valueChanged, self.only_candidates.toggled):
            sig.connect(self.update_preview)

    def update_preview(self, *_) -> None:
        if self.count is not None:
            n = self.count(*self.choice())
            self.preview.setText(f"{n} source{'s' if n != 1 else ''} will change (one undo step).")

    def choice(self) -> tuple[str, str, str, float, bool]:
        return (self.status.currentData(), self.quantity.currentData(), self.op.currentData(),
                float(self.value.value()), self.only_candidates.isChecked())


class _PathRow(QWidget):
    def __init__(self, parent, caption: str, filter_: str, start: str):
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.edit = QLineEdit(start, self)
        self.edit.setMinimumWidth(320)
        b = QPushButton("Browse…", self)
        lay.addWidget(self.edit, 1)
        lay.addWidget(b)
        self.caption, self.filter = caption, filter_
        b.clicked.connect(self._browse)

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, self.caption, self.edit.text(), self.filter)
        if path:
            self.edit.setText(path)

    def path(self) -> str:
        return self.edit.text().strip()


class ExportDialog(QDialog):
    """Options of one export: DS9 regions, a catalogue file, or a PNG of the view."""

    def __init__(self, kind: str, start_path: str, parent=None):
        super().__init__(parent)
        self.kind = kind
        titles = {"regions": "Export DS9 regions", "catalogue": "Export catalogue", "png": "Export view as PNG"}
        self.setWindowTitle(titles[kind])
        form = QFormLayout(self)
        filters = {"regions": "DS9 regions (*.reg)", "png": "PNG image (*.png)",
                   "catalogue": ";;".join(f for f, _ in CATALOGUE_FORMATS.values())}
        self.path_row = _PathRow(self, titles[kind], filters[kind], start_path)
        form.addRow("File", self.path_row)
        self.status_checks: dict[str, QCheckBox] = {}
        self.colors = dict(STATUS_COLORS)
        if kind in ("regions", "catalogue"):
            box = QWidget(self)
            lay = QHBoxLayout(box)
            lay.setContentsMargins(0, 0, 0, 0)
            for s in STATUSES:
                c = QCheckBox(s, box)
                c.setChecked(s != REJECTED)
                lay.addWidget(c)
                if kind == "regions":
                    b = QToolButton(box)
                    b.setToolTip(f"Colour of {s} ellipses")
                    b.setStyleSheet(f"background: {self.colors[s]}; min-width: 16px;")
                    b.clicked.connect(lambda _=False, s=s, b=b: self._pick_color(s, b))
                    lay.addWidget(b)
                self.status_checks[s] = c
            lay.addStretch(1)
            form.addRow("Statuses", box)
        if kind == "regions":
            self.frame = QComboBox(self)
            for f, label in (("fk5", "FK5 (J2000)"), ("icrs", "ICRS"), ("image", "Image pixels")):
                self.frame.addItem(label, f)
            self.labels = QCheckBox("Source ids as text labels", self)
            self.labels.setChecked(True)
            form.addRow("Coordinates", self.frame)
            form.addRow("", self.labels)
        if kind == "catalogue":
            self.format = QComboBox(self)
            for k, (label, _) in CATALOGUE_FORMATS.items():
                self.format.addItem(label.split(" (")[0], k)
            self.format.currentIndexChanged.connect(self._format_changed)
            form.addRow("Format", self.format)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Export")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _pick_color(self, status: str, button: QToolButton) -> None:
        c = QColorDialog.getColor(QColor(self.colors[status]), self, f"Colour of {status} sources")
        if c.isValid():
            self.colors[status] = c.name()
            button.setStyleSheet(f"background: {c.name()}; min-width: 16px;")

    def _format_changed(self) -> None:
        ext = CATALOGUE_FORMATS[self.format.currentData()][1]
        p = Path(self.path_row.path() or "catalogue")
        self.path_row.edit.setText(str(p.with_suffix(ext)))

    def statuses(self) -> list[str]:
        return [s for s, c in self.status_checks.items() if c.isChecked()]


# --------------------------------------------------------------------- controller

class VettingController(QObject):
    """The vetting actions of one main window (see the module docstring)."""

    exported = Signal(str)  # path written

    def __init__(self, window):
        super().__init__(window)
        self.w = window
        self.doc = window.doc
        self.stack = QUndoStack(self)
        self.auto_advance = False
        self.current_label = ""  # the command being applied (for the journal)
        self.edit = EditHandle(window.canvas.vb, self)
        self.draw = DrawTool(window.canvas.vb, self)
        self.reference = ReferenceLayer(window.canvas.vb, self)
        self.edit.edited.connect(self.commit_ellipse)
        self.draw.drawn.connect(self.add_drawn)
        self.doc.selection_changed.connect(self._sync_handle)
        self.doc.changed.connect(self._sync_handle)
        self.doc.reset.connect(self._sync_handle)
        self.doc.removed.connect(self._sync_handle)
        self.doc.filter_changed.connect(self._sync_handle)
        self.dialog = None
        self._build_actions()
        for sig in (self.doc.selection_changed, self.doc.reset, self.doc.added, self.doc.removed):
            sig.connect(self.update_actions)
        window.act_overlay.toggled.connect(self._sync_handle)  # no handles on hidden ellipses

    # ------------------------------------------------------------------ actions
    def _act(self, text, slot, shortcuts=(), tip="", checkable=False, name="") -> QAction:
        a = QAction(text, self.w)
        if shortcuts:
            a.setShortcuts([QKeySequence(s) for s in shortcuts])
        if tip:
            a.setToolTip(tip)
            a.setStatusTip(tip)
        a.setCheckable(checkable)
        if name:
            a.setObjectName(name)
        if checkable:
            a.toggled.connect(slot)
        else:
            a.triggered.connect(lambda _checked=False: slot())  # never pass `checked` on
        self.w.addAction(a)  # shortcuts work whatever has the focus in the window
        return a

    def _build_actions(self) -> None:
        from .main_window import status_icon

        self.act_accept = self._act("&Accept", lambda: self.set_status(ACCEPTED), ["A"],
                                    "Accept the selected sources (A)", name="accept")
        self.act_reject = self._act("&Reject", lambda: self.set_status(REJECTED), ["R"],
                                    "Reject the selected sources (R)", name="reject")
        self.act_unvet = self._act("Back to &Candidate", lambda: self.set_status(CANDIDATE), ["U"],
                                   "Undo the decision: back to candidate (U)", name="unvet")
        for a, s in ((self.act_accept, ACCEPTED), (self.act_reject, REJECTED), (self.act_unvet, CANDIDATE)):
            a.setIcon(status_icon(STATUS_COLORS[s]))
        self.act_next = self._act("&Next Source", self.next_source, ["N", "Tab"],
                                  "Select the next source in the table and centre on it (N, Tab)", name="next")
        self.act_prev = self._act("&Previous Source", self.previous_source, ["P", "Shift+Tab", "Shift+Backtab"],
                                  "Select the previous source (P, Shift+Tab)", name="previous")
        self.act_auto = self._act("Auto-&Advance", self._set_auto_advance, [],
                                  "After accept / reject, go to the next source", checkable=True, name="auto_advance")
        self.act_note = self._act("&Note…", self.edit_note, ["T"], "Write a note on the selected sources (T)",
                                  name="note")
        self.act_delete = self._act("&Delete Source", self.delete_selected, [QKeySequence.StandardKey.Delete, "Backspace"],
                                    "Delete the selected sources (Delete)", name="delete")
        self.act_add = self._act("Add &Source", self.set_add_mode, ["M"],
                                 "Add a source: drag a box on the image, its ellipse is measured (M)",
                                 checkable=True, name="add_mode")
        self.act_bulk_accept = self._act("Accept by &Threshold…", lambda: self.threshold_dialog(ACCEPTED), [],
                                         "Accept every candidate above a probability or SNR", name="bulk_accept")
        self.act_bulk_reject = self._act("Reject by T&hreshold…", lambda: self.threshold_dialog(REJECTED), [],
                                         "Reject every candidate below a probability or SNR", name="bulk_reject")
        self.act_undo = self.stack.createUndoAction(self.w, "&Undo")
        self.act_undo.setShortcuts(_unique([QKeySequence("Ctrl+Z")], QKeySequence.StandardKey.Undo))
        self.act_redo = self.stack.createRedoAction(self.w, "&Redo")
        self.act_redo.setShortcuts(_unique([QKeySequence("Ctrl+Shift+Z")], QKeySequence.StandardKey.Redo))
        self.act_undo.setObjectName("undo")
        self.act_redo.setObjectName("redo")
        self.act_undo.setIcon(self.w.style().standardIcon(self.w.style().StandardPixmap.SP_ArrowBack))
        self.act_redo.setIcon(self.w.style().standardIcon(self.w.style().StandardPixmap.SP_ArrowForward))
        for a in (self.act_undo, self.act_redo):
            self.w.addAction(a)
        self.act_reference = self._act("Reference &Layer", self.reference.set_visible, [],
                                       "Show the imported reference regions (dashed)", checkable=True,
                                       name="reference")
        self.act_reference.setChecked(True)
        self.act_reference.setEnabled(False)
        self.act_export_regions = self._act("DS9 &Regions…", lambda: self.export_dialog("regions"), [],
                                            "Export the sources as a DS9 region file", name="export_regions")
        self.act_export_catalogue = self._act("&Catalogue…", lambda: self.export_dialog("catalogue"), [],
                                              "Export the catalogue (ECSV, CSV, FITS, VOTable)",
                                              name="export_catalogue")
        self.act_export_png = self._act("&PNG of the View…", lambda: self.export_dialog("png"), [],
                                        "Save the view with its ellipses as a PNG", name="export_png")
        self.act_import_sources = self._act("Regions as &Sources…", lambda: self.import_dialog(False), [],
                                            "Import a DS9 region file as candidate sources to vet",
                                            name="import_sources")
        self.act_import_reference = self._act("Regions as &Reference Layer…", lambda: self.import_dialog(True), [],
                                              "Show a DS9 region file (e.g. PyBDSF, Aegean) as a read-only layer",
                                              name="import_reference")
        st = self.w.style()
        SP = st.StandardPixmap
        self.act_next.setIcon(st.standardIcon(SP.SP_ArrowRight))
        self.act_prev.setIcon(st.standardIcon(SP.SP_ArrowLeft))
        self.act_delete.setIcon(st.standardIcon(SP.SP_TrashIcon))
        self.act_add.setIcon(_add_icon())
        self.act_auto.setIcon(st.standardIcon(SP.SP_MediaSeekForward))
        self.vetting_actions = [self.act_accept, self.act_reject, self.act_unvet, self.act_next, self.act_prev,
                                self.act_note, self.act_delete, self.act_add, self.act_bulk_accept,
                                self.act_bulk_reject, self.act_export_regions, self.act_export_catalogue,
                                self.act_export_png, self.act_import_sources, self.act_import_reference]

    def update_actions(self, *_) -> None:
        has_image = self.w.image is not None
        for a in self.vetting_actions:
            a.setEnabled(has_image)
        selected = has_image and bool(self.doc.selected_ids)
        for a in (self.act_accept, self.act_reject, self.act_unvet, self.act_note, self.act_delete):
            a.setEnabled(selected)
        has_sources = has_image and len(self.doc) > 0
        for a in (self.act_next, self.act_prev, self.act_bulk_accept, self.act_bulk_reject):
            a.setEnabled(has_sources)
        self.act_reference.setEnabled(len(self.reference) > 0)

    def _set_auto_advance(self, on: bool) -> None:
        self.auto_advance = bool(on)

    def push(self, command) -> None:
        self.current_label = command.text()
        try:
            self.stack.push(command)
        finally:
            self.current_label = ""

    def clear_history(self) -> None:
        self.stack.clear()

    # ------------------------------------------------------------------ status
    def set_status(self, status: str, ids=None) -> int:
        """Set the status of ``ids`` (default: the selection); one undo step. Returns the count changed."""
        ids = self.doc.selected_ids if ids is None else [int(i) for i in ids]
        cat = self.doc.catalogue
        old = [cat.get(i) for i in ids if i in cat and cat.get(i).status != status]
        if old:
            new = [s.replace(status=status) for s in old]
            verb = {ACCEPTED: "Accept", REJECTED: "Reject", CANDIDATE: "Unvet"}[status]
            what = f"source {old[0].source_id}" if len(old) == 1 else f"{len(old)} sources"
            self.push(UpdateSourcesCommand(self.doc, old, new, f"{verb} {what}"))
        if self.auto_advance and len(ids) == 1:
            self.next_source()
        return len(old)

    def sources_where(self, quantity: str, op: str, value: float, only_candidates: bool = True) -> list[int]:
        f = OPS[op]
        out = []
        for s in self.doc.catalogue:
            v = getattr(s, quantity)
            if not math.isfinite(v) or (only_candidates and s.status != CANDIDATE):
                continue
            if f(v, value):
                out.append(s.source_id)
        return out

    def count_where(self, status: str, quantity: str, op: str, value: float, only_candidates: bool = True) -> int:
        cat = self.doc.catalogue
        return sum(1 for i in self.sources_where(quantity, op, value, only_candidates) if cat.get(i).status != status)

    def set_status_where(self, status: str, quantity: str, op: str, value: float,
                         only_candidates: bool = True) -> int:
        """Accept/reject/unvet every source with ``quantity op value`` (one undo step)."""
        ids = self.sources_where(quantity, op, value, only_candidates)
        cat = self.doc.catalogue
        old = [cat.get(i) for i in ids if cat.get(i).status != status]
        if old:
            verb = {ACCEPTED: "Accept", REJECTED: "Reject", CANDIDATE: "Unvet"}[status]
            label = {"det_prob": "P", "snr": "SNR"}[quantity]
            sym = "≥" if op == ">=" else "<"
            self.push(UpdateSourcesCommand(self.doc, old, [s.replace(status=status) for s in old],
                                           f"{verb} {len(old)} sources with {label} {sym} {value:g}"))
        self.w.statusBar().showMessage(f"{len(old)} sources set to {status}.", 6000)
        return len(old)

    def threshold_dialog(self, status: str) -> ThresholdDialog:
        d = ThresholdDialog(self.w, status)
        d.count = self.count_where
        d.update_preview()
        d.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        d.accepted.connect(lambda: self.set_status_where(*d.choice()))
        self.dialog = d
        d.open()
        return d

    # ------------------------------------------------------------------ notes
    def set_note(self, text: str, ids=None) -> int:
        ids = self.doc.selected_ids if ids is None else [int(i) for i in ids]
        cat = self.doc.catalogue
        old = [cat.get(i) for i in ids if i in cat and cat.get(i).note != text]
        if old:
            what = f"source {old[0].source_id}" if len(old) == 1 else f"{len(old)} sources"
            self.push(UpdateSourcesCommand(self.doc, old, [s.replace(note=text) for s in old], f"Note on {what}"))
        return len(old)

    def edit_note(self) -> QInputDialog | None:
        ids = self.doc.selected_ids
        if not ids:
            self.w.statusBar().showMessage("Select a source to write a note on.", 4000)
            return None
        d = QInputDialog(self.w)
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
        sel = self.doc.selected_ids
        current = sel[-1] if sel else None
        sid = self.w.table.neighbour_id(current, step)
        if sid is None:
            if current is not None:
                self.w.statusBar().showMessage("Last source." if step > 0 else "First source.", 3000)
            return current
        self.doc.set_selection([sid])
        self.centre_on(sid)
        return sid

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
        beam = self.w.image.beam_pixels if self.w.image is not None else None
        if beam:
            size = max(size, beam[0])
        self.w.canvas.center_on(s.x, s.y, size=size)

    # ------------------------------------------------------------------ editing
    def _sync_handle(self, *_) -> None:
        ids = self.doc.selected_ids
        cat = self.doc.catalogue
        if (len(ids) == 1 and ids[0] in cat and self.doc.is_shown(cat.get(ids[0])) and self.w.image is not None
                and self.w.act_overlay.isChecked()):
            self.edit.show_for(cat.get(ids[0]))
        else:
            self.edit.hide()

    def measured(self, base: Source, x, y, maj, mn, theta) -> Source:
        values = measure_ellipse(self.w.image, x, y, maj, mn, theta)
        return base.replace(**values)

    def commit_ellipse(self, sid: int, x: float, y: float, maj: float, mn: float, theta: float) -> None:
        """The edit handles were let go: re-measure inside the new ellipse, one undo step."""
        if self.w.image is None or sid not in self.doc.catalogue:
            return
        old = self.doc.catalogue.get(sid)
        before = (old.x, old.y, old.maj_img, old.min_img, old.theta_img)
        if all(math.isfinite(b) and abs(a - b) < 1e-6 for a, b in zip((x, y, maj, mn, theta), before)):
            return  # a click on the handles, not a change
        new = self.measured(old, x, y, maj, mn, theta).replace(edited=True)
        if new == old:
            return
        self.push(UpdateSourcesCommand(self.doc, [old], [new], f"Edit source {sid}"))

    def set_add_mode(self, on: bool) -> None:
        self.draw.set_active(on)
        self.w.canvas.graphics.setCursor(Qt.CursorShape.CrossCursor if on else Qt.CursorShape.ArrowCursor)
        if on:
            self.w.statusBar().showMessage("Add source: drag a box on the image (M or the toolbar button to stop).")
        else:
            self.w.statusBar().clearMessage()

    def add_drawn(self, x: float, y: float, maj: float, mn: float, theta: float) -> Source | None:
        if self.w.image is None:
            return None
        meta = self.doc.catalogue.meta
        base = Source(source_id=self.doc.catalogue.next_id(), origin="manual", status=ACCEPTED,
                      model=str(meta.get("model", "")))
        s = self.measured(base, x, y, maj, mn, theta)
        self.push(AddSourceCommand(self.doc, s))
        self.doc.set_selection([s.source_id])
        return s

    def delete_selected(self, ids=None) -> int:
        ids = self.doc.selected_ids if ids is None else [int(i) for i in ids]
        ids = [i for i in ids if i in self.doc.catalogue]
        if not ids:
            return 0
        table = self.w.table
        after = before = ids[-1]
        while after is not None and after in ids:
            after = table.neighbour_id(after, +1)
        while before is not None and before in ids:
            before = table.neighbour_id(before, -1)
        if not table.has_row(ids[-1]):
            after = before = None
        self.push(RemoveSourcesCommand(self.doc, ids))
        follow = after if after is not None else before  # like a mail client: the next source
        if follow is not None and follow in self.doc.catalogue:
            self.doc.set_selection([follow])
            self.centre_on(follow)
        return len(ids)

    # ------------------------------------------------------------------ export
    def export_catalogue_object(self) -> Catalogue:
        """The catalogue with the image, model and beam in its metadata."""
        from .. import __version__

        cat = self.doc.catalogue.copy()
        image = self.w.image
        if image is not None:
            cat.meta.setdefault("image", image.name)
            cat.meta.setdefault("image_path", str(image.path))
            cat.meta.setdefault("hdu", image.hdu_index)
            cat.meta.setdefault("bunit", image.unit.to_string())
            if image.beam is not None:
                cat.meta.setdefault("beam_maj", image.beam.major_arcsec)
                cat.meta.setdefault("beam_min", image.beam.minor_arcsec)
                cat.meta.setdefault("beam_pa", image.beam.pa)
        model, version = self.w.current_model()
        if model:
            cat.meta.setdefault("model", model)
            cat.meta.setdefault("model_version", version)
        cat.meta["creator"] = "decoras-gui"
        cat.meta["creator_version"] = __version__
        return cat

    def export_regions(self, path, frame: str = "fk5", statuses=None, labels: bool = True, colors=None) -> str:
        wcs = self.w.image.wcs if self.w.image is not None else None
        used = write_regions(self.doc.catalogue, path, wcs=wcs, frame=frame, statuses=statuses, colors=colors,
                             labels=labels)
        self.exported.emit(str(path))
        return used

    def export_catalogue(self, path, statuses=None, format: str | None = None) -> Path:
        out = self.export_catalogue_object().write(path, format=format, statuses=statuses)
        self.exported.emit(str(path))
        return out

    def export_png(self, path) -> Path:
        pix = self.w.canvas.graphics.grab()
        path = Path(path)
        with atomic_path(path) as tmp:
            if not pix.save(str(tmp), "PNG"):
                raise DecorasError("cannot write the PNG", path)
        self.exported.emit(str(path))
        return path

    def _default_export_path(self, kind: str) -> str:
        image = self.w.image
        stem = image.path.with_suffix("") if image is not None else Path.home() / "decoras"
        if str(stem).endswith(".fits"):
            stem = stem.with_suffix("")
        ext = {"regions": ".reg", "catalogue": ".ecsv", "png": ".png"}[kind]
        return str(stem) + ("_sources" if kind != "png" else "_view") + ext

    def export_dialog(self, kind: str) -> ExportDialog:
        d = ExportDialog(kind, self._default_export_path(kind), self.w)
        d.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        d.accepted.connect(lambda: self._run_export(d))
        self.dialog = d
        d.open()
        return d

    def _run_export(self, d: ExportDialog) -> None:
        path = d.path_row.path()
        if not path:
            return
        try:
            if d.kind == "regions":
                used = self.export_regions(path, d.frame.currentData(), d.statuses(), d.labels.isChecked(), d.colors)
                msg = f"Wrote {path} ({used} coordinates)."
            elif d.kind == "catalogue":
                self.export_catalogue(path, d.statuses(), d.format.currentData())
                msg = f"Wrote {path}."
            else:
                self.export_png(path)
                msg = f"Wrote {path}."
        except (DecorasError, OSError, ValueError) as exc:
            self.w.show_error("Export failed", str(exc))
            return
        self.w.statusBar().showMessage(msg, 8000)

    # ------------------------------------------------------------------ import
    def _region_sources(self, path) -> list[Source]:
        regs = read_regions(path)
        wcs = self.w.image.wcs if self.w.image is not None else None
        sources = regions_to_sources(regs, wcs=wcs)
        if regs.skipped:
            self.w.statusBar().showMessage(f"{Path(path).name}: skipped {len(regs.skipped)} regions "
                                           "(only ellipses, circles and points are read).", 8000)
        return sources

    def import_sources(self, path) -> int:
        """A DS9 region file's regions as new candidate sources (origin 'imported'), measured on the image."""
        sources = []
        for s in self._region_sources(path):
            if not (math.isfinite(s.x) and math.isfinite(s.y)):
                continue
            s = s.replace(origin="imported", status=CANDIDATE)
            if self.w.image is not None:
                s = self.measured(s, s.x, s.y, s.maj_img if math.isfinite(s.maj_img) else 3.0,
                                  s.min_img if math.isfinite(s.min_img) else 3.0,
                                  s.theta_img if math.isfinite(s.theta_img) else 0.0)
            sources.append(s)
        if sources:
            self.push(AddSourcesCommand(self.doc, sources, f"Import {len(sources)} sources from {Path(path).name}"))
        return len(sources)

    def load_reference(self, path) -> int:
        sources = self._region_sources(path)
        self.reference.set_sources(sources, Path(path))
        self.act_reference.setEnabled(len(self.reference) > 0)
        self.act_reference.setChecked(True)
        self.reference.set_visible(True)
        return len(self.reference)

    def import_dialog(self, reference: bool) -> QFileDialog:
        title = "Import regions as a reference layer" if reference else "Import regions as sources"
        d = QFileDialog(self.w, title, self.w.settings.last_folder(), "DS9 regions (*.reg);;All files (*)")
        d.setFileMode(QFileDialog.FileMode.ExistingFile)
        d.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)

        def chosen(path: str) -> None:
            try:
                n = self.load_reference(path) if reference else self.import_sources(path)
            except DecorasError as exc:
                self.w.show_error("Cannot import the regions", str(exc))
                return
            self.w.statusBar().showMessage(f"{n} regions from {Path(path).name}.", 8000)

        d.fileSelected.connect(chosen)
        self.dialog = d
        d.open()
        return d


__all__ = ["VettingController", "EditHandle", "DrawTool", "ReferenceLayer", "ExportDialog", "ThresholdDialog",
           "REFERENCE_COLOR"]
