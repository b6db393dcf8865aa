"""``decoras-gui --self-test`` checks an install end to end and says so in one line."""

from __future__ import annotations

import os
import subprocess
import sys


def _self_test(tmp_path, *args):
    env = {k: v for k, v in os.environ.items() if k not in ("DECORAS_GUI_SETTINGS", "DECORAS_JOURNAL_DIR")}
    env["HOME"] = str(tmp_path / "home")  # any write outside its temporary folder would land here
    return subprocess.run([sys.executable, "-m", "decoras_gui.gui.app", "--self-test", *args], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=300)


def test_self_test_passes_and_leaves_nothing_behind(tmp_path):
    proc = _self_test(tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1 and "self-test passed" in lines[0] and "vlba-l-band" in lines[0]
    assert not (tmp_path / "home").exists()  # no settings, no journal in the user's folders


def test_self_test_fails_clearly_without_a_model(tmp_path):
    empty = tmp_path / "no-models"
    empty.mkdir()
    proc = _self_test(tmp_path, "--models", str(empty))
    assert proc.returncode == 1
    assert "self-test FAILED" in proc.stdout
