"""Layering: the headless packages never load Qt, whatever of them is imported.

``core``, ``sim``, ``ml``, ``eval``, ``commands``, ``survey`` and the ``decoras`` command are imported
(every module of them, found by walking the packages) in a fresh interpreter; neither
PySide6 nor pyqtgraph may end up loaded. ruff's TID251 rule (pyproject.toml) stops the
import statements; this test stops the indirect ones too.
"""

from __future__ import annotations

import json
import subprocess
import sys

HEADLESS = ("decoras_gui.core", "decoras_gui.sim", "decoras_gui.ml", "decoras_gui.eval", "decoras_gui.commands",
            "decoras_gui.survey")

CODE = """
import importlib, json, pkgutil, sys
import decoras_gui.cli
names = ["decoras_gui.cli"]
for package in {packages!r}:
    module = importlib.import_module(package)
    names.append(package)
    for info in pkgutil.walk_packages(module.__path__, package + "."):
        importlib.import_module(info.name)
        names.append(info.name)
qt = sorted(m for m in sys.modules if m.split(".")[0] in ("PySide6", "pyqtgraph", "shiboken6"))
print(json.dumps({{"imported": names, "qt": qt}}))
"""


def test_headless_packages_never_import_qt():
    out = subprocess.run([sys.executable, "-c", CODE.format(packages=HEADLESS)], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert len(report["imported"]) > 40  # the walk really found the modules
    assert report["qt"] == [], f"Qt loaded by a headless module: {report['qt']}"
