"""Persistent settings (QSettings, organisation "decoras", application "decoras-gui").

Set ``DECORAS_GUI_SETTINGS`` to an .ini path to keep them elsewhere (the tests do:
never the user's own settings).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from PySide6.QtCore import QSettings

ORGANISATION = "decoras"
APPLICATION = "decoras-gui"
ENV_VAR = "DECORAS_GUI_SETTINGS"
MAX_RECENT = 10


def make_settings(path: str | os.PathLike | None = None) -> QSettings:
    """The application's QSettings: ``path`` or $DECORAS_GUI_SETTINGS as an ini file, else the user's."""
    path = path or os.environ.get(ENV_VAR)
    if path:
        return QSettings(str(path), QSettings.Format.IniFormat)
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANISATION, APPLICATION)


class Settings:
    """Typed access to the few things the window remembers."""

    def __init__(self, qsettings: QSettings | None = None):
        self.q = qsettings if qsettings is not None else make_settings()

    # -- plain values
    def get_str(self, key: str, default: str = "") -> str:
        value = self.q.value(key, default)
        return str(value) if value is not None else default

    def set(self, key: str, value) -> None:
        self.q.setValue(key, value)

    def get_bytes(self, key: str):
        return self.q.value(key)

    # -- recent files
    def recent_files(self) -> list[str]:
        raw = self.q.value("recent_files", "[]")
        try:
            items = json.loads(raw) if isinstance(raw, str) else list(raw or [])
        except (TypeError, ValueError):
            items = []
        return [str(p) for p in items if isinstance(p, str)]

    def add_recent(self, path: str | os.PathLike) -> list[str]:
        path = str(Path(path).resolve())
        items = [p for p in self.recent_files() if p != path]
        items.insert(0, path)
        items = items[:MAX_RECENT]
        self.q.setValue("recent_files", json.dumps(items))
        return items

    def clear_recent(self) -> None:
        self.q.setValue("recent_files", "[]")

    def last_folder(self) -> str:
        return self.get_str("last_folder", str(Path.home()))

    def display(self) -> dict:
        try:
            return json.loads(self.get_str("display", "{}"))
        except ValueError:
            return {}

    def set_display(self, d: dict) -> None:
        self.q.setValue("display", json.dumps(d))

    def sync(self) -> None:
        self.q.sync()
