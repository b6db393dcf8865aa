"""Dialogs and panels: HDU/plane chooser, FITS header viewer, image statistics, status by threshold."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ..core.catalogue import ACCEPTED, CANDIDATE, REJECTED
from ..core.image import SkyImage
from ..core.vetting import QUANTITIES


def _fixed_font() -> QFont:
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    font.setPointSizeF(max(9.0, font.pointSizeF()))
    return font


class PlaneChooserDialog(QDialog):
    """Pick the HDU and, for a cube, the plane of each extra (FREQ, STOKES...) axis."""

    def __init__(self, path: str, hdus: list[tuple[int, str, tuple[int, ...]]], image: SkyImage | None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Choose the image")
        self._default_hdu = image.hdu_index if image is not None else (hdus[0][0] if hdus else 0)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"<b>{path}</b> holds several images. Which one?"))
        form = QFormLayout()
        self.hdu_combo = QComboBox(self)
        for index, name, shape in hdus:
            dims = " x ".join(str(n) for n in shape)
            self.hdu_combo.addItem(f"{index}: {name or '(no name)'}  [{dims}]", index)
        if hdus:
            self.hdu_combo.setCurrentIndex(max(0, [h[0] for h in hdus].index(self._default_hdu))
                                           if self._default_hdu in [h[0] for h in hdus] else 0)
        form.addRow("HDU", self.hdu_combo)
        self.plane_spins: list[QSpinBox] = []
        for axis in (image.extra_axes if image is not None else ()):
            if axis.length <= 1:
                continue
            spin = QSpinBox(self)
            spin.setRange(0, axis.length - 1)
            spin.setSuffix(f"  of {axis.length}")
            form.addRow(f"{axis.name} plane (axis {axis.fits_index})", spin)
            self.plane_spins.append(spin)
        layout.addLayout(form)
        self.hdu_combo.currentIndexChanged.connect(self._hdu_changed)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _hdu_changed(self) -> None:
        same = self.hdu_combo.currentData() == self._default_hdu
        for spin in self.plane_spins:
            spin.setEnabled(same)

    def choice(self) -> tuple[int, tuple[int, ...] | None]:
        hdu = int(self.hdu_combo.currentData()) if self.hdu_combo.count() else self._default_hdu
        if hdu == self._default_hdu and self.plane_spins:
            return hdu, tuple(s.value() for s in self.plane_spins)
        return hdu, None


class HeaderDialog(QDialog):
    """The FITS header, filtered as you type (case-insensitive, on the whole card)."""

    def __init__(self, image: SkyImage, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(f"FITS header — {image.name} [HDU {image.hdu_index}]")
        self.resize(760, 620)
        self._cards = [card.image for card in image.header.cards]
        layout = QVBoxLayout(self)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Filter keywords and values…")
        self.search.setClearButtonEnabled(True)
        self.text = QPlainTextEdit(self)
        self.text.setReadOnly(True)
        self.text.setFont(_fixed_font())
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.count = QLabel(self)
        layout.addWidget(self.search)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.count)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.search.textChanged.connect(self.apply_filter)
        self.apply_filter("")

    def shown_cards(self) -> list[str]:
        text = self.text.toPlainText()
        return text.splitlines() if text else []

    def apply_filter(self, text: str) -> None:
        needle = text.strip().lower()
        cards = [c for c in self._cards if needle in c.lower()] if needle else self._cards
        self.text.setPlainText("\n".join(cards))
        self.count.setText(f"{len(cards)} of {len(self._cards)} cards")


def image_statistics(image: SkyImage) -> list[tuple[str, str]]:
    """(label, value) rows describing an image, for the statistics panel."""
    import numpy as np

    from ..core.image import strided_sample

    raw = strided_sample(image.data, 4_000_000, np.float32, finite_only=False)  # one pass, pages released
    values = raw[np.isfinite(raw)]
    unit = image.unit.to_string() or "(no unit)"
    ny, nx = image.shape
    rows = [
        ("File", image.name),
        ("HDU", f"{image.hdu_index} ({image.hdu_name})"),
        ("Shape", f"{nx} x {ny} pixels" + (f", plane {image.plane}" if image.plane else "")),
        ("Unit", unit),
    ]
    if values.size:
        rows += [
            ("Minimum", f"{float(np.min(values)):.4g} {unit}"),
            ("Maximum", f"{float(np.max(values)):.4g} {unit}"),
            ("Mean", f"{float(np.mean(values)):.4g} {unit}"),
        ]
    rms = image.rms
    rows.append(("Robust rms", f"{rms:.4g} {unit}" if math.isfinite(rms) else "n/a"))
    if values.size and math.isfinite(rms) and rms > 0:
        rows.append(("Peak / rms", f"{float(np.max(values)) / rms:.1f}"))
    scale = image.pixel_scale_deg
    if scale:
        mas = scale * 3.6e6
        rows.append(("Pixel scale", f"{mas:.4g} mas" if mas < 1000 else f"{scale * 3600:.4g} arcsec"))
    rows.append(("Beam", image.beam.describe() if image.beam else "none in the header"))
    bp = image.beam_pixels
    if bp:
        rows.append(("Beam (pixels)", f"{bp[0]:.2f} x {bp[1]:.2f}"))
    rows.append(("Projection", image.projection or ("no celestial WCS" if image.wcs is None else "?")))
    for axis in image.extra_axes:
        value = f", value {axis.value:g}" if axis.value is not None else ""
        rows.append((axis.name, f"{axis.length} plane(s){value}"))
    blank = raw.size - values.size
    rows.append(("Blank pixels", f"{100.0 * blank / max(raw.size, 1):.2f} %" if blank else "none"))
    for w in image.warnings:
        rows.append(("Warning", w))
    return rows


class StatsPanel(QWidget):
    """Image statistics and load warnings (a dock's content)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.form = QFormLayout(self)
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self.form.setContentsMargins(8, 8, 8, 8)
        self.rows: list[tuple[str, str]] = []
        self.set_image(None)

    def set_image(self, image: SkyImage | None) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        self.rows = image_statistics(image) if image is not None else [("", "No image open")]
        for label, value in self.rows:
            v = QLabel(value)
            v.setWordWrap(True)
            v.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            if label == "Warning":
                v.setStyleSheet("color: #E69F00;")
            self.form.addRow(label, v)


class ThresholdDialog(QDialog):
    """Set the status of every source above/below a probability or SNR."""

    def __init__(self, parent=None, status: str = ACCEPTED):
        super().__init__(parent)
        self.setWindowTitle("Set status by threshold")
        form = QFormLayout(self)
        self.status = QComboBox(self)
        for s, label in ((ACCEPTED, "Accept"), (REJECTED, "Reject"), (CANDIDATE, "Back to candidate")):
            self.status.addItem(label, s)
        self.status.setCurrentIndex(self.status.findData(status))
        self.quantity = QComboBox(self)
        for k, label in QUANTITIES.items():
            self.quantity.addItem(label, k)
        self.op = QComboBox(self)
        self.op.addItem("at or above (≥)", ">=")
        self.op.addItem("below (<)", "<")
        if status == REJECTED:
            self.op.setCurrentIndex(1)
        self.value = QDoubleSpinBox(self)
        self.value.setDecimals(3)
        self.value.setRange(-1e6, 1e6)
        self.value.setValue(0.9 if status == ACCEPTED else 0.5)
        self.only_candidates = QCheckBox("Only sources still candidates (keep earlier decisions)", self)
        self.only_candidates.setChecked(True)
        form.addRow("Set status", self.status)
        form.addRow("of sources whose", self.quantity)
        form.addRow("is", self.op)
        form.addRow("value", self.value)
        form.addRow(self.only_candidates)
        self.preview = QLabel(self)
        form.addRow(self.preview)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.count = None  # set by the controller: choice -> number of sources it changes
        for sig in (self.status.currentIndexChanged, self.quantity.currentIndexChanged, self.op.currentIndexChanged,
                    self.value.valueChanged, self.only_candidates.toggled):
            sig.connect(self.update_preview)

    def update_preview(self, *_) -> None:
        if self.count is not None:
            n = self.count(*self.choice())
            self.preview.setText(f"{n} source{'s' if n != 1 else ''} will change (one undo step).")

    def choice(self) -> tuple[str, str, str, float, bool]:
        return (self.status.currentData(), self.quantity.currentData(), self.op.currentData(),
                float(self.value.value()), self.only_candidates.isChecked())


def about_box(parent: QWidget, model_dir) -> QMessageBox:
    """Version, and each installed model with the figures from its card (not yet shown)."""
    import html

    from .. import __version__
    from ..ml.card_summary import card_figures, card_heading
    from ..ml.registry import available_models

    parts = [f"<b>decoras-gui {__version__}</b><p>Find and measure sources in radio interferometric "
             "images with the DECORAS deep networks (Rezaei et al. 2022, MNRAS 510, 5891).</p>"]
    cards = available_models(model_dir)
    if not cards:
        parts.append("<p>No detection model is installed.</p>")
    for card in cards:
        rows = "".join(f"<tr><td>{html.escape(label)}</td><td align='right'>{html.escape(value)}</td></tr>"
                       for label, value in card_figures(card))
        parts.append(f"<p><b>{html.escape(card_heading(card))}</b></p>"
                     + (f"<table cellspacing='4'>{rows}</table>" if rows else "<p>(not evaluated)</p>"))
    box = QMessageBox(QMessageBox.Icon.Information, "About decoras-gui", "".join(parts),
                      QMessageBox.StandardButton.Ok, parent)
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
    return box
