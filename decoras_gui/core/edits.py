"""One change to a catalogue, with its inverse: what undo, the journal and replay all use. No Qt.

A :class:`CatalogueEdit` removes some rows, puts others (new or changed) at given row
indices, and may set the metadata. Applied to a catalogue it is deterministic:

1. every id in ``remove`` and every id of ``upsert`` already present is taken out;
2. the ``upsert`` rows are inserted at their indices, lowest index first;
3. ``meta``, when given, replaces the metadata.

so the rows left untouched keep their order and every upserted row lands at its index.
:meth:`CatalogueEdit.inverse`, computed against the catalogue *before* the edit, gives the
edit that brings it back, row for row. The window's undo commands wrap an edit and its
inverse, the autosave journal writes :meth:`to_json` lines, and replay applies
:meth:`from_json` records: one code path to get right.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .catalogue import COLUMN_BY_NAME, Catalogue, Source

__all__ = ["CatalogueEdit", "json_value", "source_to_json", "source_from_json"]


def json_value(v: Any) -> Any:
    """A JSON-safe scalar: NaN -> None, +-inf -> "inf"/"-inf", numpy scalars -> Python."""
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None if math.isnan(v) else ("inf" if v > 0 else "-inf")
    return v


def source_to_json(s: Source) -> dict[str, Any]:
    """A Source as a JSON-safe dict (NaN -> null)."""
    return {k: json_value(v) for k, v in s.as_dict().items()}


def source_from_json(d: Mapping[str, Any]) -> Source:
    """The Source a :func:`source_to_json` dict describes (unknown keys are ignored)."""
    values = {}
    for k, v in d.items():
        spec = COLUMN_BY_NAME.get(k)
        if spec is None:
            continue
        if spec.dtype is float:
            v = math.nan if v is None else float(v)
        elif spec.dtype is int:
            v = int(v)
        elif spec.dtype is bool:
            v = bool(v)
        else:
            v = "" if v is None else str(v)
        values[k] = v
    return Source(**values)


@dataclass(frozen=True)
class CatalogueEdit:
    """Rows removed, rows put at an index, metadata set (see the module docstring).

    ``whole`` marks an edit that replaces the catalogue wholesale (a Detect run merged in):
    views rebuild instead of updating row by row, the journal writes a fresh snapshot.
    """

    label: str = ""
    remove: tuple[int, ...] = ()
    upsert: tuple[tuple[int, Source], ...] = ()
    meta: Mapping[str, Any] | None = None
    whole: bool = False
    _ids: frozenset = field(default=frozenset(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "remove", tuple(int(i) for i in self.remove))
        upsert = tuple(sorted(((int(i), s) for i, s in self.upsert), key=lambda r: r[0]))
        object.__setattr__(self, "upsert", upsert)
        if self.meta is not None:
            object.__setattr__(self, "meta", dict(self.meta))
        object.__setattr__(self, "_ids", frozenset(s.source_id for _, s in upsert))

    # ------------------------------------------------------------------ builders
    @classmethod
    def update(cls, cat: Catalogue, new: Iterable[Source], label: str) -> CatalogueEdit:
        """Rows changed in place (status, note, re-measured ellipse): same ids, same rows."""
        return cls(label, upsert=tuple((cat.index(s.source_id), s) for s in new))

    @classmethod
    def add(cls, cat: Catalogue, sources: Iterable[Source], label: str) -> CatalogueEdit:
        """New rows appended; sources without an id (negative) get the next free ones."""
        rows, nid, n = [], cat.next_id(), len(cat)
        for s in sources:
            if s.source_id < 0 or s.source_id in cat:
                s = s.replace(source_id=nid)
            nid = max(nid, s.source_id) + 1
            rows.append((n + len(rows), s))
        return cls(label, upsert=tuple(rows))

    @classmethod
    def delete(cls, cat: Catalogue, ids: Iterable[int], label: str) -> CatalogueEdit:
        return cls(label, remove=tuple(int(i) for i in ids if int(i) in cat))

    @classmethod
    def replace_all(cls, cat: Catalogue, new: Catalogue, label: str) -> CatalogueEdit:
        """The whole catalogue (rows and metadata) becomes ``new``."""
        return cls(label, remove=tuple(cat.ids), upsert=tuple(enumerate(new)), meta=dict(new.meta), whole=True)

    # -------------------------------------------------------------------- apply
    def apply(self, cat: Catalogue) -> None:
        """Apply the edit to ``cat`` in place."""
        gone = set(self.remove) | {sid for sid in self._ids if sid in cat}
        if gone:
            cat.remove_many(gone)
        for index, s in self.upsert:
            cat.add(s, index)
        if self.meta is not None:
            cat.meta = dict(self.meta)

    def inverse(self, before: Catalogue) -> CatalogueEdit:
        """The edit that undoes this one, given the catalogue as it was before it."""
        restore = {}
        for sid in (*self.remove, *self._ids):
            if sid in before and sid not in restore:
                restore[sid] = (before.index(sid), before.get(sid))
        new_ids = tuple(sid for sid in self._ids if sid not in before)
        return CatalogueEdit(self.label, remove=new_ids, upsert=tuple(restore.values()),
                             meta=dict(before.meta) if self.meta is not None else None, whole=self.whole)

    def removed_ids(self, before: Catalogue) -> list[int]:
        """Ids in ``before`` that the edit takes away for good."""
        return [sid for sid in self.remove if sid in before and sid not in self._ids]

    def added_ids(self, before: Catalogue) -> list[int]:
        """Ids the edit brings in that ``before`` does not hold."""
        return [s.source_id for _, s in self.upsert if s.source_id not in before]

    def changed_ids(self, before: Catalogue) -> list[int]:
        """Ids held before and after whose rows the edit puts anew."""
        return [s.source_id for _, s in self.upsert if s.source_id in before]

    def __bool__(self) -> bool:
        return bool(self.remove or self.upsert or self.meta is not None)

    # --------------------------------------------------------------------- JSON
    def to_json(self) -> dict[str, Any]:
        """The journal's ``change`` record body."""
        rec: dict[str, Any] = {"label": self.label, "upsert": [[i, source_to_json(s)] for i, s in self.upsert],
                               "remove": list(self.remove)}
        if self.meta is not None:
            rec["meta"] = {k: json_value(v) for k, v in self.meta.items()}
        if self.whole:
            rec["whole"] = True
        return rec

    @classmethod
    def from_json(cls, rec: Mapping[str, Any]) -> CatalogueEdit:
        upsert: Sequence = rec.get("upsert") or ()
        return cls(str(rec.get("label", "")), remove=tuple(int(i) for i in rec.get("remove") or ()),
                   upsert=tuple((int(i), source_from_json(d)) for i, d in upsert),
                   meta=rec.get("meta"), whole=bool(rec.get("whole", False)))
