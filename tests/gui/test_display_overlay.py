"""display.py (no Qt), the overlay at 5,000 sources, the merge rule, the entry point."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

from decoras_gui.core.catalogue import ACCEPTED, REJECTED, Catalogue, Source
from decoras_gui.core.vetting import merge_detections
from decoras_gui.gui import display as disp


@pytest.mark.parametrize("stretch", list(disp.STRETCHES))
@pytest.mark.parametrize("limits", ["noise", "minmax", "99.5", "99", "zscale"])
def test_render_in_unit_range_and_keeps_blanks(stretch, limits):
    rng = np.random.default_rng(0)
    data = rng.normal(0, 1e-3, (64, 80)).astype(">f4")  # big-endian, as FITS stores it
    data[10, 10] = np.nan
    data[20, 20] = 0.5
    out, (lo, hi) = disp.render(data, disp.DisplaySettings(stretch=stretch, limits=limits))
    assert out.shape == data.shape and out.dtype == np.float32
    assert np.isnan(out[10, 10]) and np.isfinite(out).sum() == data.size - 1
    assert np.nanmin(out) >= 0.0 and np.nanmax(out) <= 1.0
    assert hi > lo
    if limits in ("minmax", "noise"):
        assert hi == pytest.approx(0.5)
    if limits == "noise":  # two robust sigmas below the median
        assert lo == pytest.approx(-2e-3, rel=0.1)


def test_manual_limits_and_settings_round_trip():
    s = disp.DisplaySettings(limits="manual", vmin=-1.0, vmax=2.0, colormap="gray")
    assert disp.compute_limits(np.zeros((4, 4)), s) == (-1.0, 2.0)
    assert disp.DisplaySettings.from_dict(s.as_dict()) == s
    assert disp.DisplaySettings.from_dict({"stretch": "bogus"}) == disp.DisplaySettings()


def test_scale_bar_is_round():
    px, label = disp.scale_bar_length(2.7777778e-7, 60)  # 1 mas pixels, at most 60 pixels
    assert px == pytest.approx(50.0) and label == "50 mas"
    px, label = disp.scale_bar_length(1 / 3600, 300)  # 1" pixels
    assert label in ("5′", "2′") and px <= 300
    assert disp.nice_length(7.3) == 5.0 and disp.nice_length(0.23) == pytest.approx(0.2)


def test_sexagesimal():
    ra, dec = disp.format_sexagesimal(np.array([85.25, math.nan]), np.array([-3.0, 1.0]))
    assert ra[0].startswith("05:41:00.0") and dec[0].startswith("-03:00:00") and ra[1] == ""


def _sources(n, rng):
    return [Source(source_id=i + 1, x=float(rng.uniform(0, 8192)), y=float(rng.uniform(0, 8192)),
                   maj_img=6.0, min_img=3.0, theta_img=30.0, det_prob=float(rng.uniform()),
                   status=("candidate", "accepted", "rejected")[i % 3]) for i in range(n)]


def test_overlay_5000_sources_selection_redraws_only_the_highlight(qtbot, window, monkeypatch):
    """With 5,000 sources a selection change builds one ellipse (the highlight) and touches no
    table row; a status change rebuilds two status paths and one row; filling builds each
    ellipse once and resets the table once. Work done, counted: how long it takes on this
    machine is benchmarks/gui_open_pan.py's figure."""
    from decoras_gui.gui import overlays

    built = []  # ellipses in each path the overlay builds
    real_path = overlays.ellipse_path
    monkeypatch.setattr(overlays, "ellipse_path", lambda x, *a, **kw: built.append(len(x)) or real_path(x, *a, **kw))
    model, view = window.table.model, window.table.view
    table = {"reset": 0, "rows changed": [], "selected rows": []}
    model.modelReset.connect(lambda: table.__setitem__("reset", table["reset"] + 1))
    model.dataChanged.connect(lambda a, b, *_: table["rows changed"].extend(range(a.row(), b.row() + 1)))
    view.selectionModel().selectionChanged.connect(
        lambda sel, _desel: table["selected rows"].append(sorted({i.row() for i in sel.indexes()})))

    rng = np.random.default_rng(3)
    cat = Catalogue(_sources(5000, rng))
    window.doc.set_catalogue(cat)
    assert window.overlay.ellipse_count() == 5000 == window.table.row_count()
    assert sum(built) == 5000 and table["reset"] == 1  # each ellipse built once, the table filled in one go
    assert {i.pen().width() for i in window.overlay.items.values()} == {1}  # thin: fast with thousands
    window.doc.set_catalogue(Catalogue(_sources(50, rng)))
    assert {i.pen().width() for i in window.overlay.items.values()} == {2}  # few: easy to see
    window.doc.set_catalogue(cat)
    for sid in (17, 2500, 4999, 123):
        built.clear()
        table.update({"reset": 0, "rows changed": [], "selected rows": []})
        window.doc.set_selection([sid])
        assert window.overlay.highlighted_ids == [sid] and window.table.selected_ids() == [sid]
        assert built == [1], f"a selection change built {built} ellipses"
        assert table["reset"] == 0 and table["rows changed"] == []
        assert table["selected rows"] == [[window.table.proxy.mapFromSource(model.index(model.row_of(sid), 0)).row()]]
    # a status change redraws the two statuses it touches (accepted -> rejected) and one row
    built.clear()
    table.update({"reset": 0, "rows changed": []})
    window.vetting.set_status(REJECTED, [2])
    shown = [s for s in cat if window.doc.is_shown(s)]
    sizes = {st: sum(s.status == st for s in shown) for st in ("accepted", "rejected")}
    assert sorted(built) == sorted([1, sizes["accepted"], sizes["rejected"]]), built  # 1: the highlight
    assert table["reset"] == 0 and table["rows changed"] == [model.row_of(2)]
    assert window.overlay.ellipse_count() == 5000
    s = cat.get(4999)
    assert window.overlay.source_at(s.x, s.y) in {4999} | {t.source_id for t in cat
                                                       if (t.x - s.x) ** 2 + (t.y - s.y) ** 2 < 9}


def test_merge_detections_rule():
    old = Catalogue([
        Source(source_id=1, x=10, y=10, maj_img=4, status=ACCEPTED),
        Source(source_id=2, x=50, y=50, maj_img=4, status=REJECTED),
        Source(source_id=3, x=90, y=90, maj_img=4),  # unvetted: replaced
        Source(source_id=7, x=200, y=5, origin="manual", status=ACCEPTED),
    ])
    new = Catalogue([Source(source_id=1, x=10.5, y=10, maj_img=4),  # on the accepted one: dropped
                     Source(source_id=2, x=51, y=50.5, maj_img=4),  # on the rejected one: dropped
                     Source(source_id=3, x=90.2, y=90, maj_img=4),
                     Source(source_id=4, x=150, y=150, maj_img=4)], meta={"model": "m"})
    merged = merge_detections(old, new)
    assert merged.ids == [1, 2, 7, 8, 9]
    assert merged.get(1).status == ACCEPTED and merged.get(2).status == REJECTED
    assert merged.get(8).x == pytest.approx(90.2) and merged.meta["model"] == "m"


def test_entry_point_version():
    out = subprocess.run([sys.executable, "-c", "from decoras_gui.gui.app import main; main(['--version'])"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.startswith("decoras-gui ")
