"""Crop a screenshot to the window (drop the black Xvfb margin) and scale it to a width, with Qt.

    .venv/bin/python docs/shots/shrink.py IN.png OUT.png [WIDTH]      (default width 1400)
"""

from __future__ import annotations

import sys

import numpy as np
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QImage


def window_rect(image: QImage) -> QRect:
    """The bounding box of the non-black pixels (the window on the black root window)."""
    grey = image.convertToFormat(QImage.Format.Format_Grayscale8)
    rows = np.frombuffer(grey.constBits(), np.uint8).reshape(grey.height(), grey.bytesPerLine())
    lit = rows[:, :grey.width()] > 8
    ys, xs = np.flatnonzero(lit.any(axis=1)), np.flatnonzero(lit.any(axis=0))
    if ys.size == 0:
        return image.rect()
    return QRect(int(xs[0]), int(ys[0]), int(xs[-1] - xs[0] + 1), int(ys[-1] - ys[0] + 1))


def main(argv: list[str]) -> int:
    src, dst = argv[1], argv[2]
    width = int(argv[3]) if len(argv) > 3 else 1400
    image = QImage(src)
    if image.isNull():
        print(f"shrink: cannot read {src}", file=sys.stderr)
        return 2
    image = image.copy(window_rect(image))
    if image.width() > width:
        image = image.scaledToWidth(width, Qt.TransformationMode.SmoothTransformation)
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    if not image.save(dst, "PNG", 0):  # quality 0: the strongest compression
        print(f"shrink: cannot write {dst}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
