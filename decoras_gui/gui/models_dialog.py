"""Help > Models…: every installed model's domain, figures and AutoML study, and how each
compares with the open image (:mod:`decoras_gui.ml.model_choice`)."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from ..core.image import SkyImage
from ..core.image_domain import image_domain
from ..ml.card_summary import LEADING_FAMILIES, card_figures, card_heading, study_lines
from ..ml.model_choice import check, domain_text
from ..ml.registry import ModelCard, available_models
from ..ml.tasks import get_task

COLUMNS = ("Model", "Task", "Domain", "OOD purity SNR≥5", "OOD completeness 5–7.5", "This image")


def _ood(card: ModelCard, key: str) -> str:
    """A figure of the card's out-of-distribution family (with its dirty beam where it has one)."""
    families = (card.evaluation or {}).get("by_family") or {}
    fam = next((families[k] for k in LEADING_FAMILIES if k in families), {})
    value = ((fam.get("methods") or {}).get(card.name) or {}).get(key)
    return f"{value:.3f}" if isinstance(value, (int, float)) else "—"


class ModelsDialog(QDialog):
    """A table of the models (one row each) over the selected model's full card."""

    def __init__(self, model_dir: str | Path | None, image: SkyImage | None, chosen: str | None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Models")
        self.resize(1340, 660)
        self.cards = available_models(model_dir)
        domain = image_domain(image) if image is not None else None
        self.checks = {c.name: check(c, domain) for c in self.cards} if domain else {}
        layout = QVBoxLayout(self)
        intro = QLabel(f"Models installed: {len(self.cards)}."
                       + (f" Open image: {html.escape(domain.describe())}." if domain else " No image is open.")
                       + (f" Chosen for it: <b>{html.escape(chosen)}</b>." if chosen and domain else ""))
        intro.setTextFormat(Qt.TextFormat.RichText)
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.table = QTableWidget(len(self.cards), len(COLUMNS), self)
        self.table.setObjectName("modelsTable")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        for row, card in enumerate(self.cards):
            c = self.checks.get(card.name)
            verdict = "" if c is None else ("covers it" if c.covers else "outside: " + "; ".join(c.mismatches))
            cells = (f"{card.name} {card.version}", get_task(card.task).label, domain_text(card),
                     _ood(card, "purity_snr_ge_5"), _ood(card, "completeness_snr_5_7.5"), verdict)
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                if col in (3, 4):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, col, item)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)  # the verdict (tooltip: all)
        self.details = QTextBrowser(self)
        self.details.setObjectName("modelDetails")
        split = QSplitter(Qt.Orientation.Vertical, self)
        split.addWidget(self.table)
        split.addWidget(self.details)
        split.setSizes([220, 420])
        layout.addWidget(split, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.table.itemSelectionChanged.connect(self._show_selected)
        names = [c.name for c in self.cards]
        if self.cards:
            self.table.selectRow(names.index(chosen) if chosen in names else 0)

    def _show_selected(self) -> None:
        rows = {i.row() for i in self.table.selectedItems()}
        if rows:
            self.details.setHtml(self.card_html(self.cards[min(rows)]))

    def card_html(self, card: ModelCard) -> str:
        """The card as the lower pane shows it: heading, domain, description, figures, study, fit."""
        esc = html.escape
        parts = [f"<h3>{esc(card_heading(card))}</h3>", f"<p><b>Domain:</b> {esc(domain_text(card))}</p>"]
        if card.description:
            parts.append(f"<p>{esc(card.description)}</p>")
        c = self.checks.get(card.name)
        if c is not None:
            lines = ([f"matches: {'; '.join(c.matches)}"] if c.matches else []) + \
                    ([f"outside: {'; '.join(c.mismatches)}"] if c.mismatches else []) + \
                    ([f"not told: {'; '.join(c.unknowns)}"] if c.unknowns else []) + c.notes
            parts.append("<p><b>The open image:</b> " + esc(" — ".join(lines) or "nothing to compare") + "</p>")
        rows = "".join(f"<tr><td>{esc(label)}</td><td>{esc(value)}</td></tr>" for label, value in card_figures(card))
        parts.append(f"<p><b>Figures</b></p><table cellspacing='3'>{rows}</table>" if rows else
                     "<p>(not evaluated)</p>")
        study = study_lines(card)
        if study:
            parts.append("<p><b>Study</b><br>" + "<br>".join(esc(s) for s in study) + "</p>")
        return "".join(parts)
