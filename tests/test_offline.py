"""The program opens no network connection: a full detect, headless and in the window, with
every internet socket refused (any attempt is recorded and fails the test)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from astropy.table import Table

from decoras_gui.paths import resources_dir

REPO = Path(__file__).resolve().parents[1]
SAMPLE = resources_dir() / "sample_vlba_dirty.fits"

#: run before the program: internet sockets and name lookups raise and are logged
GUARD = """
import socket, sys, traceback
LOG = sys.argv.pop(1)
def refuse(what):
    with open(LOG, "a") as fh:
        fh.write(what + "\\n" + "".join(traceback.format_stack(limit=8)) + "\\n")
    raise OSError("network access blocked by the test: " + what)
_init = socket.socket.__init__
def guarded_init(self, family=-1, type=-1, proto=-1, fileno=None):
    if family in (socket.AF_INET, socket.AF_INET6) or (family == -1 and fileno is None):
        refuse(f"socket(family={family})")
    _init(self, family, type, proto, fileno)
socket.socket.__init__ = guarded_init
socket.getaddrinfo = lambda *a, **k: refuse(f"getaddrinfo{a}")
socket.create_connection = lambda *a, **k: refuse(f"create_connection{a}")
module, argv = sys.argv[1], sys.argv[2:]
sys.argv = [module, *argv]
if module == "-c":
    exec(argv[0])
else:
    import runpy
    runpy.run_module(module, run_name="__main__", alter_sys=True)
"""


def _run_blocked(tmp_path: Path, module: str, *args: str, env: dict | None = None) -> tuple[int, str, str]:
    attempts = tmp_path / "network_attempts.log"
    proc = subprocess.run([sys.executable, "-c", GUARD, str(attempts), module, *args], cwd=REPO,
                          env=env or dict(os.environ), capture_output=True, text=True, timeout=300)
    return proc.returncode, proc.stdout + proc.stderr, attempts.read_text() if attempts.exists() else ""


def test_guard_really_blocks(tmp_path):
    code, out, attempts = _run_blocked(tmp_path, "-c", "import urllib.request; urllib.request.urlopen('http://example.org/')")
    assert code != 0 and "create_connection" in attempts


def test_headless_detect_without_network(tmp_path):
    out = tmp_path / "cat.ecsv"
    code, log, attempts = _run_blocked(tmp_path, "decoras_gui", "detect", str(SAMPLE), "--catalog", str(out),
                                       "--regions", str(tmp_path / "cat.reg"))
    assert attempts == "", attempts
    assert code == 0, log
    assert len(Table.read(out)) >= 1


def test_window_detect_without_network(tmp_path):
    dump = tmp_path / "window.ecsv"
    script = tmp_path / "script.txt"
    script.write_text(f"wait-image\nwait-sources 1\ndump {dump}\nquit\n")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", DECORAS_JOURNAL_DIR=str(tmp_path / "journal"))
    code, log, attempts = _run_blocked(tmp_path, "decoras_gui.gui.app", str(SAMPLE), "--detect",
                                       "--settings", str(tmp_path / "s.ini"), "--script", str(script), env=env)
    assert attempts == "", attempts
    assert code == 0, log
    assert len(Table.read(dump)) >= 1
