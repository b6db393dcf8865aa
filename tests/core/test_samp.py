"""SAMP (core/samp) with a real hub started in the test, a second real client standing for TOPCAT,
and the real SAOImage DS9 as a client: images and catalogues out, tables and row selections back."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from astropy.io.votable import parse_single_table
from astropy.table import Table

from decoras_gui.core.catalogue import Catalogue, Source
from decoras_gui.core.errors import DecorasError
from decoras_gui.core.samp import Received, SampLink, _samp, file_url, url_path
from decoras_gui.paths import resources_dir

SAMPLE = resources_dir() / "sample_vlba_dirty.fits"


@pytest.fixture
def hub(tmp_path, monkeypatch):
    """A real SAMP hub of the standard profile, its lock file in the test's folder, SAMP_HUB
    pointing there (as the standard profile tells clients to look)."""
    samp = _samp()
    lock = tmp_path / "samp.lock"
    server = samp.SAMPHubServer(lockfile=str(lock), web_profile=False)
    server.start()
    monkeypatch.setenv("SAMP_HUB", f"std-lockurl:{file_url(lock)}")
    yield server
    server.stop()


class Topcat:
    """A SAMP client that takes images and tables as TOPCAT does, and remembers them."""

    def __init__(self):
        samp = _samp()
        self.client = samp.SAMPIntegratedClient(name="topcat-like")
        self.client.connect()
        self.got: dict[str, dict] = {}
        self.event = threading.Event()
        for mtype in ("image.load.fits", "table.load.votable", "table.select.rowList"):
            self.client.bind_receive_notification(mtype, self._note)

    def _note(self, private_key, sender_id, mtype, params, extra):
        self.got[mtype] = params
        self.event.set()

    def wait(self, mtype: str, timeout: float = 30.0) -> dict:
        t0 = time.monotonic()
        while mtype not in self.got:  # a hang detector: the hub delivers in milliseconds
            assert time.monotonic() - t0 < timeout, f"{mtype} never arrived"
            self.event.wait(0.1)
            self.event.clear()
        return self.got.pop(mtype)


def _cat() -> Catalogue:
    return Catalogue([Source(x=float(i), y=float(2 * i), ra=150.0 + i * 1e-4, dec=40.0, peak_flux=0.01 * (i + 1))
                      for i in range(5)], meta={"image": SAMPLE.name})


def test_image_and_catalogue_to_a_client_and_rows_back(hub, tmp_path):
    topcat = Topcat()
    got_rows, got_tables = [], []
    done = threading.Event()
    link = SampLink(received=Received(rows=lambda ids: (got_rows.append(ids), done.set()),
                                      table=lambda path, name: (got_tables.append((path, name)), done.set())))
    link.connect()
    try:
        assert "topcat-like" in link.clients().values()
        assert link.send_image(SAMPLE) == ["topcat-like"]
        params = topcat.wait("image.load.fits")
        assert url_path(params["url"]).samefile(SAMPLE)
        cat = _cat()
        assert link.send_catalogue(cat, statuses=None) == ["topcat-like"]
        params = topcat.wait("table.load.votable")
        table = parse_single_table(str(url_path(params["url"]))).to_table()
        assert len(table) == 5 and np.allclose(table["peak_flux"], [s.peak_flux for s in cat])
        link.send_selection([2, 4])
        assert topcat.wait("table.select.rowList")["row-list"] == ["1", "3"]
        # TOPCAT selects rows of our table: the sources come back by id
        topcat.client.notify_all({"samp.mtype": "table.select.rowList",
                                  "samp.params": {"table-id": params["table-id"], "url": params["url"],
                                                  "row-list": ["0", "4"]}})
        assert done.wait(30)
        assert got_rows == [[1, 5]]
        # and sends a table of its own: a reference catalogue to cross-match
        done.clear()
        ref = tmp_path / "nvss_from_topcat.vot"
        Table({"RAJ2000": [150.0], "DEJ2000": [40.0], "S1.4": [12.0]}).write(ref, format="votable")
        topcat.client.notify_all({"samp.mtype": "table.load.votable",
                                  "samp.params": {"url": file_url(ref), "name": "NVSS cone"}})
        assert done.wait(30)
        assert got_tables[0][0].samefile(ref) and got_tables[0][1] == "NVSS cone"
    finally:
        link.disconnect()
        topcat.client.disconnect()
    assert not link.connected


def test_without_a_hub_the_error_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("SAMP_HUB", f"std-lockurl:{file_url(tmp_path / 'no-hub.lock')}")
    with pytest.raises(DecorasError, match="no SAMP hub"):
        SampLink().connect()
    with pytest.raises(DecorasError, match="not connected"):
        SampLink().send_image(SAMPLE)


def test_ds9_loads_the_image_sent(hub, tmp_path):
    """The real SAOImage DS9, connected to the test's hub (ds9 -samp connect), loads the image and
    the catalogue sent over SAMP; XPA says which file it shows."""
    from tests.test_ds9 import start_ds9

    env = {"SAMP_HUB": f"std-lockurl:{file_url(tmp_path / 'samp.lock')}"}
    with start_ds9(tmp_path, args=("-samp", "connect"), env_extra=env) as ds9:
        link = SampLink()
        link.connect()
        try:
            t0 = time.monotonic()
            while "SAOImageDS9" not in link.clients("image.load.fits").values():
                assert time.monotonic() - t0 < 60, f"DS9 never registered: {link.clients()}"
                time.sleep(0.25)
            assert link.send_image(SAMPLE, recipient="SAOImageDS9") == ["SAOImageDS9"]
            t0 = time.monotonic()
            while SAMPLE.name not in ds9.get("file"):
                assert time.monotonic() - t0 < 60, ds9.get("file")
                time.sleep(0.25)
            assert link.send_catalogue(_cat(), recipient="SAOImageDS9") == ["SAOImageDS9"]
        finally:
            link.disconnect()
