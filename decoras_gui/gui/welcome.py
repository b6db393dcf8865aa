"""The page shown before any image is open: what the program does, Open and the sample."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

WELCOME_TEXT = "Open a FITS image (Ctrl+O) or try the sample"


class WelcomePage(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("welcome")
        layout = QVBoxLayout(self)
        layout.addStretch(2)
        title = QLabel("decoras-gui")
        title.setObjectName("welcomeTitle")
        self.label = QLabel(WELCOME_TEXT)
        self.label.setObjectName("welcomeText")
        sub = QLabel("Find and measure sources in radio images with the DECORAS networks.\n"
                     "Drop a .fits, .fits.gz or .fz file anywhere on this window.")
        sub.setObjectName("welcomeSub")
        for w in (title, self.label, sub):
            w.setAlignment(Qt.AlignmentFlag.AlignCenter)
            layout.addWidget(w)
        layout.addSpacing(16)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.open_button = QPushButton("Open FITS image…")
        self.sample_button = QPushButton("Open the sample image")
        for b in (self.open_button, self.sample_button):
            b.setMinimumWidth(190)
            buttons.addWidget(b)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        layout.addStretch(3)


__all__ = ["WelcomePage", "WELCOME_TEXT"]
