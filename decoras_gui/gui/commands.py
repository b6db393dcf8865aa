"""QUndoCommands for vetting: every change to the window's catalogue is one of these.

They act only through :class:`~decoras_gui.gui.document.CatalogueDocument`, so the
overlay, the table and the autosave journal see every do and undo. Each command keeps
the exact :class:`Source` rows before and after, so undo restores the previous
catalogue field by field (and row by row: a deleted source comes back at its row).
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtGui import QUndoCommand

from ..core.catalogue import COLUMN_NAMES, Catalogue, Source
from .document import CatalogueDocument

_FIELDS = tuple(n for n in COLUMN_NAMES if n != "source_id")


def _put(doc: CatalogueDocument, sources: Sequence[Source]) -> None:
    """Make the document's rows equal to ``sources`` (same ids), in one ``changed`` signal."""
    doc.update_many({s.source_id: {f: getattr(s, f) for f in _FIELDS} for s in sources})


class UpdateSourcesCommand(QUndoCommand):
    """Rows changed in place (status, note, measured ellipse): ``old`` -> ``new``."""

    def __init__(self, doc: CatalogueDocument, old: Sequence[Source], new: Sequence[Source], text: str,
                 parent: QUndoCommand | None = None):
        super().__init__(text, parent)
        self.doc = doc
        self.old = list(old)
        self.new = list(new)

    def redo(self) -> None:
        _put(self.doc, self.new)

    def undo(self) -> None:
        _put(self.doc, self.old)


class AddSourceCommand(QUndoCommand):
    """A new row (drawn or imported); undo removes it."""

    def __init__(self, doc: CatalogueDocument, source: Source, text: str | None = None,
                 parent: QUndoCommand | None = None):
        super().__init__(text or "", parent)
        self.doc = doc
        if source.source_id < 0:
            source = source.replace(source_id=doc.catalogue.next_id())
        self.source = source
        if not text:
            self.setText(f"Add source {source.source_id}")

    def redo(self) -> None:
        self.doc.add_source(self.source)

    def undo(self) -> None:
        self.doc.remove_source(self.source.source_id)


class AddSourcesCommand(QUndoCommand):
    """Several new rows at once (import of a region file)."""

    def __init__(self, doc: CatalogueDocument, sources: Sequence[Source], text: str,
                 parent: QUndoCommand | None = None):
        super().__init__(text, parent)
        self.doc = doc
        nid = doc.catalogue.next_id()
        out = []
        for s in sources:
            out.append(s.replace(source_id=nid))
            nid += 1
        self.sources = out

    def redo(self) -> None:
        self.doc.add_sources(self.sources)

    def undo(self) -> None:
        self.doc.remove_sources([s.source_id for s in self.sources])


class RemoveSourcesCommand(QUndoCommand):
    """Rows deleted; undo puts each back at its row."""

    def __init__(self, doc: CatalogueDocument, ids: Sequence[int], text: str | None = None,
                 parent: QUndoCommand | None = None):
        super().__init__(text or "", parent)
        self.doc = doc
        cat = doc.catalogue
        self.rows = sorted((cat.index(int(i)), cat.get(int(i))) for i in ids if int(i) in cat)
        if not text:
            ids_text = ", ".join(str(s.source_id) for _, s in self.rows[:4])
            more = "…" if len(self.rows) > 4 else ""
            self.setText(f"Delete source{'s' if len(self.rows) > 1 else ''} {ids_text}{more}")

    def redo(self) -> None:
        self.doc.remove_sources([s.source_id for _, s in self.rows])

    def undo(self) -> None:
        for index, s in self.rows:  # ascending rows: each lands where it was
            self.doc.add_source(s, index)


class ReplaceCatalogueCommand(QUndoCommand):
    """The whole catalogue replaced (a Detect run merged in)."""

    def __init__(self, doc: CatalogueDocument, new: Catalogue, text: str, parent: QUndoCommand | None = None):
        super().__init__(text, parent)
        self.doc = doc
        self.old = doc.catalogue.copy()
        self.new = new.copy()

    def redo(self) -> None:
        self.doc.set_catalogue(self.new.copy())

    def undo(self) -> None:
        self.doc.set_catalogue(self.old.copy())


__all__ = ["UpdateSourcesCommand", "AddSourceCommand", "AddSourcesCommand", "RemoveSourcesCommand",
           "ReplaceCatalogueCommand"]
