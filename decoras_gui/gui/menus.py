"""The window's own actions, and its menu bar and tool bars laid out from the actions of all its parts."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QComboBox, QLabel, QMainWindow, QSlider, QStyle, QToolBar

from ..core.catalogue import STATUSES
from .actions import make_action
from .style import STATUS_COLORS, app_icon, status_icon

PROB_STEPS = 1000  # slider resolution: 0.001 in probability


def build_actions(w: QMainWindow) -> None:
    """The window's own actions (file, view, detect, help, sessions): attributes ``act_*`` of ``w``."""
    st, SP = w.style(), QStyle.StandardPixmap

    def act(text, slot, keys=(), icon=None, tip="", **kw):
        return make_action(w, text, slot, keys, tip, icon=app_icon(*icon, st) if icon else None, **kw)

    w.act_open = act("&Open…", w.open_dialog, QKeySequence.StandardKey.Open, ("open", SP.SP_DialogOpenButton),
                     "Open a FITS image (Ctrl+O)")
    w.act_sample = act("Open &Sample", w.open_sample, (), ("sample", SP.SP_FileDialogContentsView),
                       "Open the bundled simulated VLBA dirty image")
    w.act_open_beam = act("Open Dirty &Beam…", lambda: w.detection.open_beam_dialog(), (), None,
                          "Open the image's dirty beam (PSF): Detect then tests every detection against its "
                          "sidelobes", name="open_dirty_beam")
    w.act_detect_folder = act("&Detect in Folder…", lambda: w.detect_in_folder(), (), None,
                              "Detect every FITS image of a folder in the background, on a Dask cluster of worker "
                              "processes: one catalogue and region file each, a survey catalogue, resumable",
                              name="detect_in_folder")
    w.act_quit = act("&Quit", w.close, QKeySequence.StandardKey.Quit)
    w.act_fit = act("&Fit", w.canvas.fit, "F", ("fit", SP.SP_TitleBarMaxButton),
                    "Fit the whole image in the view (F)")
    w.act_one = act("&1:1", w.canvas.zoom_one_to_one, "1", ("one", SP.SP_TitleBarNormalButton),
                    "One image pixel per screen pixel (1)")
    w.act_zoom_in = act("Zoom &In", lambda: w.canvas.zoom(1.5), QKeySequence.StandardKey.ZoomIn,
                        ("zoom_in", SP.SP_ArrowUp), "Zoom in (Ctrl++)")
    w.act_zoom_out = act("Zoom &Out", lambda: w.canvas.zoom(1 / 1.5), QKeySequence.StandardKey.ZoomOut,
                         ("zoom_out", SP.SP_ArrowDown), "Zoom out (Ctrl+-)")
    w.act_rect = act("Zoom to &Selection", w.canvas.set_rect_zoom, "Z", ("zoom_rect", SP.SP_FileDialogDetailedView),
                     "Drag a rectangle to zoom to it (Z); off: drag pans", checkable=True)
    w.act_header = act("FITS &Header…", w.show_header, "Ctrl+H", ("header", SP.SP_FileDialogInfoView),
                       "Show the FITS header")
    w.act_detect = act("&Detect Sources", w.run_detection, "Ctrl+D", ("detect", SP.SP_MediaPlay),
                       "Run the detection network on the image (Ctrl+D)")
    w.act_cancel = make_action(w, "&Cancel", w.cancel_task, "Esc", "Cancel the running task",
                               icon=st.standardIcon(SP.SP_BrowserStop))
    w.act_labels = act("Source &Labels", w.overlay_labels, "L", tip="Show source ids next to the ellipses (L)",
                       checkable=True)
    w.act_overlay = act("Show &Ellipses", w.overlay_visible, "E", tip="Show the source ellipses (E)",
                        checkable=True)
    w.act_overlay.setChecked(True)
    w.status_actions = {}
    for status in STATUSES:
        a = make_action(w, status.capitalize(), None, (), f"Show {status} sources", checkable=True,
                        icon=status_icon(STATUS_COLORS[status]))
        a.setChecked(True)
        a.toggled.connect(lambda on, s=status: w.doc.set_status_shown(s, on))
        w.status_actions[status] = a
    w.act_about = act("&About decoras-gui", w.about, name="about")
    w.act_models = act("&Models…", w.show_models, name="models",
                       tip="The installed models: each one's domain, figures and AutoML study, against the open image")
    w.act_train = act("&Train a Model for This Image…", w.show_training, name="train_model",
                      tip="An AutoML study for images like this one (instrument, band, beam sampling, dirty or "
                      "restored from its header), in the background; the model goes to your model folder")
    w.act_guide = act("&User Guide", w.show_user_guide, "F1", name="user_guide")
    w.act_open_session = make_action(w, "Open Sess&ion…", lambda: w.sessions.open_dialog(), "Ctrl+Shift+O",
                                     "Open a saved vetting session (image, sources, decisions, view)",
                                     icon=st.standardIcon(SP.SP_DirOpenIcon))
    w.act_save_session = make_action(w, "&Save Session", lambda: w.sessions.save_dialog(save_as=False),
                                     QKeySequence.StandardKey.Save, "Save the vetting session (Ctrl+S)",
                                     icon=st.standardIcon(SP.SP_DialogSaveButton))
    w.act_save_session_as = make_action(w, "Save Session &As…", lambda: w.sessions.save_dialog(True),
                                        "Ctrl+Shift+S", "Save the vetting session to a new file")


def _fill(menu, actions) -> None:
    for a in actions:
        menu.addSeparator() if a is None else menu.addAction(a)


def build_menus(w: QMainWindow) -> None:
    mb = w.menuBar()
    vt, ex = w.vetting, w.exchange
    m = mb.addMenu("&File")
    m.addAction(w.act_open)
    w.recent_menu = m.addMenu("Open &Recent")
    w.recent_menu.aboutToShow.connect(w.fill_recent_menu)
    _fill(m, (w.act_sample, w.act_open_beam, None, w.act_detect_folder, None, w.act_open_session, w.act_save_session,
              w.act_save_session_as, None))
    _fill(m.addMenu("&Import"), (ex.act_import_sources, ex.act_import_reference, None, w.crossmatch.act_crossmatch))
    _fill(m.addMenu("S&AMP"), (w.samp.act_connect, None, w.samp.act_image, w.samp.act_catalogue, None,
                               w.samp.act_share))
    _fill(m.addMenu("&Export"), (ex.act_export_regions, ex.act_export_catalogue, ex.act_export_png, None,
                                  w.sky_map.act_export, None, w.deblend.act_export_components,
                                  w.deblend.act_export_photometry))
    _fill(m, (None, w.act_header, None, w.act_quit))
    _fill(mb.addMenu("&Edit"), (vt.act_undo, vt.act_redo, None, w.history_dock.toggleViewAction()))
    _fill(mb.addMenu("V&etting"), (vt.act_accept, vt.act_reject, vt.act_unvet, None, vt.act_next, vt.act_prev,
          vt.act_auto, None, vt.act_note, vt.act_delete, vt.act_add, None,
          vt.act_bulk_accept, vt.act_bulk_reject, None, w.crossmatch.act_add_unmatched))
    v = mb.addMenu("&View")
    _fill(v, (w.act_fit, w.act_one, w.act_zoom_in, w.act_zoom_out, w.act_rect, None, w.act_overlay, w.act_labels,
          ex.act_reference, w.crossmatch.act_layer, None, w.cube.act_next, w.cube.act_prev))
    _fill(v.addMenu("Show &Status"), w.status_actions.values())
    sm = w.sky_map
    _fill(v.addMenu("Sky &Map"), (*sm.mode_actions.values(), None, sm.act_blink, sm.act_side, None, sm.act_flux))
    v.addSeparator()
    _fill(v, [dock.toggleViewAction() for dock in (w.display_dock, w.stats_dock, w.table_dock, w.deblend_dock,
                                                   w.survey_dock, w.spectrum_dock, w.history_dock)])
    _fill(mb.addMenu("&Detect"), (w.act_detect, w.cube.act_detect, w.cube.act_spectra, None, w.sky_map.act_restore,
                                  w.deblend.act_deblend, None, w.act_cancel))
    _fill(mb.addMenu("&Tools"), (w.act_train,))
    _fill(mb.addMenu("&Help"), (w.act_guide, w.act_models, None, w.act_about))


def _device_combo(w: QMainWindow) -> QComboBox:
    combo = QComboBox(w)
    combo.setToolTip("Where the networks run")
    combo.addItem("Auto", "auto")
    combo.addItem("CPU", "cpu")
    try:
        import torch

        if torch.cuda.is_available():
            combo.addItem(f"CUDA ({torch.cuda.get_device_name(0)})", "cuda")
    except Exception:  # torch without a working CUDA: CPU only
        pass
    return combo


def build_toolbars(w: QMainWindow) -> None:
    tb = QToolBar("Main", w)
    tb.setObjectName("mainToolbar")
    tb.setIconSize(QSize(20, 20))
    tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    tb.addAction(w.act_open)
    tb.addSeparator()
    for a in (w.act_fit, w.act_one, w.act_zoom_in, w.act_zoom_out, w.act_rect):
        tb.addAction(a)
        tb.widgetForAction(a).setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
    tb.addSeparator()
    w.model_combo = QComboBox(w)
    w.model_combo.setToolTip("Detection model (bundled model cards)")
    w.model_combo.setMinimumContentsLength(12)
    w.device_combo = _device_combo(w)
    for widget in (QLabel(" Model "), w.model_combo, QLabel(" Device "), w.device_combo):
        tb.addWidget(widget)
    tb.addAction(w.act_detect)
    tb.addSeparator()
    w.prob_slider = QSlider(Qt.Orientation.Horizontal, w)
    w.prob_slider.setRange(0, PROB_STEPS)
    w.prob_slider.setFixedWidth(140)
    w.prob_slider.setToolTip("Hide candidates whose detection probability is below this "
                             "(accepted and rejected sources stay shown)")
    w.prob_label = QLabel("P ≥ 0.000")
    w.prob_label.setMinimumWidth(64)
    for widget in (QLabel(" Min. probability "), w.prob_slider, w.prob_label):
        tb.addWidget(widget)
    tb.addSeparator()
    tb.addAction(w.act_header)
    w.addToolBar(tb)
    w.toolbar = tb
    vtb = QToolBar("Vetting", w)
    vtb.setObjectName("vettingToolbar")
    vtb.setIconSize(QSize(16, 16))
    vtb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    vt = w.vetting
    _fill(vtb, (vt.act_accept, vt.act_reject, vt.act_unvet, None, vt.act_prev, vt.act_next, vt.act_auto, None,
          vt.act_add, vt.act_delete, None, vt.act_undo, vt.act_redo))
    w.addToolBarBreak()
    w.addToolBar(vtb)
    w.vetting_toolbar = vtb
    w.addToolBarBreak()
    w.addToolBar(w.cube.bar)  # shown for cubes only


__all__ = ["build_actions", "build_menus", "build_toolbars", "PROB_STEPS"]
