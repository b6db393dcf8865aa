"""The export dialog: DS9 or CASA regions, a catalogue file, or a PNG of the view, with their options."""

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
from ..core.formats import (
    CATALOGUE_FORMATS,
    REGION_FORMATS,
    REGIONS_FILE_FILTER,
    catalogue_file_filters,
    region_format,
    region_format_for_path,
    region_frame_choices,
    with_catalogue_extension,
)
from .style import STATUS_COLORS


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
    """Options of one export: DS9 or CASA (CRTF) regions, a catalogue file, or a PNG of the view."""

    def __init__(self, kind: str, start_path: str, parent=None):
        super().__init__(parent)
        self.kind = kind
        titles = {"regions": "Export regions", "catalogue": "Export catalogue", "png": "Export view as PNG"}
        self.setWindowTitle(titles[kind])
        form = QFormLayout(self)
        filters = {"regions": REGIONS_FILE_FILTER, "png": "PNG image (*.png)",
                   "catalogue": ";;".join(catalogue_file_filters())}
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
            self.region_format = QComboBox(self)
            for f in REGION_FORMATS:
                self.region_format.addItem(f.label, f.key)
            self.region_format.setCurrentIndex(self.region_format.findData(region_format_for_path(start_path).key))
            self.region_format.setToolTip("DS9 (.reg) or CASA region text (.crtf, read by CASA and CARTA); "
                                          "the same ellipses in each program's convention")
            self.region_format.currentIndexChanged.connect(self._region_format_changed)
            form.addRow("Format", self.region_format)
            self.frame = QComboBox(self)
            for label, key in region_frame_choices():
                self.frame.addItem(label, key)
            self.labels = QCheckBox("Source ids as text labels", self)
            self.labels.setChecked(True)
            form.addRow("Coordinates", self.frame)
            form.addRow("", self.labels)
        if kind == "catalogue":
            self.format = QComboBox(self)
            for f in CATALOGUE_FORMATS:
                self.format.addItem(f.label, f.key)
            self.format.currentIndexChanged.connect(self._format_changed)
            form.addRow("Format", self.format)
            self.per = QComboBox(self)
            self.per.addItem("One row per component (source_id names its source)", "component")
            self.per.addItem("One row per source (components aggregated)", "source")
            self.per.setToolTip("Per component: every fitted component, with source_id, component_id, island "
                                "and s_code. Per source: one row per source, total flux summed, size from the "
                                "moments of its components (PyBDSF's source list)")
            form.addRow("Rows", self.per)
            self.layout_box = QComboBox(self)
            self.layout_box.addItem("decoras-gui columns", "native")
            self.layout_box.addItem("PyBDSF source list (srl, LoTSS-DR1 names and units)", "srl")
            self.layout_box.addItem("PyBDSF Gaussian list (gaul, LoTSS-DR1 names and units)", "gaul")
            self.layout_box.setToolTip("The PyBDSF lists carry PyBDSF's column names (Source_Name, RA, E_RA, "
                                       "Peak_flux in mJy/beam, Total_flux in mJy, Maj in arcsec, S_Code, Isl_id, "
                                       "...) so that code written for LoTSS or RACS reads them unchanged; "
                                       "our own columns (snr, det_prob, status, ...) follow")
            self.layout_box.currentIndexChanged.connect(
                lambda: self.per.setEnabled(self.layout_box.currentData() == "native"))
            form.addRow("Columns", self.layout_box)
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

    def _region_format_changed(self) -> None:
        fmt = region_format(self.region_format.currentData())
        path = Path(self.path_row.path() or "sources.reg")
        if path.suffix.lower() in {e for f in REGION_FORMATS for e in f.extensions}:
            path = path.with_suffix("")
        self.path_row.edit.setText(str(path) + fmt.extensions[0])

    def _format_changed(self) -> None:
        path = with_catalogue_extension(self.path_row.path() or "catalogue", self.format.currentData())
        self.path_row.edit.setText(str(path))

    def statuses(self) -> list[str]:
        return [s for s, c in self.status_checks.items() if c.isChecked()]


__all__ = ["ExportDialog"]
