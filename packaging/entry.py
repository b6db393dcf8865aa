"""Entry point of the desktop bundle (packaging/decoras-gui.spec): the same as the
`decoras-gui` command of a pip install."""

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()
    from decoras_gui.gui.app import main

    sys.exit(main())
