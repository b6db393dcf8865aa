"""SAMP: the image and the catalogue to DS9, TOPCAT or Aladin, tables and row selections back.

A :class:`SampLink` is one SAMP client (``pyvo.samp``, the continuation of ``astropy.samp``;
``astropy.samp`` where pyvo is missing) registered with the running hub: the one a SAMP
application started (TOPCAT and Aladin start one), found through ``SAMP_HUB`` or
``~/.samp`` as the standard profile says.

* :meth:`SampLink.send_image` and :meth:`SampLink.send_catalogue` send ``image.load.fits``
  and ``table.load.votable`` (the catalogue written as a VOTable beside the session's
  temporary files, with a ``table-id`` the row selections refer to), to every subscribed
  client or to one.
* :meth:`SampLink.send_selection` sends ``table.select.rowList`` for the catalogue sent.
* What comes back -- ``table.load.votable`` (a table to cross-match), ``table.select.rowList``
  and ``table.highlight.row`` on our catalogue -- is handed to the callbacks given, on the SAMP
  client's thread (the window queues it to its own).
"""

from __future__ import annotations

import os
import tempfile
import urllib.parse
import urllib.request
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .catalogue import Catalogue
from .errors import DecorasError


def _samp():
    """The SAMP module: pyvo's, else astropy's (deprecated there since astropy 8)."""
    try:
        import pyvo.samp as samp
    except ImportError:  # pragma: no cover - pyvo is a dependency
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import astropy.samp as samp
    return samp


def file_url(path: str | os.PathLike) -> str:
    """``file://localhost/abs/path`` (SAMP's form of a local file)."""
    return "file://localhost" + urllib.request.pathname2url(str(Path(path).absolute()))


def url_path(url: str) -> Path:
    """The local path of a ``file:`` URL; a DecorasError for another scheme."""
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme != "file":
        raise DecorasError(f"only local files can be received, not {parsed.scheme or 'a bare'} URL {url}")
    return Path(urllib.request.url2pathname(parsed.path))


@dataclass
class Received:
    """Callbacks for what other applications send (called on the SAMP client's thread)."""

    table: Callable[[Path, str], None] | None = None  # (local VOTable path, name)
    rows: Callable[[list[int]], None] | None = None  # source ids of the rows of our catalogue selected


class SampLink:
    """One registration with a SAMP hub (module docstring)."""

    TABLE_ID = "decoras-catalogue"

    def __init__(self, name: str = "decoras-gui", received: Received | None = None):
        self.name = name
        self.received = received or Received()
        self.client = None
        self.sent_ids: list[int] = []  # source ids in the order of the rows of the table sent
        self._folder = Path(tempfile.mkdtemp(prefix="decoras-samp-"))
        self.table_id = self.TABLE_ID

    # ------------------------------------------------------------------ hub
    @property
    def connected(self) -> bool:
        return self.client is not None and self.client.is_connected

    def connect(self, hub=None) -> None:
        """Register with the running hub (``hub``: a hub object of this process, for tests)."""
        if self.connected:
            return
        samp = _samp()
        from .. import __version__

        client = samp.SAMPIntegratedClient(name=self.name, description="Find, measure and vet radio sources "
                                           "(DECORAS)", metadata={"decoras.version": __version__})
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                client.connect(hub=hub)
        except Exception as exc:  # SAMPHubError, OSError, ...: no hub running
            raise DecorasError(f"no SAMP hub to connect to ({str(exc).splitlines()[0][:160]}): start TOPCAT, "
                               "Aladin or DS9's SAMP hub first") from None
        self.client = client
        client.bind_receive_call("table.load.votable", self._on_table_call)
        client.bind_receive_notification("table.load.votable", self._on_table_note)
        for mtype in ("table.select.rowList", "table.highlight.row"):
            client.bind_receive_call(mtype, self._on_rows_call)
            client.bind_receive_notification(mtype, self._on_rows_note)

    def disconnect(self) -> None:
        if self.client is not None:
            try:
                if self.client.is_connected:
                    self.client.disconnect()
            except Exception:  # the hub went first: nothing to tell it
                pass
        self.client = None

    def clients(self, mtype: str | None = None) -> dict[str, str]:
        """Registered clients (id -> samp.name), those subscribed to ``mtype`` when given."""
        self._check()
        ids = self.client.get_subscribed_clients(mtype) if mtype else self.client.get_registered_clients()
        out = {}
        for cid in ids:
            try:
                out[cid] = str(self.client.get_metadata(cid).get("samp.name", cid))
            except Exception:  # it left meanwhile
                continue
        return out

    def _check(self) -> None:
        if not self.connected:
            raise DecorasError("not connected to a SAMP hub")

    def _send(self, mtype: str, params: dict, recipient: str | None) -> list[str]:
        self._check()
        targets = self.clients(mtype)
        if recipient is not None:
            targets = {k: v for k, v in targets.items() if k == recipient or v.lower() == recipient.lower()}
        if not targets:
            named = f" by the name {recipient}" if recipient else ""
            raise DecorasError(f"no SAMP application takes {mtype}{named}")
        message = {"samp.mtype": mtype, "samp.params": params}
        for cid in targets:
            self.client.notify(cid, message)
        return list(targets.values())

    # ------------------------------------------------------------------ sending
    def send_image(self, path: str | os.PathLike, recipient: str | None = None) -> list[str]:
        """``image.load.fits`` of a FITS file; the names of the applications it went to."""
        path = Path(path)
        return self._send("image.load.fits", {"url": file_url(path), "name": path.name, "image-id": path.name},
                          recipient)

    def send_catalogue(self, cat: Catalogue, name: str = "decoras catalogue", recipient: str | None = None,
                       statuses: Sequence[str] | None = None) -> list[str]:
        """``table.load.votable`` of the catalogue (one row per component, in catalogue order)."""
        shown = cat.filter(statuses)
        path = self._folder / "catalogue.vot"
        shown.write(path, format="votable")
        self.sent_ids = [s.source_id for s in shown]
        return self._send("table.load.votable", {"url": file_url(path), "name": name, "table-id": self.table_id},
                          recipient)

    def send_selection(self, source_ids: Sequence[int], recipient: str | None = None) -> list[str]:
        """``table.select.rowList`` of the sources among the catalogue sent (nothing sent: none)."""
        rows = {sid: i for i, sid in enumerate(self.sent_ids)}
        picked = [str(rows[int(s)]) for s in source_ids if int(s) in rows]
        if not self.sent_ids:
            return []
        return self._send("table.select.rowList", {"table-id": self.table_id, "url": file_url(
            self._folder / "catalogue.vot"), "row-list": picked}, recipient)

    # ------------------------------------------------------------------ receiving
    def _reply(self, msg_id: str) -> None:
        self.client.reply(msg_id, {"samp.status": "samp.ok", "samp.result": {}})

    def _on_table_call(self, private_key, sender_id, msg_id, mtype, params, extra) -> None:
        self._on_table_note(private_key, sender_id, mtype, params, extra)
        self._reply(msg_id)

    def _on_table_note(self, private_key, sender_id, mtype, params, extra) -> None:
        if self.received.table is None:
            return
        url = params.get("url", "")
        if params.get("table-id") == self.table_id:
            return  # our own catalogue, echoed
        self.received.table(url_path(url), str(params.get("name") or Path(url).name))

    def _on_rows_call(self, private_key, sender_id, msg_id, mtype, params, extra) -> None:
        self._on_rows_note(private_key, sender_id, mtype, params, extra)
        self._reply(msg_id)

    def _on_rows_note(self, private_key, sender_id, mtype, params, extra) -> None:
        if self.received.rows is None or params.get("table-id") != self.table_id:
            return
        if mtype == "table.highlight.row":
            rows = [int(params.get("row", -1))]
        else:
            rows = [int(r) for r in params.get("row-list", [])]
        ids = [self.sent_ids[r] for r in rows if 0 <= r < len(self.sent_ids)]
        self.received.rows(ids)


__all__ = ["SampLink", "Received", "file_url", "url_path"]
