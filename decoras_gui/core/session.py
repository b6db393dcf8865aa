"""Vetting sessions on disk: a plain-text session file and a crash-proof journal. No Qt.

Session file (``*.decoras``; File > Save Session)
------------------------------------------------
One UTF-8 JSON object, never pickle::

    {"format": "decoras-session", "version": 1, "saved": "2026-...Z",
     "creator": "decoras-gui 0.x",
     "image": {"path": "/abs/image.fits", "sha256": "…", "hdu": 0, "plane": [0, 0]},
     "model": {"name": "vlba-l-band", "version": "1.0"},
     "view": {"stretch": "asinh", "limits": "minmax", "colormap": "gray", ...,
              "range": [x0, x1, y0, y1]},
     "catalogue_ecsv": "# %ECSV 1.0\\n…"}

``catalogue_ecsv`` is the whole catalogue (every status, edit flag and note, units and
metadata) as ECSV text, the program's native catalogue format.

Journal (autosave)
------------------
While the app runs, every change to the catalogue is appended at once to a JSON-lines
file in :func:`journal_dir` (``$DECORAS_JOURNAL_DIR``, else
``$XDG_DATA_HOME/decoras-gui/journal``, else ``~/.local/share/decoras-gui/journal``),
one complete record per line, flushed and fsynced before the call returns:

* line 1, ``{"type": "base", "pid": …, "seq": 0, "session": {…session dict…}}``: the
  snapshot the changes apply to;
* then ``{"type": "change", "seq": n, "label": "Accept 3", "upsert": [[index, {source}], …],
  "remove": [ids]}``, optionally with ``"meta"`` and ``"whole"``: one applied
  :class:`~.edits.CatalogueEdit` (an undo is the inverse edit, recorded the same way).

Float NaN is written as ``null``. A torn last line (a crash mid-write) is ignored. Every
:data:`COMPACT_EVERY` changes the journal is rewritten as a fresh base snapshot,
atomically (write beside, fsync, rename). A clean exit deletes the journal; a journal
whose process is gone is a crashed session: :func:`orphan_journals` finds them and
:func:`replay_journal` rebuilds the session with every decision up to the crash.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import io
import json
import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .catalogue import COLUMN_BY_NAME, Catalogue
from .edits import CatalogueEdit, json_value
from .errors import DecorasError
from .fileio import atomic_path, atomic_write_text, file_sha256

FORMAT = "decoras-session"
VERSION = 1
SESSION_SUFFIX = ".decoras"
JOURNAL_ENV = "DECORAS_JOURNAL_DIR"
JOURNAL_SUFFIX = ".journal.jsonl"
COMPACT_EVERY = 500
COMPACT_ENV = "DECORAS_JOURNAL_COMPACT_EVERY"

__all__ = [
    "Session", "session_to_dict", "session_from_dict", "save_session", "load_session",
    "file_sha256", "check_image", "journal_dir", "Journal", "replay_journal", "orphan_journals",
    "catalogue_to_ecsv", "catalogue_from_ecsv",
    "SESSION_SUFFIX", "JOURNAL_ENV",
]


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# ----------------------------------------------------------------- values

def catalogue_to_ecsv(cat: Catalogue) -> str:
    buf = io.StringIO()
    cat.to_table().write(buf, format="ascii.ecsv")
    return buf.getvalue()


def catalogue_from_ecsv(text: str, path=None) -> Catalogue:
    from astropy.table import Table

    try:
        table = Table.read(text, format="ascii.ecsv")
    except Exception as exc:
        raise DecorasError(f"the embedded catalogue is not readable ECSV: {exc}", path) from None
    return Catalogue.from_table(table, path=path)


# ----------------------------------------------------------------- session

@dataclass
class Session:
    """Everything needed to pick a vetting session up again."""

    catalogue: Catalogue
    image_path: str | None = None
    image_sha256: str | None = None
    hdu: int | str | None = None
    plane: list[int] | None = None
    model: str = ""
    model_version: str = ""
    view: dict[str, Any] = field(default_factory=dict)
    saved: str = ""
    creator: str = ""


def session_to_dict(s: Session) -> dict[str, Any]:
    from .. import __version__

    return {
        "format": FORMAT,
        "version": VERSION,
        "saved": _now(),
        "creator": f"decoras-gui {__version__}",
        "image": {"path": s.image_path, "sha256": s.image_sha256, "hdu": s.hdu,
                  "plane": list(s.plane) if s.plane else None},
        "model": {"name": s.model or "", "version": s.model_version or ""},
        "view": {k: json_value(v) for k, v in (s.view or {}).items()},
        "catalogue_ecsv": catalogue_to_ecsv(s.catalogue),
    }


def _typed(d: dict[str, Any], key: str, types: tuple[type, ...], path, default: Any = None) -> Any:
    """``d[key]`` when it has one of ``types`` (None and missing give ``default``)."""
    value = d.get(key)
    if value is None:
        return default
    if isinstance(value, bool) and bool not in types or not isinstance(value, types):
        raise DecorasError(f"the session's {key!r} entry has the wrong type ({type(value).__name__})", path)
    return value


def session_from_dict(d: dict[str, Any], path=None) -> Session:
    """A Session from parsed JSON; a DecorasError naming ``path`` for anything malformed."""
    if not isinstance(d, dict) or d.get("format") != FORMAT:
        raise DecorasError("not a decoras-gui session file", path)
    version = _typed(d, "version", (int,), path, 0)
    if version > VERSION:
        raise DecorasError(f"session format version {version} is newer than this program's "
                           f"({VERSION}): update decoras-gui", path)
    image = _typed(d, "image", (dict,), path, {})
    model = _typed(d, "model", (dict,), path, {})
    plane = _typed(image, "plane", (list,), path)
    if plane is not None and not all(isinstance(i, int) and not isinstance(i, bool) for i in plane):
        raise DecorasError("the session's image plane is not a list of integers", path)
    return Session(
        catalogue=catalogue_from_ecsv(_typed(d, "catalogue_ecsv", (str,), path, ""), path),
        image_path=_typed(image, "path", (str,), path),
        image_sha256=_typed(image, "sha256", (str,), path),
        hdu=_typed(image, "hdu", (int, str), path),
        plane=plane,
        model=_typed(model, "name", (str,), path, ""),
        model_version=_typed(model, "version", (str,), path, ""),
        view=dict(_typed(d, "view", (dict,), path, {})),
        saved=_typed(d, "saved", (str,), path, ""),
        creator=_typed(d, "creator", (str,), path, ""),
    )


def backup_path(path: str | os.PathLike) -> Path:
    """Where the last good copy of a session file is kept: ``NAME.bak`` beside it."""
    path = Path(path)
    return path.with_name(path.name + ".bak")


def save_session(session: Session, path: str | os.PathLike) -> Path:
    """Write the session file atomically (UTF-8 JSON). The file it replaces, when it was a
    readable session, is kept as :func:`backup_path` first: a session file damaged later
    (a full disk, a bad copy, an editor) still has its last good copy beside it."""
    path = Path(path)
    text = json.dumps(session_to_dict(session), indent=1, ensure_ascii=False, allow_nan=False)
    try:
        if path.is_file():
            try:
                _read_session(path)
            except DecorasError:
                pass  # not a good copy: keep the older backup
            else:
                with atomic_path(backup_path(path)) as tmp:
                    shutil.copyfile(path, tmp)
        atomic_write_text(path, text + "\n")
    except OSError as exc:
        raise DecorasError(f"cannot write the session: {exc.strerror or exc}", path) from exc
    return path


def _read_session(path: Path) -> Session:
    if not path.is_file():
        raise DecorasError("no such session file", path)
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise DecorasError(f"not a decoras-gui session file ({exc})", path) from None
    return session_from_dict(d, path)


def load_session(path: str | os.PathLike) -> Session:
    """Read a session file; a damaged one is reported naming the last good copy, if any."""
    path = Path(path)
    try:
        return _read_session(path)
    except DecorasError as exc:
        bak = backup_path(path)
        if bak.is_file():
            raise DecorasError(f"{exc.problem}; the last good copy is kept as {bak.name}", path) from None
        raise


def check_image(session: Session, path: str | os.PathLike | None = None) -> str:
    """'ok', 'missing' (no file there: ask for its new location) or 'changed' (checksum differs)."""
    p = Path(path or session.image_path or "")
    if not session.image_path and path is None:
        return "missing"
    if not p.is_file():
        return "missing"
    if session.image_sha256 and file_sha256(p) != session.image_sha256:
        return "changed"
    return "ok"


# ----------------------------------------------------------------- journal

def compact_every_from_env() -> int:
    """Changes between compactions: ``$DECORAS_JOURNAL_COMPACT_EVERY`` (crash tests use a small
    number, to kill the program mid-compaction too) or :data:`COMPACT_EVERY`."""
    try:
        return max(1, int(os.environ.get(COMPACT_ENV, COMPACT_EVERY)))
    except ValueError:
        return COMPACT_EVERY


def catalogue_digest(cat: Catalogue) -> str:
    """A short fingerprint of every field of every source, in order (crash tests compare
    a restored catalogue with the one the program had)."""
    rows = [tuple(getattr(src, name) for name in COLUMN_BY_NAME) for src in cat]
    return hashlib.sha256(repr(rows).encode("utf-8")).hexdigest()[:16]


def journal_dir() -> Path:
    env = os.environ.get(JOURNAL_ENV)
    if env:
        return Path(env)
    from ..paths import user_data_dir

    return user_data_dir() / "journal"


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie (killed, not yet reaped by its parent) is dead for us
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


class Journal:
    """The append-only autosave journal of one running window (see the module doc)."""

    def __init__(self, folder: str | os.PathLike | None = None, compact_every: int | None = None):
        self.folder = Path(folder) if folder else journal_dir()
        self.compact_every = compact_every or compact_every_from_env()
        stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%S")
        self.path = self.folder / f"session-{stamp}-{os.getpid()}-{uuid.uuid4().hex[:8]}{JOURNAL_SUFFIX}"
        self._fh = None
        self.seq = 0
        self._since_base = 0

    @property
    def active(self) -> bool:
        return self._fh is not None

    def start(self, session: Session) -> None:
        """(Re)write the journal as one base snapshot of ``session``, atomically."""
        self.folder.mkdir(parents=True, exist_ok=True)
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        record = {"type": "base", "seq": self.seq, "pid": os.getpid(), "time": _now(),
                  "session": session_to_dict(session)}
        line = json.dumps(record, ensure_ascii=False, allow_nan=False) + "\n"
        with atomic_path(self.path) as tmp:
            tmp.write_text(line, encoding="utf-8")
        self._fh = open(self.path, "a", encoding="utf-8")
        self._since_base = 0

    def record(self, edit: CatalogueEdit) -> None:
        """Append one applied edit, flushed and fsynced before returning."""
        if self._fh is None:
            return
        self.seq += 1
        rec: dict[str, Any] = {"type": "change", "seq": self.seq, "time": _now(), **edit.to_json()}
        self._fh.write(json.dumps(rec, ensure_ascii=False, allow_nan=False) + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._since_base += 1

    def needs_compaction(self) -> bool:
        return self._since_base >= self.compact_every

    def close(self, delete: bool = True) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        if delete:
            try:
                self.path.unlink()
            except FileNotFoundError:
                pass


def replay_journal(path: str | os.PathLike) -> tuple[Session, int]:
    """The session a journal describes: its last base snapshot plus every complete change
    after it. Returns ``(session, number of changes replayed)``."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        raise DecorasError(f"cannot read the journal: {exc.strerror or exc}", path) from exc
    session: Session | None = None
    changes = 0
    for line in lines:
        line = line.strip()
        if not line:
            continue
        try:
            rec = json.loads(line)
        except ValueError:
            continue  # a torn last line
        if rec.get("type") == "base":
            session = session_from_dict(rec["session"], path)
            changes = 0
        elif rec.get("type") == "change" and session is not None:
            CatalogueEdit.from_json(rec).apply(session.catalogue)
            changes += 1
    if session is None:
        raise DecorasError("the journal holds no session snapshot", path)
    return session, changes


def journal_pid(path: str | os.PathLike) -> int:
    try:
        with open(path, encoding="utf-8") as fh:
            first = fh.readline()
        return int(json.loads(first).get("pid", -1))
    except (OSError, ValueError, AttributeError):
        return -1


def orphan_journals(folder: str | os.PathLike | None = None) -> list[Path]:
    """Journals left by a session that did not end cleanly (their process is gone), newest first."""
    folder = Path(folder) if folder else journal_dir()
    if not folder.is_dir():
        return []
    out = []
    for p in folder.glob(f"*{JOURNAL_SUFFIX}"):
        if p.name.startswith("."):
            continue
        if not _pid_alive(journal_pid(p)):
            out.append(p)
    return sorted(out, key=lambda p: p.stat().st_mtime, reverse=True)
