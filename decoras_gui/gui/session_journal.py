"""Sessions in the window: Save/Open Session, the autosave journal, restore after a crash.

:class:`SessionManager` listens to the CatalogueDocument: every change (every
:class:`~decoras_gui.core.edits.CatalogueEdit` it applies,
undo and redo included) is appended to the :class:`~decoras_gui.core.session.Journal` at once
(fsynced); a ``reset`` (new image, session opened) or a wholesale edit (detections merged)
writes a fresh base snapshot, and every ``COMPACT_EVERY`` changes the journal is compacted.

The manager is handed what it works with: the document, functions giving the open image,
the model and the view, one opening an image, and one for status messages. It follows the
window through two signals: ``image_closing(old)`` (unsaved vetting of the old image is set
aside in the journal) and ``image_opened(image)`` (a session waiting for its image gets its
catalogue and view).

At start-up :meth:`offer_restore` looks for journals whose process is gone (a crash, a
kill, or a close with unsaved work) and offers to restore the newest. Its answer can
be given without a dialog (``answer=`` or ``$DECORAS_GUI_RESTORE`` = restore / discard /
later) so tests and scripts can drive it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox

from ..core.catalogue import Catalogue
from ..core.edits import CatalogueEdit
from ..core.errors import DecorasError
from ..core.fileio import file_sha256
from ..core.formats import fits_image_filter
from ..core.image import SkyImage
from ..core.provenance import stamp
from ..core.session import (
    SESSION_SUFFIX,
    Journal,
    Session,
    check_image,
    load_session,
    orphan_journals,
    replay_journal,
    save_session,
)
from .document import CatalogueDocument
from .vetting import Notify

log = logging.getLogger(__name__)
RESTORE_ENV = "DECORAS_GUI_RESTORE"
SESSION_FILTER = f"decoras-gui sessions (*{SESSION_SUFFIX});;All files (*)"


class SessionManager(QObject):
    restored = Signal(str)  # the journal a session was restored from
    session_opened = Signal(str)
    session_saved = Signal(str)

    def __init__(self, doc: CatalogueDocument, *, image: Callable[[], SkyImage | None],
                 current_model: Callable[[], tuple[str, str]], view: Callable[[], dict],
                 apply_view: Callable[[dict], None], open_image: Callable[..., object], notify: Notify,
                 error: Callable[[str, str], object], last_folder: Callable[[], str], parent,
                 journal_folder: str | os.PathLike | None = None):
        super().__init__(parent)
        self.doc, self.image, self.current_model = doc, image, current_model
        self.view, self.apply_view = view, apply_view
        self.open_image, self.notify, self.error, self.last_folder = open_image, notify, error, last_folder
        self.parent_widget = parent
        self.journal = Journal(journal_folder)
        self.session_path: Path | None = None
        self._sha_cache: dict[tuple, str] = {}
        self.pending: Session | None = None  # a session waiting for its image to open
        self._pending_journal: Path | None = None
        self._restoring = False
        self.locate_dialog: QFileDialog | None = None
        self.warning_box: QMessageBox | None = None
        self.restore_box: QMessageBox | None = None
        doc.applied.connect(self._applied)
        doc.reset.connect(self._reset)

    # ---------------------------------------------------------------- state
    def image_sha256(self) -> str | None:
        image = self.image()
        return None if image is None else self.checksum(image.path)

    def checksum(self, path: Path) -> str | None:
        """sha256 of an image file, cached by (path, size, mtime). The loading thread calls it
        first, so a 1 GiB image is not hashed on the UI thread."""
        try:
            st = path.stat()
        except OSError:
            return None
        key = (str(path), st.st_size, st.st_mtime_ns)
        if key not in self._sha_cache:
            self._sha_cache[key] = file_sha256(path)
        return self._sha_cache[key]

    def current_session(self) -> Session:
        image = self.image()
        model, version = self.current_model()
        view = self.view()
        return Session(
            catalogue=self.doc.catalogue.copy(),
            image_path=str(image.path.resolve()) if image is not None else None,
            image_sha256=self.image_sha256(),
            hdu=image.hdu_index if image is not None else None,
            plane=list(image.plane) if image is not None and image.plane else None,
            model=model, model_version=version, view=view,
        )

    # -------------------------------------------------------------- journal
    def _reset(self) -> None:
        if self.image() is None:
            return
        try:
            self.journal.start(self.current_session())
        except (OSError, DecorasError) as exc:
            self.notify(f"Autosave is off: cannot write {self.journal.path}: {exc}", 15000)
            log.warning("autosave journal: %s", exc)
            return
        if self._pending_journal is not None:  # the restored state is safe in our journal now
            try:
                self._pending_journal.unlink()
            except OSError:
                pass
            self._pending_journal = None

    def _applied(self, edit: CatalogueEdit) -> None:
        if not self.journal.active or edit.whole:
            return self._reset()
        try:
            self.journal.record(edit)
            if self.journal.needs_compaction():
                self._reset()
        except OSError as exc:
            self.notify(f"Autosave failed: {exc}", 15000)

    def image_closing(self, old: SkyImage | None) -> None:
        """Another image replaces ``old``: its unsaved vetting stays in the journal."""
        if old is not None and not self.doc.undo_stack.isClean() and len(self.doc) > 0:
            self.set_aside(old.name)

    def image_opened(self, image: SkyImage) -> None:
        """The window shows ``image``: put a session waiting for it in place."""
        session, self.pending = self.pending, None
        if session is not None:
            self.apply_loaded(session)

    def set_aside(self, name: str) -> None:
        """Another image replaces unsaved vetting: keep its journal (offered at the next
        start, like after a crash) and start a new one for the new image."""
        self.journal.close(delete=False)
        self.journal = Journal(self.journal.folder, self.journal.compact_every)
        self.notify(f"The unsaved vetting of {name} is kept in the autosave: "
                                       "it is offered for restoring at the next start.", 15000)

    def close(self, keep: bool) -> None:
        """A clean exit: the journal is deleted unless ``keep`` (unsaved work: offered next start)."""
        self.journal.close(delete=not keep)

    # ---------------------------------------------------------- save / open
    def save(self, path) -> Path:
        path = Path(path)
        if path.suffix != SESSION_SUFFIX:
            path = path.with_name(path.name + SESSION_SUFFIX)
        save_session(self.current_session(), path)
        self.session_path = path
        self.doc.undo_stack.setClean()
        self.session_saved.emit(str(path))
        self.notify(f"Session saved to {path}.", 6000)
        return path

    def save_dialog(self, save_as: bool = True) -> None:
        if self.session_path is not None and not save_as:
            self.save(self.session_path)
            return
        image = self.image()
        start = str(self.session_path or (image.path.with_suffix(SESSION_SUFFIX) if image is not None
                                          else Path(self.last_folder()) / f"session{SESSION_SUFFIX}"))
        path, _ = QFileDialog.getSaveFileName(self.parent_widget, "Save session", start, SESSION_FILTER)
        if path:
            try:
                self.save(path)
            except DecorasError as exc:
                self.error("Cannot save the session", str(exc))

    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.parent_widget, "Open session", self.last_folder(), SESSION_FILTER)
        if path:
            self.open(path)

    def open(self, path) -> Session | None:
        """Open a session file: its image (asking where it went if it moved), then its catalogue."""
        try:
            session = load_session(path)
        except DecorasError as exc:
            self.error("Cannot open the session", str(exc))
            return None
        self.session_path = Path(path)
        self.apply(session)
        return session

    def apply(self, session: Session, journal: Path | None = None) -> None:
        """Load ``session`` into the window (async: the image opens first)."""
        self._pending_journal = journal
        state = check_image(session)
        if state == "missing":
            self._ask_location(session)
            return
        self._open_image(session, state)

    def _ask_location(self, session: Session) -> None:
        name = Path(session.image_path or "image.fits").name
        d = QFileDialog(self.parent_widget, f"Where is {name} now?", self.last_folder(),
                        f"{name};;{fits_image_filter(all_files=True)}")
        d.setFileMode(QFileDialog.FileMode.ExistingFile)
        d.setOption(QFileDialog.Option.DontUseNativeDialog, True)
        d.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        self.notify(f"The session's image {session.image_path} is not there any more: "
                                       "where is it now?", 15000)

        def chosen(path: str) -> None:
            self.locate_dialog = None
            session.image_path = str(Path(path).resolve())
            self._open_image(session, check_image(session))

        d.fileSelected.connect(chosen)
        d.rejected.connect(lambda: setattr(self, "locate_dialog", None))
        self.locate_dialog = d
        d.open()

    def _open_image(self, session: Session, state: str) -> None:
        if state == "changed":
            box = QMessageBox(QMessageBox.Icon.Warning, "The image has changed",
                              f"{session.image_path} is not the file this session was made on "
                              "(its SHA-256 checksum differs). The sources are shown on it as saved; "
                              "check their positions and fluxes.", QMessageBox.StandardButton.Ok, self.parent_widget)
            box.setWindowModality(Qt.WindowModality.WindowModal)
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
            self.warning_box = box
            box.finished.connect(lambda *_: setattr(self, "warning_box", None))
            box.open()
        self.pending = session
        plane = tuple(session.plane) if session.plane else None
        self.open_image(session.image_path, hdu=session.hdu, plane=plane, ask=False)

    def apply_loaded(self, session: Session) -> None:
        """The image is open: put the session's catalogue and view in place."""
        self.apply_view(dict(session.view or {}))
        catalogue = Catalogue(list(session.catalogue), meta=session.catalogue.meta)
        stamp(catalogue, self.image(), creator=None)  # an older session gains radesys from its image
        self.doc.set_catalogue(catalogue)
        if self._pending_journal is not None or self._restoring:
            # restored from the autosave, saved nowhere yet: unsaved until the user saves it
            self.doc.undo_stack.resetClean()
            self._restoring = False
        self.session_opened.emit(str(self.session_path or ""))

    # -------------------------------------------------------------- restore
    def orphans(self) -> list[Path]:
        return [p for p in orphan_journals(self.journal.folder) if p != self.journal.path]

    def offer_restore(self, answer: str | None = None) -> str:
        """After a crash: offer to restore the newest orphan journal. Returns the answer
        ('restore', 'discard', 'later' or 'none' when there is nothing to restore)."""
        found = self.orphans()
        if not found:
            return "none"
        session = None
        for path in found:  # the newest journal that holds sources; empty ones are dropped
            try:
                session, n = replay_journal(path)
            except DecorasError as exc:
                log.warning("cannot replay %s: %s", path, exc)
                session = None
                continue
            if len(session.catalogue):
                break
            try:
                path.unlink()
            except OSError:
                pass
            session = None
        if session is None:
            return "none"
        answer = answer or os.environ.get(RESTORE_ENV)
        if answer not in ("restore", "discard", "later"):
            vetted = sum(1 for s in session.catalogue if s.status != "candidate")
            box = QMessageBox(QMessageBox.Icon.Question, "Restore the last session?",
                              f"decoras-gui did not close normally. The autosave of the last session "
                              f"holds {len(session.catalogue)} sources ({vetted} vetted, {n} changes since "
                              f"the last snapshot) on {Path(session.image_path or '?').name}.\n\n"
                              "Restore it?", QMessageBox.StandardButton.NoButton, self.parent_widget)
            b_restore = box.addButton("Restore", QMessageBox.ButtonRole.AcceptRole)
            b_discard = box.addButton("Discard", QMessageBox.ButtonRole.DestructiveRole)
            box.addButton("Later", QMessageBox.ButtonRole.RejectRole)
            box.setDefaultButton(b_restore)
            self.restore_box = box
            box.exec()
            self.restore_box = None
            clicked = box.clickedButton()
            answer = "restore" if clicked is b_restore else "discard" if clicked is b_discard else "later"
        if answer == "restore":
            self._restoring = True
            self.session_path = None
            self.apply(session, journal=path)
            self.restored.emit(str(path))
        elif answer == "discard":
            try:
                path.unlink()
            except OSError:
                pass
        return answer


__all__ = ["SessionManager", "RESTORE_ENV"]
