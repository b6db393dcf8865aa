"""The export dialog: DS9 regions, a catalogue file, or a PNG of the view, with their options."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QColorDialog,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QToolButton,
    QWidget,
)

from ..core.catalogue import REJECTED, STATUSES
from .style import STATUS_COLORS

CATALOGUE_FORMATS = {"ecsv": ("ECSV (*.ecsv)", ".ecsv"), "csv": ("CSV (*.csv)", ".csv"),
                     "fits": ("FITS table (*.fits)", ".fits"), "votable": ("VOTable (*.vot *.xml)", ".vot")}


class _PathRow(QWidget):
    def __init__(self, parent, caption: str, filter_: str, start: str):
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.edit = QLineEdit(start, self)
        self.edit.setMinimumWidth(320)
        b = QPushButton("Browse…", self)
        lay.addWidget(self.edit, 1)
        lay.addWidget(b)
        self.caption, self.filter = caption, filter_
        b.clicked.connect(self._browse)

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, self.caption, self.edit.text(), self.filter)
        if path:
            self.edit.setText(path)

    def path(self) -> str:
        return self.edit.text().strip()


class ExportDialog(QDialog):
    """Options of one export: DS9 regions, a catalogue file, or a PNG of the view."""

    def __init__(self, kind: str, start_path: str, parent=None):
        super().__init__(parent)
        self.kind = kind
        titles = {"regions": "Export DS9 regions", "catalogue": "Export catalogue", "png": "Export view as PNG"}
        self.setWindowTitle(titles[kind])
        form = QFormLayout(self)
        filters = {"regions": "DS9 regions (*.reg)", "png": "PNG image (*.png)",
                   "catalogue": ";;".join(f for f, _ in CATALOGUE_FORMATS.values())}
        self.path_row = _PathRow(self, titles[kind], filters[kind], start_path)
        form.addRow("File", self.path_row)
        self.status_checks: dict[str, QCheckBox] = {}
        self.colors = dict(STATUS_COLORS)
        if kind in ("regions", "catalogue"):
            box = QWidget(self)
            lay = QHBoxLayout(box)
            lay.setContentsMargins(0, 0, 0, 0)
            for s in STATUSES:
                c = QCheckBox(s, box)
                c.setChecked(s != REJECTED)
                lay.addWidget(c)
                if kind == "regions":
                    b = QToolButton(box)
                    b.setToolTip(f"Colour of {s} ellipses")
                    b.setStyleSheet(f"background: {self.colors[s]}; min-width: 16px;")
                    b.clicked.connect(lambda _=False, s=s, b=b: self._pick_color(s, b))
                    lay.addWidget(b)
                self.status_checks[s] = c
            lay.addStretch(1)
            form.addRow("Statuses", box)
        if kind == "regions":
            self.frame = QComboBox(self)
            for f, label in (("fk5", "FK5 (J2000)"), ("icrs", "ICRS"), ("image", "Image pixels")):
                self.frame.addItem(label, f)
            self.labels = QCheckBox("Source ids as text labels", self)
            self.labels.setChecked(True)
            form.addRow("Coordinates", self.frame)
            form.addRow("", self.labels)
        if kind == "catalogue":
            self.format = QComboBox(self)
            for k, (label, _) in CATALOGUE_FORMATS.items():
                self.format.addItem(label.split(" (")[0], k)
            self.format.currentIndexChanged.connect(self._format_changed)
            form.addRow("Format", self.format)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Export")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _pick_color(self, status: str, button: QToolButton) -> None:
        c = QColorDialog.getColor(QColor(self.colors[status]), self, f"Colour of {status} sources")
        if c.isValid():
            self.colors[status] = c.name()
            button.setStyleSheet(f"background: {c.name()}; min-width: 16px;")

    def _format_changed(self) -> None:
        ext = CATALOGUE_FORMATS[self.format.currentData()][1]
        p = Path(self.path_row.path() or "catalogue")
        self.path_row.edit.setText(str(p.with_suffix(ext)))

    def statuses(self) -> list[str]:
        return [s for s, c in self.status_checks.items() if c.isChecked()]


__all__ = ["ExportDialog"]
