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
#: version of the saved display settings: 2 since the default became the noise-scaled
#: asinh stretch from -1 sigma (version 1, unversioned, saved linear / -2 sigma automatically)
DISPLAY_VERSION = 2
#: the automatic default of version 1, replaced once by the current default
OLD_DEFAULT_DISPLAY = {"stretch": "linear", "limits": "noise"}


def migrate_display(d: dict) -> dict:
    """Saved display settings of version 1 with the current default in place of the old one."""
    if all(d.get(k) == v for k, v in OLD_DEFAULT_DISPLAY.items()):
        return {k: v for k, v in d.items() if k not in OLD_DEFAULT_DISPLAY}
    return dict(d)


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
        """The saved display settings (a dict for display.DisplaySettings.from_dict).

        The window saves them on every close, so settings saved before "display/version"
        existed hold the old default (linear, -2 sigma / max) whether or not the user chose
        it: that stretch and those limits are dropped once, and the new default applies;
        anything else the user chose (another stretch, colormap, inversion) is kept.
        """
        try:
            d = json.loads(self.get_str("display", "{}"))
        except ValueError:
            return {}
        if not isinstance(d, dict):
            return {}
        if self.display_version() < DISPLAY_VERSION:
            d = migrate_display(d)
        return d

    def display_version(self) -> int:
        """The version of the saved display settings (1 before the key existed)."""
        try:
            return int(self.q.value("display/version", 1))
        except (TypeError, ValueError):
            return 1

    def set_display(self, d: dict) -> None:
        self.q.setValue("display", json.dumps(d))
        self.q.setValue("display/version", DISPLAY_VERSION)

    def sync(self) -> None:
        self.q.sync()
