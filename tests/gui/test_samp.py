"""SAMP in the real window, with a real hub and a real second client (TOPCAT's part): File > SAMP
sends the image and the catalogue, selections go both ways, a table sent to us is cross-matched."""

from __future__ import annotations

import numpy as np

from decoras_gui.core.samp import file_url, url_path
from tests.core.test_crossmatch import nvss_vizier_votable
from tests.core.test_samp import Topcat, hub  # noqa: F401 - the hub fixture
from tests.gui.test_crossmatch import matched_field  # noqa: F401 - the fixture

from .conftest import open_and_wait


def test_samp_menu_sends_and_receives(qtbot, window, hub, matched_field, tmp_path):  # noqa: F811
    image, cat, _ = matched_field
    open_and_wait(qtbot, window, image)
    window.doc.set_catalogue(cat.copy())
    samp = window.samp
    assert not samp.act_image.isEnabled()
    topcat = Topcat()
    try:
        samp.act_connect.trigger()
        assert samp.link.connected and samp.act_image.isEnabled() and samp.act_catalogue.isEnabled()
        samp.act_image.trigger()
        assert url_path(topcat.wait("image.load.fits")["url"]).samefile(image)
        samp.act_catalogue.trigger()
        params = topcat.wait("table.load.votable")
        assert params["table-id"] == samp.link.table_id
        # a selection here goes out as rows of the table sent...
        window.doc.set_selection([3, 5])
        assert topcat.wait("table.select.rowList")["row-list"] == ["2", "4"]
        # ...and a selection there comes back as sources selected here
        topcat.client.notify_all({"samp.mtype": "table.select.rowList",
                                  "samp.params": {"table-id": params["table-id"], "url": params["url"],
                                                  "row-list": ["0", "9"]}})
        qtbot.waitUntil(lambda: window.doc.selected_ids == [1, 10], timeout=30000)
        assert "table.select.rowList" not in topcat.got  # not echoed back
        # a table TOPCAT sends is cross-matched with the catalogue (a VOTable without its extension)
        x, y = np.array([s.ra for s in cat]), np.array([s.dec for s in cat])
        ref = tmp_path / "topcat-table-1"
        nvss_vizier_votable(ref, x[:10], y[:10], np.full(10, 5.0))
        with qtbot.waitSignal(window.crossmatch.matched, timeout=60000):
            topcat.client.notify_all({"samp.mtype": "table.load.votable",
                                      "samp.params": {"url": file_url(ref), "name": "NVSS cone"}})
        result = window.crossmatch.result
        assert result.reference.layout == "NVSS" and int(result.matched_ref.sum()) == 10  # every NVSS source found
        assert all(s.match_sep < 1.0 for s in window.doc.catalogue if s.source_id <= 10)
        samp.act_connect.trigger()
        assert not samp.link.connected and not samp.act_image.isEnabled()
    finally:
        samp.close()
        topcat.client.disconnect()
