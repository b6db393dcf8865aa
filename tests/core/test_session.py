"""Sessions and the autosave journal: plain text, exact round trips, torn lines, orphans."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest
from astropy.io import fits

from decoras_gui.core.catalogue import Catalogue, Source
from decoras_gui.core.edits import CatalogueEdit
from decoras_gui.core.errors import DecorasError
from decoras_gui.core.image import load_fits
from decoras_gui.core.measure import beam_area_pixels, measure_ellipse
from decoras_gui.core.session import (
    Journal,
    Session,
    backup_path,
    check_image,
    file_sha256,
    load_session,
    orphan_journals,
    replay_journal,
    save_session,
)
from tests.conftest import sky_header


def _catalogue(n=6) -> Catalogue:
    cat = Catalogue(meta={"image": "img.fits", "model": "tiny", "model_version": "0.1"})
    for i in range(n):
        cat.add(Source(source_id=i + 1, x=10.0 + i, y=20.0 + 0.5 * i, ra=150.0 + 1e-6 * i, dec=40.0,
                       maj=0.004, min=0.002, pa=30.0, peak_flux=1e-3 * (i + 1), det_prob=0.1 * i,
                       maj_img=4.0, min_img=2.0, theta_img=120.0 - 90.0, model="tiny"))
    return cat


def _assert_same(a: Catalogue, b: Catalogue) -> None:
    assert a.ids == b.ids
    for s, t in zip(a, b):
        assert s == t, (s, t)


@pytest.fixture
def image_file(tmp_path):
    path = tmp_path / "img.fits"
    h = sky_header(64, 64)
    h["BMAJ"], h["BMIN"], h["BPA"] = 4 * 2.7777778e-7, 2 * 2.7777778e-7, 0.0
    fits.PrimaryHDU(np.zeros((64, 64), np.float32), h).writeto(path)
    return path


def test_session_file_round_trip_is_plain_json(tmp_path, image_file):
    cat = _catalogue()
    cat.update(2, status="accepted", note="double — lobe ✓")
    cat.update(3, status="rejected", edited=True)
    s = Session(cat, str(image_file), file_sha256(image_file), 0, [0, 0], "tiny", "0.1",
                {"stretch": "asinh", "range": [0.0, 63.0, 0.0, 63.0]})
    path = save_session(s, tmp_path / "a.decoras")
    def no_constants(name):
        raise AssertionError(f"non-standard JSON constant {name}")

    d = json.loads(path.read_text(encoding="utf-8"), parse_constant=no_constants)  # strict JSON
    assert d["format"] == "decoras-session" and d["catalogue_ecsv"].startswith("# %ECSV")
    back = load_session(path)
    _assert_same(back.catalogue, cat)
    assert back.image_sha256 == s.image_sha256 and back.model == "tiny" and back.model_version == "0.1"
    assert back.view["range"] == [0.0, 63.0, 0.0, 63.0]
    assert check_image(back) == "ok"
    with open(image_file, "r+b") as fh:  # same size, one byte changed
        fh.seek(-1, 2)
        fh.write(b"\x01")
    assert check_image(back) == "changed"
    image_file.unlink()
    assert check_image(back) == "missing"


def test_corrupted_session_is_reported_and_its_last_good_copy_kept(tmp_path):
    path = tmp_path / "work.decoras"
    first, second = _catalogue(3), _catalogue(5)
    save_session(Session(first, "img.fits"), path)
    assert not backup_path(path).exists()  # nothing to keep yet
    save_session(Session(second, "img.fits"), path)
    _assert_same(load_session(backup_path(path)).catalogue, first)  # the replaced good copy
    path.write_bytes(path.read_bytes()[:200])  # damaged later (a full disk, a bad copy)
    with pytest.raises(DecorasError, match=r"work\.decoras.*last good copy is kept as work\.decoras\.bak"):
        load_session(path)
    save_session(Session(_catalogue(2), "img.fits"), path)  # saving over a damaged file keeps the good backup
    _assert_same(load_session(backup_path(path)).catalogue, first)


def test_bad_session_file_names_it(tmp_path):
    p = tmp_path / "x.decoras"
    p.write_text("{\"format\": \"other\"}")
    with pytest.raises(DecorasError, match="x.decoras"):
        load_session(p)


def test_journal_replays_every_change_and_ignores_torn_line(tmp_path):
    cat = _catalogue()
    j = Journal(tmp_path / "j")
    j.start(Session(cat.copy(), "img.fits"))
    edits = [CatalogueEdit.update(cat, [cat.get(1).replace(status="accepted")], "Accept 1"),
             CatalogueEdit.delete(cat, [4], "Delete 4"),
             CatalogueEdit("Add 9", upsert=((2, Source(source_id=9, x=1.0, y=2.0, origin="manual", note="mine")),))]
    for edit in edits:
        edit.apply(cat)
        j.record(edit)
    undo = edits[1].inverse(before=_catalogue())  # the delete's inverse: back at its row
    undo.apply(cat)
    j.record(undo)
    with open(j.path, "a", encoding="utf-8") as fh:
        fh.write('{"type": "change", "seq": 99, "upsert": [[0, {"source_')  # killed mid-write
    session, n = replay_journal(j.path)
    assert n == 4
    _assert_same(session.catalogue, cat)
    # compaction: a fresh atomic base, same content
    j.start(Session(cat.copy(), "img.fits"))
    assert len(j.path.read_text().splitlines()) == 1
    _assert_same(replay_journal(j.path)[0].catalogue, cat)
    j.close()
    assert not j.path.exists()


def test_orphan_journal_of_a_dead_process(tmp_path):
    folder = tmp_path / "j"
    code = ("import sys, os, signal; from decoras_gui.core.session import Journal, Session;"
            "from decoras_gui.core.catalogue import Catalogue, Source;"
            f"j = Journal({str(folder)!r}); c = Catalogue([Source(source_id=1, x=1.0, y=1.0)]);"
            "from decoras_gui.core.edits import CatalogueEdit;"
            "j.start(Session(c)); j.record(CatalogueEdit.update(c, [c.get(1).replace(status='rejected')], 'R'));"
            "os.kill(os.getpid(), signal.SIGKILL)")
    subprocess.run([sys.executable, "-c", code], check=False)
    live = Journal(folder)
    live.start(Session(Catalogue()))
    orphans = orphan_journals(folder)
    assert len(orphans) == 1 and orphans[0] != live.path
    session, n = replay_journal(orphans[0])
    assert n == 1 and session.catalogue.get(1).status == "rejected"
    live.close()


def test_measure_ellipse_gaussian(tmp_path):
    """A Gaussian the size of the beam: peak, total flux (sum / beam area), sizes, PA."""
    n, scale = 96, 2.7777778e-7
    h = sky_header(n, n, scale_deg=scale)
    bmaj_px, bmin_px = 6.0, 4.0
    h["BMAJ"], h["BMIN"], h["BPA"] = bmaj_px * scale, bmin_px * scale, 0.0
    yy, xx = np.mgrid[0:n, 0:n]
    sx, sy = bmin_px / 2.3548, bmaj_px / 2.3548  # PA 0: major axis along y (north)
    data = 0.01 * np.exp(-0.5 * (((xx - 40) / sx) ** 2 + ((yy - 50) / sy) ** 2))
    path = tmp_path / "g.fits"
    fits.PrimaryHDU(data.astype(np.float32), h).writeto(path)
    img = load_fits(path)
    m = measure_ellipse(img, 40, 50, 30.0, 30.0 * 4 / 6, 90.0)  # big aperture: all the flux
    assert m["peak_flux"] == pytest.approx(0.01, rel=1e-5)
    assert m["total_flux"] == pytest.approx(0.01, rel=0.02)  # point source: total = peak
    assert beam_area_pixels(img) == pytest.approx(math.pi / (4 * math.log(2)) * 24, rel=1e-6)
    assert m["pa"] == pytest.approx(0.0, abs=1e-3) or m["pa"] == pytest.approx(-90 + 90, abs=1e-3)
    assert m["maj"] == pytest.approx(30 * scale * 3600, rel=1e-6)
    assert m["r_eff"] == pytest.approx(0.5 * math.sqrt(m["maj"] * m["min"]))
    sky = img.wcs.pixel_to_world(40, 50)
    assert m["ra"] == pytest.approx(sky.spherical.lon.deg, abs=1e-9)
    # the minor axis longer than the major: swapped, angle turned by 90
    m2 = measure_ellipse(img, 40, 50, 20.0, 30.0, 0.0)
    assert m2["maj_img"] == 30.0 and m2["theta_img"] == pytest.approx(-90.0)


def test_cli_export_from_session(tmp_path, image_file, capsys):
    from decoras_gui.cli import main as decoras
    from decoras_gui.core.regions_io import read_regions

    cat = _catalogue()
    cat.update(1, status="accepted")
    cat.update(2, status="rejected")
    session = save_session(Session(cat, str(image_file), file_sha256(image_file), model="tiny",
                                   model_version="0.1"), tmp_path / "s.decoras")
    reg, ecsv, vot = tmp_path / "out.reg", tmp_path / "out.ecsv", tmp_path / "out.vot"
    assert decoras(["export", str(session), "--regions", str(reg), "--catalog", str(ecsv),
                    "--statuses", "accepted,candidate", "--frame", "icrs"]) == 0
    back = Catalogue.read(ecsv)
    assert [s.source_id for s in back] == [1, 3, 4, 5, 6]
    assert back.meta["model"] == "tiny" and back.meta["model_version"] == "0.1"
    assert len(read_regions(reg)) == 5 and "icrs" in reg.read_text().splitlines()
    crtf = tmp_path / "out.crtf"
    assert decoras(["export", str(session), "--regions", str(crtf), "--statuses", "accepted"]) == 0
    assert "global coord=J2000" in crtf.read_text()
    (one,) = read_regions(crtf)
    assert one.meta["tag"] == ["accepted"] and one.meta["text"] == "1"
    assert decoras(["export", str(session), "--catalog", str(vot)]) == 0
    from astropy.io.votable import validate

    assert validate(str(vot), output=None)
    assert len(Catalogue.read(vot)) == 6
    assert decoras(["export", str(session), "--catalog", str(ecsv), "--statuses", "maybe"]) == 2
    assert "maybe" in capsys.readouterr().err
    assert decoras(["export", str(session)]) == 2
