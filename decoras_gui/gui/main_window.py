"""The main window: open an image, look at it, detect sources, browse them.

One code path opens files (menu, drag and drop, Open Recent, command line, sample):
:meth:`MainWindow.open_path`. One code path runs the networks: :meth:`run_detection`.
The catalogue lives in a :class:`CatalogueDocument`; overlay and table listen to it.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QByteArray, QSize, Qt, Signal
from PySide6.QtGui import QAction, QIcon, QKeySequence, QPainter, QPixmap
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDockWidget,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSlider,
    QStackedWidget,
    QStyle,
    QToolBar,
    QUndoView,
    QVBoxLayout,
    QWidget,
)

from .. import __version__ as VERSION
from ..core.catalogue import STATUSES, Catalogue
from ..core.image import SkyImage, image_hdus, load_fits
from ..core.regions_io import STATUS_COLORS
from ..paths import resources_dir
from . import display as disp
from .commands import ReplaceCatalogueCommand
from .dialogs import HeaderDialog, PlaneChooserDialog, StatsPanel
from .document import CatalogueDocument, merge_detections
from .image_view import ImageCanvas
from .overlays import SourceOverlay
from .session_journal import SessionManager
from .settings import Settings
from .source_table import SourceTableWidget
from .vetting import VettingController
from .workers import TaskRunner, Worker

FITS_FILTER = "FITS images (*.fits *.fit *.fts *.fits.gz *.fit.gz *.fz *.FITS);;All files (*)"
SAMPLE_NAME = "sample_vlba_dirty.fits"
PROB_STEPS = 1000  # slider resolution: 0.001 in probability
WELCOME_TEXT = "Open a FITS image (Ctrl+O) or try the sample"


def colormap(name: str, invert: bool = False) -> pg.ColorMap:
    if name == "gray":
        cmap = pg.ColorMap([0.0, 1.0], [(0, 0, 0), (255, 255, 255)])
    else:
        cmap = pg.colormap.get(name)
    if invert:
        pos, colors = cmap.getStops()
        cmap = pg.ColorMap(1.0 - pos[::-1], colors[::-1])
    return cmap


def status_icon(color: str) -> QIcon:
    pix = QPixmap(14, 14)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(pg.mkPen(color, width=2))
    p.drawEllipse(2, 3, 10, 8)
    p.end()
    return QIcon(pix)


def app_icon(name: str, fallback: QStyle.StandardPixmap, style: QStyle) -> QIcon:
    path = resources_dir() / "icons" / f"{name}.svg"
    if path.is_file():
        return QIcon(str(path))
    return style.standardIcon(fallback)


class MainWindow(QMainWindow):
    image_opened = Signal(object)  # SkyImage
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
        self.display_settings = disp.DisplaySettings.from_dict(self.settings.display())
        self.limits: tuple[float, float] | None = None
        self._overview: np.ndarray | None = None  # block means of a huge image (display.overview)
        self.error_box: QMessageBox | None = None
        self.tasks = TaskRunner(self)
        self._load_worker: Worker | None = None
        self._detect_worker: Worker | None = None
        self._models: dict[str, object] = {}
        self._card_versions: dict[str, str] = {}
        self.ask_on_close = False  # the app asks Save / Discard / Cancel for unsaved work; tests do not

        self.setWindowTitle("decoras-gui")
        self.setAcceptDrops(True)
        self.doc = CatalogueDocument(self)
        self._build_central()
        self._build_actions()
        self._build_docks()
        self.overlay = SourceOverlay(self.canvas.vb, self.doc, self)
        self.vetting = VettingController(self)
        self.sessions = SessionManager(self)
        self._build_session_actions()
        self._build_history_dock()
        self._build_menus_and_toolbars()
        self._build_status_bar()
        self.vetting.stack.cleanChanged.connect(self._clean_changed)
        self.canvas.clicked.connect(self._canvas_clicked)
        self.canvas.cursor_moved.connect(self._show_cursor)
        self.canvas.cursor_left.connect(lambda: self.readout.setText(""))
        self.table.user_selected.connect(self._table_selected)
        self.doc.reset.connect(self._catalogue_reset)
        self._restore_settings()
        self._update_actions()

    # =============================================================== construction
    def _build_central(self) -> None:
        self.stack = QStackedWidget(self)
        self.welcome = QWidget(self)
        self.welcome.setObjectName("welcome")
        wl = QVBoxLayout(self.welcome)
        wl.addStretch(2)
        title = QLabel("decoras-gui")
        title.setObjectName("welcomeTitle")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.welcome_label = QLabel(WELCOME_TEXT)
        self.welcome_label.setObjectName("welcomeText")
        self.welcome_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        sub = QLabel("Find and measure sources in VLBA images with the DECORAS networks.\n"
                     "Drop a .fits, .fits.gz or .fz file anywhere on this window.")
        sub.setObjectName("welcomeSub")
        sub.setAlignment(Qt.AlignmentFlag.AlignCenter)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.welcome_open = QPushButton("Open FITS image…")
        self.welcome_sample = QPushButton("Open the sample image")
        for b in (self.welcome_open, self.welcome_sample):
            b.setMinimumWidth(190)
            buttons.addWidget(b)
        buttons.addStretch(1)
        for w in (title, self.welcome_label, sub):
            wl.addWidget(w)
        wl.addSpacing(16)
        wl.addLayout(buttons)
        wl.addStretch(3)
        self.canvas = ImageCanvas(self)
        self.stack.addWidget(self.welcome)
        self.stack.addWidget(self.canvas)
        self.setCentralWidget(self.stack)
        self.welcome_open.clicked.connect(self.open_dialog)
        self.welcome_sample.clicked.connect(self.open_sample)

    def _action(self, text: str, slot=None, shortcut=None, icon: QIcon | None = None, tip: str = "",
                checkable: bool = False) -> QAction:
        a = QAction(text, self)
        if icon is not None:
            a.setIcon(icon)
        if shortcut:
            a.setShortcut(QKeySequence(shortcut))
        if tip:
            a.setToolTip(tip)
            a.setStatusTip(tip)
        a.setCheckable(checkable)
        if slot is not None:
            (a.toggled if checkable else a.triggered).connect(slot)
        return a

    def _build_actions(self) -> None:
        st = self.style()
        SP = QStyle.StandardPixmap
        self.act_open = self._action("&Open…", self.open_dialog, QKeySequence.StandardKey.Open,
                                     app_icon("open", SP.SP_DialogOpenButton, st), "Open a FITS image (Ctrl+O)")
        self.act_sample = self._action("Open &Sample", self.open_sample, None,
                                       app_icon("sample", SP.SP_FileDialogContentsView, st),
                                       "Open the bundled simulated VLBA dirty image")
        self.act_quit = self._action("&Quit", self.close, QKeySequence.StandardKey.Quit)
        self.act_fit = self._action("&Fit", self.canvas.fit, "F", app_icon("fit", SP.SP_TitleBarMaxButton, st),
                                    "Fit the whole image in the view (F)")
        self.act_one = self._action("&1:1", self.canvas.zoom_one_to_one, "1",
                                    app_icon("one", SP.SP_TitleBarNormalButton, st),
                                    "One image pixel per screen pixel (1)")
        self.act_zoom_in = self._action("Zoom &In", lambda: self.canvas.zoom(1.5), QKeySequence.StandardKey.ZoomIn,
                                        app_icon("zoom_in", SP.SP_ArrowUp, st), "Zoom in (Ctrl++)")
        self.act_zoom_out = self._action("Zoom &Out", lambda: self.canvas.zoom(1 / 1.5),
                                         QKeySequence.StandardKey.ZoomOut, app_icon("zoom_out", SP.SP_ArrowDown, st),
                                         "Zoom out (Ctrl+-)")
        self.act_rect = self._action("Zoom to &Selection", self.canvas.set_rect_zoom, "Z",
                                     app_icon("zoom_rect", SP.SP_FileDialogDetailedView, st),
                                     "Drag a rectangle to zoom to it (Z); off: drag pans", checkable=True)
        self.act_header = self._action("FITS &Header…", self.show_header, "Ctrl+H",
                                       app_icon("header", SP.SP_FileDialogInfoView, st), "Show the FITS header")
        self.act_detect = self._action("&Detect Sources", self.run_detection, "Ctrl+D",
                                       app_icon("detect", SP.SP_MediaPlay, st),
                                       "Run the detection network on the image (Ctrl+D)")
        self.act_cancel = self._action("&Cancel", self.cancel_task, "Esc", st.standardIcon(SP.SP_BrowserStop),
                                       "Cancel the running task")
        self.act_labels = self._action("Source &Labels", self.overlay_labels, "L", None,
                                       "Show source ids next to the ellipses (L)", checkable=True)
        self.act_overlay = self._action("Show &Ellipses", self.overlay_visible, "E", None,
                                        "Show the source ellipses (E)", checkable=True)
        self.act_overlay.setChecked(True)
        self.status_actions: dict[str, QAction] = {}
        for status in STATUSES:
            a = self._action(status.capitalize(), None, None, status_icon(STATUS_COLORS[status]),
                             f"Show {status} sources", checkable=True)
            a.setChecked(True)
            a.toggled.connect(lambda on, s=status: self.doc.set_status_shown(s, on))
            self.status_actions[status] = a
        self.act_about = self._action("&About decoras-gui", self.about)
        self.act_about.setObjectName("about")
        self.act_guide = self._action("&User Guide", self.show_user_guide, "F1")
        self.act_guide.setObjectName("user_guide")

    def _build_docks(self) -> None:
        # -- display controls
        panel = QWidget(self)
        form = QFormLayout(panel)
        form.setContentsMargins(8, 8, 8, 8)
        self.stretch_combo = QComboBox(panel)
        for key, label in disp.STRETCHES.items():
            self.stretch_combo.addItem(label, key)
        self.limits_combo = QComboBox(panel)
        for key, label in disp.LIMITS.items():
            self.limits_combo.addItem(label, key)
        self.vmin_spin = QDoubleSpinBox(panel)
        self.vmax_spin = QDoubleSpinBox(panel)
        for s in (self.vmin_spin, self.vmax_spin):
            s.setDecimals(6)
            s.setRange(-1e30, 1e30)
            s.setKeyboardTracking(False)
        self.cmap_combo = QComboBox(panel)
        for key, label in disp.COLORMAPS.items():
            self.cmap_combo.addItem(label, key)
        self.invert_check = QCheckBox("Invert colormap", panel)
        form.addRow("Stretch", self.stretch_combo)
        form.addRow("Limits", self.limits_combo)
        form.addRow("Min", self.vmin_spin)
        form.addRow("Max", self.vmax_spin)
        form.addRow("Colormap", self.cmap_combo)
        form.addRow("", self.invert_check)
        self.hist = pg.HistogramLUTWidget(panel, image=self.canvas.image_item, orientation="horizontal",
                                          gradientPosition="bottom")
        self.hist.setMinimumHeight(120)
        self.hist.item.sigLookupTableChanged.connect(self.canvas.sync_detail_look)
        self.hist.item.sigLevelsChanged.connect(self.canvas.sync_detail_look)
        self.canvas.detail_wanted.connect(self.render_detail)
        self.hist.setBackground("#1e2024")
        form.addRow(self.hist)
        self.display_dock = QDockWidget("Display", self)
        self.display_dock.setObjectName("displayDock")
        self.display_dock.setWidget(panel)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.display_dock)
        self._sync_display_controls()
        self.stretch_combo.currentIndexChanged.connect(self._display_controls_changed)
        self.limits_combo.currentIndexChanged.connect(self._display_controls_changed)
        self.cmap_combo.currentIndexChanged.connect(self._display_controls_changed)
        self.invert_check.toggled.connect(self._display_controls_changed)
        self.vmin_spin.valueChanged.connect(self._manual_limits_changed)
        self.vmax_spin.valueChanged.connect(self._manual_limits_changed)

        # -- statistics
        self.stats = StatsPanel(self)
        self.stats_dock = QDockWidget("Image", self)
        self.stats_dock.setObjectName("statsDock")
        self.stats_dock.setWidget(self.stats)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.stats_dock)
        self.tabifyDockWidget(self.display_dock, self.stats_dock)
        self.display_dock.raise_()

        # -- sources
        self.table = SourceTableWidget(self.doc, list(self.status_actions.values()), self)
        self.table_dock = QDockWidget("Sources", self)
        self.table_dock.setObjectName("sourcesDock")
        self.table_dock.setWidget(self.table)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.table_dock)

    def _build_session_actions(self) -> None:
        st = self.style()
        SP = QStyle.StandardPixmap
        self.act_open_session = self._action("Open Sess&ion…", self.sessions.open_dialog, "Ctrl+Shift+O",
                                             st.standardIcon(SP.SP_DirOpenIcon),
                                             "Open a saved vetting session (image, sources, decisions, view)")
        self.act_save_session = self._action("&Save Session", lambda: self.sessions.save_dialog(save_as=False),
                                             QKeySequence.StandardKey.Save, st.standardIcon(SP.SP_DialogSaveButton),
                                             "Save the vetting session (Ctrl+S)")
        self.act_save_session_as = self._action("Save Session &As…", lambda: self.sessions.save_dialog(True),
                                                "Ctrl+Shift+S", None, "Save the vetting session to a new file")

    def _build_history_dock(self) -> None:
        self.history_view = QUndoView(self.vetting.stack, self)
        self.history_view.setEmptyLabel("Opened")
        self.history_view.setAlternatingRowColors(True)
        self.history_dock = QDockWidget("History", self)
        self.history_dock.setObjectName("historyDock")
        self.history_dock.setWidget(self.history_view)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.history_dock, Qt.Orientation.Vertical)

    def _clean_changed(self, clean: bool) -> None:
        self.setWindowModified(not clean)

    def current_model(self) -> tuple[str, str]:
        """(name, version) of the model behind the catalogue (else the one chosen)."""
        meta = self.doc.catalogue.meta
        if meta.get("model"):
            return str(meta["model"]), str(meta.get("model_version", ""))
        name = self.model_combo.currentData() if hasattr(self, "model_combo") else None
        return (str(name), self._card_versions.get(str(name), "")) if name else ("", "")

    def _build_menus_and_toolbars(self) -> None:
        mb = self.menuBar()
        m = mb.addMenu("&File")
        m.addAction(self.act_open)
        self.recent_menu = m.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        m.addAction(self.act_sample)
        m.addSeparator()
        m.addAction(self.act_open_session)
        m.addAction(self.act_save_session)
        m.addAction(self.act_save_session_as)
        m.addSeparator()
        vt = self.vetting
        im = m.addMenu("&Import")
        im.addAction(vt.act_import_sources)
        im.addAction(vt.act_import_reference)
        ex = m.addMenu("&Export")
        for a in (vt.act_export_regions, vt.act_export_catalogue, vt.act_export_png):
            ex.addAction(a)
        m.addSeparator()
        m.addAction(self.act_header)
        m.addSeparator()
        m.addAction(self.act_quit)
        e = mb.addMenu("&Edit")
        e.addAction(vt.act_undo)
        e.addAction(vt.act_redo)
        e.addSeparator()
        e.addAction(self.history_dock.toggleViewAction())
        vm = mb.addMenu("V&etting")
        for a in (vt.act_accept, vt.act_reject, vt.act_unvet, None, vt.act_next, vt.act_prev, vt.act_auto, None,
                  vt.act_note, vt.act_delete, vt.act_add, None, vt.act_bulk_accept, vt.act_bulk_reject):
            vm.addSeparator() if a is None else vm.addAction(a)
        v = mb.addMenu("&View")
        for a in (self.act_fit, self.act_one, self.act_zoom_in, self.act_zoom_out, self.act_rect):
            v.addAction(a)
        v.addSeparator()
        v.addAction(self.act_overlay)
        v.addAction(self.act_labels)
        v.addAction(self.vetting.act_reference)
        sm = v.addMenu("Show &Status")
        for a in self.status_actions.values():
            sm.addAction(a)
        v.addSeparator()
        for dock in (self.display_dock, self.stats_dock, self.table_dock, self.history_dock):
            v.addAction(dock.toggleViewAction())
        d = mb.addMenu("&Detect")
        d.addAction(self.act_detect)
        d.addAction(self.act_cancel)
        h = mb.addMenu("&Help")
        h.addAction(self.act_guide)
        h.addAction(self.act_about)

        tb = QToolBar("Main", self)
        tb.setObjectName("mainToolbar")
        tb.setIconSize(QSize(20, 20))
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        tb.addAction(self.act_open)
        tb.addSeparator()
        for a in (self.act_fit, self.act_one, self.act_zoom_in, self.act_zoom_out, self.act_rect):
            tb.addAction(a)
            tb.widgetForAction(a).setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        tb.addSeparator()
        self.model_combo = QComboBox(self)
        self.model_combo.setToolTip("Detection model (bundled model cards)")
        self.model_combo.setMinimumContentsLength(12)
        self.device_combo = QComboBox(self)
        self.device_combo.setToolTip("Where the networks run")
        self.device_combo.addItem("Auto", "auto")
        self.device_combo.addItem("CPU", "cpu")
        try:
            import torch

            if torch.cuda.is_available():
                self.device_combo.addItem(f"CUDA ({torch.cuda.get_device_name(0)})", "cuda")
        except Exception:  # torch without a working CUDA: CPU only
            pass
        tb.addWidget(QLabel(" Model "))
        tb.addWidget(self.model_combo)
        tb.addWidget(QLabel(" Device "))
        tb.addWidget(self.device_combo)
        tb.addAction(self.act_detect)
        tb.addSeparator()
        self.prob_slider = QSlider(Qt.Orientation.Horizontal, self)
        self.prob_slider.setRange(0, PROB_STEPS)
        self.prob_slider.setFixedWidth(140)
        self.prob_slider.setToolTip("Hide candidates whose detection probability is below this "
                                    "(accepted and rejected sources stay shown)")
        self.prob_label = QLabel("P ≥ 0.000")
        self.prob_label.setMinimumWidth(64)
        tb.addWidget(QLabel(" Min. probability "))
        tb.addWidget(self.prob_slider)
        tb.addWidget(self.prob_label)
        self.prob_slider.valueChanged.connect(self._prob_changed)
        tb.addSeparator()
        tb.addAction(self.act_header)
        self.addToolBar(tb)
        self.toolbar = tb
        vtb = QToolBar("Vetting", self)
        vtb.setObjectName("vettingToolbar")
        vtb.setIconSize(QSize(16, 16))
        vtb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        vt = self.vetting
        for a in (vt.act_accept, vt.act_reject, vt.act_unvet, None, vt.act_prev, vt.act_next, vt.act_auto, None,
                  vt.act_add, vt.act_delete, None, vt.act_undo, vt.act_redo):
            vtb.addSeparator() if a is None else vtb.addAction(a)
        self.addToolBarBreak()
        self.addToolBar(vtb)
        self.vetting_toolbar = vtb
        self.refresh_models()

    def _build_status_bar(self) -> None:
        sb = self.statusBar()
        self.readout = QLabel("")
        self.readout.setObjectName("readout")
        self.readout.setToolTip("Pixel coordinates are 0-based (numpy/astropy; DS9 shows x+1, y+1). "
                                "Value / rms uses the image's robust rms.")
        self.readout.setMinimumWidth(200)
        self.progress = QProgressBar(self)
        self.progress.setMaximumWidth(220)
        self.progress.setTextVisible(True)
        self.progress.setVisible(False)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setVisible(False)
        self.cancel_button.clicked.connect(self.cancel_task)
        sb.addWidget(self.readout, 1)
        sb.addPermanentWidget(self.progress)
        sb.addPermanentWidget(self.cancel_button)

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
        device = self.settings.get_str("device", "auto")
        i = self.device_combo.findData(device)
        self.device_combo.setCurrentIndex(max(0, i))
        model = self.settings.get_str("model", "")
        i = self.model_combo.findData(model)
        if i >= 0:
            self.model_combo.setCurrentIndex(i)

    def save_settings(self) -> None:
        self.settings.set("window/geometry", self.saveGeometry())
        self.settings.set("window/state", self.saveState())
        self.settings.set_display(self.display_settings.as_dict())
        self.settings.set("device", self.device_combo.currentData() or "auto")
        if self.model_combo.currentData():
            self.settings.set("model", self.model_combo.currentData())
        self.settings.sync()

    def closeEvent(self, event) -> None:
        unsaved = not self.vetting.stack.isClean() and len(self.doc) > 0
        if unsaved and self.ask_on_close:
            answer = QMessageBox.question(
                self, "Unsaved vetting", "Save the vetting session before closing?\n"
                "(Discard: the autosave is deleted too.)",
                QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Save)
            if answer == QMessageBox.StandardButton.Cancel:
                event.ignore()
                return
            if answer == QMessageBox.StandardButton.Save:
                self.sessions.save_dialog(save_as=self.sessions.session_path is None)
                unsaved = not self.vetting.stack.isClean()
                if unsaved:
                    event.ignore()
                    return
            else:
                unsaved = False
        self.sessions.close(keep=unsaved)  # unsaved work stays in the journal: offered at the next start
        self.save_settings()
        self.tasks.cancel_all()
        self.tasks.wait_all(10000)
        super().closeEvent(event)

    # ==================================================================== models
    def refresh_models(self) -> None:
        from ..ml.registry import DEFAULT_MODEL, available_models

        self.model_combo.clear()
        cards = available_models(self.model_dir)
        for card in cards:
            self.model_combo.addItem(f"{card.name} {card.version}", card.name)
            self._card_versions[card.name] = str(card.version)
            self.model_combo.setItemData(self.model_combo.count() - 1, card.description or card.name,
                                         Qt.ItemDataRole.ToolTipRole)
        if not cards:
            self.model_combo.addItem("(no model installed)", None)
        i = self.model_combo.findData(DEFAULT_MODEL)
        if i >= 0:
            self.model_combo.setCurrentIndex(i)

    # =================================================================== opening
    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open FITS image", self.settings.last_folder(), FITS_FILTER)
        if path:
            self.open_path(path)

    def sample_path(self) -> Path:
        return resources_dir() / SAMPLE_NAME

    def open_sample(self) -> None:
        path = self.sample_path()
        if path.is_file():
            self.open_path(path)
            return
        # No bundled sample (a development checkout): simulate one, once.
        folder = Path(tempfile.gettempdir()) / "decoras-gui-sample"
        made = folder / "field_00000.fits"
        if made.is_file():
            self.open_path(made)
            return

        def task(progress, cancel):
            from ..sim import run_simulate

            progress(None, "simulating a sample VLBA image…")
            return run_simulate(1, 2024, 512, folder)[0]

        worker = self._start(task, "sample", "Simulating a sample image…")
        worker.succeeded.connect(self._sample_ready)

    def _sample_ready(self, path) -> None:
        self.open_path(path)

    def open_path(self, path: str | Path, hdu: int | str | None = None, plane=None, ask: bool = True) -> Worker:
        """Open an image off the UI thread (menu, drag and drop, recent files, command line).

        With ``ask`` and no ``hdu``/``plane``, a file holding several images or a cube
        asks which one. Errors show a message naming the file; the open image stays.
        """
        path = Path(path)
        settings = self.display_settings
        sessions = self.sessions

        def task(progress, cancel):
            progress(None, f"opening {path.name}…")
            image = load_fits(path, hdu=hdu, plane=plane)
            hdus = None
            if ask and hdu is None and plane is None:
                hdus = image_hdus(path)
                if len(hdus) > 1 or any(a.length > 1 for a in image.extra_axes):
                    return {"image": image, "choose": hdus}
            if cancel():
                return None
            progress(None, f"stretching {path.name}…")
            factor = disp.overview_factor(image.shape)
            overview = disp.overview(image.data, factor) if factor > 1 else None
            if overview is not None:  # a huge image: shown from block means, detail on zooming in
                display, limits = disp.render(overview, settings, limits=disp.compute_limits(image.data, settings))
            else:
                display, limits = disp.render(image.data, settings)
            _ = image.rms  # cached here, not in the UI thread
            progress(None, f"checksumming {path.name}…")
            sessions.checksum(image.path)  # for the session journal, also not in the UI thread
            return {"image": image, "display": display, "limits": limits, "settings": settings,
                    "overview": overview, "factor": factor}

        if self._load_worker is not None:
            self._load_worker.cancel()
        worker = self._start(task, "open", f"Opening {path.name}…")
        worker.succeeded.connect(self._loaded)
        self._load_worker = worker
        return worker

    def _loaded(self, result) -> None:
        worker = self.sender()
        if worker is not None and worker is not self._load_worker:
            return  # an older load finished after a newer one started
        self._load_worker = None
        if not result:
            return
        image: SkyImage = result["image"]
        if "choose" in result:
            dialog = PlaneChooserDialog(str(image.path), result["choose"], image, self)
            self.plane_dialog = dialog
            dialog.accepted.connect(lambda: self.open_path(image.path, *dialog.choice(), ask=False))
            dialog.open()
            return
        self._set_image(image, result["display"], result["limits"], result["settings"], result["overview"],
                        result["factor"])

    def _set_image(self, image: SkyImage, display: np.ndarray, limits, settings, overview=None,
                   factor: int = 1) -> None:
        old = self.image
        self.image = image
        self.limits = limits
        self._overview = overview
        self.canvas.set_image(display, full_shape=image.shape, factor=factor)
        self.hist.setLevels(0.0, 1.0)
        self.hist.setHistogramRange(0.0, 1.0)
        self._apply_colormap()
        self.canvas.set_pixel_scale(image.pixel_scale_deg)
        self.canvas.set_beam(image.beam_pixels, image.beam.pa if image.beam else None)
        self.stack.setCurrentWidget(self.canvas)
        if settings != self.display_settings:
            self.refresh_display()
        self._sync_display_controls()
        self.stats.set_image(image)
        pending = self.sessions.take_pending()
        if old is None or old.path != image.path or old.hdu_index != image.hdu_index or old.plane != image.plane:
            if self._detect_worker is not None:
                self._detect_worker.cancel()  # it was detecting on the old image
            if old is not None and not self.vetting.stack.isClean() and len(self.doc) > 0:
                self.sessions.set_aside(old.name)  # unsaved vetting of the old image: never lost
            if pending is None:
                self.sessions.session_path = None
            self.vetting.clear_history()
            self.vetting.reference.clear()
            if pending is None:
                self.doc.set_catalogue(Catalogue(meta={"image": image.name, "image_path": str(image.path)}))
        if pending is not None:
            self.sessions.apply_loaded(pending)
        plane = f" [HDU {image.hdu_index}" + (f", plane {image.plane}]" if image.plane else "]")
        self.setWindowTitle(f"{image.name}{plane}[*] — decoras-gui")
        self.settings.add_recent(image.path)
        self.settings.set("last_folder", str(image.path.resolve().parent))
        for w in image.warnings:
            self.statusBar().showMessage(f"{image.name}: {w}", 8000)
        self._update_actions()
        self.image_opened.emit(image)

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.settings.recent_files()
        for p in recent:
            a = self.recent_menu.addAction(p)
            a.triggered.connect(lambda _=False, p=p: self.open_path(p))
        if not recent:
            a = self.recent_menu.addAction("(none)")
            a.setEnabled(False)
        else:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear", self.settings.clear_recent)

    # drag and drop: the same open_path
    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        for url in event.mimeData().urls():
            if url.isLocalFile():
                self.open_path(url.toLocalFile())
                event.acceptProposedAction()
                return

    # =================================================================== display
    def _sync_display_controls(self) -> None:
        s = self.display_settings
        widgets = (self.stretch_combo, self.limits_combo, self.cmap_combo, self.invert_check,
                   self.vmin_spin, self.vmax_spin)
        for w in widgets:
            w.blockSignals(True)
        self.stretch_combo.setCurrentIndex(max(0, self.stretch_combo.findData(s.stretch)))
        self.limits_combo.setCurrentIndex(max(0, self.limits_combo.findData(s.limits)))
        self.cmap_combo.setCurrentIndex(max(0, self.cmap_combo.findData(s.colormap)))
        self.invert_check.setChecked(s.invert)
        if self.limits:
            self.vmin_spin.setValue(self.limits[0])
            self.vmax_spin.setValue(self.limits[1])
        manual = s.limits == "manual"
        self.vmin_spin.setEnabled(manual)
        self.vmax_spin.setEnabled(manual)
        for w in widgets:
            w.blockSignals(False)

    def _display_controls_changed(self) -> None:
        s = self.display_settings.replace(
            stretch=self.stretch_combo.currentData(),
            limits=self.limits_combo.currentData(),
            colormap=self.cmap_combo.currentData(),
            invert=self.invert_check.isChecked(),
        )
        if s.limits == "manual" and self.limits and not math.isfinite(s.vmin):
            s = s.replace(vmin=self.limits[0], vmax=self.limits[1])
        self.set_display_settings(s)

    def _manual_limits_changed(self) -> None:
        if self.display_settings.limits != "manual":
            return
        self.set_display_settings(self.display_settings.replace(vmin=self.vmin_spin.value(),
                                                                vmax=self.vmax_spin.value()))

    def set_display_settings(self, settings: disp.DisplaySettings) -> None:
        old = self.display_settings
        self.display_settings = settings
        if (old.colormap, old.invert) != (settings.colormap, settings.invert):
            self._apply_colormap()
        if (old.stretch, old.limits, old.vmin, old.vmax, old.power, old.asinh_a) != (
                settings.stretch, settings.limits, settings.vmin, settings.vmax, settings.power, settings.asinh_a):
            self.refresh_display()
        self._sync_display_controls()
        self.settings.set_display(settings.as_dict())

    def refresh_display(self) -> None:
        """Re-stretch the open image with the current settings (levels back to 0..1)."""
        if self.image is None:
            return
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            settings = self.display_settings
            if self._overview is not None:
                limits = disp.compute_limits(self.image.data, settings)
                display, self.limits = disp.render(self._overview, settings, limits=limits)
            else:
                display, self.limits = disp.render(self.image.data, settings)
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
        patch, _ = disp.render(self.image.data[y0:y1, x0:x1], self.display_settings, limits=self.limits)
        self.canvas.set_detail(patch, region)

    def _apply_colormap(self) -> None:
        s = self.display_settings
        self.hist.gradient.setColorMap(colormap(s.colormap, s.invert))

    # ================================================================ detection
    def run_detection(self, model_name: str | None = None, device: str | None = None,
                      threshold: float | None = None) -> Worker | None:
        """Detect sources in the open image off the UI thread; merge into the catalogue.

        Unvetted model candidates of the previous run are replaced; accepted,
        rejected, edited and manual sources are kept (:func:`document.merge_detections`).
        """
        if self.image is None:
            self.show_error("Detect", "Open an image first.")
            return None
        if self._detect_worker is not None:
            return self._detect_worker
        name = model_name or self.model_combo.currentData()
        if not name:
            self.show_error("Detect", "No detection model is installed: the models folder "
                            f"({self.model_dir or 'bundled'}) holds no model card.")
            return None
        device = device or self.device_combo.currentData() or "auto"
        threshold = threshold if threshold is not None else self.detect_threshold
        image, folder, cache = self.image, self.model_dir, self._models

        def task(progress, cancel):
            from ..ml.pipeline import detect
            from ..ml.registry import load_model

            key = f"{folder}:{name}"
            model = cache.get(key)
            if model is None:
                progress(None, f"loading model {name}…")
                model = load_model(name, folder)
                cache[key] = model
            if cancel():
                return None
            progress(0.0, f"detecting with {model.label} on {device}…")
            catalogue, _maps = detect(image, model, device=device, threshold=threshold,
                                      progress=progress, cancel=cancel)
            return image, catalogue

        worker = self._start(task, "detection", "Detecting sources…")
        worker.succeeded.connect(self._detected)
        worker.cancelled.connect(self._detection_cancelled)
        self._detect_worker = worker
        self._update_actions()
        return worker

    def _detected(self, result) -> None:
        if result is None:
            return self._detection_cancelled()
        image, catalogue = result
        if image is not self.image:  # another image was opened meanwhile: these sources are not its
            return self._detection_cancelled()
        before = len(self.doc)
        merged = merge_detections(self.doc.catalogue, catalogue)
        self.vetting.push(ReplaceCatalogueCommand(self.doc, merged, f"Detect: {len(catalogue)} detections"))
        n = len(merged)
        self.statusBar().showMessage(f"{len(catalogue)} detections; catalogue now {n} sources "
                                     f"(was {before}).", 10000)
        self.detection_finished.emit(n)

    def _detection_cancelled(self) -> None:
        self.statusBar().showMessage("Detection cancelled: the catalogue is unchanged.", 8000)
        self.detection_cancelled.emit()

    # ===================================================================== tasks
    def _start(self, task, name: str, message: str) -> Worker:
        worker = self.tasks.start(task, name)
        worker.progress.connect(self._task_progress)
        worker.failed.connect(self._task_failed)
        worker.done.connect(self._task_done)
        self.progress.setRange(0, 0)  # busy until the task says how far it is
        self.progress.setFormat(message)
        self.progress.setVisible(True)
        self.cancel_button.setVisible(True)
        self.statusBar().showMessage(message)
        self._update_actions()
        return worker

    def _task_progress(self, fraction, message: str) -> None:
        if fraction is None:
            self.progress.setRange(0, 0)
        else:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(1000 * max(0.0, min(1.0, float(fraction)))))
        if message:
            self.progress.setFormat(f"{message}  %p%" if fraction is not None else message)
            self.statusBar().showMessage(message)

    def _task_failed(self, message: str) -> None:
        worker = self.sender()
        if worker is self._load_worker:
            self._load_worker = None
        title = "Cannot open the image" if getattr(worker, "name", "") == "open" else "Task failed"
        if getattr(worker, "name", "") == "detection":
            title = "Detection failed"
        self.show_error(title, message)
        self.task_failed.emit(message)

    def _task_done(self) -> None:
        worker = self.sender()
        if worker is not None and worker is self._load_worker:
            self._load_worker = None
        if worker is not None and worker is self._detect_worker:
            self._detect_worker = None
        self._hide_progress_if_idle()

    def _hide_progress_if_idle(self) -> None:
        if not self.busy:
            self.progress.setVisible(False)
            self.cancel_button.setVisible(False)
            self.statusBar().clearMessage()
        self._update_actions()

    def cancel_task(self) -> None:
        for w in (self._detect_worker, self._load_worker):
            if w is not None:
                w.cancel()
        self.tasks.cancel_all()
        self.progress.setFormat("Cancelling…")

    @property
    def busy(self) -> bool:
        return self._detect_worker is not None or self._load_worker is not None

    def _update_actions(self) -> None:
        has_image = self.image is not None
        detecting = self._detect_worker is not None
        for a in (self.act_fit, self.act_one, self.act_zoom_in, self.act_zoom_out, self.act_rect, self.act_header):
            a.setEnabled(has_image)
        self.act_detect.setEnabled(has_image and not detecting and bool(self.model_combo.currentData()))
        self.act_cancel.setEnabled(self.tasks.busy)
        if hasattr(self, "vetting"):
            self.vetting.update_actions()
            for a in (self.act_save_session, self.act_save_session_as):
                a.setEnabled(has_image)

    # ================================================================== errors
    def show_error(self, title: str, message: str) -> QMessageBox:
        """A real, window-modal message box (non-blocking: the event loop keeps running)."""
        box = QMessageBox(QMessageBox.Icon.Critical, title, message, QMessageBox.StandardButton.Ok, self)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        self.error_box = box
        box.finished.connect(self._error_closed)
        box.open()
        return box

    def _error_closed(self) -> None:
        self.error_box = None

    # ============================================================ interactions
    def _catalogue_reset(self) -> None:
        self._update_actions()

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
        tol = 6.0 * self.canvas.pixel_size()
        sid = self.overlay.source_at(x, y, tol)
        if modifiers & Qt.KeyboardModifier.ControlModifier:
            ids = self.doc.selected_ids
            if sid is not None:
                ids = [i for i in ids if i != sid] if sid in ids else ids + [sid]
            self.doc.set_selection(ids)
        else:
            self.doc.set_selection([] if sid is None else [sid])

    def _table_selected(self, ids: list) -> None:
        if len(ids) == 1:
            x, y, size = self.overlay.bounds_of(ids[0])
            self.canvas.center_on(x, y)

    def _show_cursor(self, x: float, y: float) -> None:
        image = self.image
        if image is None:
            return
        ix, iy = int(round(x)), int(round(y))
        ny, nx = image.shape
        if not (0 <= ix < nx and 0 <= iy < ny):
            self.readout.setText(f"x {x:.1f}  y {y:.1f}  (outside the image)")
            return
        parts = [f"x {ix}  y {iy} (0-based)"]
        world = image.world_at(ix, iy)
        if world is not None:
            try:
                icrs = world
                ra = icrs.ra.to_string(unit="hourangle", sep=":", precision=4, pad=True)
                dec = icrs.dec.to_string(unit="deg", sep=":", precision=3, alwayssign=True, pad=True)
                parts.append(f"RA {ra}  Dec {dec}  ({icrs.ra.deg:.6f}°, {icrs.dec.deg:+.6f}°)")
            except Exception:  # a WCS that cannot convert this pixel
                pass
        value = float(image.data[iy, ix])
        unit = image.unit.to_string() or ""
        if math.isfinite(value):
            rms = image.rms
            snr = f"  ({value / rms:.1f} σ)" if rms and math.isfinite(rms) and rms > 0 else ""
            parts.append(f"{value:.4g} {unit}{snr}")
        else:
            parts.append("blank")
        self.readout.setText("   │   ".join(parts))

    def show_header(self) -> HeaderDialog | None:
        if self.image is None:
            return None
        dialog = HeaderDialog(self.image, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        self.header_dialog = dialog
        dialog.show()
        return dialog

    def show_user_guide(self):
        """The user guide (docs/) in a window of its own."""
        from .user_guide import UserGuide

        guide = UserGuide(self)
        guide.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        self.user_guide = guide
        guide.show()
        return guide

    def about(self) -> QMessageBox:
        """Version, and each installed model with the figures from its card."""
        import html

        from ..ml.card_summary import card_figures, card_heading
        from ..ml.registry import available_models

        parts = [f"<b>decoras-gui {VERSION}</b><p>Find and measure sources in radio interferometric "
                 "images with the DECORAS deep networks (Rezaei et al. 2022, MNRAS 510, 5891).</p>"]
        cards = available_models(self.model_dir)
        if not cards:
            parts.append("<p>No detection model is installed.</p>")
        for card in cards:
            rows = "".join(f"<tr><td>{html.escape(label)}</td><td align='right'>{html.escape(value)}</td></tr>"
                           for label, value in card_figures(card))
            parts.append(f"<p><b>{html.escape(card_heading(card))}</b></p>"
                         + (f"<table cellspacing='4'>{rows}</table>" if rows else "<p>(not evaluated)</p>"))
        box = QMessageBox(QMessageBox.Icon.Information, "About decoras-gui", "".join(parts),
                          QMessageBox.StandardButton.Ok, self)
        box.setTextFormat(Qt.TextFormat.RichText)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        self.about_box = box
        box.open()
        return box
