"""Render the application icon resources/icons/decoras-gui.svg to the PNG sizes desktops want.

    .venv/bin/python packaging/render_icons.py [--out DIR]

writes resources/icons/decoras-gui-<N>.png for N in SIZES (square, transparent background),
with Qt's own SVG renderer, offscreen; packaging/install-desktop installs them into the hicolor
icon theme and the window uses them (decoras_gui/gui/app.py). tests/packaging checks that the
committed PNGs are what this script renders.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SVG = REPO / "resources" / "icons" / "decoras-gui.svg"
SIZES = (16, 32, 48, 64, 128, 256, 512)


def render(svg: Path, size: int):
    """The SVG drawn into a size x size ARGB image (a QImage)."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise ValueError(f"{svg}: not a valid SVG file")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    return image


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--svg", type=Path, default=SVG, help="source SVG (default: %(default)s)")
    p.add_argument("--out", type=Path, default=SVG.parent, help="folder for the PNGs (default: %(default)s)")
    args = p.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841 - Qt wants one
    args.out.mkdir(parents=True, exist_ok=True)
    for size in SIZES:
        target = args.out / f"{args.svg.stem}-{size}.png"
        if not render(args.svg, size).save(str(target), "PNG"):
            raise OSError(f"could not write {target}")
        print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
