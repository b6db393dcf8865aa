"""Lean replacement for pyinstaller-hooks-contrib's astropy hook (hooks here take precedence):
the same submodules, data files and metadata, without astropy's test packages and test data."""

from PyInstaller.utils.hooks import (
    collect_data_files,
    collect_submodules,
    copy_metadata,
)


def _not_test(name: str) -> bool:
    return ".tests" not in name and not name.endswith(".conftest") and ".samp" not in name


hiddenimports = collect_submodules("astropy", filter=_not_test) + ["numpy.lib.recfunctions"]
datas = collect_data_files("astropy", excludes=["**/tests/**", "**/*.pyx", "**/*.c", "**/*.h"])
# unit and coordinate parsers load their generated ply tables as files
datas += [(src, dest) for src, dest in collect_data_files("astropy", include_py_files=True, excludes=["**/tests/**"])
          if src.endswith(("_parsetab.py", "_lextab.py"))]
datas += copy_metadata("astropy") + copy_metadata("numpy")
