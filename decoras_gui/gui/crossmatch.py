"""Cross-matching in the window: File > Import > Reference Catalogue for Cross-match…

The dialog reads the file's columns (:func:`~decoras_gui.core.crossmatch.reference_columns`),
shows the survey layout it recognised and lets the user choose the RA, Dec, flux and name
columns, and the radius in beams. The match runs off the UI thread; its result replaces the
catalogue's match columns as one undo step, and the reference sources show as a second
overlay layer (:class:`ReferenceCatalogueLayer`): sky-blue ellipses, solid where a detection
matched them and dashed where none did, with its own toggle (View > Reference Catalogue).
Vetting > Add Unmatched Reference Sources turns the unmatched ones inside the image into
candidates, measured on the image.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QPainterPath
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGraphicsPathItem,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from ..core.crossmatch import (
    CrossMatch,
    crossmatch,
    match_radius,
    read_reference,
    reference_columns,
    reference_pixels,
    reference_sources,
)
from ..core.edits import CatalogueEdit
from ..core.errors import DecorasError
from ..core.formats import ALL_FILES_FILTER, catalogue_file_filters
from .actions import make_action
from .document import CatalogueDocument
from .overlays import THICK_PEN_MAX, ellipse_path, vertices_for

#: Okabe-Ito sky blue: apart from the three status colours and the dashed region layer
CROSSMATCH_COLOR = "#56B4E9"
#: Okabe-Ito reddish purple: unmatched reference sources when too many to dash
UNMATCHED_COLOR = "#CC79A7"
_ROLES = (("ra", "RA"), ("dec", "Dec"), ("flux", "Flux density"), ("name", "Name"))


def cross_path(x, y, size) -> QPainterPath:
    """One path of '+' markers, ``size`` pixels across, centred on (x, y)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    h = 0.5 * np.broadcast_to(np.asarray(size, float), x.shape)
    px = np.stack([x - h, x + h, x, x], axis=1).ravel()
    py = np.stack([y, y, y - h, y + h], axis=1).ravel()
    connect = np.tile([True, False, True, False], len(x)).astype(bool)
    return pg.arrayToQPath(px, py, connect=connect) if len(x) else QPainterPath()


class ReferenceCatalogueLayer(QObject):
    """The reference catalogue of the last cross-match, whatever its size, in three paths (one
    ``QGraphicsPathItem`` each): matched sources as a wide solid halo under our ellipses,
    unmatched ones as dashed ellipses, and a '+' on every reference position."""

    def __init__(self, view_box: pg.ViewBox, parent: QObject | None = None):
        super().__init__(parent)
        self.vb = view_box
        self.items: dict[str, QGraphicsPathItem] = {}
        for key, z in (("matched", 8), ("unmatched", 8.5), ("centres", 9.5)):
            item = QGraphicsPathItem()
            item.setZValue(z)
            view_box.addItem(item, ignoreBounds=True)
            self.items[key] = item
        self.result: CrossMatch | None = None
        self.counts = {"matched": 0, "unmatched": 0}
        self._visible = True
        self._vertices = 0
        self._pixels = None
        self.items["matched"].setOpacity(0.85)
        view_box.sigRangeChanged.connect(self._zoomed)

    def _pens(self) -> None:
        """A wide halo and dashes for up to THICK_PEN_MAX ellipses; beyond, 1-px solid lines (wide and
        dashed pens cost the painter ten times more), the unmatched ones then told by their colour."""
        few = {k: self.counts[k] <= THICK_PEN_MAX for k in ("matched", "unmatched")}
        for key, width, style, color in (
                ("matched", 4.0 if few["matched"] else 1.0, Qt.PenStyle.SolidLine, CROSSMATCH_COLOR),
                ("unmatched", 2.0 if few["unmatched"] else 1.0,
                 Qt.PenStyle.DashLine if few["unmatched"] else Qt.PenStyle.SolidLine,
                 CROSSMATCH_COLOR if few["unmatched"] else UNMATCHED_COLOR),
                ("centres", 1.0, Qt.PenStyle.SolidLine, CROSSMATCH_COLOR)):
            pen = pg.mkPen(color, width=width, style=style)
            pen.setCosmetic(True)
            self.items[key].setPen(pen)

    def _zoomed(self, *_) -> None:
        if self._pixels is not None and self._vertices_now() != self._vertices:
            self._draw()

    def _vertices_now(self) -> int:
        x, y, maj, mn, theta, masks = self._pixels
        count = int(sum(int(m.sum()) for m in masks.values()))
        finite = maj[np.isfinite(maj)]
        return vertices_for(self.vb, count, float(np.median(finite)) if finite.size else float("nan"))

    def set_result(self, result: CrossMatch | None, wcs) -> None:
        self.result = result
        if result is None or wcs is None or not getattr(wcs, "has_celestial", False):
            for item in self.items.values():
                item.setPath(QPainterPath())
            self.counts = {"matched": 0, "unmatched": 0}
            self._pixels = None
            return
        x, y, maj, mn, theta = reference_pixels(result.reference, wcs)
        ok = np.isfinite(x) & np.isfinite(y)
        masks = {"matched": ok & result.matched_ref, "unmatched": ok & ~result.matched_ref & result.inside}
        self._pixels = (x, y, maj, mn, theta, masks)
        self.counts = {k: int(m.sum()) for k, m in masks.items()}
        self._pens()
        self._draw()
        m = masks["matched"] | masks["unmatched"]
        self.items["centres"].setPath(cross_path(x[m], y[m], 0.35 * np.minimum(maj[m], mn[m])))
        self.set_visible(self._visible)

    def _draw(self) -> None:
        x, y, maj, mn, theta, masks = self._pixels
        self._vertices = self._vertices_now()
        for key, m in masks.items():
            self.items[key].setPath(ellipse_path(x[m], y[m], maj[m], mn[m], theta[m], n=self._vertices))

    def set_visible(self, on: bool) -> None:
        self._visible = bool(on)
        for item in self.items.values():
            item.setVisible(self._visible)

    @property
    def visible(self) -> bool:
        return self._visible

    def __len__(self) -> int:
        return 0 if self.result is None else len(self.result.reference)


class CrossMatchDialog(QDialog):
    """The reference file, its columns and the radius of one cross-match."""

    def __init__(self, start_folder: str, beam_arcsec: float | None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Cross-match with a reference catalogue")
        self.beam_arcsec = beam_arcsec
        self.survey_beam = math.nan
        form = QFormLayout(self)
        row = QWidget(self)
        lay = QHBoxLayout(row)
        lay.setContentsMargins(0, 0, 0, 0)
        self.path = QLineEdit(self)
        self.path.setMinimumWidth(340)
        self.path.setPlaceholderText("NVSS, FIRST, LoTSS or any FITS / VOTable / CSV / ECSV table")
        browse = QPushButton("Browse…", self)
        browse.clicked.connect(lambda: self._browse(start_folder))
        lay.addWidget(self.path, 1)
        lay.addWidget(browse)
        form.addRow("Reference", row)
        self.layout_label = QLabel("", self)
        form.addRow("Layout", self.layout_label)
        self.combos: dict[str, QComboBox] = {}
        for role, label in _ROLES:
            c = QComboBox(self)
            c.setMinimumContentsLength(16)
            self.combos[role] = c
            form.addRow(f"{label} column", c)
        self.radius = QDoubleSpinBox(self)
        self.radius.setRange(0.05, 20.0)
        self.radius.setSingleStep(0.1)
        self.radius.setDecimals(2)
        self.radius.setValue(1.0)
        self.radius.setSuffix(" beams")
        self.radius.setToolTip("Matching radius in beams of the coarser of the image's and the survey's "
                               "(NVSS 45\", FIRST 5.4\", LoTSS 6\")")
        self.radius_label = QLabel("", self)
        self.radius.valueChanged.connect(self._update_radius)
        form.addRow("Radius", self.radius)
        form.addRow("", self.radius_label)
        self.message = QLabel("", self)
        self.message.setWordWrap(True)
        form.addRow(self.message)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel,
                                        self)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Match")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)
        self.path.editingFinished.connect(self.inspect)
        self._set_ok(False)

    def _browse(self, folder: str) -> None:
        filters = ";;".join(["Tables (*.fits *.fit *.vot *.xml *.votable *.csv *.ecsv)", *catalogue_file_filters(),
                             ALL_FILES_FILTER])
        path, _ = QFileDialog.getOpenFileName(self, "Reference catalogue", folder, filters)
        if path:
            self.set_path(path)

    def _set_ok(self, on: bool) -> None:
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(on)

    def set_path(self, path: str) -> None:
        self.path.setText(str(path))
        self.inspect()

    def inspect(self) -> bool:
        """Read the file's columns and pre-select them by its recognised layout."""
        path = self.path.text().strip()
        for c in self.combos.values():
            c.clear()
        if not path:
            self._set_ok(False)
            return False
        try:
            names, layout, chosen = reference_columns(path)
        except DecorasError as exc:
            self.layout_label.setText("")
            self.message.setText(str(exc))
            self._set_ok(False)
            return False
        from ..core.crossmatch import LAYOUTS

        self.survey_beam = next((lay.beam for lay in LAYOUTS if lay.name == layout), math.nan)
        self.layout_label.setText(layout if layout != "columns" else "not recognised: choose the columns")
        for role, c in self.combos.items():
            c.addItem("—" if role in ("ra", "dec") else "(none)", "")
            for n in names:
                c.addItem(n, n)
            if role in chosen:
                c.setCurrentIndex(c.findData(chosen[role]))
        self.message.setText("")
        self._update_radius()
        self._set_ok(True)
        return True

    def columns(self) -> dict[str, str]:
        return {role: c.currentData() for role, c in self.combos.items() if c.currentData()}

    def _update_radius(self) -> None:
        beams = [b for b in (self.beam_arcsec, self.survey_beam) if b is not None and math.isfinite(b) and b > 0]
        if beams:
            self.radius_label.setText(f"= {self.radius.value() * max(beams):.4g} arcsec")
        else:
            self.radius_label.setText("no beam known: the radius needs the image's or the survey's beam")


class CrossMatchController(QObject):
    """The cross-match actions of one window (module docstring)."""

    matched = Signal(object)  # CrossMatch

    def __init__(self, doc: CatalogueDocument, view_box: pg.ViewBox, tasks, image: Callable,
                 notify: Callable[[str, int], None], last_folder: Callable[[], str], parent: QWidget):
        super().__init__(parent)
        self.doc, self.tasks, self.image = doc, tasks, image
        self.notify, self.last_folder, self.parent_widget = notify, last_folder, parent
        self.layer = ReferenceCatalogueLayer(view_box, self)
        self.dialog: CrossMatchDialog | None = None
        self.result: CrossMatch | None = None

        def act(*args, **kw):
            return make_action(parent, *args, **kw)

        self.act_crossmatch = act("Reference &Catalogue for Cross-match…", self.crossmatch_dialog, (),
                                  "Cross-match the sources with a survey catalogue (NVSS, FIRST, LoTSS, any table)",
                                  name="crossmatch")
        self.act_layer = act("Reference &Catalogue", self.layer.set_visible, ("Ctrl+Shift+R",),
                             "Show the cross-matched reference catalogue (sky blue: solid matched, dashed unmatched)",
                             checkable=True, name="crossmatch_layer")
        self.act_layer.setChecked(True)
        self.act_add_unmatched = act("Add &Unmatched Reference Sources", self.add_unmatched, (),
                                     "Add the reference sources inside the image that no detection matched, as "
                                     "candidates to vet", name="add_unmatched")
        self.update_actions()

    def update_actions(self, *_) -> None:
        self.act_crossmatch.setEnabled(self.image() is not None)
        self.act_layer.setEnabled(self.result is not None)
        unmatched = self.result is not None and len(self.result.unmatched_reference) > 0
        self.act_add_unmatched.setEnabled(unmatched)

    def clear(self) -> None:
        self.result = None
        self.layer.set_result(None, None)
        self.update_actions()

    def _beam(self) -> float | None:
        b = self.doc.catalogue.meta.get("beam_maj")
        return float(b) if isinstance(b, (int, float)) and b > 0 else None

    def crossmatch_dialog(self) -> CrossMatchDialog:
        d = CrossMatchDialog(self.last_folder(), self._beam(), self.parent_widget)
        d.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        d.accepted.connect(lambda: self.run(d.path.text().strip(), d.columns(), d.radius.value()))
        self.dialog = d
        d.open()
        return d

    def run(self, path: str, columns: dict | None = None, radius_beams: float = 1.0, format: str | None = None):
        """Read ``path`` (``format`` where its name does not say) and match it against the
        catalogue, off the UI thread."""
        image = self.image()
        if image is None:
            return None
        cat = self.doc.catalogue.copy()
        wcs, shape = image.wcs, image.data.shape

        def task(progress, cancelled):
            progress(None, f"reading {Path(path).name}")
            ref = read_reference(path, columns, format)
            match_radius(cat, ref, radius_beams)  # a clear error before any work
            progress(None, f"matching {len(cat)} sources with {len(ref)} reference sources")
            return crossmatch(cat, ref, radius_beams=radius_beams, wcs=wcs, shape=shape)

        worker = self.tasks.start(task, "crossmatch", f"Cross-matching with {Path(path).name}…")
        worker.succeeded.connect(self._matched)  # failures: the task bar's error box
        return worker

    def _matched(self, result: CrossMatch) -> None:
        live = self.doc.catalogue
        by_id = {s.source_id: s for s in result.catalogue}
        if set(by_id) != set(live.ids):  # edited meanwhile: carry the match columns over to what is there now
            new = live.copy()
            for s in list(new):
                m = by_id.get(s.source_id)
                new.update(s.source_id, xmatch=m.xmatch if m else "", match_name=m.match_name if m else "",
                           match_sep=m.match_sep if m else math.nan,
                           match_flux_ratio=m.match_flux_ratio if m else math.nan)
            new.meta.update({k: result.catalogue.meta[k] for k in ("xmatch_ref", "xmatch_radius")})
        else:
            new = result.catalogue
        self.doc.apply(CatalogueEdit.replace_all(live, new, f"Cross-match with {result.reference.label}"))
        self.result = result
        self.layer.set_result(result, self.image().wcs if self.image() is not None else None)
        self.act_layer.setChecked(True)
        self.layer.set_visible(True)
        self.update_actions()
        s = result.summary()
        self.notify(f"{s['matched']} of {s['detections']} sources matched {s['reference']} within "
                    f"{s['radius_arcsec']:.3g}\"; {s['reference_unmatched']} reference sources in the image "
                    "unmatched.", 10000)
        self.matched.emit(result)

    def add_unmatched(self) -> int:
        """The unmatched reference sources inside the image as candidates, measured on the image."""
        if self.result is None or self.image() is None:
            return 0
        image = self.image()
        from .vetting import remeasured

        sources = []
        for s in reference_sources(self.result.reference, self.result.unmatched_reference, wcs=image.wcs):
            if math.isfinite(s.x) and math.isfinite(s.y):
                measured = remeasured(image, s, s.x, s.y, s.maj_img, s.min_img, s.theta_img)
                sources.append(measured.replace(origin="manual", note=s.note))
        if sources:
            self.doc.apply(CatalogueEdit.add(self.doc.catalogue, sources,
                                             f"Add {len(sources)} unmatched {self.result.reference.layout} sources"))
            self.notify(f"Added {len(sources)} reference sources as candidates to vet.", 8000)
        return len(sources)


__all__ = ["CrossMatchController", "CrossMatchDialog", "ReferenceCatalogueLayer", "CROSSMATCH_COLOR"]
