"""PySide6 6.12.0 drops a reference to None on every void C++ call from Python; on CPython
3.11 that aborts the interpreter after a few thousand calls. decoras_gui.gui pins the
singletons (see decoras_gui/gui/__init__.py): a long session must survive."""

from __future__ import annotations

import os
import subprocess
import sys


def test_many_void_calls_do_not_abort_the_interpreter():
    code = ("import decoras_gui.gui\n"
            "from PySide6.QtWidgets import QApplication, QCheckBox\n"
            "app = QApplication([])\n"
            "box = QCheckBox()\n"
            "for i in range(300_000):\n"
            "    box.setChecked(i % 2 == 0)\n"
            "    box.setObjectName('x')\n"
            "print('survived')\n")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300,
                       check=False)
    assert r.returncode == 0 and "survived" in r.stdout, r.stderr[-2000:]
