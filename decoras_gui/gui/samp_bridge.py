"""SAMP in the window: File > SAMP (connect, send the image, send the catalogue, share selections).

A thin view over :class:`~decoras_gui.core.samp.SampLink`. What other applications send
arrives on the SAMP client's thread and is queued to the UI thread through this object's
signals: a table (``table.load.votable``, e.g. an NVSS cone from TOPCAT) is cross-matched
with the catalogue (:class:`~.crossmatch.CrossMatchController`), a row selection on our
catalogue selects those sources. With "Share Selection" on, a selection in the window goes
to the other applications as ``table.select.rowList``.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from ..core.errors import DecorasError
from ..core.samp import Received, SampLink
from .actions import make_action
from .document import CatalogueDocument


class SampController(QObject):
    table_received = Signal(str, str)  # path, name
    rows_received = Signal(list)  # source ids

    def __init__(self, doc: CatalogueDocument, image: Callable, crossmatch, notify: Callable[[str, int], None],
                 error: Callable[[str, str], object], parent):
        super().__init__(parent)
        self.doc, self.image, self.crossmatch, self.notify, self.error = doc, image, crossmatch, notify, error
        self.link = SampLink(received=Received(table=lambda path, name: self.table_received.emit(str(path), name),
                                               rows=self.rows_received.emit))
        self.table_received.connect(self._table)
        self.rows_received.connect(self._rows)
        self._echo = False

        def act(*args, **kw):
            return make_action(parent, *args, **kw)

        self.act_connect = act("&Connect to SAMP Hub", self.set_connected, (), "Register with the SAMP hub that "
                               "TOPCAT, Aladin or DS9 runs", checkable=True, name="samp_connect")
        self.act_image = act("Send &Image", self.send_image, (), "Send the image to the SAMP applications "
                             "(image.load.fits)", name="samp_send_image")
        self.act_catalogue = act("Send &Catalogue", self.send_catalogue, (), "Send the catalogue as a VOTable "
                                 "(table.load.votable)", name="samp_send_catalogue")
        self.act_share = act("&Share Selection", None, (), "Send the sources selected here to the other "
                             "applications (table.select.rowList), and select what they select",
                             checkable=True, name="samp_share")
        self.act_share.setChecked(True)
        doc.selection_changed.connect(self._selection)
        self.update_actions()

    def update_actions(self, *_) -> None:
        on = self.link.connected
        self.act_connect.blockSignals(True)
        self.act_connect.setChecked(on)
        self.act_connect.blockSignals(False)
        self.act_image.setEnabled(on and self.image() is not None)
        self.act_catalogue.setEnabled(on and len(self.doc) > 0)

    def set_connected(self, on: bool, hub=None) -> bool:
        try:
            if on:
                self.link.connect(hub=hub)
                names = [n for n in self.link.clients().values() if n != self.link.name]
                self.notify(f"Connected to the SAMP hub ({', '.join(names) or 'no other application yet'}).", 8000)
            else:
                self.link.disconnect()
        except DecorasError as exc:
            self.error("SAMP", str(exc))
        self.update_actions()
        return self.link.connected

    def send_image(self, recipient: str | None = None) -> list[str]:
        image = self.image()
        if image is None:
            return []
        try:
            sent = self.link.send_image(image.path, recipient)
        except DecorasError as exc:
            self.error("SAMP", str(exc))
            return []
        self.notify(f"{image.name} sent to {', '.join(sent)}.", 6000)
        return sent

    def send_catalogue(self, recipient: str | None = None) -> list[str]:
        try:
            name = f"decoras {self.doc.catalogue.meta.get('image', '')}".strip()
            sent = self.link.send_catalogue(self.doc.catalogue, name=name, recipient=recipient)
        except DecorasError as exc:
            self.error("SAMP", str(exc))
            return []
        self.notify(f"{len(self.doc)} sources sent to {', '.join(sent)}.", 6000)
        return sent

    def _selection(self, ids: list) -> None:
        if self._echo or not (self.act_share.isChecked() and self.link.connected and self.link.sent_ids):
            return
        try:
            self.link.send_selection(ids)
        except DecorasError:
            pass  # nobody takes row selections: nothing to share

    def _rows(self, ids: list) -> None:
        if not self.act_share.isChecked():
            return
        self._echo = True  # not sent back to where it came from
        try:
            self.doc.set_selection(ids)
        finally:
            self._echo = False
        self.notify(f"{len(ids)} sources selected from SAMP.", 5000)

    def _table(self, path: str, name: str) -> None:
        if self.image() is None:
            self.notify(f"SAMP table {name}: open an image to cross-match it with.", 8000)
            return
        self.notify(f"SAMP table {name} received: cross-matching it with the catalogue…", 8000)
        self.crossmatch.run(path, format="votable")  # SAMP's table.load.votable: a VOTable, whatever its name

    def close(self) -> None:
        self.link.disconnect()


__all__ = ["SampController"]
