"""The undo command of the window: a :class:`~decoras_gui.core.edits.CatalogueEdit` and its inverse.

Every change to the window's catalogue is one :class:`EditCommand` on the document's
QUndoStack: ``redo`` applies the edit, ``undo`` applies its inverse (computed against the
catalogue before the edit), both through the document's ``apply`` function, so the overlay,
the table and the autosave journal see every do and undo, row for row.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QUndoCommand

from ..core.edits import CatalogueEdit


class EditCommand(QUndoCommand):
    def __init__(self, edit: CatalogueEdit, inverse: CatalogueEdit, apply: Callable[[CatalogueEdit], None],
                 parent: QUndoCommand | None = None):
        super().__init__(edit.label, parent)
        self.edit, self.inverse, self._apply = edit, inverse, apply

    def redo(self) -> None:
        self._apply(self.edit)

    def undo(self) -> None:
        self._apply(self.inverse)


__all__ = ["EditCommand"]
