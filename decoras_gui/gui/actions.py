"""QAction construction shared by the window and its controllers."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtGui import QAction, QIcon, QKeySequence
from PySide6.QtWidgets import QWidget


def make_action(parent: QWidget, text: str, slot: Callable | None = None, shortcuts: Sequence = (),
                tip: str = "", checkable: bool = False, name: str = "", icon: QIcon | None = None) -> QAction:
    """A QAction on ``parent`` (added to it, so its shortcuts work whatever has the focus).

    ``slot`` gets ``toggled(bool)`` for a checkable action and no argument otherwise.
    ``shortcuts``: key sequences, strings or standard keys; a single one may be given bare.
    """
    a = QAction(text, parent)
    if isinstance(shortcuts, (str, QKeySequence, QKeySequence.StandardKey)):
        shortcuts = [shortcuts]
    keys = [k if isinstance(k, QKeySequence) else QKeySequence(k) for k in shortcuts or ()]
    if keys:
        a.setShortcuts(keys)
    if tip:
        a.setToolTip(tip)
        a.setStatusTip(tip)
    if icon is not None:
        a.setIcon(icon)
    if name:
        a.setObjectName(name)
    a.setCheckable(checkable)
    if slot is not None:
        if checkable:
            a.toggled.connect(slot)
        else:
            a.triggered.connect(lambda _checked=False: slot())  # never pass `checked` on
    parent.addAction(a)
    return a


def with_standard(first: Sequence[QKeySequence], standard: QKeySequence.StandardKey) -> list[QKeySequence]:
    """``first`` plus the platform's bindings of ``standard`` not already in it."""
    out = list(first)
    for k in QKeySequence.keyBindings(standard):
        if k not in out:
            out.append(k)
    return out


__all__ = ["make_action", "with_standard"]
