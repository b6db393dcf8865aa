"""The Display panel: stretch, limits, colormap and histogram, and the rendering of the open image.

:class:`DisplayPanel` holds the display settings of the window, turns the open image into
the canvas's 0..1 pixels with :func:`~decoras_gui.gui.display.render` (the numpy side,
Qt-free) and, for a huge image, renders full-resolution detail of the visible region once
zoomed in past its overview. The loading thread renders an image first; :meth:`show` takes
that result, so nothing heavy runs on the UI thread when an image opens.

An optical image (no beam, counts: :func:`decoras_gui.core.optical.is_optical`) is shown with
the optical stretch and limits (:func:`~decoras_gui.gui.display.optical_settings`, zscale) until
the user picks a stretch or limits of their own; a radio image keeps the defaults. The automatic
choice is not the user's: :meth:`DisplayPanel.user_settings` (what the window saves) leaves it out.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QApplication, QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QWidget

from ..core.image import SkyImage
from ..core.optical import is_optical
from . import display as disp
from .image_view import ImageCanvas
from .style import colormap


def _render(image: SkyImage, overview: np.ndarray | None, settings: disp.DisplaySettings):
    """(pixels 0..1, limits) of ``image``: a huge image is drawn from its block-mean ``overview``
    with limits from the full-resolution pixels (detail is rendered on zooming in)."""
    if overview is None:
        return disp.render(image.data, settings)
    return disp.render(overview, settings, limits=disp.compute_limits(image.data, settings))


def look_for(image: SkyImage, settings: disp.DisplaySettings) -> tuple[disp.DisplaySettings, str]:
    """The settings ``image`` is shown with when the user chose no stretch or limits: the optical
    ones for an optical image ("optical"), else ``settings`` ("")."""
    if is_optical(image.header, image.beam is not None):
        return disp.optical_settings(settings), "optical"
    return settings, ""


class DisplayPanel(QWidget):
    """Display controls of one window, over its :class:`ImageCanvas`."""

    settings_changed = Signal(object)  # DisplaySettings, after the image was re-rendered

    def __init__(self, canvas: ImageCanvas, settings: disp.DisplaySettings, parent: QWidget | None = None):
        super().__init__(parent)
        self.canvas = canvas
        self.settings = settings
        self.image: SkyImage | None = None
        self.limits: tuple[float, float] | None = None
        self.overview: np.ndarray | None = None  # block means of a huge image (display.overview)
        # an array on the image's grid shown instead of it (a recovered sky map, a residual), stretched
        # with the image's limits so that the two read on one scale; None: the image
        self.layer: np.ndarray | None = None
        # the user chose a stretch or limits (saved ones other than the defaults count); until then an
        # optical image gets the optical ones, and ``automatic`` says the settings shown are those
        self.chosen = not disp.default_look(settings)
        self.automatic = ""
        form = QFormLayout(self)
        form.setContentsMargins(8, 8, 8, 8)
        self.stretch_combo = self._combo(disp.STRETCHES)
        self.limits_combo = self._combo(disp.LIMITS)
        self.vmin_spin, self.vmax_spin = QDoubleSpinBox(self), QDoubleSpinBox(self)
        for s in (self.vmin_spin, self.vmax_spin):
            s.setDecimals(6)
            s.setRange(-1e30, 1e30)
            s.setKeyboardTracking(False)
        self.cmap_combo = self._combo(disp.COLORMAPS)
        self.invert_check = QCheckBox("Invert colormap", self)
        for label, widget in (("Stretch", self.stretch_combo), ("Limits", self.limits_combo), ("Min", self.vmin_spin),
                              ("Max", self.vmax_spin), ("Colormap", self.cmap_combo), ("", self.invert_check)):
            form.addRow(label, widget)
        self.hist = pg.HistogramLUTWidget(self, image=canvas.image_item, orientation="horizontal",
                                          gradientPosition="bottom")
        self.hist.setMinimumHeight(120)
        self.hist.setBackground("#1e2024")
        self.hist.item.sigLookupTableChanged.connect(canvas.sync_detail_look)
        self.hist.item.sigLevelsChanged.connect(canvas.sync_detail_look)
        form.addRow(self.hist)
        canvas.detail_wanted.connect(self.render_detail)
        self._sync_controls()
        for combo in (self.stretch_combo, self.limits_combo, self.cmap_combo):
            combo.currentIndexChanged.connect(self._controls_changed)
        self.invert_check.toggled.connect(self._controls_changed)
        self.vmin_spin.valueChanged.connect(self._manual_limits_changed)
        self.vmax_spin.valueChanged.connect(self._manual_limits_changed)

    def _combo(self, items: dict[str, str]) -> QComboBox:
        combo = QComboBox(self)
        for key, label in items.items():
            combo.addItem(label, key)
        return combo

    # -------------------------------------------------------------- rendering
    def render_job(self, max_side: int | None = None) -> Callable[[SkyImage], dict]:
        """A function for the loading thread: the image rendered with the settings of now; as an
        overview of at most ``max_side`` pixels a side when given (a cube's plane shown whole in
        a view smaller than it: the full resolution is rendered for the region zoomed into)."""
        base, chosen = self.user_settings(), self.chosen

        def job(image: SkyImage) -> dict:
            settings = base if chosen else look_for(image, base)[0]
            factor = disp.overview_factor(image.shape, max_side)
            overview = disp.overview(image.data, factor) if factor > 1 else None
            display, limits = _render(image, overview, settings)
            return {"display": display, "limits": limits, "settings": settings, "overview": overview,
                    "factor": factor}

        return job

    def show(self, image: SkyImage, rendered: dict, keep_view: bool = False) -> None:
        """Put ``image`` on the canvas as the loading thread rendered it (:meth:`render_job`);
        ``keep_view``: the same zoom and pan (another plane of the same cube)."""
        self.image, self.limits, self.overview = image, rendered["limits"], rendered["overview"]
        self.layer = None
        wanted, automatic = (self.settings, self.automatic) if self.chosen else look_for(image, self.user_settings())
        changed, self.settings, self.automatic = wanted != self.settings, wanted, automatic
        self.canvas.set_image(rendered["display"], full_shape=image.shape, factor=rendered["factor"],
                              keep_view=keep_view)
        self.hist.setLevels(0.0, 1.0)
        self.hist.setHistogramRange(0.0, 1.0)
        self._apply_colormap()
        if rendered["settings"] != self.settings:  # changed while it loaded
            self.refresh()
        self._sync_controls()
        if changed:
            self.settings_changed.emit(self.settings)

    def refresh(self) -> None:
        """Re-stretch the open image with the current settings (levels back to 0..1)."""
        if self.image is None:
            return
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            if self.layer is None:
                display, self.limits = _render(self.image, self.overview, self.settings)
            else:
                self.limits = disp.compute_limits(self.image.data, self.settings)
                factor = self.canvas.overview_factor
                shown = disp.overview(self.layer, factor) if factor > 1 else self.layer
                display, _ = disp.render(shown, self.settings, limits=self.limits)
            self.canvas.set_image(display, keep_view=True, full_shape=self.image.shape,
                                  factor=self.canvas.overview_factor)
            self.hist.setLevels(0.0, 1.0)
            self.render_detail()
        finally:
            QApplication.restoreOverrideCursor()

    def render_detail(self) -> None:
        """Full-resolution pixels of the visible region of a huge image, once zoomed in past
        what its overview shows (the canvas asks when the view settles)."""
        factor = self.canvas.overview_factor
        if self.image is None or factor <= 1 or self.limits is None:
            return
        region = disp.detail_region(tuple(self.canvas.view_range()), self.image.shape)
        if region is None or self.canvas.pixel_size() >= factor:
            self.canvas.clear_detail()
            return
        if region == self.canvas.detail_region:
            return
        x0, x1, y0, y1 = region
        data = self.image.data if self.layer is None else self.layer
        patch, _ = disp.render(data[y0:y1, x0:x1], self.settings, limits=self.limits)
        self.canvas.set_detail(patch, region)

    def set_layer(self, data: np.ndarray | None) -> None:
        """Show ``data`` (the image's grid) instead of the image, on the image's scale; None: the image."""
        if data is not None and self.image is not None and data.shape != self.image.shape:
            raise ValueError(f"a layer of {data.shape} pixels does not fit the image's {self.image.shape}")
        self.layer = data
        self.canvas.clear_detail()
        self.refresh()

    def _apply_colormap(self) -> None:
        self.hist.gradient.setColorMap(colormap(self.settings.colormap, self.settings.invert))

    # --------------------------------------------------------------- settings
    def user_settings(self) -> disp.DisplaySettings:
        """The settings without an automatic choice for the image (the defaults' stretch and limits
        in place of the optical ones): what is saved, and what the next image starts from."""
        if not self.automatic:
            return self.settings
        d = disp.DisplaySettings()
        return self.settings.replace(stretch=d.stretch, limits=d.limits)

    def set_settings(self, settings: disp.DisplaySettings) -> None:
        old, self.settings = self.settings, settings
        if (old.stretch, old.limits) != (settings.stretch, settings.limits):
            self.automatic = ""
        if (old.colormap, old.invert) != (settings.colormap, settings.invert):
            self._apply_colormap()
        if old.replace(colormap=settings.colormap, invert=settings.invert) != settings:
            self.refresh()  # stretch, limits or their parameters changed
        self._sync_controls()
        self.settings_changed.emit(settings)

    def _sync_controls(self) -> None:
        s = self.settings
        widgets = (self.stretch_combo, self.limits_combo, self.cmap_combo, self.invert_check, self.vmin_spin,
                   self.vmax_spin)
        for w in widgets:
            w.blockSignals(True)
        for combo, key in ((self.stretch_combo, s.stretch), (self.limits_combo, s.limits),
                           (self.cmap_combo, s.colormap)):
            combo.setCurrentIndex(max(0, combo.findData(key)))
        self.invert_check.setChecked(s.invert)
        if self.limits:
            self.vmin_spin.setValue(self.limits[0])
            self.vmax_spin.setValue(self.limits[1])
        manual = s.limits == "manual"
        self.vmin_spin.setEnabled(manual)
        self.vmax_spin.setEnabled(manual)
        for w in widgets:
            w.blockSignals(False)

    def _controls_changed(self) -> None:
        s = self.settings.replace(stretch=self.stretch_combo.currentData(), limits=self.limits_combo.currentData(),
                                  colormap=self.cmap_combo.currentData(), invert=self.invert_check.isChecked())
        if s.limits == "manual" and self.limits and not math.isfinite(s.vmin):
            s = s.replace(vmin=self.limits[0], vmax=self.limits[1])
        if (s.stretch, s.limits) != (self.settings.stretch, self.settings.limits):
            self.chosen = True  # the user's own: kept for every image from now on
        self.set_settings(s)

    def _manual_limits_changed(self) -> None:
        if self.settings.limits == "manual":
            self.chosen = True
            self.set_settings(self.settings.replace(vmin=self.vmin_spin.value(), vmax=self.vmax_spin.value()))


__all__ = ["DisplayPanel"]
