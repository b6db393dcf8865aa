"""The desktop application: PySide6 + pyqtgraph views over the core objects.

Entry point: ``decoras-gui`` -> :func:`decoras_gui.gui.app.main`; the window is
:class:`decoras_gui.gui.main_window.MainWindow` (``open_path``, ``run_detection``).
"""

import sys as _sys


def _pin_singletons() -> bool:
    """Guard against PySide6 6.12.0 dropping a reference to ``None`` on every call of a
    void C++ method from Python (``w.setEnabled(True)`` and the like: measured -1 per call).

    On CPython 3.11 ``None``/``True``/``False`` are ordinary refcounted objects, so after a
    few thousand such calls the interpreter aborts ("none_dealloc: deallocating None"),
    in a long vetting session or at exit. CPython >= 3.12 makes them immortal; here we do
    the same by giving them a huge number of references that are never released.
    Returns True when it pinned them.
    """
    if _sys.version_info >= (3, 12) or hasattr(_sys, "gettotalrefcount"):  # immortal / debug build
        return False
    import ctypes

    extra = 1 << 40
    for obj in (None, True, False):
        before = _sys.getrefcount(obj)
        cell = ctypes.c_ssize_t.from_address(id(obj))  # ob_refcnt is the first field of PyObject
        if cell.value < before - 64 or cell.value > before + 64:
            return False  # not the layout we expect: leave it alone
        cell.value += extra
    return True


SINGLETONS_PINNED = _pin_singletons()
