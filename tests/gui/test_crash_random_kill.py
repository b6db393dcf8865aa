"""SIGKILL at any moment of a 200-action vetting run, 20 times: the journal always restores
every action the program had finished before the kill (and at most the one in flight).

A reference run of the same script, not killed, gives the catalogue fingerprint after each
action. In a killed run the script logs a fingerprint after each action (after the
journal's fsync); the catalogue the journal restores must be the reference state after
the last logged action or after the next one, and the logged prefix must match the
reference (the runs are deterministic). The journal is compacted every 25 changes, so
kills also land mid-compaction.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from decoras_gui.core.catalogue import Catalogue, Source
from decoras_gui.core.image import load_fits
from decoras_gui.core.session import (Session, catalogue_digest, file_sha256, orphan_journals, replay_journal,
                                      save_session)

REPO = Path(__file__).resolve().parents[2]
N_ACTIONS = 200
N_KILLS = 20
STEP_MS = 2
VERBS = ["action next"] * 4 + ["action previous", "action accept", "action accept", "action reject",
                               "action reject", "action unvet", "action undo", "action undo", "action redo",
                               "action delete", "note"]


def _session(tmp_path: Path, vlba_fits: Path) -> Path:
    image = load_fits(vlba_fits)
    rng = np.random.default_rng(11)
    cat = Catalogue(meta={"image": image.name, "image_path": str(vlba_fits), "model": "tiny"})
    for i in range(40):
        x, y = rng.uniform(20, image.shape[1] - 20), rng.uniform(20, image.shape[0] - 20)
        cat.add(Source(source_id=i + 1, x=x, y=y, maj_img=7.0, min_img=4.0, theta_img=float(i), det_prob=0.9,
                       snr=10.0, peak_flux=1e-3, model="tiny"))
    return save_session(Session(cat, str(vlba_fits), file_sha256(vlba_fits), None, None, "tiny", "0.0.1"),
                        tmp_path / "start.decoras")


def _script(path: Path, progress: Path) -> Path:
    rng = np.random.default_rng(2026)
    lines = ["wait-image", "wait-sources 40", f"step {STEP_MS}", f"progress {progress}"]
    for i in range(N_ACTIONS):
        verb = VERBS[int(rng.integers(len(VERBS)))]
        lines.append(f"note n{i}" if verb == "note" else verb)
    lines += [f"touch {path}.done", "sleep 600000"]
    path.write_text("\n".join(lines) + "\n")
    return path


def _run(tmp_path: Path, name: str, session: Path, script: Path, progress: Path, kill_after: float | None):
    """Run the app on the script; SIGKILL it ``kill_after`` s after its first action (None:
    when the script is done). Returns (logged digests, restored digest, seconds of vetting)."""
    journal = tmp_path / f"journal-{name}"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", DECORAS_JOURNAL_DIR=str(journal),
               DECORAS_JOURNAL_COMPACT_EVERY="25")
    env.pop("DECORAS_GUI_RESTORE", None)
    done = Path(f"{script}.done")
    log = tmp_path / f"{name}.log"
    with open(log, "w") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "decoras_gui.gui.app", str(session), "--settings",
                                 str(tmp_path / f"{name}.ini"), "--script", str(script)], cwd=REPO, env=env,
                                stdout=fh, stderr=subprocess.STDOUT)
        try:
            t0 = time.monotonic()
            while not (progress.exists() and progress.stat().st_size) and not done.exists():
                assert proc.poll() is None, log.read_text()[-3000:]
                assert time.monotonic() - t0 < 120, "the app never started vetting"
                time.sleep(0.02)
            started = time.monotonic()
            if kill_after is None:
                while not done.exists():
                    assert proc.poll() is None, log.read_text()[-3000:]
                    time.sleep(0.01)
            else:
                time.sleep(kill_after)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(30)
    logged = [ln.split()[1] for ln in progress.read_text().splitlines() if len(ln.split()) == 2]
    (orphan,) = orphan_journals(journal)
    restored, changes = replay_journal(orphan)
    return logged, catalogue_digest(restored.catalogue), time.monotonic() - started


@pytest.mark.slow
def test_sigkill_at_random_moments_never_loses_an_action(tmp_path, vlba_fits):
    session = _session(tmp_path, vlba_fits)
    ref_progress = tmp_path / "ref.progress"
    reference, final, duration = _run(tmp_path, "ref", session, _script(tmp_path / "ref.txt", ref_progress),
                                      ref_progress, None)
    assert len(reference) == N_ACTIONS and final == reference[-1]
    assert len(set(reference)) > N_ACTIONS // 4  # the actions really change the catalogue
    rng = np.random.default_rng(7)
    outcomes = []
    for k in range(N_KILLS):
        progress = tmp_path / f"kill{k}.progress"
        script = _script(tmp_path / f"kill{k}.txt", progress)
        logged, restored, _ = _run(tmp_path, f"kill{k}", session, script, progress, float(rng.uniform(0.0, duration)))
        n = len(logged)
        assert logged == reference[:n], f"run {k}: not deterministic"
        assert n >= 1  # the kill timer starts at the first finished action
        allowed = {reference[n - 1], reference[n] if n < N_ACTIONS else None}
        assert restored in allowed, f"run {k}: killed after {n} logged actions, restored another state"
        outcomes.append(n)
    print(f"killed after {sorted(outcomes)} of {N_ACTIONS} actions; every restore matched")
    assert len(set(outcomes)) > N_KILLS // 2, f"kills did not spread over the run: {outcomes}"
