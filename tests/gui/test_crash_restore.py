"""The app in a subprocess: vet, SIGKILL it, start it again, restore: every decision is there."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from decoras_gui.core.catalogue import Catalogue
from decoras_gui.core.image import load_fits
from decoras_gui.core.session import Session, file_sha256, orphan_journals, save_session
from tests.gui.test_vetting import build_catalogue

REPO = Path(__file__).resolve().parents[2]


def _start(args, env, log):
    return subprocess.Popen([sys.executable, "-m", "decoras_gui.gui.app", *args], cwd=REPO, env=env,
                            stdout=log, stderr=subprocess.STDOUT)


def _wait_for(path: Path, proc, timeout: float, log: Path) -> None:
    t0 = time.monotonic()
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"the app exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
        if time.monotonic() - t0 > timeout:
            proc.kill()
            raise AssertionError(f"timed out waiting for {path.name}:\n{log.read_text()[-3000:]}")
        time.sleep(0.1)


def test_sigkill_then_restore_keeps_every_decision(tmp_path, vlba_fits):
    image = load_fits(vlba_fits)
    session = save_session(Session(build_catalogue(image), str(vlba_fits), file_sha256(vlba_fits), None, None,
                                   "tiny", "0.0.1", {"colormap": "viridis"}), tmp_path / "start.decoras")
    journal = tmp_path / "journal"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", DECORAS_JOURNAL_DIR=str(journal))
    env.pop("DECORAS_GUI_RESTORE", None)
    marker = tmp_path / "vetted"
    script1 = tmp_path / "vet.txt"
    script1.write_text("\n".join([
        "wait-image", "wait-sources 6",
        "action next", "action accept",            # 1 accepted
        "action next", "action reject",            # 2 rejected
        "action next", "note bright sidelobe?",    # 3 note
        "action next", "action delete",            # 4 deleted, 5 selected
        "action auto_advance",
        "action accept",                           # 5 accepted (auto-advances to 6)
        "action reject",                           # 6 rejected
        "action undo", "action redo",              # undo/redo are journalled too
        f"touch {marker}", "sleep 600000",
    ]) + "\n")
    log1 = tmp_path / "run1.log"
    with open(log1, "w") as fh:
        p1 = _start([str(session), "--settings", str(tmp_path / "a.ini"), "--script", str(script1)], env, fh)
        try:
            _wait_for(marker, p1, 120, log1)
        finally:
            p1.send_signal(signal.SIGKILL)
            p1.wait(30)
    assert p1.returncode == -signal.SIGKILL
    orphans = orphan_journals(journal)
    assert len(orphans) == 1

    out = tmp_path / "restored.ecsv"
    script2 = tmp_path / "dump.txt"
    script2.write_text(f"wait-image\nwait-sources 5\ndump {out}\nquit\n")
    log2 = tmp_path / "run2.log"
    with open(log2, "w") as fh:
        p2 = _start(["--settings", str(tmp_path / "b.ini"), "--script", str(script2), "--restore", "restore"],
                    env, fh)
        try:
            rc = p2.wait(120)
        finally:
            if p2.poll() is None:
                p2.kill()
    assert rc == 0, log2.read_text()[-3000:]
    cat = Catalogue.read(out)
    assert cat.ids == [1, 2, 3, 5, 6]
    assert [cat.get(i).status for i in cat.ids] == ["accepted", "rejected", "candidate", "accepted", "rejected"]
    assert cat.get(3).note == "bright sidelobe?"
    assert cat.meta.get("model") == "tiny"
    # the crashed journal was taken over; the restored, unsaved work is kept for the next start
    left = sorted(journal.glob("*.jsonl"))
    assert orphans[0] not in left and len(left) == 1
