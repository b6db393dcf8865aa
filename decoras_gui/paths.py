"""Where bundled resources and models live, in a checkout and in an install."""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parent.parent


def _package_dir(package: str, checkout_name: str) -> Path:
    bundle = getattr(sys, "_MEIPASS", None)
    if getattr(sys, "frozen", False) and bundle:  # the desktop bundle (packaging/decoras-gui.spec)
        return Path(bundle, *package.split("."))
    checkout = _CHECKOUT / checkout_name
    if (_CHECKOUT / "pyproject.toml").is_file() and (checkout / "__init__.py").is_file():
        return checkout  # running from a source checkout (editable install or PYTHONPATH)
    try:
        return Path(str(resources.files(package)))
    except ModuleNotFoundError:  # pragma: no cover - broken install
        return checkout


def resources_dir() -> Path:
    """Folder holding sample images, icons and the stylesheet."""
    return _package_dir("decoras_gui.resources", "resources")


def models_dir() -> Path:
    """Folder holding the bundled model weights and their JSON model cards."""
    return _package_dir("decoras_gui.models", "models")


def docs_dir() -> Path:
    """Folder holding the user guide (Markdown pages and their screenshots)."""
    return _package_dir("decoras_gui.docs", "docs")


def user_data_dir() -> Path:
    """The user's data folder: ``$XDG_DATA_HOME/decoras-gui``, else ``~/.local/share/decoras-gui``."""
    import os

    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "decoras-gui"


def user_models_dir() -> Path:
    """Where models a user trains are kept (``decoras automl --like``): ``$DECORAS_MODELS``, else
    ``models/`` in :func:`user_data_dir`. Listed after the bundled ones; a bundled name wins."""
    import os

    env = os.environ.get("DECORAS_MODELS")
    return Path(env) if env else user_data_dir() / "models"
