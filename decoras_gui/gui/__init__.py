"""PySide6 + pyqtgraph desktop application (a thin view over core objects)."""
