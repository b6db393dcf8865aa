"""``decoras-gui [FILE]``: start the desktop application."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from .. import __version__


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="decoras-gui",
                                description="Find and measure sources in radio images (FITS) with the DECORAS "
                                "networks.")
    p.add_argument("file", nargs="?", help="FITS image (.fits, .fits.gz, .fz) or session (.decoras) to open")
    p.add_argument("--hdu", help="HDU index or name (default: the first image; asks when there are several)")
    p.add_argument("--plane", type=int, help="plane of a cube (first non-degenerate extra axis)")
    p.add_argument("--models", help="folder of model cards and weights (default: the bundled models)")
    p.add_argument("--settings", help="ini file for the settings (default: the user's; or $DECORAS_GUI_SETTINGS)")
    p.add_argument("--detect", action="store_true", help="run detection once the image is open")
    p.add_argument("--threshold", type=float, help="detection threshold (default: the model card's)")
    p.add_argument("--restore", choices=("ask", "restore", "discard", "later"), default=None,
                   help="after a crash: what to do with the autosaved session (default: ask; "
                   "or $DECORAS_GUI_RESTORE)")
    p.add_argument("--self-test", action="store_true",
                   help="check this install: open the bundled sample offscreen, detect, export, verify; "
                   "exit 0 if all is well")
    p.add_argument("--script", help=argparse.SUPPRESS)  # tests: replay actions (gui/script.py)
    p.add_argument("--version", action="version", version=f"decoras-gui {__version__}")
    return p.parse_args(argv)


DESKTOP_ID = "io.github.decoras.DecorasGui"  # resources/<id>.desktop, <id>.metainfo.xml, the icon's name


def app_icon(icons: Path):
    """The application icon (a QIcon): the PNG renderings (packaging/render_icons.py) and the SVG."""
    from PySide6.QtGui import QIcon

    icon = QIcon()
    for png in sorted(icons.glob("decoras-gui-*.png")):
        icon.addFile(str(png))
    svg = icons / "decoras-gui.svg"
    if svg.is_file():
        icon.addFile(str(svg))
    return icon


def load_stylesheet() -> str:
    from ..paths import resources_dir

    path = resources_dir() / "decoras-dark.qss"
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return ""


def apply_theme(app) -> None:
    """Fusion style with a dark palette and the bundled stylesheet."""
    from PySide6.QtGui import QColor, QPalette

    app.setStyle("Fusion")
    pal = QPalette()
    roles = {
        QPalette.ColorRole.Window: "#23262b",
        QPalette.ColorRole.WindowText: "#dfe2e6",
        QPalette.ColorRole.Base: "#1b1d21",
        QPalette.ColorRole.AlternateBase: "#23262b",
        QPalette.ColorRole.ToolTipBase: "#2d3138",
        QPalette.ColorRole.ToolTipText: "#e6e6e6",
        QPalette.ColorRole.Text: "#dfe2e6",
        QPalette.ColorRole.Button: "#2d3138",
        QPalette.ColorRole.ButtonText: "#dfe2e6",
        QPalette.ColorRole.BrightText: "#ffffff",
        QPalette.ColorRole.Highlight: "#2f6fa8",
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.Link: "#56B4E9",
        QPalette.ColorRole.PlaceholderText: "#7d838c",
    }
    for role, color in roles.items():
        pal.setColor(role, QColor(color))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        pal.setColor(QPalette.ColorGroup.Disabled, role, QColor("#6b7078"))
    app.setPalette(pal)
    app.setStyleSheet(load_stylesheet())


def _close_on_signals(app, window) -> None:
    """SIGTERM / SIGINT (logout, Ctrl+C in the terminal) close the window cleanly: unsaved
    vetting stays in the autosave journal and is offered at the next start."""
    import signal

    from PySide6.QtCore import QTimer

    def handler(signum, _frame):
        window.ask_on_close = False
        window.close()
        app.quit()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, handler)
    timer = QTimer(app)  # let the Python interpreter run now and then to see the signal
    timer.timeout.connect(lambda: None)
    timer.start(250)
    app._signal_timer = timer


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.self_test:
        from .self_test import run_self_test

        return run_self_test(args.models)
    if args.settings:
        os.environ["DECORAS_GUI_SETTINGS"] = args.settings
    import pyqtgraph as pg
    from PySide6.QtWidgets import QApplication

    from ..paths import resources_dir
    from .main_window import MainWindow

    pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName("decoras")
    app.setApplicationName("decoras-gui")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName(DESKTOP_ID)  # Wayland/X11 match the window to its menu entry and icon
    app.setWindowIcon(app_icon(resources_dir() / "icons"))
    apply_theme(app)
    from ..core.session import SESSION_SUFFIX

    window = MainWindow(model_dir=args.models, detect_threshold=args.threshold)
    window.ask_on_close = not args.script
    window.show()
    answer = None if args.restore in (None, "ask") else args.restore
    restored = window.sessions.offer_restore(answer) == "restore"
    if args.file and not restored:
        if str(args.file).endswith(SESSION_SUFFIX):
            window.sessions.open(args.file)
        else:
            hdu = int(args.hdu) if args.hdu and args.hdu.lstrip("-").isdigit() else args.hdu
            window.open_path(args.file, hdu=hdu, plane=args.plane)
            if args.detect:
                window.image_opened.connect(lambda _img: window.run_detection())
    _close_on_signals(app, window)
    if args.script:
        from .script import ScriptRunner

        runner = ScriptRunner(window, args.script)
        runner.start()
    return app.exec()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
