"""What every GUI benchmark does first: offscreen Qt and a settings file and autosave folder of
its own, never the user's."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def isolated_gui_env() -> Path:
    """Set the environment for a benchmark window; returns its temporary folder."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    tmp = Path(tempfile.mkdtemp(prefix="decoras-gui-bench-"))
    os.environ["DECORAS_GUI_SETTINGS"] = str(tmp / "bench.ini")
    os.environ["DECORAS_JOURNAL_DIR"] = str(tmp / "journal")  # never the user's autosave folder
    return tmp
