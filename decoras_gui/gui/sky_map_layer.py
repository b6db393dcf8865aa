"""Recover Surface Brightness in the window: the restore task off the UI thread, its map as a layer.

:class:`SkyMapController` offers Detect > Recover Surface Brightness when a restore model is
installed (the one whose domain suits the open image best, :mod:`decoras_gui.ml.model_choice`),
runs it through the window's :class:`~.task_bar.TaskBar` with progress and cancel, and keeps the
map (:class:`decoras_gui.core.sky_map.SkyMap`) and its residual (the image less the map as the
image shows it: with the dirty beam found beside a dirty image, or the restoring beam of a CLEANed
one). View > Sky Map shows the image, the map or the residual on the image's own scale (the map
times the beam area, so that Jy/pixel reads as the image's Jy/beam), blinks image and map, or puts
the map beside the image in a second, linked view. Flux in Region: drag an ellipse, the status bar
gives the map's flux inside it (and the image's, summed over the beam area). File > Export >
Sky Map… writes the map as FITS. Detected sources keep their overlay whatever is shown.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QFileDialog, QWidget

from ..core.errors import DecorasError
from ..core.image import SkyImage
from ..core.sky_map import SkyMap
from .actions import make_action
from .display_panel import DisplayPanel
from .image_view import ImageCanvas
from .task_bar import TaskBar
from .tools import DrawTool
from .vetting import Notify
from .workers import Worker

MODES = {"image": "&Image", "map": "Recovered &Map", "residual": "&Residual"}
BLINK_MS = 700


def ellipse_mask(shape: tuple[int, int], x: float, y: float, maj: float, mn: float, theta_deg: float) -> np.ndarray:
    """Pixels inside the ellipse of full axes ``maj`` x ``mn`` (pixels) centred on (x, y), its major
    axis ``theta_deg`` counter-clockwise from +x."""
    yy, xx = np.mgrid[:shape[0], :shape[1]]
    t = math.radians(theta_deg)
    dx, dy = xx - x, yy - y
    a = dx * math.cos(t) + dy * math.sin(t)
    b = -dx * math.sin(t) + dy * math.cos(t)
    return (a / max(maj / 2, 0.5)) ** 2 + (b / max(mn / 2, 0.5)) ** 2 <= 1.0


class SkyMapController(QObject):
    """The restore task of one window: run, layer, blink, side by side, flux in a region, export."""

    finished = Signal(object)  # the SkyMap
    cancelled = Signal()
    mode_changed = Signal(str)

    def __init__(self, tasks: TaskBar, image: Callable[[], SkyImage | None], model_dir: Path | None,
                 display: DisplayPanel, canvas: ImageCanvas, notify: Notify,
                 error: Callable[[str, str], object], parent: QWidget):
        super().__init__(parent)
        self.tasks, self.image, self.model_dir = tasks, image, model_dir
        self.display, self.canvas, self.notify, self.error = display, canvas, notify, error
        self.sky: SkyMap | None = None
        self.residual: np.ndarray | None = None
        self.mode = "image"
        self._models: dict[str, object] = {}
        self.side = ImageCanvas(parent)
        self.side.setVisible(False)
        self.side.setObjectName("skyMapSideView")
        self._linked = False  # the two views' ranges follow each other
        self._syncing = False  # one view is being moved to the other's range
        self._blink = QTimer(self)
        self._blink.setInterval(BLINK_MS)
        self._blink.timeout.connect(self._blink_step)
        self.flux_tool = DrawTool(canvas.vb, self)
        self.flux_tool.drawn.connect(self._flux_drawn)
        self.last_flux: tuple[float, float] | None = None
        self._build_actions(parent)

    # ---------------------------------------------------------------- actions
    def _build_actions(self, w: QWidget) -> None:
        self.act_restore = make_action(w, "Recover &Surface Brightness", self.start, "Ctrl+R",
                                       "Recover the sky's surface brightness with the restore model (Ctrl+R)",
                                       name="recover_surface_brightness")
        self.mode_actions: dict[str, QAction] = {}
        group = QActionGroup(w)
        for mode, text in MODES.items():
            a = make_action(w, text, lambda _=False, m=mode: self.show_mode(m), (), f"Show the {mode}",
                            checkable=True, name=f"show_{mode}")
            group.addAction(a)
            self.mode_actions[mode] = a
        self.mode_actions["image"].setChecked(True)
        self.act_blink = make_action(w, "&Blink Image and Map", self.set_blink, "B",
                                     "Alternate the image and the recovered map (B)", checkable=True, name="blink")
        self.act_side = make_action(w, "Map &Beside the Image", self.set_side_by_side, (),
                                    "The recovered map in a second view beside the image, panned and zoomed with it",
                                    checkable=True, name="side_by_side")
        self.act_flux = make_action(w, "&Flux in Region", self.flux_tool.set_active, (),
                                    "Drag an ellipse: the map's flux inside it", checkable=True, name="flux_in_region")
        self.act_export = make_action(w, "Sky &Map…", self.export_dialog, (), "Write the recovered map as FITS",
                                      name="export_sky_map")
        self.update_actions()

    def update_actions(self) -> None:
        has_image, has_map = self.image() is not None, self.sky is not None
        self.act_restore.setEnabled(has_image and self.tasks.running("restore") is None
                                    and bool(self.restore_models()))
        for mode, a in self.mode_actions.items():
            a.setEnabled(has_image and (mode == "image" or has_map))
        for a in (self.act_blink, self.act_side, self.act_flux, self.act_export):
            a.setEnabled(has_map)

    # ----------------------------------------------------------------- models
    def restore_models(self) -> list:
        from ..ml.registry import installed_cards

        return installed_cards(self.model_dir, task="restore")

    def model_for(self, image: SkyImage) -> str | None:
        """The installed restore model whose domain suits ``image`` best (None: none installed)."""
        from ..core.image_domain import image_domain
        from ..ml.model_choice import choose_model

        cards = self.restore_models()
        if not cards:
            return None
        choice = choose_model(cards, image_domain(image))
        return (choice.card or cards[0]).name

    # -------------------------------------------------------------------- run
    def image_opened(self, image: SkyImage) -> None:
        """A new image: the old map is not its (the display already shows the new image)."""
        self.sky, self.residual, self.last_flux, self.mode = None, None, None, "image"
        self._blink.stop()
        self.act_blink.setChecked(False)
        self.set_side_by_side(False)
        self.mode_actions["image"].setChecked(True)
        self.update_actions()

    def start(self, model_name: str | None = None, device: str = "auto") -> Worker | None:
        """Run the restore model on the open image (one run at a time)."""
        running = self.tasks.running("restore")
        if running is not None:
            return running
        image = self.image()
        if image is None:
            return None
        name = model_name if isinstance(model_name, str) else self.model_for(image)
        if not name:
            self.error("Recover Surface Brightness", "No restore model is installed (decoras train --config "
                       "models/lofar-restore.toml makes one).")
            return None
        cache, folder = self._models, self.model_dir

        def task(progress, cancel):
            from ..core.image_domain import kind_of
            from ..core.psf import find_psf, load_psf
            from ..ml.registry import load_model
            from ..ml.tasks import get_task

            model = cache.get(name)
            if model is None:
                progress(None, f"loading model {name}…")
                model = cache[name] = load_model(name, folder, task="restore")
            dirty = (kind_of(image)[0] or model.card.image_kind) == "dirty"
            psf_path = find_psf(image.path) if dirty else None
            psf = load_psf(psf_path, image) if psf_path is not None else None
            progress(0.0, f"recovering the surface brightness with {model.label}…")
            out = get_task("restore").run(image, model, device=device, progress=progress, cancel=cancel, psf=psf)
            sky = out.result
            residual = None
            if psf is not None or not dirty:
                residual = sky.residual(np.asarray(image.data, np.float32), psf.data if psf is not None else None)
            return image, sky, residual, psf_path

        worker = self.tasks.start(task, "restore", "Recovering the surface brightness…")
        worker.succeeded.connect(self._done)
        worker.cancelled.connect(self._cancelled)
        self.update_actions()
        return worker

    def _done(self, result) -> None:
        if result is None:
            return self._cancelled()
        image, sky, residual, psf_path = result
        if image is not self.image():  # another image was opened meanwhile
            return self._cancelled()
        self.sky, self.residual = sky, residual
        self.mode_actions["residual"].setToolTip(
            "The image less the map as the image shows it" if residual is not None else
            "No residual: no dirty beam was found beside this dirty image")
        self.update_actions()
        self.show_mode("map")
        beam = (f"; residual with {psf_path.name}" if psf_path is not None else
                "; residual with the restoring beam" if residual is not None else "; no dirty beam: no residual")
        message = f"Recovered map ({sky.model}): total flux {sky.total_flux():.4g} Jy{beam}."
        QTimer.singleShot(0, self, lambda: self.notify(message, 10000))
        self.finished.emit(sky)

    def _cancelled(self) -> None:
        self.update_actions()
        self.notify("Surface-brightness recovery cancelled.", 8000)
        self.cancelled.emit()

    # ------------------------------------------------------------------- view
    def layer_of(self, mode: str) -> np.ndarray | None:
        """What ``mode`` shows, on the image's scale: None for the image itself."""
        if mode == "map" and self.sky is not None:
            return self.map_in_image_units()
        if mode == "residual" and self.residual is not None:
            return self.residual
        return None

    def map_in_image_units(self) -> np.ndarray:
        """The map (Jy/pixel) times the image's beam area in pixels: Jy per beam area, the image's unit."""
        return (self.sky.data * np.float32(self.sky.beam_area_pixels)).astype(np.float32)

    def show_mode(self, mode: str) -> None:
        """Show the image, the recovered map or the residual (falls back to the image without a map)."""
        if mode not in MODES:
            raise ValueError(f"unknown view {mode!r}")
        if mode != "image" and self.layer_of(mode) is None:
            mode = "image"
        self.mode = mode
        self.mode_actions[mode].setChecked(True)
        self.display.set_layer(self.layer_of(mode))
        self.mode_changed.emit(mode)

    def set_blink(self, on: bool) -> None:
        on = bool(on) and self.sky is not None
        self.act_blink.setChecked(on)
        if on:
            self._blink.start()
        else:
            self._blink.stop()
            if self.display.image is not None:
                self.show_mode(self.mode)  # what was shown before the blinking

    def _blink_step(self) -> None:
        showing_map = self.display.layer is not None
        self.display.set_layer(None if showing_map else self.layer_of("map"))
        self.mode_changed.emit("image" if showing_map else "map")

    def set_side_by_side(self, on: bool) -> None:
        """The map in a second view beside the image, linked in pan and zoom."""
        on = bool(on) and self.sky is not None
        self.act_side.setChecked(on)
        self.side.setVisible(on)
        if on:
            from . import display as disp

            self.set_blink(False)
            self.show_mode("image")  # the image on the left, its map beside it
            from .style import colormap

            seen = self.map_in_image_units()
            shown, _ = disp.render(seen, self.display.settings, limits=self.side_limits(seen))
            self.side.set_image(shown, full_shape=self.sky.shape)
            self.side.image_item.setLookupTable(colormap(self.display.settings.colormap,
                                                         self.display.settings.invert).getLookupTable(0.0, 1.0, 256))
            self.side.image_item.setLevels((0.0, 1.0))
            image = self.image()
            if image is not None:
                self.side.set_pixel_scale(image.pixel_scale_deg)
                self.side.set_beam(image.beam_pixels, image.beam.pa if image.beam else None)
            # pyqtgraph's axis links align views by their place on screen (stacked plots): side by side
            # that shifts one range by the other's width, so the range is copied instead, both ways
            if not self._linked:
                self.canvas.vb.sigRangeChanged.connect(self._follow_main)
                self.side.vb.sigRangeChanged.connect(self._follow_side)
                self._linked = True
            self._follow_main()
        elif self._linked:
            self.canvas.vb.sigRangeChanged.disconnect(self._follow_main)
            self.side.vb.sigRangeChanged.disconnect(self._follow_side)
            self._linked = False

    def side_limits(self, seen: np.ndarray):
        """The side view's limits for the map ``seen`` in image units: the image's stretch and floor,
        and the map's own peak as its top (the map holds no dirty-beam pedestal, so on the image's
        top it would look faint)."""
        from .display import Limits

        lims = self.display.limits
        if lims is None:
            return None
        top = float(np.nanmax(seen)) if np.isfinite(seen).any() else lims[1]
        return Limits(lims[0], top if top > lims[0] else lims[1], lims.noise, lims.background)

    def _copy_range(self, source: ImageCanvas, target: ImageCanvas) -> None:
        if self._syncing:  # the other view's change coming back: already in step
            return
        self._syncing = True
        try:
            (x0, x1), (y0, y1) = source.vb.viewRange()
            target.vb.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)
        finally:
            self._syncing = False

    def _follow_main(self, *_) -> None:
        self._copy_range(self.canvas, self.side)

    def _follow_side(self, *_) -> None:
        self._copy_range(self.side, self.canvas)

    # ------------------------------------------------------------ measuring
    def flux_in(self, x: float, y: float, maj: float, mn: float, theta: float) -> tuple[float, float]:
        """(the map's flux, the image's summed over the beam area) inside an ellipse, Jy."""
        if self.sky is None:
            raise DecorasError("recover the surface brightness first: there is no map to measure")
        mask = ellipse_mask(self.sky.shape, x, y, maj, mn, theta)
        image = self.image()
        sky, area = self.sky, self.sky.beam_area_pixels
        image_flux = float(np.nansum(np.asarray(image.data, float)[mask]) / area) if image is not None else math.nan
        return sky.flux_in(mask), image_flux

    def _flux_drawn(self, x: float, y: float, maj: float, mn: float, theta: float) -> None:
        try:
            self.last_flux = self.flux_in(x, y, maj, mn, theta)
        except DecorasError as exc:
            self.error("Flux in Region", str(exc))
            return
        m, i = self.last_flux
        self.notify(f"Flux in the ellipse at ({x:.0f}, {y:.0f}): map {m * 1e3:.3f} mJy; image (sum over the beam "
                    f"area) {i * 1e3:.3f} mJy", 20000)

    # ---------------------------------------------------------------- export
    def export_dialog(self) -> Path | None:
        image = self.image()
        if self.sky is None or image is None:
            return None
        stem = image.path.name.split(".fits")[0]
        path, _ = QFileDialog.getSaveFileName(self.parent(), "Export Sky Map",
                                              str(image.path.parent / f"{stem}-skymap.fits"), "FITS (*.fits)")
        return self.export(path) if path else None

    def export(self, path: str | Path) -> Path | None:
        """Write the map as FITS (Jy/pixel, the image's WCS); errors in a dialog naming the file."""
        try:
            written = self.sky.write(path)
        except (DecorasError, OSError) as exc:
            self.error("Export Sky Map", f"{path}: {exc}")
            return None
        self.notify(f"Sky map written to {written}", 8000)
        return written


__all__ = ["SkyMapController", "ellipse_mask"]
