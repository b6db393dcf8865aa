"""Cross-matching in the real window: the dialog on a real NVSS-layout VOTable, the match off the UI
thread, the table's match columns, the second overlay layer and its toggle, unmatched reference
sources added as candidates, undo."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits
from astropy.wcs import WCS

from decoras_gui.core.catalogue import Catalogue, Source
from tests.conftest import sky_header
from tests.core.test_crossmatch import nvss_vizier_votable

from .conftest import open_and_wait


@pytest.fixture
def matched_field(tmp_path):
    """A 256 x 256 image of 1" pixels (6" beam), 20 point sources, a table of 20 detections of
    which a reference catalogue has 15 (0.5" off), plus 4 reference sources nobody detected."""
    rng = np.random.default_rng(3)
    header = sky_header(256, 256, scale_deg=1 / 3600)
    header["BMAJ"] = header["BMIN"] = 6 / 3600
    header["BPA"] = 0.0
    wcs = WCS(header)
    yy, xx = np.mgrid[:256, :256]
    data = rng.normal(0, 1e-4, (256, 256))
    x, y = rng.uniform(20, 236, 24), rng.uniform(20, 236, 24)
    sigma = 6 / 2.3548
    for a, b in zip(x, y):
        data += 5e-3 * np.exp(-((xx - a) ** 2 + (yy - b) ** 2) / (2 * sigma**2))
    image = tmp_path / "field.fits"
    fits.PrimaryHDU(data.astype(np.float32), header).writeto(image)
    sky = wcs.pixel_to_world(x, y)
    cat = Catalogue([Source(x=float(a), y=float(b), ra=float(c.ra.deg), dec=float(c.dec.deg), maj=6.0, min=6.0,
                            pa=0.0, maj_img=6.0, min_img=6.0, theta_img=0.0, peak_flux=5e-3, total_flux=5e-3)
                     for a, b, c in zip(x[:20], y[:20], sky[:20])])
    ra = np.concatenate([sky.ra.deg[:15], sky.ra.deg[20:]]) + 0.5 / 3600 / np.cos(np.radians(40))
    dec = np.concatenate([sky.dec.deg[:15], sky.dec.deg[20:]])
    nvss_vizier_votable(tmp_path / "nvss.vot", ra, dec, np.full(19, 5.5))
    return image, cat, tmp_path / "nvss.vot"


def test_crossmatch_dialog_layer_and_candidates(qtbot, window, matched_field):
    image, cat, vot = matched_field
    open_and_wait(qtbot, window, image)
    window.doc.set_catalogue(cat.copy())
    cm = window.crossmatch
    assert not cm.act_layer.isEnabled() and not window.table.column_shown("match")
    d = cm.crossmatch_dialog()
    d.set_path(str(vot))
    assert d.layout_label.text() == "NVSS"
    assert d.combos["ra"].currentData() == "RAJ2000" and d.combos["flux"].currentData() == "S1.4"
    assert "45 arcsec" in d.radius_label.text()  # 1 beam of NVSS, coarser than the image's 6"
    d.radius.setValue(0.05)  # 2.25": the 0.5" offsets match, neighbours do not
    with qtbot.waitSignal(cm.matched, timeout=60000):
        d.accept()
    rows = list(window.doc.catalogue)
    assert sum(s.xmatch == "matched" for s in rows) == 15 and sum(s.xmatch == "unmatched" for s in rows) == 5
    seps = [s.match_sep for s in rows if s.xmatch == "matched"]
    assert seps == pytest.approx([0.5] * 15, abs=0.1), seps  # the VOTable's sexagesimal text rounds to 0.01 s
    assert all(s.match_flux_ratio == pytest.approx(5.0 / 5.5, rel=1e-6) for s in rows if s.xmatch == "matched")
    assert window.table.column_shown("match") and window.table.column_shown("match_ratio")
    # the table shows the reference name, and a dash for the unmatched
    model = window.table.model
    from decoras_gui.gui.source_table import COLUMN_INDEX

    texts = {model.index(r, COLUMN_INDEX["match"]).data() for r in range(model.rowCount())}
    assert "—" in texts and {s.match_name for s in rows if s.xmatch == "matched"} <= texts
    # the second layer: 15 solid, 4 dashed, with its own toggle
    layer = cm.layer
    assert layer.counts == {"matched": 15, "unmatched": 4}
    assert all(item.isVisible() for item in layer.items.values())
    cm.act_layer.trigger()
    assert not any(item.isVisible() for item in layer.items.values())
    cm.act_layer.trigger()
    assert all(item.isVisible() for item in layer.items.values())
    # unmatched reference sources become candidates, measured on the image; one undo step each
    assert cm.act_add_unmatched.isEnabled()
    assert cm.add_unmatched() == 4
    added = [s for s in window.doc.catalogue if s.origin == "manual"]
    assert len(added) == 4 and all(s.note.startswith("from NVSS") and s.peak_flux > 3e-3 for s in added)
    window.vetting.act_undo.trigger()
    assert len(window.doc) == 20
    window.vetting.act_undo.trigger()  # the cross-match itself
    assert all(s.xmatch == "" for s in window.doc.catalogue)


def test_unknown_columns_and_bad_file_are_said(qtbot, window, matched_field, tmp_path):
    image, cat, _ = matched_field
    open_and_wait(qtbot, window, image)
    window.doc.set_catalogue(cat.copy())
    bad = tmp_path / "broken.vot"
    bad.write_text("<VOTABLE>not really")
    d = window.crossmatch.crossmatch_dialog()
    d.set_path(str(bad))
    assert "broken.vot" in d.message.text() and not d.buttons.button(d.buttons.StandardButton.Ok).isEnabled()
    from astropy.table import Table

    Table({"a": [150.0], "b": [40.0]}).write(tmp_path / "plain.csv")
    d.set_path(str(tmp_path / "plain.csv"))
    assert "choose the columns" in d.layout_label.text()
    d.combos["ra"].setCurrentIndex(d.combos["ra"].findData("a"))
    d.combos["dec"].setCurrentIndex(d.combos["dec"].findData("b"))
    assert d.columns() == {"ra": "a", "dec": "b"}


def test_header_sort_is_the_models_and_keeps_the_selection(qtbot, window, matched_field):
    """Clicking a column sorts the rows (by the model, with numeric keys), and the selected
    source stays selected in its new place."""
    from PySide6.QtCore import Qt

    from decoras_gui.gui.source_table import COLUMN_INDEX, ID_ROLE

    image, cat, _ = matched_field
    open_and_wait(qtbot, window, image)
    window.doc.set_catalogue(Catalogue([s.replace(snr=float(100 - 3 * s.source_id)) for s in cat]))
    window.doc.set_selection([7])
    view, proxy = window.table.view, window.table.proxy
    view.sortByColumn(COLUMN_INDEX["snr"], Qt.SortOrder.AscendingOrder)
    ids = [int(proxy.index(r, 0).data(ID_ROLE)) for r in range(proxy.rowCount())]
    assert ids == sorted(ids, reverse=True)  # snr falls with the id
    view.sortByColumn(COLUMN_INDEX["snr"], Qt.SortOrder.DescendingOrder)
    assert [int(proxy.index(r, 0).data(ID_ROLE)) for r in range(proxy.rowCount())] == sorted(ids)
    assert window.table.selected_ids() == [7] and window.doc.selected_ids == [7]
    window.status_actions["candidate"].trigger()  # hidden and shown again: the order stays
    window.status_actions["candidate"].trigger()
    assert [int(proxy.index(r, 0).data(ID_ROLE)) for r in range(proxy.rowCount())] == sorted(ids)
