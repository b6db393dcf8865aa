"""The package list for setuptools; everything else is configured in pyproject.toml.

pyproject.toml's ``[tool.setuptools] packages`` is either an explicit list or a ``find``
directive, never both, and we need both: every package under decoras_gui/ is *found* (so a new
subpackage can never be left out of the wheel again), and the data packages decoras_gui.resources,
.models and .docs are the ones pyproject.toml maps from the top-level folders resources/, models/
and docs/ (``[tool.setuptools.package-dir]``, with their files in ``package-data``).
"""

import sys
from pathlib import Path

from setuptools import find_namespace_packages, setup

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: pyproject.toml's build-system requires tomli there
    import tomli as tomllib

HERE = Path(__file__).resolve().parent
SETUPTOOLS = tomllib.loads((HERE / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
# namespace discovery: a folder of modules is shipped even if it was given no __init__.py
CODE_PACKAGES = find_namespace_packages(where=str(HERE), include=["decoras_gui", "decoras_gui.*"])
DATA_PACKAGES = sorted(SETUPTOOLS["package-dir"])

setup(packages=CODE_PACKAGES + DATA_PACKAGES)
