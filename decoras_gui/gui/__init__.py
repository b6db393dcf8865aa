"""The desktop application: PySide6 + pyqtgraph views over the core objects.

Entry point: ``decoras-gui`` -> :func:`decoras_gui.gui.app.main`; the window is
:class:`decoras_gui.gui.main_window.MainWindow` (``open_path``, ``run_detection``).
"""
