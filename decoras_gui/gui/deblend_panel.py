"""Deblend in the window: two blended galaxies of an optical image, each as an image of its own.

:class:`DeblendController` offers Detect > Deblend when a deblend model is installed. It deblends
the selected source (its x, y) or, with none selected, asks for a box dragged round the blend
(:class:`~.tools.DrawTool`) and deblends at its centre with the box's side as the cutout's. The
run goes through the window's :class:`~.task_bar.TaskBar` (progress, Cancel) with the PSF FWHM and
zero point of the :class:`DeblendPanel`: filled from the header
(:mod:`decoras_gui.core.optical`), each with the keyword it came from, and editable; an edited
value is given to the model, an untouched one leaves the header's (and its keyword) in charge.

The panel (the window's Deblend dock) shows the cutout, the two galaxies and the residual side by
side, on one zscale of the cutout with the main view's stretch and colormap, north up, scaled up
pixel for pixel; the photometry table (AB magnitude, flux, centroid, size, e1 and e2, one row a
galaxy) and what the numbers rest on (PSF, zero point, noise, the result's notes). The two
galaxies' FWHM ellipses and the cutout's box are drawn on the image. File > Export > Deblended
Components… writes the FITS of :meth:`~decoras_gui.core.deblend.DeblendResult.write` (cutout,
GALAXY1, GALAXY2, RESIDUAL), Deblend Photometry… the catalogue (ECSV, CSV or FITS by extension).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QDoubleValidator, QFont, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QFrame,
    QGraphicsPathItem,
    QGraphicsRectItem,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..core.deblend import DeblendResult, write_photometry
from ..core.errors import DecorasError
from ..core.geometry import distortion_to_ellipse
from ..core.image import SkyImage
from ..core.optical import HeaderValue
from ..core.optical import psf_fwhm_arcsec as header_fwhm
from ..core.optical import zero_point as header_zero_point
from . import display as disp
from .actions import make_action
from .display_panel import DisplayPanel
from .document import CatalogueDocument
from .image_view import ImageCanvas
from .overlays import ellipse_path
from .style import colormap
from .task_bar import TaskBar
from .tools import DrawTool
from .vetting import Notify
from .workers import Worker

#: the model used when several deblend models are installed
DEFAULT_MODEL = "vst-deblend"
#: the smallest cutout side (image pixels) a drawn box gives
MIN_SIDE = 32
#: on-screen side of each stamp (2.5 screen pixels an image pixel for the model's 64-pixel cutouts)
STAMP_PIXELS = 160
#: galaxy 1 and galaxy 2: yellow and pink, apart from the status colours and the selection's blue
GALAXY_COLORS = ("#F0E442", "#FF8FD0")
BOX_COLOR = "#d8dde6"
STAMPS = (("data", "Data", "The cutout the model read, background subtracted"),
          ("galaxy1", "Galaxy 1", "The brighter galaxy alone, noise-free"),
          ("galaxy2", "Galaxy 2", "The fainter galaxy alone, noise-free"),
          ("residual", "Residual", "The cutout minus both galaxies: noise, and any third object"))
#: photometry table: (heading, tooltip); the flux headings get the image's unit
COLUMNS = (("Galaxy", "1: the brighter; greyed: flux below 5 times its noise (not significant)"),
           ("mag", "AB magnitude: zero point - 2.5 log10(flux)"),
           ("mag err", "From the sky noise alone"),
           ("flux", "Sum of the galaxy's image"),
           ("flux err", "From the sky noise alone (over the galaxy's effective pixels)"),
           ("RA", "Centroid, ICRS (hover for degrees)"),
           ("Dec", "Centroid, ICRS (hover for degrees)"),
           ("x", "Centroid, pixels, 0-based (DS9 shows x + 1)"),
           ("y", "Centroid, pixels, 0-based (DS9 shows y + 1)"),
           ("size (″)", "Adaptive-moments sigma (PSF included), arcsec"),
           ("e1", "Observed distortion (a² - b²) / (a² + b²) along x"),
           ("e2", "Observed distortion along the diagonal"))


def stamp_rgb(data: np.ndarray, settings: disp.DisplaySettings, limits: disp.Limits) -> np.ndarray:
    """``data`` stretched with ``settings`` and ``limits`` and coloured: (ny, nx, 3) uint8, y up."""
    shown, _ = disp.render(data, settings, limits=limits)
    lut = colormap(settings.colormap, settings.invert).getLookupTable(0.0, 1.0, 256)[:, :3].astype(np.uint8)
    index = np.nan_to_num(shown * 255.0, nan=0.0).astype(np.int32).clip(0, 255)
    rgb = lut[index]
    rgb[~np.isfinite(shown)] = (40, 42, 48)
    return np.ascontiguousarray(rgb[::-1])  # row 0 at the top of the screen: FITS y up


def _fmt(value: float, spec: str) -> str:
    return format(value, spec) if math.isfinite(value) else "—"


class StampView(QFrame):
    """One stamp: its title, the image scaled up pixel for pixel (north up), markers, a caption."""

    def __init__(self, key: str, title: str, tip: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.key = key
        self.data: np.ndarray | None = None  # the array shown, for tests and tools
        self.setObjectName(f"stamp_{key}")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 0, 2, 0)
        layout.setSpacing(2)
        self.title = QLabel(f"<b>{title}</b>", self)
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title.setToolTip(tip)
        self.image = QLabel(self)
        self.image.setFixedSize(STAMP_PIXELS, STAMP_PIXELS)
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image.setStyleSheet("background: #15171a; border: 1px solid #3a3f47;")
        self.image.setToolTip(tip)
        self.caption = QLabel("", self)
        self.caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.caption.setStyleSheet("color: #aeb4bd;")
        for w in (self.title, self.image, self.caption):
            layout.addWidget(w, 0, Qt.AlignmentFlag.AlignHCenter)

    def clear(self) -> None:
        self.data = None
        self.image.clear()
        self.caption.setText("")

    def show_array(self, data: np.ndarray, rgb: np.ndarray, caption: str, markers=(),
                   scale_bar: tuple[float, str] | None = None) -> None:
        """Show ``rgb`` (stamp_rgb of ``data``) with ``markers``: (x, y, major, minor, theta, colour,
        label) in the cutout's pixels; ``scale_bar``: (length in pixels, label)."""
        self.data = data
        ny, nx = rgb.shape[:2]
        qimage = QImage(rgb.data, nx, ny, 3 * nx, QImage.Format.Format_RGB888).copy()
        scale = STAMP_PIXELS / max(nx, ny)
        pix = QPixmap.fromImage(qimage.scaled(round(nx * scale), round(ny * scale), Qt.AspectRatioMode.KeepAspectRatio,
                                              Qt.TransformationMode.FastTransformation))
        painter = QPainter(pix)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        font = QFont(painter.font())
        font.setBold(True)
        painter.setFont(font)
        for x, y, maj, mn, theta, color, label in markers:
            sx, sy = (x + 0.5) * scale, (ny - (y + 0.5)) * scale
            painter.save()
            painter.translate(sx, sy)
            painter.rotate(-theta)  # the screen's y runs down
            painter.setPen(QPen(QColor(color), 1.6))
            painter.drawEllipse(QPointF(0.0, 0.0), 0.5 * maj * scale, 0.5 * mn * scale)
            painter.restore()
            if label:
                painter.setPen(QColor(color))
                painter.drawText(QPointF(sx + 0.5 * maj * scale * 0.75 + 3, sy - 0.5 * maj * scale * 0.75), label)
        if scale_bar is not None and scale_bar[0] > 0:
            length, text = scale_bar
            y0 = pix.height() - 10
            painter.setPen(QPen(QColor("#ffffff"), 2))
            painter.drawLine(QPointF(8, y0), QPointF(8 + length * scale, y0))
            painter.drawText(QPointF(8, y0 - 5), text)
        painter.end()
        self.image.setPixmap(pix)
        self.caption.setText(caption)


class DeblendPanel(QWidget):
    """The Deblend dock: the stamps, the photometry table, the PSF and zero-point fields, export."""

    rerun_requested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("deblendPanel")
        self._fwhm_header: HeaderValue | None = None
        self._zp_header: HeaderValue | None = None
        self._fwhm_text = self._zp_text = ""  # what the fields were filled with from the header
        self._band = ""  # the image's filter, named in the galaxies' captions
        outer = QHBoxLayout(self)
        outer.setContentsMargins(6, 4, 6, 4)
        outer.setSpacing(10)
        # the stamps
        left = QVBoxLayout()
        left.setSpacing(2)
        row = QHBoxLayout()
        row.setSpacing(4)
        self.stamps: dict[str, StampView] = {}
        for key, title, tip in STAMPS:
            self.stamps[key] = StampView(key, title, tip, self)
            row.addWidget(self.stamps[key])
        left.addLayout(row)
        self.legend = QLabel("Select a source, or Detect > Deblend and drag a box round a blend.", self)
        self.legend.setStyleSheet("color: #aeb4bd;")
        left.addWidget(self.legend)
        outer.addLayout(left, 0)
        # what the photometry rests on, the table, notes, export
        right = QVBoxLayout()
        right.setSpacing(4)
        self.heading = QLabel("<b>No blend deblended yet</b>", self)
        self.heading.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        right.addWidget(self.heading)
        params = QGridLayout()
        params.setHorizontalSpacing(6)
        self.fwhm_edit = QLineEdit(self)
        self.fwhm_edit.setObjectName("deblendPsfFwhm")
        self.fwhm_edit.setValidator(QDoubleValidator(0.01, 60.0, 4, self.fwhm_edit))
        self.zp_edit = QLineEdit(self)
        self.zp_edit.setObjectName("deblendZeroPoint")
        self.zp_edit.setValidator(QDoubleValidator(0.0, 50.0, 4, self.zp_edit))
        self.fwhm_source, self.zp_source = QLabel("", self), QLabel("", self)
        self.fwhm_edit.textChanged.connect(self._edited)
        self.zp_edit.textChanged.connect(self._edited)
        for k, (label, edit, unit, source) in enumerate((("PSF FWHM", self.fwhm_edit, "arcsec", self.fwhm_source),
                                                         ("Zero point", self.zp_edit, "mag (AB)", self.zp_source))):
            edit.setFixedWidth(80)
            source.setStyleSheet("color: #aeb4bd;")
            params.addWidget(QLabel(label, self), 0, 4 * k)
            params.addWidget(edit, 0, 4 * k + 1)
            params.addWidget(QLabel(unit, self), 0, 4 * k + 2)
            params.addWidget(source, 0, 4 * k + 3)
        self.rerun_button = QPushButton("Deblend Again", self)
        self.rerun_button.setToolTip("Deblend the same blend with the PSF FWHM and zero point above")
        self.rerun_button.setEnabled(False)
        self.rerun_button.clicked.connect(self.rerun_requested)
        params.addWidget(self.rerun_button, 0, 8)
        params.setColumnMinimumWidth(3, 150)
        params.setColumnStretch(7, 1)
        right.addLayout(params)
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setObjectName("deblendTable")
        for c, (text, tip) in enumerate(COLUMNS):
            item = QTableWidgetItem(text)
            item.setToolTip(tip)
            self.table.setHorizontalHeaderItem(c, item)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(False)
        self.table.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self._fit_table(2)
        right.addWidget(self.table)
        self.notes = QLabel("", self)
        self.notes.setWordWrap(True)
        self.notes.setStyleSheet("color: #c8cdd4;")
        self.notes.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        right.addWidget(self.notes)
        self.message = QLabel("", self)
        self.message.setObjectName("deblendMessage")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #F0B94A;")
        self.message.setVisible(False)
        right.addWidget(self.message)
        right.addStretch(1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.export_components_button = QPushButton("Export Components…", self)
        self.export_components_button.setToolTip("The cutout, both galaxies and the residual as one FITS file")
        self.export_photometry_button = QPushButton("Export Photometry…", self)
        self.export_photometry_button.setToolTip("The photometry table as ECSV, CSV or FITS")
        for b in (self.export_components_button, self.export_photometry_button):
            b.setEnabled(False)
            buttons.addWidget(b)
        right.addLayout(buttons)
        outer.addLayout(right, 1)

    # ------------------------------------------------------------ the fields
    def set_header_values(self, fwhm: HeaderValue | None, zp: HeaderValue | None) -> None:
        """Fill the fields from a new image's header (blank when it has no value)."""
        self._fwhm_header, self._zp_header = fwhm, zp
        self._fwhm_text = f"{fwhm.value:.4g}" if fwhm else ""
        self._zp_text = f"{zp.value:.4g}" if zp else ""
        self.fwhm_edit.setText(self._fwhm_text)
        self.zp_edit.setText(self._zp_text)
        self.fwhm_edit.setPlaceholderText("type it" if fwhm is None else "")
        self.zp_edit.setPlaceholderText("none: no mags" if zp is None else "")
        self.fwhm_source.setText(f"from {fwhm.source}" if fwhm else "⚠ not in the header")
        self.fwhm_source.setToolTip("The header keyword the FWHM was read from; type another value to use it"
                                    if fwhm else "The header has no PSF_FWHM, SEEING or FWHM keyword: type the "
                                    "PSF's FWHM in arcsec to deblend")
        self.zp_source.setText(f"from {zp.source}" if zp else "not in the header")
        self.zp_source.setToolTip("The header keyword the zero point was read from; type another value to use it"
                                  if zp else "The header has no MAGZP / PHOTZP keyword: type the AB magnitude of "
                                  "one image unit to get magnitudes")
        self.fwhm_edit.setToolTip(self.fwhm_source.toolTip())
        self.zp_edit.setToolTip(self.zp_source.toolTip())
        self._edited()

    def _edited(self, *_) -> None:
        """The source labels of edited fields say so (and what the header holds)."""
        for edit, text, found, label in ((self.fwhm_edit, self._fwhm_text, self._fwhm_header, self.fwhm_source),
                                         (self.zp_edit, self._zp_text, self._zp_header, self.zp_source)):
            if edit.text().strip() == text:
                label.setText(f"from {found.source}" if found else
                              ("⚠ not in the header" if label is self.fwhm_source else "not in the header"))
            else:
                label.setText(f"typed (header: {text})" if found else "typed")

    @staticmethod
    def _value(edit: QLineEdit, what: str) -> float | None:
        text = edit.text().strip().replace(",", ".")
        if not text:
            return None
        try:
            value = float(text)
        except ValueError:
            raise DecorasError(f"the {what} {text!r} is not a number") from None
        if not (math.isfinite(value) and value > 0):
            raise DecorasError(f"the {what} must be a positive number, not {text}")
        return value

    def psf_fwhm(self) -> float | None:
        """The FWHM (arcsec) to give the model: None when the field holds the header's own value
        (the header is then read, its keyword named) or is empty."""
        if self.fwhm_edit.text().strip() == self._fwhm_text:
            return None
        return self._value(self.fwhm_edit, "PSF FWHM")

    def zero_point(self) -> float | None:
        """The zero point to give the model (None: the header's, as for :meth:`psf_fwhm`)."""
        if self.zp_edit.text().strip() == self._zp_text:
            return None
        return self._value(self.zp_edit, "zero point")

    def has_fwhm(self) -> bool:
        """True when the field or the header gives a PSF FWHM."""
        return bool(self.fwhm_edit.text().strip()) or self._fwhm_header is not None

    def say(self, text: str) -> None:
        """A message in the panel (a refused run: what to do); empty: none."""
        self.message.setText(text)
        self.message.setVisible(bool(text))

    # ----------------------------------------------------------- the result
    def clear(self) -> None:
        for stamp in self.stamps.values():
            stamp.clear()
        self.table.setRowCount(0)
        self.heading.setText("<b>No blend deblended yet</b>")
        self.notes.setText("")
        self.legend.setText("Select a source, or Detect > Deblend and drag a box round a blend.")
        self.say("")
        self.set_has_result(False)

    def set_has_result(self, on: bool) -> None:
        for b in (self.export_components_button, self.export_photometry_button, self.rerun_button):
            b.setEnabled(on)

    def show_result(self, result: DeblendResult, settings: disp.DisplaySettings, band: str = "") -> None:
        """The stamps, the table and the notes of ``result``, the stamps on one zscale of its cutout
        with the main view's stretch and colormap."""
        self.say("")
        self.show_stamps(result, settings, band)
        self._fill_table(result)
        g = result.galaxies
        n = result.cutout.shape[0]
        centre_x = result.origin[1] + (n - 1) / 2.0
        centre_y = result.origin[0] + (n - 1) / 2.0
        where = f"x {centre_x:.1f}, y {centre_y:.1f}"
        if g and math.isfinite(g[0].ra):
            ra, dec = disp.format_sexagesimal(np.array([np.mean([k.ra for k in g])]),
                                              np.array([np.mean([k.dec for k in g])]), precision=2)
            where += f"  ·  {ra[0]} {dec[0]}"
        split = ("two galaxies" if result.split else
                 f"{sum(k.significant for k in g)} significant component(s): perhaps not a blend")
        self.heading.setText(f"<b>Blend at {where}</b>  ·  {split}  ·  {result.model}")
        unit = result.unit or "image units"
        side = result.pixel_arcsec * n
        lines = [f"PSF FWHM {result.psf_fwhm_arcsec:.3g}″ ({result.psf_source})",
                 (f"ZP {result.zero_point:.3f} ({result.zero_point_source})" if result.zero_point is not None
                  else "no zero point: no magnitudes"),
                 f"sky σ {result.noise_sigma:.3g} {unit}/px, background {result.background:.3g} {unit} subtracted",
                 f"cutout {n}×{n} px ({side:.1f}″)"]
        text = "  ·  ".join(lines)
        if result.notes:
            text += "<br>" + "<br>".join(f"⚠ {note}" for note in result.notes)
        self.notes.setText(text)
        self.set_has_result(True)

    def show_stamps(self, result: DeblendResult, settings: disp.DisplaySettings, band: str = "") -> None:
        self._band = band
        look = settings.replace(limits="zscale")
        limits = disp.compute_limits(result.cutout, look)
        n = result.cutout.shape[0]
        sigma = result.noise_sigma
        unit = result.unit or "units"
        markers = []
        for k, g in enumerate(result.galaxies):
            maj, mn, theta = distortion_to_ellipse(g.size_arcsec / result.pixel_arcsec, g.e1, g.e2)
            markers.append((g.x - result.origin[1], g.y - result.origin[0], maj, mn, theta,
                            GALAXY_COLORS[k % 2], str(g.index)))
        length, label = (disp.scale_bar_length(result.pixel_arcsec / 3600.0, 0.35 * n) if result.pixel_arcsec
                         else (0.0, ""))
        data = result.cutout
        self.stamps["data"].show_array(data, stamp_rgb(data, look, limits),
                                       f"{n}×{n} px, σ {sigma:.3g} {unit}", markers, (length, label))
        for k, g in enumerate(result.galaxies[:2]):
            named = f"{band} = " if band else ""
            mag = f"{named}{g.mag:.3f} ± {g.mag_err:.3f}" if math.isfinite(g.mag) else f"flux {g.flux:.4g} {unit}"
            self.stamps[f"galaxy{k + 1}"].show_array(g.image, stamp_rgb(g.image, look, limits), mag, [markers[k]])
        residual = result.residual
        rms = float(np.nanstd(residual)) / sigma if sigma > 0 else math.nan
        self.stamps["residual"].show_array(residual, stamp_rgb(residual, look, limits),
                                           f"rms {_fmt(rms, '.2f')} σ")
        stretch = disp.STRETCHES.get(look.stretch, look.stretch).lower()
        self.legend.setText(f"One zscale of the cutout ({limits[0]:.3g} to {limits[1]:.3g} {unit}), {stretch}; "
                            f"north up, east left; ellipses: each galaxy's FWHM")

    def _fill_table(self, result: DeblendResult) -> None:
        unit = result.unit or "units"
        for c, text in ((3, f"flux ({unit})"), (4, "flux err")):
            self.table.horizontalHeaderItem(c).setText(text)
        galaxies = result.galaxies
        ras, decs = disp.format_sexagesimal(np.array([g.ra for g in galaxies]), np.array([g.dec for g in galaxies]),
                                            precision=2)
        self.table.setRowCount(len(galaxies))
        for r, g in enumerate(galaxies):
            cells = [(f"  {g.index}" + ("" if g.significant else "  (< 5σ)"), g.index),
                     (_fmt(g.mag, ".3f"), g.mag), (_fmt(g.mag_err, ".3f"), g.mag_err),
                     (_fmt(g.flux, ".5g"), g.flux), (_fmt(g.flux_err, ".3g"), g.flux_err),
                     (ras[r] or "—", g.ra), (decs[r] or "—", g.dec),
                     (_fmt(g.x, ".2f"), g.x), (_fmt(g.y, ".2f"), g.y),
                     (_fmt(g.size_arcsec, ".3f"), g.size_arcsec), (_fmt(g.e1, "+.3f"), g.e1),
                     (_fmt(g.e2, "+.3f"), g.e2)]
            for c, (text, value) in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, float(value))
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if c in (5, 6) and math.isfinite(value):
                    item.setToolTip(f"{value:.7f}°")
                if c == 0:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
                    pix = QPixmap(12, 12)
                    pix.fill(QColor(GALAXY_COLORS[r % 2]))
                    item.setIcon(pix)
                if not g.significant:
                    item.setForeground(QColor("#8a9099"))
                self.table.setItem(r, c, item)

    def _fit_table(self, rows: int) -> None:
        """Tall enough for its ``rows`` (two galaxies) with no scrolling, and the scroll bar's room."""
        header = self.table.horizontalHeader().sizeHint().height()
        bar = self.table.horizontalScrollBar().sizeHint().height()
        self.table.setFixedHeight(header + max(rows, 2) * self.table.verticalHeader().defaultSectionSize()
                                  + 2 * self.table.frameWidth() + bar)

    def value(self, row: int, column: int) -> float:
        """The number behind a table cell (NaN where blank)."""
        item = self.table.item(row, column)
        return float(item.data(Qt.ItemDataRole.UserRole)) if item is not None else math.nan


class DeblendMarkers(QObject):
    """The two galaxies' FWHM ellipses, their numbers and the cutout's box on the main image."""

    def __init__(self, view_box: pg.ViewBox, parent: QObject | None = None):
        super().__init__(parent)
        self.vb = view_box
        self.box = QGraphicsRectItem()
        pen = pg.mkPen(BOX_COLOR, width=1, style=Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        self.box.setPen(pen)
        self.box.setZValue(30)
        self.ellipses, self.labels = [], []
        for color in GALAXY_COLORS:
            item = QGraphicsPathItem()
            pen = pg.mkPen(color, width=2)
            pen.setCosmetic(True)
            item.setPen(pen)
            item.setZValue(31)
            self.ellipses.append(item)
            label = pg.TextItem("", color=color, anchor=(0.0, 1.0))
            font = QFont(label.textItem.font())
            font.setBold(True)
            font.setPointSizeF(font.pointSizeF() * 1.3)
            label.setFont(font)
            label.setZValue(32)
            self.labels.append(label)
        for item in (self.box, *self.ellipses, *self.labels):
            item.setVisible(False)
            self.vb.addItem(item, ignoreBounds=True)

    def show(self, result: DeblendResult) -> None:
        y0, x0 = result.origin
        ny, nx = result.cutout.shape
        self.box.setRect(QRectF(x0 - 0.5, y0 - 0.5, nx, ny))
        self.box.setVisible(True)
        for k, (ellipse, label) in enumerate(zip(self.ellipses, self.labels)):
            if k >= len(result.galaxies):
                ellipse.setVisible(False)
                label.setVisible(False)
                continue
            g = result.galaxies[k]
            maj, mn, theta = distortion_to_ellipse(g.size_arcsec / result.pixel_arcsec, g.e1, g.e2)
            ellipse.setPath(ellipse_path([g.x], [g.y], [maj], [mn], [theta], n=48))
            ellipse.setVisible(True)
            label.setText(str(g.index))
            label.setPos(g.x + 0.45 * maj, g.y + 0.45 * maj)
            label.setVisible(True)

    def clear(self) -> None:
        for item in (self.box, *self.ellipses, *self.labels):
            item.setVisible(False)


class DeblendController(QObject):
    """The deblend task of one window (see the module docstring)."""

    finished = Signal(object)  # the DeblendResult
    cancelled = Signal()
    refused = Signal(str)  # a run not started, and why (no PSF FWHM, no pixel size…)
    box_mode_changed = Signal(bool)  # the box tool waits for a drag (Esc, i.e. Detect > Cancel, leaves it)

    def __init__(self, tasks: TaskBar, image: Callable[[], SkyImage | None], doc: CatalogueDocument,
                 canvas: ImageCanvas, display: DisplayPanel, model_dir: Path | None, notify: Notify,
                 error: Callable[[str, str], object], parent: QWidget,
                 device: Callable[[], str] = lambda: "auto"):
        super().__init__(parent)
        self.tasks, self.image, self.doc, self.canvas, self.display = tasks, image, doc, canvas, display
        self.model_dir, self.notify, self.error, self.device = model_dir, notify, error, device
        self.result: DeblendResult | None = None
        self.last: tuple[float, float, int | None] | None = None  # (x, y, side) of the last run
        self.dock = None  # the window's dock of the panel, raised to show a result
        self._models: dict[str, object] = {}
        self.panel = DeblendPanel(parent)
        self.panel.rerun_requested.connect(self.rerun)
        self.panel.export_components_button.clicked.connect(self.export_components_dialog)
        self.panel.export_photometry_button.clicked.connect(self.export_photometry_dialog)
        self.markers = DeblendMarkers(canvas.vb, self)
        self.box_tool = DrawTool(canvas.vb, self)
        self.box_tool.drawn.connect(self._box_drawn)
        self._other_tool = None  # the drag handler of a tool the box tool took over from (Add Source…)
        display.settings_changed.connect(self._restretch)
        self._build_actions(parent)

    # ---------------------------------------------------------------- actions
    def _build_actions(self, w: QWidget) -> None:
        self.act_deblend = make_action(w, "De&blend", self.start, (),
                                       "Split the selected blend (or drag a box round one) into its two galaxies "
                                       "with the deblend model", name="deblend")
        self.act_export_components = make_action(w, "Deblended &Components…", self.export_components_dialog, (),
                                                 "Write the cutout, both galaxies and the residual as FITS",
                                                 name="export_deblend_components")
        self.act_export_photometry = make_action(w, "Deblend &Photometry…", self.export_photometry_dialog, (),
                                                 "Write the deblended galaxies' photometry (ECSV, CSV or FITS)",
                                                 name="export_deblend_photometry")
        self.update_actions()

    def update_actions(self, *_) -> None:
        has_result = self.result is not None
        self.act_deblend.setEnabled(self.image() is not None and self.tasks.running("deblend") is None
                                    and bool(self.deblend_models()))
        for a in (self.act_export_components, self.act_export_photometry):
            a.setEnabled(has_result)
        self.panel.set_has_result(has_result and self.tasks.running("deblend") is None)

    # ----------------------------------------------------------------- models
    def deblend_models(self) -> list:
        from ..ml.registry import installed_cards

        return installed_cards(self.model_dir, task="deblend")

    def model_name(self) -> str | None:
        """The deblend model to use: :data:`DEFAULT_MODEL` when installed, else the first (None: none)."""
        names = [c.name for c in self.deblend_models()]
        return DEFAULT_MODEL if DEFAULT_MODEL in names else (names[0] if names else None)

    # -------------------------------------------------------------- an image
    def image_opened(self, image: SkyImage) -> None:
        """A new image: its header's PSF FWHM and zero point in the fields; the old blend is not its."""
        self.result, self.last = None, None
        self.cancel_box()
        self.markers.clear()
        self.panel.clear()
        pixel = image.pixel_scale_deg * 3600.0 if image.pixel_scale_deg else None
        self.panel.set_header_values(header_fwhm(image.header, pixel),
                                     header_zero_point(image.header, str(image.header.get("BUNIT", ""))))
        self.update_actions()

    def selected_position(self) -> tuple[float, float] | None:
        """(x, y) of the first selected source, if one is selected."""
        for sid in self.doc.selected_ids:
            try:
                s = self.doc.catalogue.get(int(sid))
            except (KeyError, IndexError):
                continue
            if math.isfinite(s.x) and math.isfinite(s.y):
                return float(s.x), float(s.y)
        return None

    # -------------------------------------------------------------------- run
    def start(self, x: float | None = None, y: float | None = None, side: int | None = None) -> Worker | None:
        """Deblend at pixel (x, y) (0-based; default: the selected source, else a box to drag) with a
        cutout of ``side`` image pixels (default the model's 64 pixels)."""
        running = self.tasks.running("deblend")
        if running is not None:
            return running
        image = self.image()
        if image is None:
            return None
        if x is None or y is None:
            at = self.selected_position()
            if at is None:
                if not self.box_tool.active:
                    self._other_tool = self.canvas.vb.drag_handler
                    self.box_tool.set_active(True)
                    self.box_mode_changed.emit(True)
                self.panel.say("")
                self.notify("Deblend: drag a box round the blend on the image (Esc cancels)", 0)
                return None
            x, y = at
        self.cancel_box()
        name = self.model_name()
        if not name:
            self.error("Deblend", "No deblend model is installed (decoras train --config models/vst-deblend.toml "
                                  "makes one).")
            return None
        if not image.pixel_scale_deg:
            return self._refuse("Deblending needs the image's pixel size: its header has no celestial WCS.")
        if not self.panel.has_fwhm():
            return self._refuse("Deblending needs the PSF's FWHM: the header has no PSF_FWHM, SEEING or FWHM "
                                "keyword. Type the FWHM (arcsec) in the Deblend panel's PSF FWHM field, then "
                                "Deblend again.", focus=self.panel.fwhm_edit)
        try:
            fwhm, zp = self.panel.psf_fwhm(), self.panel.zero_point()
        except DecorasError as exc:
            return self._refuse(f"Deblend: {exc}.")
        self.panel.say("")
        self.last = (float(x), float(y), side)
        cache, folder, device = self._models, self.model_dir, self.device() or "auto"
        pos = (float(x), float(y))

        def task(progress, cancel):
            from ..ml.registry import load_model
            from ..ml.tasks.deblend import deblend_image

            model = cache.get(name)
            if model is None:
                progress(None, f"loading model {name}…")
                model = cache[name] = load_model(name, folder, task="deblend")
            progress(0.0, f"deblending with {model.label}…")
            (result,) = deblend_image(image, model, [pos], psf_fwhm_arcsec=fwhm, zero_point=zp, device=device,
                                      side=side, progress=progress, cancel=cancel)
            return image, result

        worker = self.tasks.start(task, "deblend", f"Deblending at ({x:.0f}, {y:.0f})…")
        worker.succeeded.connect(self._done)
        worker.cancelled.connect(self._cancelled)
        worker.done.connect(self.update_actions)
        self.update_actions()
        return worker

    def rerun(self) -> Worker | None:
        """Deblend the last blend again (with the fields' values now); the selection's without one."""
        if self.last is None:
            return self.start()
        return self.start(*self.last)

    def _refuse(self, message: str, focus: QWidget | None = None) -> None:
        self.panel.say(message)
        self._raise_panel()
        if focus is not None:
            focus.setFocus()
        self.notify(message, 15000)
        self.refused.emit(message)
        return None

    def _box_drawn(self, x: float, y: float, maj: float, mn: float, theta: float) -> None:
        self.cancel_box()
        self.start(x, y, max(MIN_SIDE, int(round(maj))))

    def cancel_box(self) -> None:
        """Leave the box tool (Esc, a new image, a run started); the tool it took over from is back."""
        if self.box_tool.active:
            self.box_tool.set_active(False)
            self.canvas.vb.drag_handler, self._other_tool = self._other_tool, None
            self.box_mode_changed.emit(False)

    def _done(self, result) -> None:
        if result is None:
            return self._cancelled()
        image, res = result
        if image is not self.image():  # another image was opened meanwhile
            return self._cancelled()
        self.result = res
        band = str(image.header.get("FILTER", "")).strip().split("_")[0]  # r_SDSS: r
        band = band if len(band) <= 3 else ""
        self.panel.show_result(res, self.display.settings, band)
        self.markers.show(res)
        self._raise_panel()
        self.update_actions()
        mags = ", ".join(f"{g.index}: {g.mag:.2f} mag" if math.isfinite(g.mag) else f"{g.index}: flux {g.flux:.4g}"
                         for g in res.galaxies)
        message = f"Deblended ({res.model}): {mags}" + (f" — {res.notes[0]}" if res.notes else "")
        QTimer.singleShot(0, self, lambda: self.notify(message, 15000))
        self.finished.emit(res)

    def _cancelled(self) -> None:
        self.update_actions()
        self.notify("Deblending cancelled.", 8000)
        self.cancelled.emit()

    def _raise_panel(self) -> None:
        if self.dock is not None:
            self.dock.show()
            self.dock.raise_()

    def _restretch(self, settings: disp.DisplaySettings) -> None:
        if self.result is not None:
            self.panel.show_stamps(self.result, settings, self.panel._band)

    # ---------------------------------------------------------------- export
    def _stem(self) -> tuple[Path, str]:
        image = self.image()
        path = Path(self.result.image_path) if self.result and self.result.image_path else (
            image.path if image is not None else Path("image.fits"))
        return path.parent, path.name.split(".fits")[0]

    def export_components_dialog(self) -> Path | None:
        if self.result is None:
            return None
        folder, stem = self._stem()
        path, _ = QFileDialog.getSaveFileName(self.parent(), "Export Deblended Components",
                                              str(folder / f"{stem}-deblend.fits"), "FITS (*.fits)")
        return self.export_components(path) if path else None

    def export_photometry_dialog(self) -> Path | None:
        if self.result is None:
            return None
        folder, stem = self._stem()
        path, _ = QFileDialog.getSaveFileName(self.parent(), "Export Deblend Photometry",
                                              str(folder / f"{stem}-deblend.ecsv"),
                                              "ECSV (*.ecsv);;CSV (*.csv);;FITS table (*.fits)")
        return self.export_photometry(path) if path else None

    def export_components(self, path: str | Path) -> Path | None:
        """The cutout, GALAXY1, GALAXY2 and RESIDUAL as one FITS file; errors in a dialog naming it."""
        if self.result is None:
            return None
        try:
            written = self.result.write(path)
        except (DecorasError, OSError) as exc:
            self.error("Export Deblended Components", f"{path}: {exc}")
            return None
        self.notify(f"Deblended components written to {written}", 8000)
        return written

    def export_photometry(self, path: str | Path) -> Path | None:
        """The photometry table (format from the extension: .ecsv, .csv, .fits)."""
        if self.result is None:
            return None
        try:
            written = write_photometry([self.result], path)
        except (DecorasError, OSError, ValueError) as exc:
            self.error("Export Deblend Photometry", f"{path}: {exc}")
            return None
        self.notify(f"Deblend photometry written to {written}", 8000)
        return written


__all__ = ["DeblendController", "DeblendPanel", "stamp_rgb"]
