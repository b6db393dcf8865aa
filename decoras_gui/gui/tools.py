"""The drawing and editing tools on the image: edit handles, the Add Source tool, a reference layer.

:class:`EditHandle` is a pyqtgraph EllipseROI on the one selected source: drag the body to
move, the left/top handles to resize one axis, the corner handle to scale, the round handle
to rotate; it reports the new ellipse when the drag ends. :class:`DrawTool` turns a drag on
the image into an ellipse (inscribed in the box). :class:`ReferenceLayer` draws another
program's regions (PyBDSF, Aegean...) dashed, read-only. None of them edits the catalogue:
the vetting controller turns what they report into edits.
"""

from __future__ import annotations

import math
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtWidgets import QGraphicsEllipseItem, QGraphicsPathItem

from ..core.catalogue import Source
from ..core.vetting import pixel_ellipses
from .overlays import ellipse_path
from .style import DRAW_COLOR, HANDLE_COLOR, REFERENCE_COLOR, SELECTED_COLOR


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
        self.item.setPath(ellipse_path(*pixel_ellipses(self.sources)))

    def clear(self) -> None:
        self.set_sources([])

    def set_visible(self, on: bool) -> None:
        self.item.setVisible(bool(on))

    def __len__(self) -> int:
        return len(self.sources)


__all__ = ["EditHandle", "DrawTool", "ReferenceLayer"]
