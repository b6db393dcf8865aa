"""The image canvas: a pyqtgraph ImageItem in a locked-aspect ViewBox, DS9 orientation.

Pixel (0, 0) is at the bottom-left (FITS y up) and pixel centres sit on integer
coordinates (0-based, like numpy and astropy), so catalogue x, y draw as they are.
For a standard WCS (CDELT1 < 0) north is up and RA increases to the left.
The restoring beam (filled ellipse, bottom-left) and a scale bar (bottom-right)
stay in their corners whatever the zoom.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QPainterPath
from PySide6.QtWidgets import QGraphicsEllipseItem, QGraphicsPathItem, QGraphicsView, QVBoxLayout, QWidget

from .display import scale_bar_length

CORNER_MARGIN_PX = 18  # screen pixels between the corner widgets and the edge


class CanvasViewBox(pg.ViewBox):
    """A ViewBox whose left-button drags a tool can take over (e.g. drawing a new source).

    ``drag_handler(event)`` gets pyqtgraph's mouse drag events while it is set; it
    returns True when it used the event, else the ViewBox pans/zooms as usual.
    """

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.drag_handler = None

    def mouseDragEvent(self, ev, axis=None):
        handler = self.drag_handler
        if handler is not None and ev.button() == Qt.MouseButton.LeftButton and axis is None:
            if handler(ev):
                ev.accept()
                return
        super().mouseDragEvent(ev, axis)


class ImageCanvas(QWidget):
    """A pan/zoom view of one 2-D image (already stretched to 0..1)."""

    cursor_moved = Signal(float, float)  # data coordinates (0-based pixel, centres on integers)
    cursor_left = Signal()
    clicked = Signal(float, float, object)  # x, y, Qt.KeyboardModifiers
    detail_wanted = Signal()  # the view settled on a region small enough for full resolution

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.graphics = pg.GraphicsView(self)
        self.graphics.setBackground("#15171a")
        # Repaint the whole view on any change: with the minimal mode, moving the selection
        # highlight and the edit handles right after a pan left half-drawn ellipses on X11.
        self.graphics.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.FullViewportUpdate)
        self.vb = CanvasViewBox(lockAspect=True, invertY=False, enableMenu=False)
        self.vb.setDefaultPadding(0.02)
        self.graphics.setCentralItem(self.vb)
        self.image_item = pg.ImageItem(axisOrder="row-major", autoDownsample=True)
        self.image_item.setZValue(0)
        self.vb.addItem(self.image_item)
        # full-resolution pixels of the visible region over an overview of a huge image
        self.detail_item = pg.ImageItem(axisOrder="row-major")
        self.detail_item.setZValue(1)
        self.detail_item.setVisible(False)
        self.vb.addItem(self.detail_item, ignoreBounds=True)
        self.image_item.sigImageChanged.connect(self.sync_detail_look)
        self.overview_factor = 1
        self.detail_region: tuple[int, int, int, int] | None = None
        self._detail_timer = QTimer(self)
        self._detail_timer.setSingleShot(True)
        self._detail_timer.setInterval(120)
        self._detail_timer.timeout.connect(self.detail_wanted.emit)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.graphics)

        # restoring beam + scale bar (data coordinates, repositioned when the range changes)
        self.beam_item = QGraphicsEllipseItem()
        self.beam_item.setPen(pg.mkPen("#ffffff", width=1.2))
        self.beam_item.setBrush(QBrush(QColor(255, 255, 255, 110)))
        self.beam_item.setZValue(30)
        self.vb.addItem(self.beam_item, ignoreBounds=True)
        self.beam_item.setVisible(False)
        self.scale_item = QGraphicsPathItem()
        self.scale_item.setPen(pg.mkPen("#ffffff", width=2.0))
        self.scale_item.setZValue(30)
        self.vb.addItem(self.scale_item, ignoreBounds=True)
        self.scale_label = pg.TextItem("", color="#ffffff", anchor=(0.5, 1.0))
        self.scale_label.setZValue(30)
        self.vb.addItem(self.scale_label, ignoreBounds=True)
        self._beam: tuple[float, float, float] | None = None  # (maj px, min px, theta deg CCW from +x)
        self._pixel_scale: float | None = None
        self._shape: tuple[int, int] | None = None
        self.vb.sigRangeChanged.connect(self._update_corners)
        self.vb.sigRangeChanged.connect(self._range_changed)
        self.vb.sigResized.connect(self._update_corners)

        scene = self.graphics.scene()
        scene.sigMouseMoved.connect(self._mouse_moved)
        scene.sigMouseClicked.connect(self._mouse_clicked)

    # --------------------------------------------------------------- content
    @property
    def shape(self) -> tuple[int, int] | None:
        return self._shape

    def set_image(self, display: np.ndarray, keep_view: bool = False, full_shape: tuple[int, int] | None = None,
                  factor: int = 1) -> None:
        """Show ``display`` (0..1 floats, [y, x]); fit the view unless ``keep_view``.

        For a huge image ``display`` is an overview of ``factor`` x ``factor`` blocks of an
        image of ``full_shape``; coordinates stay those of the full image."""
        new_shape = tuple(full_shape) if full_shape is not None else display.shape
        self.overview_factor = int(factor)
        self.clear_detail()
        self.image_item.setImage(display, levels=(0.0, 1.0), autoLevels=False)
        ny, nx = display.shape
        self.image_item.setRect(QRectF(-0.5, -0.5, nx * factor, ny * factor))
        changed = new_shape != self._shape
        self._shape = new_shape
        if not keep_view or changed:
            self.fit()

    def set_detail(self, display: np.ndarray, region: tuple[int, int, int, int]) -> None:
        """Full-resolution stretched pixels of ``region`` (x0, x1, y0, y1) over the overview."""
        x0, x1, y0, y1 = region
        self.detail_item.setImage(display, autoLevels=False)
        self.detail_item.setRect(QRectF(x0 - 0.5, y0 - 0.5, x1 - x0, y1 - y0))
        self.sync_detail_look()
        self.detail_item.setVisible(True)
        self.detail_region = region

    def clear_detail(self) -> None:
        self.detail_item.setVisible(False)
        self.detail_item.clear()
        self.detail_region = None

    def sync_detail_look(self, *_) -> None:
        """The detail patch uses the overview's colour table and levels (the histogram widget's)."""
        self.detail_item.setLookupTable(self.image_item.lut)
        levels = self.image_item.getLevels()
        if levels is not None:
            self.detail_item.setLevels(levels)

    def set_beam(self, beam_pixels: tuple[float, float] | None, pa_deg: float | None) -> None:
        """Beam FWHM in pixels; PA east of north (north up, east left: CCW from +x = PA + 90)."""
        if beam_pixels is None or pa_deg is None:
            self._beam = None
        else:
            self._beam = (float(beam_pixels[0]), float(beam_pixels[1]), float(pa_deg) + 90.0)
        self._update_corners()

    def set_pixel_scale(self, deg: float | None) -> None:
        self._pixel_scale = deg
        self._update_corners()

    def _range_changed(self, *_) -> None:
        if self.overview_factor > 1:
            self._detail_timer.start()  # debounced: rendered once the view settles

    def clear(self) -> None:
        self.clear_detail()
        self.overview_factor = 1
        self.image_item.clear()
        self._shape = None
        self._beam = None
        self._pixel_scale = None
        self._update_corners()

    # ------------------------------------------------------------- navigation
    def fit(self) -> None:
        if self._shape is None:
            return
        ny, nx = self._shape
        self.vb.setRange(QRectF(-0.5, -0.5, nx, ny), padding=0.02)

    def zoom_one_to_one(self) -> None:
        """One image pixel per screen pixel, centred where the view is now."""
        if self._shape is None:
            return
        rect = self.vb.viewRect()
        w = max(1.0, self.vb.width())
        h = max(1.0, self.vb.height())
        c = rect.center()
        self.vb.setRange(QRectF(c.x() - w / 2, c.y() - h / 2, w, h), padding=0)

    def zoom(self, factor: float) -> None:
        self.vb.scaleBy((1.0 / factor, 1.0 / factor))

    def set_rect_zoom(self, on: bool) -> None:
        """Drag a rectangle to zoom to it (on), or drag to pan (off)."""
        self.vb.setMouseMode(pg.ViewBox.RectMode if on else pg.ViewBox.PanMode)

    def center_on(self, x: float, y: float, size: float | None = None) -> None:
        """Centre the view on (x, y); with ``size`` (pixels) zoom so it fills a good share."""
        rect = self.vb.viewRect()
        if size is not None and size > 0:
            span = max(size * 8.0, 32.0)
            if span < min(rect.width(), rect.height()):
                self.vb.setRange(QRectF(x - span / 2, y - span / 2, span, span), padding=0)
                return
        self.vb.setRange(QRectF(x - rect.width() / 2, y - rect.height() / 2, rect.width(), rect.height()),
                         padding=0)

    def view_range(self) -> list[float]:
        """[x0, x1, y0, y1] of the visible data rectangle."""
        (x0, x1), (y0, y1) = self.vb.viewRange()
        return [float(x0), float(x1), float(y0), float(y1)]

    def set_view_range(self, r) -> None:
        x0, x1, y0, y1 = (float(v) for v in r)
        self.vb.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)

    def pixel_size(self) -> float:
        """Data units (image pixels) per screen pixel."""
        px = self.vb.viewPixelSize()
        return float(px[0]) if px and px[0] > 0 else 1.0

    # ------------------------------------------------------------- corners
    def _update_corners(self, *_) -> None:
        rect = self.vb.viewRect()
        show = self._shape is not None
        if show:  # keep the corner widgets on the image when it does not fill the view
            ny, nx = self._shape
            inside = rect.intersected(QRectF(-0.5, -0.5, nx, ny))
            if inside.width() > 0 and inside.height() > 0:
                rect = inside
        try:
            px = self.pixel_size()
        except Exception:  # the view has no size yet
            px = 1.0
        margin = CORNER_MARGIN_PX * px
        if show and self._beam is not None:
            bmaj, bmin, theta = self._beam
            size = max(bmaj, bmin)
            cx = rect.left() + margin + size / 2
            cy = rect.top() + margin + size / 2  # top() is the smaller y: the bottom edge on screen
            self.beam_item.setRect(QRectF(-bmaj / 2, -bmin / 2, bmaj, bmin))
            self.beam_item.setTransformOriginPoint(0, 0)
            self.beam_item.setRotation(theta)
            self.beam_item.setPos(cx, cy)
            self.beam_item.setVisible(True)
        else:
            self.beam_item.setVisible(False)
        if show and self._pixel_scale:
            length, label = scale_bar_length(self._pixel_scale, 0.2 * rect.width())
            if length > 0:
                x1 = rect.right() - margin
                x0 = x1 - length
                y0 = rect.top() + margin
                tick = 4 * px
                path = QPainterPath(QPointF(x0, y0))
                path.lineTo(x1, y0)
                path.moveTo(x0, y0 - tick)
                path.lineTo(x0, y0 + tick)
                path.moveTo(x1, y0 - tick)
                path.lineTo(x1, y0 + tick)
                self.scale_item.setPath(path)
                self.scale_label.setText(label)
                self.scale_label.setPos((x0 + x1) / 2, y0 + 6 * px)
                self.scale_item.setVisible(True)
                self.scale_label.setVisible(True)
                self.scale_text = label
                self.scale_length_px = length
                return
        self.scale_item.setVisible(False)
        self.scale_label.setVisible(False)

    # ------------------------------------------------------------------ mouse
    def _mouse_moved(self, pos) -> None:
        if self._shape is None or not self.vb.sceneBoundingRect().contains(pos):
            self.cursor_left.emit()
            return
        p = self.vb.mapSceneToView(pos)
        self.cursor_moved.emit(p.x(), p.y())

    def _mouse_clicked(self, event) -> None:
        if self._shape is None or event.button() != Qt.MouseButton.LeftButton or event.double():
            return
        p = self.vb.mapSceneToView(event.scenePos())
        self.clicked.emit(p.x(), p.y(), event.modifiers())
