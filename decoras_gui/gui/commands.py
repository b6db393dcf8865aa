"""The undo command of the window: a :class:`~decoras_gui.core.edits.CatalogueEdit` and its inverse.

Every change to the window's catalogue is one :class:`EditCommand` on the document's
QUndoStack: ``redo`` applies the edit, ``undo`` applies its inverse (computed against the
catalogue before the edit), both through the document, so the overlay, the table and
the autosave journal see every do and undo, row for row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QUndoCommand

from ..core.edits import CatalogueEdit

if TYPE_CHECKING:
    from .document import CatalogueDocument


class EditCommand(QUndoCommand):
    def __init__(self, doc: CatalogueDocument, edit: CatalogueEdit, parent: QUndoCommand | None = None):
        super().__init__(edit.label, parent)
        self.doc = doc
        self.edit = edit
        self.inverse = edit.inverse(doc.catalogue)

    def redo(self) -> None:
        self.doc._apply_now(self.edit)

    def undo(self) -> None:
        self.doc._apply_now(self.inverse)


__all__ = ["EditCommand"]
