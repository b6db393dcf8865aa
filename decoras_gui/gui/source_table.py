"""The source table: a tree model over the document's catalogue, sortable and filterable.

Top-level rows are sources (:func:`decoras_gui.core.components.source_groups`): a source of
one component is that component's row; a source of several is a row of its aggregate
(:func:`~decoras_gui.core.components.aggregate`, id ``N (k)``: the id of its brightest
component and its number of components) that expands to its components. The proxy hides
what the document's filter hides (statuses, probability threshold), so the component rows
match the ellipses on the image, plus a free-text search (id, status, origin, note).
Selection goes both ways through the document: selecting a source's row selects all its
components (so accept / reject / delete act on them in one undo step); selecting a
component on the image selects its row and opens its source.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import (
    QAbstractItemModel,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QToolButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from ..core.catalogue import COLUMN_BY_NAME, Source
from ..core.components import aggregate, source_groups
from ..core.cube import format_index
from ..core.regions_io import STATUS_COLORS
from .display import format_sexagesimal
from .document import CatalogueDocument

SORT_ROLE = Qt.ItemDataRole.UserRole
ID_ROLE = Qt.ItemDataRole.UserRole + 1
IDS_ROLE = Qt.ItemDataRole.UserRole + 2  # the component ids of a row (a source's: all of them)

#: (key, header, catalogue column for the tooltip)
COLUMNS = (
    ("id", "ID", "source_id"),
    ("code", "Code", "s_code"),
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
    ("sidelobe_of", "Sidelobe\nof", "sidelobe_of"),
    ("p_sidelobe", "P(side-\nlobe)", "p_sidelobe"),
    ("plane", "Plane", "plane"),
    ("alpha", "α", "spectral_index"),
    ("match", "Match", "match_name"),
    ("match_sep", "Offset\n(arcsec)", "match_sep"),
    ("match_ratio", "S / S_ref", "match_flux_ratio"),
    ("status", "Status", "status"),
    ("origin", "Origin", "origin"),
    ("edited", "Edited", "edited"),
    ("note", "Note", "note"),
)
COLUMN_INDEX = {key: i for i, (key, _, _) in enumerate(COLUMNS)}


def _num(value: float, fmt: str) -> str:
    return format(value, fmt) if isinstance(value, (int, float)) and math.isfinite(value) else ""


def _alpha(s: Source) -> str:
    """``-0.72 ± 0.05``: the spectral index and its error."""
    return format_index(s.spectral_index, s.spectral_index_err)


def _match(s: Source) -> str:
    """The matched reference source's name, '—' when none is within the radius, '' before a cross-match."""
    return s.match_name or ("—" if s.xmatch == "unmatched" else "")


def _key(value: float) -> float:
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else -math.inf


class _Row:
    """One row's sort keys, and its texts made when first shown (``row[0]`` texts, ``row[1]``
    keys): of thousands of rows the view shows a screenful, so only those are formatted."""

    __slots__ = ("source", "keys", "_text", "_format")

    def __init__(self, source: Source, keys: list, format_row):
        self.source, self.keys, self._text, self._format = source, keys, None, format_row

    def __getitem__(self, i: int):
        if i == 1:
            return self.keys
        if i != 0:
            raise IndexError(i)
        if self._text is None:
            self._text = self._format(self.source)
        return self._text

    def __len__(self) -> int:
        return 2

    def __iter__(self):
        return iter((self[0], self.keys))


class SourceTableModel(QAbstractItemModel):
    """Sources as top-level rows, the components of a multi-component source as its children
    (an index's internal id: 0 for a top-level row, 1 + the parent's row for a child)."""

    def __init__(self, document: CatalogueDocument, parent=None):
        super().__init__(parent)
        self.doc = document
        self.size_unit = "mas"
        self._top: list[tuple[list[str], list]] = []  # (texts, sort keys) of each top-level row
        self._kids: list[list[tuple[list[str], list]]] = []  # of each top-level row's children
        self._members: list[tuple[int, ...]] = []  # component ids of each top-level row
        self._where: dict[int, tuple[int, int]] = {}  # component id -> (top row, child row or -1)
        self._plane: int | None = None  # a cube's plane the rows are of (None: all)
        self._cache: dict[int, tuple[list[str], list]] = {}  # component id -> its row, while unchanged
        self._cache_unit = ""
        self.sort_column, self.sort_order = 0, Qt.SortOrder.AscendingOrder
        self.pending_plane = False  # a plane step's rows are still to be put in
        self.version = 0  # bumped whenever rows or their values change (the filter's cache key)
        self._rebuild()
        document.filter_changed.connect(self._filter_changed)
        document.reset.connect(self._reset)
        document.added.connect(self._reset)
        document.removed.connect(self._reset)
        document.changed.connect(self._changed)

    # ------------------------------------------------------------ cache
    def _size_factor(self) -> float:
        return 1000.0 if self.size_unit == "mas" else 1.0

    def _row(self, s: Source) -> _Row:
        keys = [
            s.source_id, s.s_code, _key(s.ra), _key(s.dec), _key(s.peak_flux), _key(s.total_flux), _key(s.maj),
            _key(s.min), _key(s.pa), _key(s.r_eff), _key(s.snr), _key(s.det_prob), s.sidelobe_of,
            _key(s.p_sidelobe), s.plane, _key(s.spectral_index), f"{s.xmatch}:{s.match_name}", _key(s.match_sep),
            _key(s.match_flux_ratio), s.status, s.origin, int(s.edited), s.note,
        ]
        return _Row(s, keys, self._texts)

    def _texts(self, s: Source) -> list[str]:
        ras, decs = format_sexagesimal(np.array([s.ra], dtype=float), np.array([s.dec], dtype=float))
        ra, dec = ras[0], decs[0]
        f = self._size_factor()
        sfmt = ".2f" if self.size_unit == "mas" else ".3f"
        return [
            str(s.source_id), s.s_code, ra, dec,
            _num(s.peak_flux * 1e3, ".3f"), _num(s.total_flux * 1e3, ".3f"),
            _num(s.maj * f, sfmt), _num(s.min * f, sfmt), _num(s.pa, ".1f"), _num(s.r_eff * f, sfmt),
            _num(s.snr, ".1f"), _num(s.det_prob, ".3f"), str(s.sidelobe_of) if s.sidelobe_of >= 0 else "",
            _num(s.p_sidelobe, ".2f"), str(s.plane) if s.plane >= 0 else "", _alpha(s), _match(s),
            _num(s.match_sep, ".3g"), _num(s.match_flux_ratio, ".3f"), s.status, s.origin, "✎" if s.edited else "",
            s.note,
        ]

    def _source_row(self, members: list[Source], code: str) -> tuple[list[str], list]:
        """A multi-component source's row: its aggregate, its id and count, 'mixed' statuses."""
        row = self._row(aggregate(members, self.doc.catalogue.meta, code))
        text, keys = row[0], row[1]
        text[0] = f"{keys[0]} ({len(members)})"
        statuses = {m.status for m in members}
        if len(statuses) > 1:
            text[COLUMN_INDEX["status"]] = keys[COLUMN_INDEX["status"]] = "mixed"
        return text, keys

    def _rebuild(self) -> None:
        cat = self.doc.catalogue
        self.version += 1
        self._plane = plane = self.doc.plane
        # on a cube with "only this plane", the rows are that plane's: stepping planes resets a
        # small model instead of filtering every plane's thousands of rows
        sources = list(cat) if plane is None else [s for s in cat if s.plane < 0 or s.plane == plane]
        majs = np.array([s.maj for s in sources], dtype=float)
        majs = majs[np.isfinite(majs)]
        if not majs.size:  # no sizes yet: the image's beam says whether arcsec or mas suit it
            beam = cat.meta.get("beam_maj")
            majs = np.array([beam], float) if isinstance(beam, (int, float)) and beam > 0 else majs
        self.size_unit = "arcsec" if majs.size and float(np.median(majs)) >= 1.0 else "mas"
        if self._cache_unit != self.size_unit:
            self._cache = {}
            self._cache_unit = self.size_unit
        for s in sources:  # stepping planes: each row made once (its texts when shown)
            if s.source_id not in self._cache:
                self._cache[s.source_id] = self._row(s)
        rows = {s.source_id: self._cache[s.source_id] for s in sources}
        self._top, self._kids, self._members, self._where = [], [], [], {}
        for g in source_groups(sources):
            top = len(self._top)
            self._members.append(g.component_ids)
            if g.multi:
                self._top.append(self._source_row([cat.get(c) for c in g.component_ids], g.s_code))
                self._kids.append([rows[c] for c in g.component_ids])
                for k, c in enumerate(g.component_ids):
                    self._where[c] = (top, k)
            else:
                self._top.append(rows[g.component_ids[0]])
                self._kids.append([])
                self._where[g.component_ids[0]] = (top, -1)
        self._apply_sort()

    def _apply_sort(self) -> None:
        """Top-level rows in the order of :attr:`sort_column` (their sort keys; the model sorts,
        not the proxy: Qt's proxy would ask Python for two keys per comparison)."""
        col = self.sort_column
        if not 0 <= col < len(COLUMNS) or len(self._top) < 2:
            return

        def key(i: int):
            k = self._top[i][1][col]
            return (0, k) if isinstance(k, (int, float)) else (1, str(k))

        order = sorted(range(len(self._top)), key=key, reverse=self.sort_order == Qt.SortOrder.DescendingOrder)
        self._top = [self._top[i] for i in order]
        self._kids = [self._kids[i] for i in order]
        self._members = [self._members[i] for i in order]
        self._where = {c: (new, k if self._kids[new] else -1) for new, members in enumerate(self._members)
                       for k, c in enumerate(members)}

    def sort(self, column: int, order=Qt.SortOrder.AscendingOrder) -> None:  # noqa: A003 - Qt's name
        self.sort_column, self.sort_order = int(column), order
        self.layoutAboutToBeChanged.emit()
        old = {id(entry): r for r, entry in enumerate(self._top)}
        self._apply_sort()
        moved = {old[id(entry)]: r for r, entry in enumerate(self._top)}
        for index in self.persistentIndexList():  # selections and the current row follow their rows
            if not index.parent().isValid() and index.row() in moved:
                self.changePersistentIndex(index, self.createIndex(moved[index.row()], index.column(), 0))
            elif index.parent().isValid():
                top = moved.get(index.internalId() - 1)
                if top is not None:
                    self.changePersistentIndex(index, self.createIndex(index.row(), index.column(), top + 1))
        self.version += 1
        self.layoutChanged.emit()

    def _filter_changed(self) -> None:
        if self.doc.plane != self._plane and not self.pending_plane:
            # a plane step: the image and the overlay show the new plane first, the table's rows
            # follow in the next round of the event loop (several quick steps: only the last)
            self.pending_plane = True
            QTimer.singleShot(0, self._apply_plane)

    def _apply_plane(self) -> None:
        self.pending_plane = False
        if self.doc.plane != self._plane:
            self._reset_rows()  # the same sources: their rows as made before

    def _reset(self, *_) -> None:
        """The catalogue changed as a whole (or rows came or went): rebuilt from it, every
        source's row made now (so that stepping a cube's planes only picks rows)."""
        self._cache = {}
        if self.doc.plane is not None:
            self._cache_unit = ""  # the unit is decided in _rebuild; rows are remade there if it changes
        self._reset_rows()
        if self.doc.plane is not None:
            for s in self.doc.catalogue:
                if s.source_id not in self._cache:
                    self._cache[s.source_id] = self._row(s)

    def _reset_rows(self) -> None:
        self.beginResetModel()
        self._rebuild()
        self.endResetModel()
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, len(COLUMNS) - 1)

    def _changed(self, ids: list) -> None:
        cat = self.doc.catalogue
        self.version += 1
        tops, kids = set(), {}
        for sid in ids:
            where = self._where.get(int(sid))
            if where is None:
                s = cat.get(int(sid)) if int(sid) in cat else None
                if s is not None and self._plane is not None and 0 <= s.plane != self._plane:
                    self._cache.pop(int(sid), None)  # a source of another plane: formatted when shown
                    continue
                return self._reset()
            top, child = where
            row = self._cache[int(sid)] = self._row(cat.get(int(sid)))
            if child < 0:
                self._top[top] = row
                tops.add(top)
            else:
                self._kids[top][child] = row
                kids.setdefault(top, []).append(child)
        last = len(COLUMNS) - 1
        for top, children in kids.items():
            members = [cat.get(c) for c in self._members[top]]
            code = self._top[top][1][COLUMN_INDEX["code"]]
            self._top[top] = self._source_row(members, code)
            tops.add(top)
            parent = self.index(top, 0)
            self.dataChanged.emit(self.index(min(children), 0, parent), self.index(max(children), last, parent))
        if tops:
            self.dataChanged.emit(self.index(min(tops), 0), self.index(max(tops), last))

    # ------------------------------------------------------------ Qt API
    def index(self, row: int, column: int, parent=QModelIndex()) -> QModelIndex:
        if not parent.isValid():
            ok = 0 <= row < len(self._top)
            return self.createIndex(row, column, 0) if ok and 0 <= column < len(COLUMNS) else QModelIndex()
        if parent.internalId() == 0 and 0 <= row < len(self._kids[parent.row()]) and 0 <= column < len(COLUMNS):
            return self.createIndex(row, column, parent.row() + 1)
        return QModelIndex()

    def parent(self, index: QModelIndex | None = None):  # noqa: A003 - Qt's name
        if index is None:
            return super().parent()
        if not index.isValid() or index.internalId() == 0:
            return QModelIndex()
        return self.createIndex(int(index.internalId()) - 1, 0, 0)

    def rowCount(self, parent=QModelIndex()) -> int:
        if not parent.isValid():
            return len(self._top)
        return len(self._kids[parent.row()]) if parent.internalId() == 0 and parent.column() == 0 else 0

    def columnCount(self, parent=QModelIndex()) -> int:
        return len(COLUMNS)

    def multi_rows(self) -> list[int]:
        """Top-level rows that are sources of several components."""
        return [r for r, kids in enumerate(self._kids) if kids]

    def source_id(self, row: int) -> int:
        """The id of top-level row ``row`` (a source's: its brightest component's)."""
        return int(self._top[row][1][0])

    def members(self, row: int) -> tuple[int, ...]:
        """The component ids of top-level row ``row``."""
        return self._members[row]

    def row_of(self, source_id: int) -> int | None:
        """The row of a component: a top-level row for a source of one component, else the
        row under its source (:meth:`index_of` gives the index)."""
        where = self._where.get(int(source_id))
        return None if where is None else (where[0] if where[1] < 0 else where[1])

    def index_of(self, source_id: int, column: int = 0) -> QModelIndex:
        """The index of a component's own row (invalid when absent)."""
        where = self._where.get(int(source_id))
        if where is None:
            return QModelIndex()
        top, child = where
        return self.index(top, column) if child < 0 else self.index(child, column, self.index(top, 0))

    def _entry(self, index: QModelIndex) -> tuple[list[str], list]:
        if index.internalId() == 0:
            return self._top[index.row()]
        return self._kids[int(index.internalId()) - 1][index.row()]

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        entry = self._entry(index)
        keys = entry[1]
        if role == IDS_ROLE:
            return self._members[index.row()] if index.internalId() == 0 else (keys[0],)
        col = index.column()
        if role == SORT_ROLE:
            return keys[col]
        if role == ID_ROLE:
            return keys[0]
        text = entry[0]  # formatted on first display
        if role == Qt.ItemDataRole.DisplayRole:
            return text[col]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if col == COLUMN_INDEX["edited"]:
                return int(Qt.AlignmentFlag.AlignCenter)
            if col in (COLUMN_INDEX["status"], COLUMN_INDEX["origin"], COLUMN_INDEX["note"]):
                return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and col == COLUMN_INDEX["status"]:
            return QBrush(QColor(STATUS_COLORS.get(text[col], "#dddddd")))
        if role == Qt.ItemDataRole.ToolTipRole and col == 0 and index.internalId() == 0 and self._kids[index.row()]:
            return (f"Source of {len(self._kids[index.row()])} components, named after the brightest; its "
                    "values are their aggregate (total flux summed, size from their moments). Selecting it "
                    "selects them all: accept / reject act on the whole source.")
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
        self._generation = 0  # bumped by every filter change
        self._cache_key = None
        self._top_ok: list[bool] = []
        self._kid_ok: dict[int, list[bool]] = {}
        self.setSortRole(SORT_ROLE)
        self.setDynamicSortFilter(True)  # refilters on data changes; the order is the source model's
        document.filter_changed.connect(self.refilter)

    def _accepted(self) -> None:
        """Which rows show, worked out once per filter and model state (Qt asks row by row)."""
        model: SourceTableModel = self.sourceModel()
        key = (model.version, self._generation, len(self.doc.catalogue))
        if key == self._cache_key:
            return
        cat, shown, text = self.doc.catalogue, self.doc.is_shown, self._text
        top_ok, kid_ok = [], {}
        for r in range(model.rowCount()):
            members = [cat.get(c) for c in model.members(r)]
            visible = [shown(m) for m in members]
            first = str(members[0].source_id)
            top_ok.append(any(visible) and (text == first or any(v and self._matches(m)
                                                                  for m, v in zip(members, visible))))
            if len(members) > 1:
                kid_ok[r] = [v and (self._matches(m) or text == first) for m, v in zip(members, visible)]
        self._top_ok, self._kid_ok, self._cache_key = top_ok, kid_ok, key

    def sort(self, column: int, order=Qt.SortOrder.AscendingOrder) -> None:  # noqa: A003 - Qt's name
        """The header's sort: done by the source model (rows stay in its order here)."""
        self.sourceModel().sort(column, order)

    def refilter(self) -> None:
        if getattr(self.sourceModel(), "pending_plane", False):
            return  # a plane step: the model's reset, next, filters its new rows
        self._generation += 1
        if hasattr(self, "beginFilterChange"):  # Qt >= 6.9; invalidateFilter is deprecated there
            self.beginFilterChange()
            self.endFilterChange()
        else:  # pragma: no cover - older Qt
            self.invalidateFilter()

    def set_search(self, text: str) -> None:
        self._text = text.strip().lower()
        self.refilter()

    def _matches(self, s: Source) -> bool:
        t = self._text
        return (not t or t == str(s.source_id) or t in s.status or t in s.origin or t in s.note.lower()
                or t in s.model.lower() or t == s.xmatch or (bool(s.match_name) and t in s.match_name.lower()))

    def filterAcceptsRow(self, row: int, parent: QModelIndex) -> bool:
        """A component shows when the document shows it and it (or its source) matches the
        search; a source shows when one of its components does."""
        self._accepted()
        if parent.isValid():
            kids = self._kid_ok.get(parent.row())
            return bool(kids[row]) if kids is not None and row < len(kids) else False
        return self._top_ok[row] if row < len(self._top_ok) else False


class SourceTableWidget(QWidget):
    """Search box, status toggles and the table; selection synchronised with the document."""

    user_selected = Signal(list)  # ids the user picked in the table

    def __init__(self, document: CatalogueDocument, status_actions=(), parent=None):
        super().__init__(parent)
        self.doc = document
        self.model = SourceTableModel(document, self)
        self.proxy = SourceFilterProxy(document, self)
        self.proxy.setSourceModel(self.model)
        self.view = QTreeView(self)
        self.view.setModel(self.proxy)
        self.view.setUniformRowHeights(True)
        self.view.setRootIsDecorated(True)
        self.view.setIndentation(14)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setAlternatingRowColors(True)
        self.view.header().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.view.header().setStretchLastSection(True)
        self.view.setWordWrap(False)
        widths = {"id": 78, "code": 44, "ra": 124, "dec": 116, "peak": 92, "total": 80, "status": 80, "origin": 70,
                  "edited": 54, "plane": 48, "alpha": 124, "match": 150}
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
        # a refilter of thousands of rows emits as many rowsInserted/rowsRemoved: count once, after them
        self._count_timer = QTimer(self)
        self._count_timer.setSingleShot(True)
        self._count_timer.setInterval(0)
        self._count_timer.timeout.connect(self._update_count)
        for sig in (self.proxy.modelReset, self.proxy.rowsInserted, self.proxy.rowsRemoved, self.proxy.layoutChanged):
            sig.connect(self._count_timer.start)
        for sig in (document.reset, document.added, document.removed):
            sig.connect(self._update_columns)
        self._update_count()
        self._update_columns()

    def _update_columns(self, *_) -> None:
        """The cube columns (plane, spectral index) show for a cube's catalogue, the match
        columns once the catalogue has been cross-matched."""
        cat = self.doc.catalogue
        cube = any(s.plane >= 0 or math.isfinite(s.spectral_index) for s in cat)
        matched = bool(cat.meta.get("xmatch_ref")) or any(s.xmatch for s in cat)
        for key, on in (("plane", cube), ("alpha", cube), ("match", matched), ("match_sep", matched),
                        ("match_ratio", matched)):
            self.view.setColumnHidden(COLUMN_INDEX[key], not on)

    def column_shown(self, key: str) -> bool:
        return not self.view.isColumnHidden(COLUMN_INDEX[key])

    def _update_count(self, *_) -> None:
        n_sources, n_comp = self.proxy.rowCount(), self.model.rowCount()
        shown = self.row_count()
        if shown == n_sources and len(self.doc) == n_comp:
            self.count_label.setText(f"{n_sources} / {n_comp} sources")
        else:
            self.count_label.setText(f"{n_sources} sources, {shown} / {len(self.doc)} components")

    def _ids_of(self, pidx: QModelIndex) -> list[int]:
        """The shown component ids of a proxy row (a source's: its shown components)."""
        n = self.proxy.rowCount(pidx) if not pidx.parent().isValid() else 0
        if n == 0:
            return [int(pidx.data(ID_ROLE))]
        return [int(self.proxy.index(k, 0, pidx).data(ID_ROLE)) for k in range(n)]

    def row_count(self) -> int:
        """Component rows shown (one per ellipse on the image): a row each, and for a shown source
        of several components its shown components (only those rows are looked at)."""
        total = self.proxy.rowCount()
        for top in self.model.multi_rows():
            pidx = self.proxy.mapFromSource(self.model.index(top, 0))
            if pidx.isValid():
                total += max(1, self.proxy.rowCount(pidx)) - 1
        return total

    def shown_ids(self) -> list[int]:
        """The component ids shown, in the table's order (a source's components in its place)."""
        return [i for r in range(self.proxy.rowCount()) for i in self._ids_of(self.proxy.index(r, 0))]

    def has_row(self, source_id: int) -> bool:
        """True when ``source_id`` is a row of the table as filtered now."""
        return self.proxy.mapFromSource(self.model.index_of(int(source_id))).isValid()

    def _visible_rows(self) -> list[QModelIndex]:
        """Proxy rows as the user sees them: sources, and the components of the open ones."""
        out = []
        for r in range(self.proxy.rowCount()):
            pidx = self.proxy.index(r, 0)
            out.append(pidx)
            if self.view.isExpanded(pidx):
                out.extend(self.proxy.index(k, 0, pidx) for k in range(self.proxy.rowCount(pidx)))
        return out

    def neighbour_ids(self, ids: list[int] | None, step: int) -> list[int] | None:
        """The ids of the row ``step`` rows below (above, if negative) the row of ``ids`` (the
        selection: a source's components are its row) as sorted, filtered and opened now; the
        first (last) row when ``ids`` is not shown; None past either end or for an empty table."""
        rows = self._visible_rows()
        if not rows:
            return None
        keys = [self._ids_of(p) for p in rows]
        here = None
        if ids:
            wanted = set(int(i) for i in ids)
            here = next((k for k, key in enumerate(keys) if set(key) == wanted), None)
            if here is None:
                here = next((k for k, key in enumerate(keys) if int(ids[-1]) in key), None)
        if here is None:
            return keys[0 if step > 0 else -1]
        target = here + step
        return keys[target] if 0 <= target < len(keys) else None

    def neighbour_id(self, source_id: int | None, step: int) -> int | None:
        """The first id of :meth:`neighbour_ids` for the row of ``source_id``."""
        ids = self.neighbour_ids([source_id] if source_id is not None else None, step)
        return ids[0] if ids else None

    def selected_ids(self) -> list[int]:
        """The selected component ids (a selected source's row: all its shown components)."""
        rows = self.view.selectionModel().selectedRows()
        order = {(p.parent().row(), p.row()) if p.parent().isValid() else (p.row(), -1): p for p in rows}
        out: list[int] = []
        for key in sorted(order):
            for i in self._ids_of(order[key]):
                if i not in out:
                    out.append(i)
        return out

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
            wanted = {int(i) for i in ids}
            parents = {}
            for sid in ids:
                pidx = self.proxy.mapFromSource(self.model.index_of(int(sid)))
                if not pidx.isValid():
                    continue
                parent = pidx.parent()
                if parent.isValid():
                    parents[parent.row()] = parent
                selection.select(pidx, self.proxy.index(pidx.row(), last, parent))
                if first is None:
                    first = pidx
            for parent in parents.values():  # a source whose shown components are all selected: its row too
                if set(self._ids_of(parent)) <= wanted:
                    selection.select(parent, self.proxy.index(parent.row(), last))
                    first = parent if first is not None and first.parent() == parent else first
                elif not self.view.isExpanded(parent):
                    self.view.expand(parent)  # a component picked on the image: open its source
            sm = self.view.selectionModel()
            sm.select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)
            if first is not None:
                sm.setCurrentIndex(first, QItemSelectionModel.SelectionFlag.NoUpdate)
                self.view.scrollTo(first, QAbstractItemView.ScrollHint.EnsureVisible)
        finally:
            self._syncing = False
