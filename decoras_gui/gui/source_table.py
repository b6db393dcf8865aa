"""The source table: a QAbstractTableModel over the document's catalogue, sortable and filterable.

Rows are the catalogue in its order; the proxy hides what the document's filter hides
(statuses, probability threshold), so the rows match the ellipses on the image, plus a
free-text search (id, status, origin, note). Selection goes both ways through the
document.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import (
    QAbstractTableModel,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..core.catalogue import COLUMN_BY_NAME, Source
from ..core.regions_io import STATUS_COLORS
from .display import format_sexagesimal
from .document import CatalogueDocument

SORT_ROLE = Qt.ItemDataRole.UserRole
ID_ROLE = Qt.ItemDataRole.UserRole + 1

#: (key, header, catalogue column for the tooltip)
COLUMNS = (
    ("id", "ID", "source_id"),
    ("ra", "RA (J2000)", "ra"),
    ("dec", "Dec (J2000)", "dec"),
    ("peak", "Peak\n(mJy/beam)", "peak_flux"),
    ("total", "Total\n(mJy)", "total_flux"),
    ("maj", "Maj\n({size})", "maj"),
    ("min", "Min\n({size})", "min"),
    ("pa", "PA\n(deg)", "pa"),
    ("r_eff", "R_eff\n({size})", "r_eff"),
    ("snr", "SNR", "snr"),
    ("prob", "P(det)", "det_prob"),
    ("status", "Status", "status"),
    ("origin", "Origin", "origin"),
    ("edited", "Edited", "edited"),
    ("note", "Note", "note"),
)
COLUMN_INDEX = {key: i for i, (key, _, _) in enumerate(COLUMNS)}


def _num(value: float, fmt: str) -> str:
    return format(value, fmt) if isinstance(value, (int, float)) and math.isfinite(value) else ""


def _key(value: float) -> float:
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else -math.inf


class SourceTableModel(QAbstractTableModel):
    def __init__(self, document: CatalogueDocument, parent=None):
        super().__init__(parent)
        self.doc = document
        self.size_unit = "mas"
        self._rows: list[tuple[list[str], list]] = []
        self._row_of: dict[int, int] = {}
        self._rebuild()
        document.reset.connect(self._reset)
        document.added.connect(self._reset)
        document.removed.connect(self._reset)
        document.changed.connect(self._changed)

    # ------------------------------------------------------------ cache
    def _size_factor(self) -> float:
        return 1000.0 if self.size_unit == "mas" else 1.0

    def _row(self, s: Source, ra: str, dec: str) -> tuple[list[str], list]:
        f = self._size_factor()
        sfmt = ".2f" if self.size_unit == "mas" else ".3f"
        text = [
            str(s.source_id), ra, dec,
            _num(s.peak_flux * 1e3, ".3f"), _num(s.total_flux * 1e3, ".3f"),
            _num(s.maj * f, sfmt), _num(s.min * f, sfmt), _num(s.pa, ".1f"), _num(s.r_eff * f, sfmt),
            _num(s.snr, ".1f"), _num(s.det_prob, ".3f"), s.status, s.origin, "✎" if s.edited else "", s.note,
        ]
        keys = [
            s.source_id, _key(s.ra), _key(s.dec), _key(s.peak_flux), _key(s.total_flux), _key(s.maj),
            _key(s.min), _key(s.pa), _key(s.r_eff), _key(s.snr), _key(s.det_prob), s.status, s.origin,
            int(s.edited), s.note,
        ]
        return text, keys

    def _rebuild(self) -> None:
        sources = list(self.doc.catalogue)
        majs = np.array([s.maj for s in sources], dtype=float)
        majs = majs[np.isfinite(majs)]
        self.size_unit = "arcsec" if majs.size and float(np.median(majs)) >= 1.0 else "mas"
        ras, decs = format_sexagesimal(np.array([s.ra for s in sources], dtype=float),
                                       np.array([s.dec for s in sources], dtype=float))
        self._rows = [self._row(s, r, d) for s, r, d in zip(sources, ras, decs)]
        self._row_of = {s.source_id: i for i, s in enumerate(sources)}

    def _reset(self, *_) -> None:
        self.beginResetModel()
        self._rebuild()
        self.endResetModel()
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, len(COLUMNS) - 1)

    def _changed(self, ids: list) -> None:
        rows = []
        for sid in ids:
            row = self._row_of.get(int(sid))
            if row is None:
                return self._reset()
            s = self.doc.catalogue.get(int(sid))
            ras, decs = format_sexagesimal(np.array([s.ra]), np.array([s.dec]))
            self._rows[row] = self._row(s, ras[0], decs[0])
            rows.append(row)
        if rows:
            self.dataChanged.emit(self.index(min(rows), 0), self.index(max(rows), len(COLUMNS) - 1))

    # ------------------------------------------------------------ Qt API
    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def source_id(self, row: int) -> int:
        return int(self._rows[row][1][0])

    def row_of(self, source_id: int) -> int | None:
        return self._row_of.get(int(source_id))

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        text, keys = self._rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return text[col]
        if role == SORT_ROLE:
            return keys[col]
        if role == ID_ROLE:
            return keys[0]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if col == COLUMN_INDEX["edited"]:
                return int(Qt.AlignmentFlag.AlignCenter)
            if col in (COLUMN_INDEX["status"], COLUMN_INDEX["origin"], COLUMN_INDEX["note"]):
                return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and col == COLUMN_INDEX["status"]:
            return QBrush(QColor(STATUS_COLORS.get(text[col], "#dddddd")))
        if role == Qt.ItemDataRole.ToolTipRole and col == COLUMN_INDEX["edited"] and text[col]:
            return "Edited by hand: re-measured inside the ellipse you set"
        if role == Qt.ItemDataRole.ToolTipRole and col == COLUMN_INDEX["note"] and text[col]:
            return text[col]
        return None

    def headerData(self, section: int, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal:
            return None
        key, header, column = COLUMNS[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return header.format(size=self.size_unit)
        if role == Qt.ItemDataRole.ToolTipRole:
            spec = COLUMN_BY_NAME.get(column)
            extra = " (FWHM; sexagesimal)" if key in ("ra", "dec") else ""
            return (spec.description + extra) if spec else None
        return None


class SourceFilterProxy(QSortFilterProxyModel):
    """Shows what the document shows, narrowed by a search text."""

    def __init__(self, document: CatalogueDocument, parent=None):
        super().__init__(parent)
        self.doc = document
        self._text = ""
        self.setSortRole(SORT_ROLE)
        self.setDynamicSortFilter(True)
        document.filter_changed.connect(self.refilter)

    def refilter(self) -> None:
        if hasattr(self, "beginFilterChange"):  # Qt >= 6.9; invalidateFilter is deprecated there
            self.beginFilterChange()
            self.endFilterChange()
        else:  # pragma: no cover - older Qt
            self.invalidateFilter()

    def set_search(self, text: str) -> None:
        self._text = text.strip().lower()
        self.refilter()

    def filterAcceptsRow(self, row: int, parent: QModelIndex) -> bool:
        model: SourceTableModel = self.sourceModel()
        sid = model.source_id(row)
        s = self.doc.catalogue.get(sid)
        if not self.doc.is_shown(s):
            return False
        if not self._text:
            return True
        t = self._text
        return t == str(sid) or t in s.status or t in s.origin or t in s.note.lower() or t in s.model.lower()


class SourceTableWidget(QWidget):
    """Search box, status toggles and the table; selection synchronised with the document."""

    user_selected = Signal(list)  # ids the user picked in the table

    def __init__(self, document: CatalogueDocument, status_actions=(), parent=None):
        super().__init__(parent)
        self.doc = document
        self.model = SourceTableModel(document, self)
        self.proxy = SourceFilterProxy(document, self)
        self.proxy.setSourceModel(self.model)
        self.view = QTableView(self)
        self.view.setModel(self.proxy)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setAlternatingRowColors(True)
        self.view.verticalHeader().setVisible(False)
        self.view.verticalHeader().setDefaultSectionSize(22)
        self.view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.view.horizontalHeader().setStretchLastSection(True)
        self.view.setWordWrap(False)
        widths = {"id": 52, "ra": 124, "dec": 116, "peak": 92, "total": 80, "status": 80, "origin": 70,
                  "edited": 54}
        for i, (key, _, _) in enumerate(COLUMNS):
            self.view.setColumnWidth(i, widths.get(key, 72))

        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search id, status, origin, note…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.proxy.set_search)
        self.count_label = QLabel(self)
        top = QHBoxLayout()
        top.setContentsMargins(4, 4, 4, 0)
        top.addWidget(self.search, 1)
        for action in status_actions:
            b = QToolButton(self)
            b.setDefaultAction(action)
            b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            top.addWidget(b)
        top.addWidget(self.count_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(top)
        layout.addWidget(self.view)

        self._syncing = False
        self.view.selectionModel().selectionChanged.connect(self._on_view_selection)
        document.selection_changed.connect(self.select_ids)
        for sig in (self.proxy.modelReset, self.proxy.rowsInserted, self.proxy.rowsRemoved, self.proxy.layoutChanged):
            sig.connect(self._update_count)
        self._update_count()

    def _update_count(self, *_) -> None:
        self.count_label.setText(f"{self.proxy.rowCount()} / {self.model.rowCount()} sources")

    def row_count(self) -> int:
        return self.proxy.rowCount()

    def shown_ids(self) -> list[int]:
        return [int(self.proxy.index(r, 0).data(ID_ROLE)) for r in range(self.proxy.rowCount())]

    def has_row(self, source_id: int) -> bool:
        """True when ``source_id`` is a row of the table as filtered now."""
        row = self.model.row_of(int(source_id))
        return row is not None and self.proxy.mapFromSource(self.model.index(row, 0)).isValid()

    def neighbour_id(self, source_id: int | None, step: int) -> int | None:
        """The id ``step`` rows below (above, if negative) ``source_id`` in the table as
        sorted and filtered now; the first (last) row when ``source_id`` is not shown;
        None past either end or for an empty table."""
        n = self.proxy.rowCount()
        if n == 0:
            return None
        row = self.model.row_of(int(source_id)) if source_id is not None else None
        pidx = self.proxy.mapFromSource(self.model.index(row, 0)) if row is not None else None
        if pidx is None or not pidx.isValid():
            target = 0 if step > 0 else n - 1
        else:
            target = pidx.row() + step
            if not 0 <= target < n:
                return None
        return int(self.proxy.index(target, 0).data(ID_ROLE))

    def selected_ids(self) -> list[int]:
        rows = self.view.selectionModel().selectedRows()
        return [int(i.data(ID_ROLE)) for i in sorted(rows, key=lambda i: i.row())]

    def _on_view_selection(self, *_) -> None:
        if self._syncing:
            return
        ids = self.selected_ids()
        self._syncing = True
        try:
            self.doc.set_selection(ids)
        finally:
            self._syncing = False
        self.user_selected.emit(ids)

    def select_ids(self, ids: list) -> None:
        """Select the rows of ``ids`` (from the document); scroll to the first."""
        if self._syncing:
            return
        self._syncing = True
        try:
            selection = QItemSelection()
            last = self.proxy.columnCount() - 1
            first = None
            for sid in ids:
                row = self.model.row_of(int(sid))
                if row is None:
                    continue
                pidx = self.proxy.mapFromSource(self.model.index(row, 0))
                if not pidx.isValid():
                    continue
                selection.select(pidx, self.proxy.index(pidx.row(), last))
                if first is None:
                    first = pidx
            sm = self.view.selectionModel()
            sm.select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)
            if first is not None:
                sm.setCurrentIndex(first, QItemSelectionModel.SelectionFlag.NoUpdate)
                self.view.scrollTo(first, QAbstractItemView.ScrollHint.EnsureVisible)
        finally:
            self._syncing = False
