"""Colours, icons and colormaps of the window: one place, so every view draws alike.

The status colours are the region files' (:data:`~decoras_gui.core.regions_io.STATUS_COLORS`,
Okabe-Ito, colour-blind safe); the others are picked to stay distinct from them.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QStyle

from ..core.regions_io import STATUS_COLORS
from ..paths import resources_dir

__all__ = ["STATUS_COLORS", "SELECTED_COLOR", "REFERENCE_COLOR", "HANDLE_COLOR", "DRAW_COLOR",
           "status_icon", "app_icon", "add_source_icon", "colormap"]

SELECTED_COLOR = "#56B4E9"  # sky blue (Okabe-Ito): distinct from the three statuses
REFERENCE_COLOR = "#CC79A7"  # reddish purple (Okabe-Ito): another program's regions
HANDLE_COLOR = "#ffffff"
DRAW_COLOR = "#F0E442"  # yellow (Okabe-Ito): the ellipse being drawn


def _painted(size: int, paint) -> QIcon:
    pix = QPixmap(size, size)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    paint(p)
    p.end()
    return QIcon(pix)


def status_icon(color: str) -> QIcon:
    """A small ellipse outline in ``color`` (status menus, vetting buttons)."""

    def paint(p: QPainter) -> None:
        p.setPen(pg.mkPen(color, width=2))
        p.drawEllipse(2, 3, 10, 8)

    return _painted(14, paint)


def add_source_icon() -> QIcon:
    """A dashed yellow ellipse with a plus: the Add Source tool."""

    def paint(p: QPainter) -> None:
        p.setPen(pg.mkPen(DRAW_COLOR, width=1.6))
        p.drawEllipse(1, 4, 11, 8)
        p.setPen(pg.mkPen("#ffffff", width=1.8))
        p.drawLine(12, 1, 12, 7)
        p.drawLine(9, 4, 15, 4)

    return _painted(16, paint)


def app_icon(name: str, fallback: QStyle.StandardPixmap, style: QStyle) -> QIcon:
    """The bundled ``resources/icons/NAME.svg``, else the style's standard icon."""
    path = resources_dir() / "icons" / f"{name}.svg"
    if path.is_file():
        return QIcon(str(path))
    return style.standardIcon(fallback)


def colormap(name: str, invert: bool = False) -> pg.ColorMap:
    """A pyqtgraph colormap by the display settings' key ("gray" is built here)."""
    if name == "gray":
        cmap = pg.ColorMap([0.0, 1.0], [(0, 0, 0), (255, 255, 255)])
    else:
        cmap = pg.colormap.get(name)
    if invert:
        pos, colors = cmap.getStops()
        cmap = pg.ColorMap(1.0 - pos[::-1], colors[::-1])
    return cmap
