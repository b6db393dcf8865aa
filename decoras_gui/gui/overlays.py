"""Source ellipses on the image: one path item per status, cheap for thousands of sources.

Every shown source is a closed polygon (FWHM ellipse: centre x, y; maj_img x min_img
pixels; theta_img degrees counter-clockwise from +x) in one QGraphicsPathItem per status,
coloured with :data:`STATUS_COLORS`. Selection is a separate highlight path, so changing
it redraws only the selected ellipses. The overlay listens to a
:class:`~decoras_gui.gui.document.CatalogueDocument` and never edits the catalogue.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject
from PySide6.QtGui import QBrush, QColor, QFont, QPainterPath
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QGraphicsSimpleTextItem

from ..core.catalogue import STATUSES
from ..core.vetting import ellipse_r2, pixel_ellipses
from .document import CatalogueDocument
from .style import SELECTED_COLOR, STATUS_COLORS

N_VERTICES = 24  # per ellipse (smooth enough at any zoom for FWHM-sized ellipses)
#: per ellipse when thousands are shown and each is a few screen pixels: a dodecagon looks the same there
N_VERTICES_SMALL = 12
MAX_LABELS = 3000
#: up to this many shown ellipses are drawn 2 px wide; beyond it 1 px (the fast raster path)
THICK_PEN_MAX = 1000
#: beyond this many ellipses, those under SMALL_ON_SCREEN screen pixels get N_VERTICES_SMALL vertices
MANY = 5000
SMALL_ON_SCREEN = 16.0


def vertices_for(view_box: pg.ViewBox, count: int, median_size: float) -> int:
    """Vertices per ellipse: fewer when many ellipses are shown and each is small on screen
    (the painter's cost is the vertex count; wide or dashed pens cost far more)."""
    if count <= MANY or not np.isfinite(median_size):
        return N_VERTICES
    try:
        px = float(view_box.viewPixelSize()[0])  # image pixels per screen pixel
    except (ZeroDivisionError, TypeError, ValueError):
        return N_VERTICES
    return N_VERTICES_SMALL if px > 0 and median_size / px < SMALL_ON_SCREEN else N_VERTICES


def ellipse_path(x, y, maj, mn, theta_deg, n: int = N_VERTICES) -> QPainterPath:
    """One QPainterPath holding every ellipse (FWHM diameters, angle CCW from +x)."""
    x = np.asarray(x, dtype=float)
    if x.size == 0:
        return QPainterPath()
    a = 0.5 * np.asarray(maj, dtype=float)[:, None]
    b = 0.5 * np.asarray(mn, dtype=float)[:, None]
    t = np.radians(np.asarray(theta_deg, dtype=float))[:, None]
    phi = np.linspace(0.0, 2.0 * np.pi, n + 1)[None, :]
    cp, sp = np.cos(phi), np.sin(phi)
    ct, st = np.cos(t), np.sin(t)
    px = x[:, None] + a * cp * ct - b * sp * st
    py = np.asarray(y, dtype=float)[:, None] + a * cp * st + b * sp * ct
    connect = np.ones(px.shape, dtype=bool)
    connect[:, -1] = False
    return pg.arrayToQPath(px.ravel(), py.ravel(), connect=connect.ravel())


class SourceOverlay(QObject):
    """Draws the document's shown sources into a pyqtgraph ViewBox."""

    def __init__(self, view_box: pg.ViewBox, document: CatalogueDocument, parent: QObject | None = None):
        super().__init__(parent)
        self.vb = view_box
        self.doc = document
        self.items: dict[str, QGraphicsPathItem] = {}
        for z, status in enumerate(STATUSES):
            item = QGraphicsPathItem()
            item.setPen(pg.mkPen(STATUS_COLORS[status], width=1))
            item.setZValue(10 + z)
            self.vb.addItem(item, ignoreBounds=True)
            self.items[status] = item
        self.highlight = QGraphicsPathItem()
        self.highlight.setPen(pg.mkPen(SELECTED_COLOR, width=3.5))
        self.highlight.setZValue(20)
        self.vb.addItem(self.highlight, ignoreBounds=True)
        self.label_group = QGraphicsPathItem()  # an empty parent for the labels
        self.label_group.setZValue(21)
        self.vb.addItem(self.label_group, ignoreBounds=True)
        self._labels: list[QGraphicsSimpleTextItem] = []
        self._show_labels = False
        self._visible = True
        self._vertices = N_VERTICES
        self._arrays()
        view_box.sigRangeChanged.connect(self._zoomed)
        document.reset.connect(self.rebuild)
        document.changed.connect(self._on_changed)
        document.added.connect(self.rebuild)
        document.removed.connect(self.rebuild)
        document.filter_changed.connect(self.redraw)
        document.selection_changed.connect(self.update_selection)
        self.rebuild()

    # ------------------------------------------------------------------ arrays
    def _arrays(self) -> None:
        sources = list(self.doc.catalogue)
        n = len(sources)
        self.ids = np.array([s.source_id for s in sources], dtype=np.int64)
        self.row_of = {int(sid): i for i, sid in enumerate(self.ids)}
        self.x, self.y, self.maj, self.min, self.theta = pixel_ellipses(sources)
        self.status = np.array([s.status for s in sources], dtype=object).reshape(n)
        self.det_prob = np.array([s.det_prob for s in sources], dtype=float).reshape(n)
        self.plane = np.array([s.plane for s in sources], dtype=np.int64).reshape(n)
        self.shown = self.doc.shown_mask(self.status, self.det_prob, self.plane)
        finite = self.maj[np.isfinite(self.maj)]
        self._median = float(np.median(finite)) if finite.size else float("nan")

    def rebuild(self, *_) -> None:
        self._arrays()
        self._draw()
        self.update_selection(self.doc.selected_ids)

    def redraw(self) -> None:
        """Re-apply the document's filter (statuses, probability threshold, plane) without re-reading
        the sources: vectorised over the arrays kept."""
        self.shown = self.doc.shown_mask(self.status, self.det_prob, self.plane)
        self._draw()
        self.update_selection(self.doc.selected_ids)

    def _on_changed(self, ids: list) -> None:
        cat = self.doc.catalogue
        touched = set()
        for sid in ids:
            i = self.row_of.get(int(sid))
            if i is None:
                return self.rebuild()
            s = cat.get(int(sid))
            touched.update((self.status[i], s.status))
            self.status[i] = s.status
            self.det_prob[i], self.plane[i] = s.det_prob, s.plane
            (self.x[i], self.y[i], self.maj[i], self.min[i], self.theta[i]) = (a[0] for a in pixel_ellipses([s]))
            self.shown[i] = self.doc.is_shown(s)
        self._draw(touched)
        self.update_selection(self.doc.selected_ids)

    def _zoomed(self, *_) -> None:
        """A zoom may cross the level of detail: redraw only when the vertex count changes."""
        if vertices_for(self.vb, int(np.count_nonzero(self.shown)), self._median) != self._vertices:
            self._draw()

    def _draw(self, statuses=None) -> None:
        """Rebuild the path of each status (only those in ``statuses`` when given)."""
        count = int(np.count_nonzero(self.shown))
        width = 2 if count <= THICK_PEN_MAX else 1
        vertices = vertices_for(self.vb, count, self._median)
        if vertices != self._vertices:
            self._vertices, statuses = vertices, None
        for status, item in self.items.items():
            if item.pen().width() != width:
                item.setPen(pg.mkPen(STATUS_COLORS[status], width=width))
            if statuses is not None and status not in statuses:
                continue
            m = self.shown & (self.status == status)
            item.setPath(ellipse_path(self.x[m], self.y[m], self.maj[m], self.min[m], self.theta[m], n=vertices))
            item.setVisible(self._visible)
        self._draw_labels()

    # ------------------------------------------------------------------ labels
    def set_labels_visible(self, on: bool) -> None:
        self._show_labels = bool(on)
        self._draw_labels()

    def _draw_labels(self) -> None:
        for item in self._labels:
            item.setParentItem(None)
            if item.scene() is not None:
                item.scene().removeItem(item)
        self._labels = []
        if not (self._show_labels and self._visible):
            return
        font = QFont()
        font.setPointSizeF(8.0)
        brush = QBrush(QColor("#f0f0f0"))
        idx = np.flatnonzero(self.shown)[:MAX_LABELS]
        for i in idx:
            t = QGraphicsSimpleTextItem(str(int(self.ids[i])), self.label_group)
            t.setFont(font)
            t.setBrush(brush)
            t.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations, True)
            t.setPos(self.x[i] + 0.5 * self.maj[i] * 0.75, self.y[i] + 0.5 * self.maj[i] * 0.75)
            self._labels.append(t)

    @property
    def label_count(self) -> int:
        return len(self._labels)

    def set_visible(self, on: bool) -> None:
        self._visible = bool(on)
        for item in self.items.values():
            item.setVisible(self._visible)
        self.highlight.setVisible(self._visible)
        self._draw_labels()

    # --------------------------------------------------------------- selection
    def update_selection(self, ids: list) -> None:
        rows = [self.row_of[int(i)] for i in ids if int(i) in self.row_of]
        rows = [r for r in rows if self.shown[r]]
        r = np.array(rows, dtype=int)
        self.highlight.setPath(ellipse_path(self.x[r], self.y[r], self.maj[r], self.min[r], self.theta[r]))

    @property
    def highlighted_ids(self) -> list[int]:
        return [int(i) for i in self.doc.selected_ids if int(i) in self.row_of and self.shown[self.row_of[int(i)]]]

    # ------------------------------------------------------------- inspection
    def shown_ids(self) -> list[int]:
        """Ids of the ellipses drawn now, in catalogue order."""
        return [int(i) for i in self.ids[self.shown]]

    def ellipse_count(self) -> int:
        """Ellipses actually in the path items (counted from the paths' move-to elements)."""
        total = 0
        for item in self.items.values():
            path = item.path()
            total += sum(1 for k in range(path.elementCount()) if path.elementAt(k).isMoveTo())
        return total

    def source_at(self, x: float, y: float, tolerance: float = 0.0) -> int | None:
        """Id of the shown source whose ellipse holds (x, y), the smallest one first;
        else the nearest centre within ``tolerance`` pixels; else None."""
        if not self.shown.any():
            return None
        idx = np.flatnonzero(self.shown)
        r2 = ellipse_r2(x, y, self.x[idx], self.y[idx], self.maj[idx], self.min[idx], self.theta[idx])
        inside = np.flatnonzero(r2 <= 1.0)
        if inside.size:  # the smallest ellipse holding the point
            best = inside[np.argmin((self.maj[idx] * self.min[idx])[inside] * 1e6 + r2[inside])]
            return int(self.ids[idx[best]])
        d2 = (x - self.x[idx]) ** 2 + (y - self.y[idx]) ** 2
        k = int(np.argmin(d2))
        if d2[k] <= tolerance**2:
            return int(self.ids[idx[k]])
        return None

    def bounds_of(self, source_id: int) -> tuple[float, float, float]:
        i = self.row_of[int(source_id)]
        return float(self.x[i]), float(self.y[i]), float(self.maj[i])


__all__ = ["SourceOverlay", "ellipse_path"]
