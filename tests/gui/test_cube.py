"""Cubes in the real window: the plane slider and keys step through a real 4-D FITS cube read from
its memory map, the overlay and the table follow the plane, Detect on All Planes… and the spectra
with their plot."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.core.test_cube import SOURCES, write_cube

from .conftest import open_and_wait


@pytest.fixture
def cube_file(tmp_path):
    path = tmp_path / "cube.fits"
    freqs = write_cube(path, n_planes=6, size=128)
    return path, freqs


def _shown_planes(window):
    return {window.doc.catalogue.get(i).plane for i in window.overlay.shown_ids()}


def test_plane_slider_keys_detect_all_planes_and_spectra(qtbot, window, cube_file):
    path, freqs = cube_file
    open_and_wait(qtbot, window, path, ask=False)
    cube = window.cube
    assert cube.bar.isVisible() and cube.axis.length == 6 and cube.slider.maximum() == 5
    assert "plane 0 of 0–5" in cube.label.text()
    # Detect on All Planes…: the real model on every plane, then the spectra (FREQ axis)
    d = cube.detect_dialog()
    d.first.setValue(0)
    d.last.setValue(5)
    with qtbot.waitSignal(cube.spectra_measured, timeout=120000):
        d.accept()
    cat = window.doc.catalogue
    assert sorted({s.plane for s in cat}) == [0, 1, 2, 3, 4, 5]
    assert all(s.freq == pytest.approx(freqs[s.plane]) for s in cat)
    assert window.table.column_shown("plane") and window.table.column_shown("alpha")
    # only this plane's sources are drawn and listed
    assert _shown_planes(window) == {0}
    assert window.table.row_count() == sum(s.plane == 0 for s in cat)
    # PgDown steps a plane: the data come from plane 1 of the file, the catalogue stays
    n = len(cat)
    with qtbot.waitSignal(window.plane_changed, timeout=30000):
        cube.act_next.trigger()
    assert window.image.plane == (1,) and len(window.doc) == n and window.doc.undo_stack.count() == 1
    assert _shown_planes(window) == {1} and "plane 1 of 0–5" in cube.label.text()
    window.canvas.zoom(3.0)  # zoomed in: stepping keeps the view
    before = window.canvas.vb.viewRect()
    with qtbot.waitSignal(window.plane_changed, timeout=30000):
        cube.slider.setValue(4)
    assert window.canvas.vb.viewRect() == before
    assert window.image.plane == (4,) and cube.spin.value() == 4 and _shown_planes(window) == {4}
    from astropy.io import fits

    with fits.open(path) as hdul:
        assert np.array_equal(np.asarray(window.image.data), hdul[0].data[0, 4])  # plane 4 of the file
    cube.only_plane.setChecked(False)  # every plane's sources
    assert _shown_planes(window) == set(range(6))
    cube.only_plane.setChecked(True)
    # the spectrum of a selected source, with its power law
    steep = min((s for s in window.doc.catalogue if s.plane == 4), key=lambda s: math.hypot(s.x - 40, s.y - 50))
    window.doc.set_selection([steep.source_id])
    assert cube.plot.shown_id == steep.source_id and "α = -0.7" in cube.plot.title.text(), cube.plot.title.text()
    xs, ys = cube.plot.points.getData()
    assert len(xs) == 6 and np.all(np.diff(ys) < 0)  # a steep spectrum falls with frequency
    assert cube.plot.marker.value() == pytest.approx(freqs[4])
    assert steep.spectral_index == pytest.approx(SOURCES[0][3], abs=0.1)


def test_a_2d_image_has_no_cube_bar(qtbot, window, vlba_fits):
    open_and_wait(qtbot, window, vlba_fits)
    assert not window.cube.bar.isVisible() and not window.cube.act_detect.isEnabled()
    assert window.doc.plane is None
