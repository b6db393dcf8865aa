"""The manifest of a survey run: what became of every input, so that a rerun does only what is left.

One JSON object a line in ``DIR/manifest.jsonl``, appended (and fsynced) by the client as each
image's outcome arrives; the last line of an input is its state. A line cut short by a crash is
ignored. Each entry says:

* ``input`` (absolute path), ``name`` (the stem its outputs carry), ``status`` ("done" or "failed");
* done: ``sources``, ``catalogue`` and ``regions`` (relative to DIR), ``model``, ``notes``;
* failed: ``error`` (the message, naming the file);
* ``size`` and ``mtime`` of the input when it was read, ``settings`` (what changes the outputs:
  model, threshold, ...), ``worker``, ``attempts``, ``seconds`` and ``time``.

An input counts as done when its entry is done, its outputs exist and its file and the settings
are those recorded; otherwise it is done again. Failures are retried with ``retry_failed``.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.errors import DecorasError

NAME = "manifest.jsonl"


def file_stamp(path: str | os.PathLike) -> dict[str, Any]:
    """Size and modification time of an input (an edited file is done again)."""
    try:
        st = os.stat(path)
    except OSError:
        return {"size": None, "mtime": None}
    return {"size": st.st_size, "mtime": round(st.st_mtime, 3)}


@dataclass
class Plan:
    """What a run does: ``todo`` (inputs to detect), and those it leaves, by reason."""

    todo: list[Path] = field(default_factory=list)
    done: list[Path] = field(default_factory=list)  # done before, left as they are
    failed: list[Path] = field(default_factory=list)  # failed before, left (no retry_failed)
    redo: dict[str, int] = field(default_factory=dict)  # why done inputs are done again: count

    def describe(self) -> str:
        parts = [f"{len(self.todo)} to do"]
        if self.done:
            parts.append(f"{len(self.done)} done before")
        if self.failed:
            parts.append(f"{len(self.failed)} failed before (--retry-failed retries them)")
        parts += [f"{n} redone: {why}" for why, n in self.redo.items()]
        return ", ".join(parts)


class Manifest:
    """The manifest of the run in ``folder`` (read at once; :meth:`record` appends)."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        self.path = self.folder / NAME
        self.entries: dict[Path, dict] = {}
        self.skipped_lines = 0
        if self.path.exists():
            self._read()

    def _read(self) -> None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except OSError as exc:
            raise DecorasError(f"cannot read the manifest: {exc.strerror or exc}", self.path) from exc
        for line in text.splitlines():
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                self.entries[Path(entry["input"])] = entry
            except (ValueError, KeyError, TypeError):
                self.skipped_lines += 1  # a line cut short when the client was killed

    def record(self, entry: dict) -> None:
        """Append ``entry`` (it becomes its input's state) and make it durable."""
        entry = {**entry, "time": entry.get("time") or time.strftime("%Y-%m-%dT%H:%M:%S")}
        line = json.dumps(entry, default=str)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as fh:
                fh.write(line + "\n")
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as exc:
            raise DecorasError(f"cannot write the manifest: {exc.strerror or exc}", self.path) from exc
        self.entries[Path(entry["input"])] = entry

    def names(self) -> dict[Path, str]:
        """The output name each input was given (kept by a rerun)."""
        return {path: e["name"] for path, e in self.entries.items() if e.get("name")}

    def is_done(self, path: Path, settings: dict) -> str | None:
        """None when ``path`` is done and need not be done again, else why not."""
        entry = self.entries.get(path)
        if entry is None:
            return "new"
        if entry.get("status") != "done":
            return "failed"
        if entry.get("settings") != settings:
            return "other settings than this run's"
        stamp = file_stamp(path)
        if stamp["size"] is not None and (entry.get("size"), entry.get("mtime")) != (stamp["size"], stamp["mtime"]):
            return "the file changed since"
        for key in ("catalogue", "regions"):
            if entry.get(key) and not (self.folder / entry[key]).is_file():
                return "its outputs are missing"
        return None

    def plan(self, inputs: list[Path], settings: dict, retry_failed: bool = False) -> Plan:
        plan = Plan()
        for path in inputs:
            why = self.is_done(path, settings)
            if why is None:
                plan.done.append(path)
            elif why == "failed" and not retry_failed:
                plan.failed.append(path)
            else:
                plan.todo.append(path)
                if why not in ("new", "failed"):
                    plan.redo[why] = plan.redo.get(why, 0) + 1
        return plan

    def done_entries(self, inputs: list[Path] | None = None) -> list[dict]:
        """The done entries, in the order of ``inputs`` (default: the manifest's)."""
        keys = inputs if inputs is not None else list(self.entries)
        return [self.entries[p] for p in keys if p in self.entries and self.entries[p].get("status") == "done"]

    def failed_entries(self, inputs: list[Path] | None = None) -> list[dict]:
        keys = inputs if inputs is not None else list(self.entries)
        return [self.entries[p] for p in keys if p in self.entries and self.entries[p].get("status") == "failed"]
