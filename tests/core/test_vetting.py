"""Vetting logic without Qt: merging a new Detect run, rules, ellipse hits, status edits."""

from __future__ import annotations

import math

import numpy as np

from decoras_gui.core.catalogue import Catalogue, Source
from decoras_gui.core.vetting import ellipse_r2, merge_detections, note_edit, pixel_ellipses, sources_where, status_edit


def _src(i, x, y, **kw):
    return Source(source_id=i, x=x, y=y, maj_img=8.0, min_img=2.0, theta_img=0.0, **kw)


def test_merge_keeps_vetted_and_replaces_unvetted():
    current = Catalogue([_src(1, 10, 10, status="accepted"), _src(2, 50, 50), _src(3, 80, 80, status="rejected"),
                         _src(4, 30, 30, origin="manual", status="accepted")], meta={"image": "a.fits"})
    new = Catalogue([_src(-1, 13.5, 10.0), _src(-1, 10.0, 12.5), _src(-1, 50, 50), _src(-1, 81, 80)],
                    meta={"model": "m"})
    merged = merge_detections(current, new)
    # 13.5,10 is inside source 1's ellipse (semi-major 4 along x); 10,12.5 is outside it (semi-minor 1)
    assert [s.source_id for s in merged] == [1, 3, 4, 5, 6]
    assert [(s.x, s.y) for s in merged][3:] == [(10.0, 12.5), (50.0, 50.0)]
    assert merged.meta == {"image": "a.fits", "model": "m"}


def test_ellipse_r2_is_rotation_aware():
    x, y, maj, mn, th = pixel_ellipses([Source(source_id=1, x=0.0, y=0.0, maj_img=10.0, min_img=2.0,
                                               theta_img=90.0)])
    assert ellipse_r2(0.0, 4.9, x, y, maj, mn, th)[0] < 1 < ellipse_r2(4.9, 0.0, x, y, maj, mn, th)[0]
    # a point source without axes gets the default 3-pixel ellipse
    x, y, maj, mn, th = pixel_ellipses([Source(source_id=1, x=0.0, y=0.0)])
    assert maj[0] == mn[0] == 3.0 and th[0] == 0.0


def test_rules_and_status_edits():
    cat = Catalogue([_src(1, 0, 0, det_prob=0.9), _src(2, 0, 0, det_prob=0.3), _src(3, 0, 0, det_prob=math.nan),
                     _src(4, 0, 0, det_prob=0.95, status="rejected")])
    assert sources_where(cat, "det_prob", ">=", 0.5) == [1]
    assert sources_where(cat, "det_prob", ">=", 0.5, only_candidates=False) == [1, 4]
    assert sources_where(cat, "det_prob", "<", 0.5) == [2]
    edit = status_edit(cat, [1, 4], "rejected")
    assert edit.label == "Reject source 1" and edit.changed_ids(cat) == [1]
    assert not status_edit(cat, [4], "rejected")
    edit.apply(cat)
    assert cat.get(1).status == "rejected"
    note = note_edit(cat, [1, 2], "hi")
    assert note.label == "Note on 2 sources" and np.all([s.note == "hi" for _, s in note.upsert])
