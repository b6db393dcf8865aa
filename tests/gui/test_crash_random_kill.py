"""SIGKILL at any moment of a 200-action vetting run, 20 times: the journal always restores
every action the program had finished before the kill (and at most the one in flight).

A reference run of the same script, not killed, gives the catalogue fingerprint after each
action. In a killed run the script logs "<count> <fingerprint>" after each action (after
the journal's fsync); the catalogue the journal restores must be the reference state after
the last logged action or after the next one, and the logged prefix must match the
reference (the runs are deterministic). The journal is compacted every 25 changes, so
kills also land mid-compaction.

Kills are scheduled by the action count the app reports, not by wall time, so they land
mid-run on any machine: run k gets a target count drawn in the k-th of 20 equal stretches
of the run; the test polls the progress file and sends SIGKILL once the app has reported
that many actions, after a random fraction of one action's duration (so the kill lands
anywhere in the next action: the QAction, the journal's append and fsync, a compaction, the
repaint). The script has no pause between actions, and it stops and waits ``AHEAD``
actions after the target: however late the kill, it lands before the script's end.

The apps are forked from one process that has imported the window app once
(``tests/gui/app_fork_server.py``): each run starts the app in about a second instead of
three and a half, the same ``decoras_gui.gui.app.main``; ``test_crash_restore.py`` launches
it as a user does.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from decoras_gui.core.catalogue import Catalogue, Source
from decoras_gui.core.image import load_fits
from decoras_gui.core.session import (
    Session,
    catalogue_digest,
    file_sha256,
    orphan_journals,
    replay_journal,
    save_session,
)

REPO = Path(__file__).resolve().parents[2]
N_ACTIONS = 200
N_KILLS = 20
#: a killed run stops and waits this many actions after its kill target (a late kill still lands mid-run)
AHEAD = 8
STEP_MS = 0  # no pause between actions: the app is always busy with one when the kill comes
HANG_S = 300.0  # a run that has not got where it should in this long is stuck
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


def _script(path: Path, progress: Path, stop_after: int | None) -> Path:
    """The same 200 actions in every run; a killed run's script waits after ``stop_after``."""
    rng = np.random.default_rng(2026)
    lines = ["wait-image", "wait-sources 40", f"step {STEP_MS}", f"progress {progress}"]
    for i in range(N_ACTIONS):
        verb = VERBS[int(rng.integers(len(VERBS)))]
        lines.append(f"note n{i}" if verb == "note" else verb)
        if i + 1 == stop_after:
            lines.append("sleep 600000")
    lines += [f"touch {path}.done", "sleep 600000"]
    path.write_text("\n".join(lines) + "\n")
    return path


def kill_targets(rng: np.random.Generator) -> list[int]:
    """One target action count in each of N_KILLS equal stretches of 1 .. N_ACTIONS - 1 - AHEAD."""
    edges = np.linspace(1, N_ACTIONS - AHEAD, N_KILLS + 1)
    return [int(rng.integers(np.ceil(lo), np.ceil(hi))) for lo, hi in zip(edges[:-1], edges[1:])]


class AppForker:
    """Talks to ``tests.gui.app_fork_server``: start an app process, wait for its end."""

    def __init__(self, proc: subprocess.Popen):
        self.proc = proc

    def _ask(self, request: dict) -> dict:
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        ready, _, _ = select.select([self.proc.stdout], [], [], HANG_S)
        assert ready, f"the fork server did not answer {request} in {HANG_S:.0f} s"
        line = self.proc.stdout.readline()
        assert line, f"the fork server died (exit {self.proc.wait(30)})"
        return json.loads(line)

    def start(self, argv: list[str], env: dict[str, str], unset: list[str], log: Path) -> int:
        return int(self._ask({"start": {"argv": argv, "env": env, "unset": unset, "log": str(log)}})["pid"])

    def reap(self, pid: int) -> dict:
        return self._ask({"reap": pid})


@contextmanager
def app_forker() -> Iterator[AppForker]:
    proc = subprocess.Popen([sys.executable, "-m", "tests.gui.app_fork_server"], cwd=REPO, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        yield AppForker(proc)
    finally:
        proc.stdin.close()
        proc.wait(60)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def _reported(progress: Path) -> list[str]:
    """The digests of the complete "<count> <digest>" lines the app has written so far."""
    try:
        text = progress.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    lines = text.split("\n")[:-1]  # a line is complete once its newline is written
    for k, line in enumerate(lines, start=1):
        assert line.split()[0] == str(k), f"{progress.name}: line {k} is {line!r}"
    return [ln.split()[1] for ln in lines]


class Progress:
    """Counts the actions the app has reported, cheaply enough to poll every half millisecond."""

    def __init__(self, path: Path):
        self.path, self.size, self.count = path, 0, 0

    def poll(self) -> int:
        try:
            size = os.stat(self.path).st_size
        except FileNotFoundError:
            return 0
        if size != self.size:
            data = self.path.read_bytes()
            self.size, self.count = len(data), data.count(b"\n")
        return self.count


@dataclass
class Run:
    logged: list[str]  # digest after each action the app reported before the kill
    restored: str  # digest of the catalogue the journal restores
    target: int | None  # the action count the kill waited for (None: the whole script)
    limit: int  # the script stops after this many actions


def _run(forker: AppForker, tmp_path: Path, name: str, session: Path, target: int | None,
         rng: np.random.Generator) -> Run:
    """Run the app on the script and SIGKILL it once it has reported ``target`` actions, a
    random part of an action later (None: once the whole script is done)."""
    progress = tmp_path / f"{name}.progress"
    limit = N_ACTIONS if target is None else target + AHEAD
    script = _script(tmp_path / f"{name}.txt", progress, None if target is None else limit)
    done = Path(f"{script}.done")
    journal = tmp_path / f"journal-{name}"
    log = tmp_path / f"{name}.log"
    env = {"QT_QPA_PLATFORM": "offscreen", "DECORAS_JOURNAL_DIR": str(journal),
           "DECORAS_JOURNAL_COMPACT_EVERY": "25"}
    pid = forker.start([str(session), "--settings", str(tmp_path / f"{name}.ini"), "--script", str(script)],
                       env, ["DECORAS_GUI_RESTORE"], log)
    try:
        t0 = time.monotonic()
        first: tuple[float, int] | None = None  # when the poller first saw a reported action
        reported = Progress(progress)
        while True:
            now = time.monotonic()
            count = reported.poll()
            if count and first is None:
                first = (now, count)
            if done.exists() if target is None else count >= target:
                break
            assert _alive(pid), f"{name}: the app ended early:\n{log.read_text()[-3000:]}"
            assert now - t0 < HANG_S, f"{name}: stuck after {count} actions:\n{log.read_text()[-3000:]}"
            time.sleep(0.0005 if count else 0.02)
        if target is not None and first is not None and count > first[1]:
            per_action = (now - first[0]) / (count - first[1])
            time.sleep(float(rng.uniform(0.0, per_action)))  # the phase within an action, not the count
    finally:
        os.kill(pid, signal.SIGKILL)
        ended = forker.reap(pid)
    assert ended["signal"] == signal.SIGKILL, f"{name}: ended {ended}, not by the kill:\n{log.read_text()[-3000:]}"
    (orphan,) = orphan_journals(journal)
    restored, _ = replay_journal(orphan)
    return Run(_reported(progress), catalogue_digest(restored.catalogue), target, limit)


@pytest.mark.slow
def test_sigkill_at_random_moments_never_loses_an_action(tmp_path, vlba_fits):
    session = _session(tmp_path, vlba_fits)
    rng = np.random.default_rng(7)
    targets = kill_targets(rng)
    with app_forker() as forker:
        ref = _run(forker, tmp_path, "ref", session, None, rng)
        reference = ref.logged
        assert len(reference) == N_ACTIONS and ref.restored == reference[-1]
        assert len(set(reference)) > N_ACTIONS // 4  # the actions really change the catalogue
        runs = [_run(forker, tmp_path, f"kill{k}", session, target, rng) for k, target in enumerate(targets)]
    in_flight = 0
    for k, run in enumerate(runs):
        n = len(run.logged)
        assert run.target <= n <= run.limit < N_ACTIONS, f"run {k}: killed after {n} actions, not mid-run"
        assert run.logged == reference[:n], f"run {k}: not deterministic"
        allowed = {reference[n - 1], reference[n]}
        assert run.restored in allowed, f"run {k}: killed after {n} logged actions, restored another state"
        in_flight += run.restored == reference[n] != reference[n - 1]
    reached = [len(run.logged) for run in runs]
    print(f"killed after {reached} of {N_ACTIONS} actions (targets {targets}, each run stops {AHEAD} after "
          f"its target); every restore matched, {in_flight} of them with the action in flight")
    # spread over the run: a kill in every fifth of it (by construction of the targets, on any machine)
    assert {n * 5 // N_ACTIONS for n in reached} == set(range(5)), f"kills did not spread: {reached}"
