"""The allocator tuning of decoras detect and the survey workers takes on this (glibc) machine."""

from __future__ import annotations

import subprocess
import sys


def test_tune_malloc_is_accepted_by_glibc():
    code = "from decoras_gui.core.malloc import tune_malloc; print(tune_malloc())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == ("True" if sys.platform.startswith("linux") else "False")
