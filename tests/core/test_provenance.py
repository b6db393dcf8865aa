"""One provenance stamp: what it writes, what it keeps, and a hand-vetted FK5 session exported
after its image is gone."""

from __future__ import annotations

import math

import numpy as np
import pytest
from astropy.coordinates import FK5, SkyCoord
from astropy.io import fits
from astropy.time import Time

from decoras_gui import __version__
from decoras_gui.cli import main
from decoras_gui.core.catalogue import Catalogue, Source
from decoras_gui.core.image import load_fits
from decoras_gui.core.measure import measure_ellipse
from decoras_gui.core.provenance import sky_frame, stamp
from decoras_gui.core.regions_io import read_regions
from decoras_gui.core.session import Session, file_sha256, save_session
from decoras_gui.ml.characterize import catalogue_meta
from decoras_gui.paths import resources_dir
from tests.conftest import REPO, sky_header

MAS = 2.7777778e-7  # deg


def _image(path, radesys: str | None = "FK5", equinox: float | None = 2000.0, beam: bool = True, nfreq: int = 0):
    """A real FITS image with a point source; RADESYS/EQUINOX as given (None: keyword left out)."""
    h = sky_header(64, 64, naxis=3 if nfreq else 2)
    for key, value in (("RADESYS", radesys), ("EQUINOX", equinox)):
        h.remove(key, ignore_missing=True)
        if value is not None:
            h[key] = value
    if beam:
        h["BMAJ"], h["BMIN"], h["BPA"] = 4 * MAS, 2 * MAS, 10.0
    data = np.random.default_rng(3).normal(0.0, 1e-4, (64, 64)).astype(np.float32)
    data[30, 20] += 0.01
    if nfreq:
        data = np.stack([data] * nfreq)
    fits.PrimaryHDU(data, h).writeto(path)
    return path


def test_a_fresh_meta_from_an_fk5_image(tmp_path):
    img = load_fits(_image(tmp_path / "fk5.fits"))
    meta = stamp({}, img, model="vlba-l-band", model_version="1.0.0", creator="decoras-gui")
    assert meta == {"image": "fk5.fits", "image_path": str(img.path), "hdu": 0, "model": "vlba-l-band",
                    "model_version": "1.0.0", "bunit": "Jy / beam", "beam_maj": pytest.approx(4 * MAS * 3600),
                    "beam_min": pytest.approx(2 * MAS * 3600), "beam_pa": 10.0, "radesys": "FK5",
                    "creator": "decoras-gui", "creator_version": __version__}
    assert list(meta)[:5] == ["image", "image_path", "hdu", "model", "model_version"]


def test_frames_and_equinoxes(tmp_path):
    cases = [("FK5", 2000.0, "FK5", None), ("FK4", 1950.0, "FK4", None), ("FK5", 1975.0, "FK5", 1975.0),
             (None, None, "ICRS", None), ("ICRS", None, "ICRS", None), (None, 2000.0, "FK5", None)]
    for i, (radesys, equinox, want, want_equinox) in enumerate(cases):
        meta = stamp({}, load_fits(_image(tmp_path / f"{i}.fits", radesys, equinox)))
        assert meta["radesys"] == want and meta.get("equinox") == want_equinox, (radesys, equinox, meta)
    assert sky_frame({"radesys": "FK4"}) == "fk4" and sky_frame({}) == "icrs"
    assert sky_frame({"radesys": "odd"}) == "icrs"
    frame = sky_frame({"radesys": "FK5", "equinox": 1975.0})
    assert isinstance(frame, FK5) and frame.equinox == Time("J1975.0")


def test_what_is_overwritten_and_what_is_kept(tmp_path):
    with_beam = load_fits(_image(tmp_path / "a.fits"))
    no_beam_cube = load_fits(_image(tmp_path / "b.fits", radesys="ICRS", beam=False, nfreq=3), plane=2)
    meta = {"image": "old.fits", "beam_maj": 9.0, "equinox": 1950.0, "model": "m1", "model_version": "0.1",
            "creator": "someone", "note": "kept"}
    stamp(meta, no_beam_cube, model="m2", model_version="2.0")
    # image keys replaced as a group: the old beam and equinox are gone, the cube's plane is there
    assert meta["image"] == "b.fits" and meta["plane"] == [2] and meta["radesys"] == "ICRS"
    assert "beam_maj" not in meta and "equinox" not in meta
    assert (meta["model"], meta["model_version"]) == ("m1", "0.1")  # the model that found the sources
    assert (meta["creator"], meta["creator_version"]) == ("decoras", __version__) and meta["note"] == "kept"
    cat = Catalogue(meta={"model": ""})
    stamp(cat, None, model="m3", model_version=None, creator=None)  # no image: image keys untouched
    assert cat.meta == {"model": "m3", "model_version": ""}
    cat.meta.update(stamp({}, with_beam))
    stamp(cat)
    assert cat.meta["radesys"] == "FK5" and cat.meta["beam_pa"] == 10.0


@pytest.mark.parametrize("name", ["sample_vlba_dirty", "nvss_postage_stamp_aips", "evn_L_4C39.25_n05l1_ICLN",
                                  "vlba_X_NGC1052_2017-04-04_map", "atca_phoenix_deep_1.4GHz_sub",
                                  "nvas_vla_K_W51"])
def test_detection_meta_keeps_its_values(name, request):
    """catalogue_meta gives what the detections made before the stamp carried (besides creator)."""
    path = resources_dir() / f"{name}.fits" if name.startswith("sample") else \
        request.getfixturevalue("real_data") / f"{name}.fits"
    before = Catalogue.read(REPO / "tests" / "data" / "refactor" / f"before_{name}.ecsv").meta
    meta = catalogue_meta(load_fits(path), before["model"], before["model_version"])
    assert meta.pop("creator") == "decoras" and meta.pop("creator_version") == __version__
    assert meta.pop("image_path") == str(path) and before.pop("image_path").endswith(path.name)
    assert list(meta.items()) == list(before.items())


def _manual_catalogue(img) -> Catalogue:
    """What the window does: a new catalogue stamped from the image it opens, then sources
    drawn by hand (measured with measure_ellipse)."""
    cat = Catalogue(meta=stamp({}, img, creator="decoras-gui"))
    for x, y, maj, mn, theta in ((20.0, 30.0, 6.0, 3.0, 20.0), (45.5, 12.25, 4.0, 4.0, 0.0)):
        cat.add(Source(origin="manual", status="accepted", **measure_ellipse(img, x, y, maj, mn, theta)))
    return cat


def _check_fk5_export(reg, ecsv, expected):
    lines = reg.read_text().splitlines()
    assert "fk5" in lines and "icrs" not in lines
    back = Catalogue.read(ecsv)
    assert back.meta["radesys"] == "FK5" and back.meta["creator"] == "decoras"
    regions = read_regions(reg)
    assert len(regions) == len(back) == len(expected)
    for region, source, sky in zip(regions, back, expected):
        assert region.center.frame.name == "fk5"
        # positions equal: the region centre is the catalogue's ra/dec is the image's FK5 position
        assert (source.ra, source.dec) == pytest.approx((sky.ra.deg, sky.dec.deg), abs=1e-12)
        assert region.center.separation(sky).to_value("mas") < 1e-3  # the file keeps 1e-10 deg


def test_hand_vetted_fk5_session_exported_after_its_image_is_deleted(tmp_path, capsys):
    path = _image(tmp_path / "fk5.fits")
    img = load_fits(path)
    cat = _manual_catalogue(img)
    expected = [img.wcs.pixel_to_world(s.x, s.y) for s in cat]
    assert all(sky.frame.name == "fk5" for sky in expected)
    session = save_session(Session(cat, str(path), file_sha256(path)), tmp_path / "hand.decoras")
    path.unlink()
    reg, ecsv = tmp_path / "out.reg", tmp_path / "out.ecsv"
    assert main(["export", str(session), "--regions", str(reg), "--catalog", str(ecsv)]) == 0
    assert "is not there" in capsys.readouterr().err
    _check_fk5_export(reg, ecsv, expected)
    # and asked for ICRS, the FK5 positions are converted (tens of mas at this declination), not relabelled
    assert main(["export", str(session), "--regions", str(reg), "--frame", "icrs"]) == 0
    for region, sky in zip(read_regions(reg), expected):
        assert region.center.frame.name == "icrs"
        assert region.center.separation(sky.transform_to("icrs")).to_value("mas") < 1e-3  # the file keeps 1e-10 deg
        assert 5 < region.center.separation(SkyCoord(sky.ra, sky.dec, frame="icrs")).to_value("mas") < 100


def test_export_stamps_an_older_session_from_its_image(tmp_path):
    """A session saved before the window stamped new catalogues (no radesys in its meta):
    exported with its image, the catalogue gets the image's frame, so later exports of it keep it."""
    path = _image(tmp_path / "fk5.fits")
    img = load_fits(path)
    cat = _manual_catalogue(img)
    cat.meta = {"image": img.name, "image_path": str(img.path)}  # what the window wrote before
    expected = [img.wcs.pixel_to_world(s.x, s.y) for s in cat]
    session = save_session(Session(cat, str(path), file_sha256(path)), tmp_path / "old.decoras")
    reg, ecsv = tmp_path / "out.reg", tmp_path / "out.ecsv"
    assert main(["export", str(session), "--regions", str(reg), "--catalog", str(ecsv)]) == 0
    _check_fk5_export(reg, ecsv, expected)
    meta = Catalogue.read(ecsv).meta
    assert meta["beam_maj"] == pytest.approx(4 * MAS * 3600) and math.isclose(meta["beam_pa"], 10.0)
