"""The main window: it lays out the parts and wires them; each part does its own job.

One code path opens files (menu, drag and drop, Open Recent, command line, sample,
sessions): :meth:`MainWindow.open_path`. The catalogue lives in a
:class:`~.document.CatalogueDocument` (with its undo stack); the overlay, the table and the
autosave journal (:class:`~.session_journal.SessionManager`) listen to it. Vetting
(:mod:`.vetting`), exports and imports (:mod:`.exchange`), Detect (:mod:`.detection`), the
Display panel (:mod:`.display_panel`) and long tasks (:mod:`.task_bar`) are parts of their
own, each handed the collaborators it needs.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

from PySide6.QtCore import QByteArray, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QUndoView,
    QWidget,
)

from ..core.catalogue import Catalogue
from ..core.errors import DecorasError
from ..core.formats import fits_image_filter
from ..core.image import SkyImage, image_hdus, load_fits, load_plane
from ..core.provenance import stamp
from ..paths import resources_dir
from . import display as disp
from .crossmatch import CrossMatchController
from .cube import CubeController
from .deblend_panel import DeblendController
from .detection import DetectionController
from .dialogs import HeaderDialog, PlaneChooserDialog, StatsPanel, about_box
from .display_panel import DisplayPanel
from .document import CatalogueDocument
from .exchange import ExchangeController
from .image_view import ImageCanvas
from .menus import PROB_STEPS, build_actions, build_menus, build_toolbars
from .overlays import SourceOverlay
from .readout import cursor_readout
from .samp_bridge import SampController
from .session_journal import SessionManager
from .settings import Settings
from .sky_map_layer import SkyMapController
from .source_table import SourceTableWidget
from .survey_panel import SurveyController, SurveyPanel
from .task_bar import TaskBar
from .vetting import VettingController
from .welcome import WelcomePage
from .workers import Worker

SAMPLE_NAME = "sample_vlba_dirty.fits"


class MainWindow(QMainWindow):
    image_closing = Signal(object)  # the SkyImage about to be replaced (None: none was open)
    image_opened = Signal(object)  # SkyImage
    plane_changed = Signal(object)  # SkyImage: another plane of the open cube, the catalogue kept
    detection_finished = Signal(int)  # sources in the catalogue after merging
    detection_cancelled = Signal()
    task_failed = Signal(str)

    def __init__(self, model_dir: str | Path | None = None, settings: Settings | None = None,
                 detect_threshold: float | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.model_dir = Path(model_dir) if model_dir else None
        self.settings = settings or Settings()
        self.detect_threshold = detect_threshold  # None: the model card's threshold
        self.image: SkyImage | None = None
        self.error_box: QMessageBox | None = None
        self.ask_on_close = False  # the app asks Save / Discard / Cancel for unsaved work; tests do not
        self._card_versions: dict[str, str] = {}
        self.setWindowTitle("decoras-gui")
        self.setAcceptDrops(True)
        notify = self.statusBar().showMessage
        self.doc = CatalogueDocument(self)
        self.tasks = TaskBar(self.statusBar(), self)
        self.stack = QStackedWidget(self)
        self.welcome = WelcomePage(self)
        self.welcome_label = self.welcome.label
        self.canvas = ImageCanvas(self)
        self.views = QSplitter(Qt.Orientation.Horizontal, self)  # the image, and the sky map beside it when asked
        self.views.addWidget(self.canvas)
        self.stack.addWidget(self.welcome)
        self.stack.addWidget(self.views)
        self.setCentralWidget(self.stack)
        self.display = DisplayPanel(self.canvas, disp.DisplaySettings.from_dict(self.settings.display()), self)
        self.stats = StatsPanel(self)
        build_actions(self)
        self.table = SourceTableWidget(self.doc, list(self.status_actions.values()), self)
        self.overlay = SourceOverlay(self.canvas.vb, self.doc, self)
        image = lambda: self.image  # noqa: E731 -- the parts ask for the open image when they need it
        self.vetting = VettingController(self.doc, self.canvas, self.table, image, notify, self)
        self.exchange = ExchangeController(self.doc, self.canvas, image, self.current_model, notify,
                                           self.show_error, self.settings.last_folder, self)
        self.crossmatch = CrossMatchController(self.doc, self.canvas.vb, self.tasks, image, notify,
                                               self.settings.last_folder, self)
        self.cube = CubeController(self, self.doc, self.tasks, image, notify)
        self.samp = SampController(self.doc, image, self.crossmatch, notify, self.show_error, self)
        self.detection = DetectionController(self.doc, self.tasks, image, self.model_dir, notify, self, self.show_error)
        self.sky_map = SkyMapController(self.tasks, image, self.model_dir, self.display, self.canvas, notify,
                                        self.show_error, self)
        self.views.addWidget(self.sky_map.side)
        self.deblend = DeblendController(self.tasks, image, self.doc, self.canvas, self.display, self.model_dir,
                                         notify, self.show_error, self,
                                         device=lambda: self.device_combo.currentData() or "auto")
        self.survey = SurveyController(self)
        self.survey_panel = SurveyPanel(self.survey)
        self.survey_panel.open_requested.connect(self.open_with_catalogue)
        self.sessions = SessionManager(self.doc, image=image, current_model=self.current_model,
                                       view=self.view_state, apply_view=self.apply_view, open_image=self.open_path,
                                       notify=notify, error=self.show_error, last_folder=self.settings.last_folder,
                                       parent=self)
        self._build_docks()
        build_menus(self)
        build_toolbars(self)
        self.refresh_models()
        self.readout = QLabel("")
        self.readout.setObjectName("readout")
        self.readout.setToolTip("Pixel coordinates are 0-based (numpy/astropy; DS9 shows x+1, y+1). "
                                "Value / rms uses the image's robust rms.")
        self.readout.setMinimumWidth(200)
        self.statusBar().addWidget(self.readout, 1)
        self.model_status = QLabel("")
        self.model_status.setObjectName("modelStatus")
        self.statusBar().addPermanentWidget(self.model_status)
        self.model_choice = None  # ml.model_choice.ModelChoice of the open image
        self.restore_choice = None  # the restore model whose domain covers the open image, if any
        self.deblend_card = None  # the deblend model, when the open image is optical
        self._connect()
        self._restore_settings()
        self._update_actions()

    # =============================================================== construction
    def _dock(self, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _build_docks(self) -> None:
        right = Qt.DockWidgetArea.RightDockWidgetArea
        self.display_dock = self._dock("Display", "displayDock", self.display, right)
        self.stats_dock = self._dock("Image", "statsDock", self.stats, right)
        self.tabifyDockWidget(self.display_dock, self.stats_dock)
        self.display_dock.raise_()
        self.table_dock = self._dock("Sources", "sourcesDock", self.table, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.deblend_dock = self._dock("Deblend", "deblendDock", self.deblend.panel,
                                       Qt.DockWidgetArea.BottomDockWidgetArea)
        self.tabifyDockWidget(self.table_dock, self.deblend_dock)
        self.survey_dock = self._dock("Survey", "surveyDock", self.survey_panel, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.tabifyDockWidget(self.deblend_dock, self.survey_dock)
        self.table_dock.raise_()
        self.deblend.dock = self.deblend_dock
        self.spectrum_dock = self._dock("Spectrum", "spectrumDock", self.cube.plot, right)
        self.tabifyDockWidget(self.stats_dock, self.spectrum_dock)
        self.display_dock.raise_()
        self.history_view = QUndoView(self.doc.undo_stack, self)
        self.history_view.setEmptyLabel("Opened")
        self.history_view.setAlternatingRowColors(True)
        self.history_dock = self._dock("History", "historyDock", self.history_view, right)

    def _connect(self) -> None:
        self.welcome.open_button.clicked.connect(self.open_dialog)
        self.welcome.sample_button.clicked.connect(self.open_sample)
        self.doc.undo_stack.cleanChanged.connect(self._clean_changed)
        self.doc.reset.connect(self._update_actions)
        for sig in (self.doc.selection_changed, self.doc.reset, self.doc.added, self.doc.removed):
            sig.connect(self.exchange.update_actions)
        self.image_opened.connect(self.crossmatch.update_actions)
        self.image_opened.connect(self.cube.image_opened)
        self.image_opened.connect(self.samp.update_actions)
        self.plane_changed.connect(self.cube.plane_changed)
        for sig in (self.doc.reset, self.doc.added, self.doc.removed):
            sig.connect(self.cube.update_actions)
            sig.connect(self.samp.update_actions)
        self.act_overlay.toggled.connect(self.vetting.set_ellipses_shown)
        self.display.settings_changed.connect(self._display_changed)
        self.canvas.clicked.connect(self._canvas_clicked)
        self.canvas.cursor_moved.connect(self._show_cursor)
        self.canvas.cursor_left.connect(self.readout.clear)
        self.table.user_selected.connect(self._table_selected)
        self.tasks.failed.connect(self._task_failed)
        self.tasks.idle_changed.connect(self._update_actions)
        self.detection.finished.connect(self.detection_finished)
        self.detection.cancelled.connect(self.detection_cancelled)
        self.image_closing.connect(self.sessions.image_closing)
        self.image_opened.connect(self.sessions.image_opened)
        self.image_opened.connect(self.detection.image_opened)
        self.image_opened.connect(self.sky_map.image_opened)
        self.image_opened.connect(self.deblend.image_opened)
        self.tasks.idle_changed.connect(lambda *_: self.sky_map.update_actions())
        self.tasks.idle_changed.connect(self.deblend.update_actions)
        self.deblend.box_mode_changed.connect(self._update_actions)
        self.prob_slider.valueChanged.connect(self._prob_changed)
        self.model_combo.currentIndexChanged.connect(self._update_actions)
        self.model_combo.currentIndexChanged.connect(self._show_model_status)

    def _clean_changed(self, clean: bool) -> None:
        self.setWindowModified(not clean)

    def _display_changed(self, settings: disp.DisplaySettings) -> None:
        self.settings.set_display(self.display.user_settings().as_dict())  # not an optical image's automatic look

    # ================================================================== settings
    def _restore_settings(self) -> None:
        geometry = self.settings.get_bytes("window/geometry")
        if isinstance(geometry, (QByteArray, bytes)) and geometry:
            self.restoreGeometry(QByteArray(geometry))
        else:
            screen = QApplication.primaryScreen()
            if screen is not None:
                avail = screen.availableGeometry()
                self.resize(int(avail.width() * 0.94), int(avail.height() * 0.92))
                self.move(avail.x() + int(avail.width() * 0.03), avail.y() + int(avail.height() * 0.02))
            else:
                self.resize(1400, 900)
        state = self.settings.get_bytes("window/state")
        if isinstance(state, (QByteArray, bytes)) and state:
            self.restoreState(QByteArray(state))
        else:
            self.resizeDocks([self.table_dock], [260], Qt.Orientation.Vertical)
            self.resizeDocks([self.display_dock], [330], Qt.Orientation.Horizontal)
        for combo, key, default in ((self.device_combo, "device", "auto"), (self.model_combo, "model", "")):
            i = combo.findData(self.settings.get_str(key, default))
            if i >= 0 or combo is self.device_combo:
                combo.setCurrentIndex(max(0, i))

    def save_settings(self) -> None:
        self.settings.set("window/geometry", self.saveGeometry())
        self.settings.set("window/state", self.saveState())
        self.settings.set_display(self.display.user_settings().as_dict())
        self.settings.set("device", self.device_combo.currentData() or "auto")
        if self.model_combo.currentData():
            self.settings.set("model", self.model_combo.currentData())
        self.settings.sync()

    def closeEvent(self, event) -> None:
        stack = self.doc.undo_stack
        unsaved = not stack.isClean() and len(self.doc) > 0
        if unsaved and self.ask_on_close:
            buttons = QMessageBox.StandardButton
            answer = QMessageBox.question(self, "Unsaved vetting", "Save the vetting session before closing?\n"
                                          "(Discard: the autosave is deleted too.)",
                                          buttons.Save | buttons.Discard | buttons.Cancel, buttons.Save)
            if answer == buttons.Cancel:
                return event.ignore()
            if answer == buttons.Save:
                self.sessions.save_dialog(save_as=self.sessions.session_path is None)
                if not stack.isClean():
                    return event.ignore()
            unsaved = False
        panel = getattr(self, "training_panel", None)
        running = [(panel, "A model is training", "Stop the study and close?\n(Its finished trials are kept: Tools > "
                    "Train a Model for This Image… resumes it.)")] if panel is not None and panel.running else []
        if self.survey.running:
            running.append((self.survey, "A survey is running", "Stop detecting in the folder and close?\n(The images "
                            "finished are kept: File > Detect in Folder… on the same folder resumes it.)"))
        for job, title, question in running:  # each asked about, then each stopped
            if self.ask_on_close:
                buttons = QMessageBox.StandardButton
                answer = QMessageBox.question(self, title, question, buttons.Yes | buttons.Cancel, buttons.Yes)
                if answer == buttons.Cancel:
                    return event.ignore()
        for job, _title, _question in running:
            job.stop_and_wait()
        self.sessions.close(keep=unsaved)  # unsaved work stays in the journal: offered at the next start
        self.samp.close()
        self.save_settings()
        self.tasks.cancel_all()
        self.tasks.wait_all(120000)  # cancel is acted on between batches of tiles: seconds at most
        super().closeEvent(event)

    # ============================================================ models, state
    def refresh_models(self) -> None:
        from ..ml.registry import DEFAULT_MODEL, available_models

        self.model_combo.clear()
        cards = available_models(self.model_dir, task="detect")
        for card in cards:
            self.model_combo.addItem(f"{card.name} {card.version}", card.name)
            self._card_versions[card.name] = str(card.version)
            self.model_combo.setItemData(self.model_combo.count() - 1, card.description or card.name,
                                         Qt.ItemDataRole.ToolTipRole)
        if not cards:
            self.model_combo.addItem("(no model installed)", None)
        self.model_combo.setCurrentIndex(max(0, self.model_combo.findData(DEFAULT_MODEL)))

    def current_model(self) -> tuple[str, str]:
        """(name, version) of the model behind the catalogue (else the one chosen)."""
        meta = self.doc.catalogue.meta
        if meta.get("model"):
            return str(meta["model"]), str(meta.get("model_version", ""))
        name = self.model_combo.currentData() if hasattr(self, "model_combo") else None
        return (str(name), self._card_versions.get(str(name), "")) if name else ("", "")

    def view_state(self) -> dict:
        """What a session keeps of the view: the display settings and the visible range."""
        view = dict(self.display.settings.as_dict())
        if self.image is not None:
            view["range"] = self.canvas.view_range()
        return view

    def apply_view(self, view: dict) -> None:
        """Put a session's view back (JSON null stands for NaN)."""
        view = dict(view)
        rng = view.pop("range", None)
        settings = disp.DisplaySettings.from_dict({k: (math.nan if v is None else v) for k, v in view.items()})
        if view and settings != self.display.settings:
            self.display.set_settings(settings)
        if rng and len(rng) == 4:
            self.canvas.set_view_range(rng)

    @property
    def busy(self) -> bool:
        return self.tasks.busy

    def _update_actions(self, *_) -> None:
        has_image = self.image is not None
        for a in (self.act_fit, self.act_one, self.act_zoom_in, self.act_zoom_out, self.act_rect, self.act_header,
                  self.act_save_session, self.act_save_session_as, self.act_open_beam, self.act_train):
            a.setEnabled(has_image)
        self.act_detect.setEnabled(has_image and self.detection.running is None
                                   and bool(self.model_combo.currentData()))
        self.act_cancel.setEnabled(self.tasks.busy or self.deblend.box_tool.active)  # Esc leaves the box tool
        self.sky_map.update_actions()
        self.deblend.update_actions()
        self.vetting.update_actions()
        self.exchange.update_actions()

    # ================================================================ detection
    def run_detection(self, model_name: str | None = None, device: str | None = None,
                      threshold: float | None = None) -> Worker | None:
        """Detect sources in the open image off the UI thread; merge into the catalogue."""
        if self.image is None:
            self.show_error("Detect", "Open an image first.")
            return None
        name = model_name or self.model_combo.currentData()
        if not name:
            self.show_error("Detect", "No detection model is installed: the models folder "
                            f"({self.model_dir or 'bundled'}) holds no model card.")
            return None
        return self.detection.start(name, device or self.device_combo.currentData() or "auto",
                                    threshold if threshold is not None else self.detect_threshold)

    def cancel_task(self) -> None:
        self.deblend.cancel_box()
        self.tasks.cancel_all()

    def _task_failed(self, title: str, message: str) -> None:
        self.show_error(title, message)
        self.task_failed.emit(message)

    def show_error(self, title: str, message: str) -> QMessageBox:
        """A real, window-modal message box (non-blocking: the event loop keeps running)."""
        box = QMessageBox(QMessageBox.Icon.Critical, title, message, QMessageBox.StandardButton.Ok, self)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        self.error_box = box
        box.finished.connect(lambda *_: setattr(self, "error_box", None))
        box.open()
        return box

    # =================================================================== opening
    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open FITS image", self.settings.last_folder(),
                                              fits_image_filter(all_files=True))
        if path:
            self.open_path(path)

    def sample_path(self) -> Path:
        return resources_dir() / SAMPLE_NAME

    def open_sample(self) -> None:
        path = self.sample_path()
        made = Path(tempfile.gettempdir()) / "decoras-gui-sample" / "field_00000.fits"
        if path.is_file() or made.is_file():
            self.open_path(path if path.is_file() else made)
            return

        def task(progress, cancel):  # no bundled sample (a development checkout): simulate one, once
            from ..sim import run_simulate

            progress(None, "simulating a sample VLBA image…")
            return run_simulate(1, 2024, 512, made.parent)[0]

        self.tasks.start(task, "sample", "Simulating a sample image…").succeeded.connect(self.open_path)

    def detect_in_folder(self, folder: str | Path | None = None) -> bool:
        """File > Detect in Folder…: every image of a folder detected in the background (the Survey dock)."""
        if folder is None:
            folder = QFileDialog.getExistingDirectory(self, "Detect in folder", self.settings.last_folder())
            if not folder:
                return False
        self.survey_dock.show()
        self.survey_dock.raise_()
        if self.survey_dock.height() < self.height() // 3:  # room for the image list, once laid out
            QTimer.singleShot(0, self, lambda: self.resizeDocks([self.survey_dock], [int(self.height() * 0.42)],
                                                                Qt.Orientation.Vertical))
        self.survey_panel.set_folder(folder)
        return self.survey_panel.start()

    def open_with_catalogue(self, path: str, catalogue: str) -> Worker:
        """Open an image of a survey run with the catalogue the run wrote for it."""
        worker = self.open_path(path, ask=False)

        def opened(image) -> None:
            self.image_opened.disconnect(opened)
            if Path(image.path).absolute() != Path(path).absolute():
                return
            try:
                sources = Catalogue.read(catalogue)
            except DecorasError as exc:
                return self.show_error("Cannot read the catalogue", str(exc))
            self.doc.set_catalogue(sources)
            self.statusBar().showMessage(f"{image.name}: {len(sources)} sources from {Path(catalogue).name}", 8000)

        self.image_opened.connect(opened)
        return worker

    def open_path(self, path: str | Path, hdu: int | str | None = None, plane=None, ask: bool = True) -> Worker:
        """Open an image off the UI thread (menu, drag and drop, recent files, command line).

        With ``ask`` and no ``hdu``/``plane``, a file holding several images, or a cube with
        more than one axis besides the sky's, asks which one (a cube of one FREQ or STOKES axis
        opens on its first plane: the Cube toolbar steps through the others). Errors show a
        message naming the file; the open image stays.
        """
        path = Path(path)
        render, checksum = self.display.render_job(), self.sessions.checksum

        def task(progress, cancel):
            progress(None, f"opening {path.name}…")
            image = load_fits(path, hdu=hdu, plane=plane)
            if ask and hdu is None and plane is None:
                hdus = image_hdus(path)
                # one cube axis needs no question: its first plane shows, the Cube toolbar steps through
                if len(hdus) > 1 or sum(a.length > 1 for a in image.extra_axes) > 1:
                    return {"image": image, "choose": hdus}
            if cancel():
                return None
            progress(None, f"stretching {path.name}…")
            rendered = render(image)
            _ = image.rms  # cached here, not in the UI thread
            progress(None, f"checksumming {path.name}…")
            checksum(image.path)  # for the session journal, also not in the UI thread
            return {"image": image, "rendered": rendered}

        worker = self.tasks.start(task, "open", f"Opening {path.name}…")
        worker.succeeded.connect(self._loaded)
        return worker

    def _loaded(self, result) -> None:
        if not self.tasks.is_current(self.sender()) or not result:
            return  # cancelled, or an older load finished after a newer one started
        image: SkyImage = result["image"]
        if "choose" in result:
            dialog = PlaneChooserDialog(str(image.path), result["choose"], image, self)
            self.plane_dialog = dialog
            dialog.accepted.connect(lambda: self.open_path(image.path, *dialog.choice(), ask=False))
            dialog.open()
            return
        self._set_image(image, result["rendered"], step=bool(result.get("step")))

    def show_plane(self, plane) -> Worker | None:
        """Show another plane of the open cube (the plane slider, PgUp/PgDn): read from the memory
        map and stretched off the UI thread; the catalogue, its history and the layers stay."""
        image = self.image
        if image is None:
            return None
        # the plane as the view shows it: shown whole on fewer screen pixels, a block-mean overview
        # (the painter then scales a quarter of the pixels or fewer; zoomed in, the full resolution)
        per_screen = int(self.canvas.pixel_size())
        max_side = -(-max(image.shape) // per_screen) if per_screen >= 2 else None
        render = self.display.render_job(max_side)

        def task(progress, cancel):
            other = load_plane(image, plane)
            if cancel():
                return None
            rendered = render(other)
            _ = other.rms
            return {"image": other, "rendered": rendered, "step": True}

        worker = self.tasks.start(task, "open", f"Showing plane {plane}…")
        worker.succeeded.connect(self._loaded)
        return worker

    def _same_plane(self, a: SkyImage | None, b: SkyImage) -> bool:
        return a is not None and (a.path, a.hdu_index, a.plane) == (b.path, b.hdu_index, b.plane)

    def _set_image(self, image: SkyImage, rendered: dict, step: bool = False) -> None:
        old = self.image
        if step and old is not None and (old.path, old.hdu_index) == (image.path, image.hdu_index):
            self.image = image  # another plane of the same cube: the same sky, the same catalogue
            self.display.show(image, rendered, keep_view=True)
            self.stats.set_image(image)
            self.setWindowTitle(f"{image.name} [HDU {image.hdu_index}, plane {image.plane}][*] — decoras-gui")
            self.plane_changed.emit(image)
            return
        new_plane = not self._same_plane(self.image, image)
        if new_plane:
            self.detection.cancel()  # it was detecting on the old image
            self.image_closing.emit(old)
        self.image = image
        self.display.show(image, rendered)
        self.canvas.set_pixel_scale(image.pixel_scale_deg)
        self.canvas.set_beam(image.beam_pixels, image.beam.pa if image.beam else None)
        self.stack.setCurrentWidget(self.views)
        self.stats.set_image(image)
        if new_plane:
            self.exchange.reference.clear()
            self.crossmatch.clear()
            if self.sessions.pending is None:
                self.sessions.session_path = None
                self.doc.set_catalogue(Catalogue(meta=stamp({}, image, creator=None)))
        plane = f" [HDU {image.hdu_index}" + (f", plane {image.plane}]" if image.plane else "]")
        self.setWindowTitle(f"{image.name}{plane}[*] — decoras-gui")
        self.settings.add_recent(image.path)
        self.settings.set("last_folder", str(image.path.resolve().parent))
        for w in image.warnings:
            self.statusBar().showMessage(f"{image.name}: {w}", 8000)
        if new_plane:
            self.choose_model(image)
        self._update_actions()
        self.image_opened.emit(image)

    # ============================================================ the model for the image
    def choose_model(self, image: SkyImage) -> None:
        """Select the installed model whose domain suits ``image`` best (ml.model_choice), and say so."""
        from ..core.image_domain import image_domain
        from ..ml.model_choice import choose_model
        from ..ml.registry import available_models

        domain = image_domain(image)
        self.model_choice = choose_model(available_models(self.model_dir, task="detect"), domain)
        restore = choose_model(available_models(self.model_dir, task="restore"), domain)
        self.restore_choice = restore if restore.covered else None
        from ..core.optical import is_optical

        deblenders = available_models(self.model_dir, task="deblend")
        self.deblend_card = deblenders[0] if deblenders and is_optical(image.header, image.beam is not None) else None
        card = self.model_choice.card
        if card is not None:
            index = self.model_combo.findData(card.name)
            if index >= 0:
                self.model_combo.setCurrentIndex(index)
        self._show_model_status()
        if self.deblend_card is not None:
            self.statusBar().showMessage(f"{image.name}: an optical image — select a blend or drag a box, then "
                                         "Detect > Deblend", 15000)
        elif self.restore_choice is not None and not self.model_choice.covered:
            self.statusBar().showMessage(f"{image.name}: extended emission for {restore.card.name} — "
                                         "Detect > Recover Surface Brightness", 15000)
        elif self.model_choice.warning():
            self.statusBar().showMessage(f"{image.name}: outside every model's domain — see Help > Models", 15000)

    def _show_model_status(self, *_) -> None:
        """The status bar's model line: the model selected, and whether its domain covers the image."""

        name = self.model_combo.currentData()
        choice = self.model_choice
        restore = self.restore_choice
        mine = next((c for c in choice.checks if c.card.name == name), None) if name and choice else None
        version = mine.card.version if mine else ""
        deblender = getattr(self, "deblend_card", None)
        if deblender is not None:  # an optical image: the deblend task's, not a radio model's
            self.model_status.setText(f"Deblend model: {deblender.name} {deblender.version} — an optical image "
                                      "(Detect > Deblend)")
            self.model_status.setToolTip(f"{deblender.name}: {deblender.description}")
            self.model_status.setProperty("warning", False)
        elif restore is not None and choice is not None and not choice.covered:  # an image for the restore task
            self.model_status.setText(f"Restore model: {restore.card.name} {restore.card.version} ✓ its domain "
                                      "covers this image (Detect > Recover Surface Brightness)")
            self.model_status.setToolTip(restore.summary())
            self.model_status.setProperty("warning", False)
        elif not name or choice is None:
            self.model_status.setText(f"Model: {name}" if name else "")
            self.model_status.setProperty("warning", False)
            self.model_status.setToolTip("")
            return
        elif mine is not None and mine.covers:
            self.model_status.setText(f"Model: {name} {version} ✓ its domain covers this image")
            self.model_status.setToolTip(choice.summary() if choice.card and choice.card.name == name else
                                         f"{name}: " + "; ".join(mine.matches))
            self.model_status.setProperty("warning", False)
        else:
            covers = [c.card.name for c in choice.checks if c.covers]
            self.model_status.setText(f"⚠ Model: {name} {version} — the image is outside its domain"
                                      + (f" ({', '.join(covers)} covers it)" if covers else
                                         ", and every model's (hover for why)"))
            self.model_status.setToolTip(choice.warning() or (f"{name}: " + "; ".join(mine.mismatches if mine else [])))
            self.model_status.setProperty("warning", True)
        self.model_status.style().unpolish(self.model_status)
        self.model_status.style().polish(self.model_status)

    def show_models(self):
        """Help > Models…: each model's domain, figures and study, against the open image."""
        from .models_dialog import ModelsDialog

        self.models_dialog = ModelsDialog(self.model_dir, self.image, self.model_combo.currentData(), self)
        self.models_dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        self.models_dialog.show()
        return self.models_dialog

    def show_training(self):
        """Tools > Train a Model for This Image…: the AutoML panel for the open image (one at a time;
        a study still running is shown again rather than started twice)."""
        from .training_panel import TrainingPanel

        if self.image is None:
            return None
        panel = getattr(self, "training_panel", None)
        if panel is None or (not panel.running and panel.image.path != self.image.path):
            if panel is not None:
                panel.deleteLater()
            panel = self.training_panel = TrainingPanel(self.image, self)
            panel.finished_model.connect(self._model_trained)
        panel.show()
        panel.raise_()
        return panel

    def _model_trained(self, card_path: str) -> None:
        """A model the panel built: list it, and choose again for the open image."""
        self.refresh_models()
        if self.image is not None:
            self.choose_model(self.image)
        self.statusBar().showMessage(f"New model installed: {Path(card_path).stem}", 15000)

    def fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.settings.recent_files()
        for p in recent:
            self.recent_menu.addAction(p).triggered.connect(lambda _=False, p=p: self.open_path(p))
        if not recent:
            self.recent_menu.addAction("(none)").setEnabled(False)
        else:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear", self.settings.clear_recent)

    def dragEnterEvent(self, event) -> None:  # drag and drop: the same open_path
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        for url in event.mimeData().urls():
            if url.isLocalFile():
                self.open_path(url.toLocalFile())
                event.acceptProposedAction()
                return

    # ============================================================ interactions
    def _prob_changed(self, value: int) -> None:
        self.prob_label.setText(f"P ≥ {value / PROB_STEPS:.3f}")
        self.doc.set_min_prob(value / PROB_STEPS)

    def set_min_probability(self, p: float) -> None:
        self.prob_slider.setValue(int(round(PROB_STEPS * p)))

    def overlay_labels(self, on: bool) -> None:
        if hasattr(self, "overlay"):
            self.overlay.set_labels_visible(on)

    def overlay_visible(self, on: bool) -> None:
        if hasattr(self, "overlay"):
            self.overlay.set_visible(on)

    def _canvas_clicked(self, x: float, y: float, modifiers) -> None:
        sid = self.overlay.source_at(x, y, 6.0 * self.canvas.pixel_size())
        if modifiers & Qt.KeyboardModifier.ControlModifier:
            ids = self.doc.selected_ids
            if sid is not None:
                ids = [i for i in ids if i != sid] if sid in ids else ids + [sid]
            self.doc.set_selection(ids)
        else:
            self.doc.set_selection([] if sid is None else [sid])

    def _table_selected(self, ids: list) -> None:
        if len(ids) == 1:
            x, y, _size = self.overlay.bounds_of(ids[0])
            self.canvas.center_on(x, y)

    def _show_cursor(self, x: float, y: float) -> None:
        if self.image is not None:
            self.readout.setText(cursor_readout(self.image, x, y))

    def show_header(self) -> HeaderDialog | None:
        if self.image is None:
            return None
        self.header_dialog = HeaderDialog(self.image, self)
        self.header_dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        self.header_dialog.show()
        return self.header_dialog

    def show_user_guide(self):
        """The user guide (docs/) in a window of its own."""
        from .user_guide import UserGuide

        self.user_guide = UserGuide(self)
        self.user_guide.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        self.user_guide.show()
        return self.user_guide

    def about(self) -> QMessageBox:
        """Version, and each installed model with the figures from its card."""
        self.about_box = about_box(self, self.model_dir)
        self.about_box.open()
        return self.about_box
