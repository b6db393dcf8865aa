"""`python -m decoras_gui ...` is the `decoras` command."""

import sys

from .cli import main

sys.exit(main())
