"""CASA region text (CRTF) export and import through the `regions` package: the same ellipses
as the DS9 files, in CASA's convention (first radius along the position angle)."""

from __future__ import annotations

import re

import pytest
from astropy import units as u
from regions import EllipsePixelRegion, EllipseSkyRegion, PointSkyRegion, Regions

from decoras_gui.core.catalogue import Catalogue, Source
from decoras_gui.core.errors import DecorasError
from decoras_gui.core.formats import region_format_for_path
from decoras_gui.core.regions_io import (
    CRTF_CONVENTION_COMMENT,
    STATUS_COLORS,
    read_regions,
    regions_to_sources,
    write_regions,
)
from tests.core.test_regions_io import angle_diff, make_wcs


@pytest.fixture
def wcs():
    return make_wcs()


@pytest.fixture
def cat(wcs) -> Catalogue:
    c = Catalogue()
    for x, y, maj, mn, theta, status in [(100.25, 200.5, 6.0, 3.0, 30.0, "candidate"),
                                         (256.0, 256.0, 4.0, 4.0, 0.0, "accepted"),
                                         (400.0, 50.75, 9.0, 2.5, 135.0, "rejected")]:
        sky = EllipsePixelRegion(_pix(x, y), width=maj, height=mn, angle=theta * u.deg).to_sky(wcs)
        c.add(Source(x=x, y=y, ra=sky.center.ra.deg, dec=sky.center.dec.deg, maj=sky.width.to_value(u.arcsec),
                     min=sky.height.to_value(u.arcsec), pa=(sky.angle.to_value(u.deg) - 90.0) % 180.0,
                     maj_img=maj, min_img=mn, theta_img=theta, status=status))
    c.add(Source(x=10.0, y=20.0, status="accepted"))  # no size: a point
    return c


def _pix(x, y):
    from regions import PixCoord

    return PixCoord(x, y)


def test_crtf_is_told_by_the_extension():
    assert region_format_for_path("a/b.CRTF").key == "crtf"
    assert region_format_for_path("a/b.reg").key == "ds9"
    assert region_format_for_path("a/b.txt").key == "ds9"


@pytest.mark.parametrize("frame,coord", [("fk5", "J2000"), ("icrs", "ICRS")])
def test_sky_crtf_holds_casa_convention_and_round_trips(tmp_path, cat, wcs, frame, coord):
    path = tmp_path / "out.crtf"
    assert write_regions(cat, path, wcs=wcs, frame=frame) == frame
    lines = path.read_text().splitlines()
    assert lines[0].startswith("#CRTF") and lines[1] == CRTF_CONVENTION_COMMENT
    assert f"global coord={coord}" in lines
    shapes = [ln for ln in lines if not ln.startswith(("#", "global"))]
    assert [ln.split("[")[0] for ln in shapes] == ["ellipse"] * 3 + ["symbol"]
    assert "color=009E73" in shapes[1] and "#" not in "".join(shapes)  # CASA's bare hex colours
    # CASA's ellipse: [[ra, dec], [maj/2, min/2], PA], the first radius along the PA
    m = re.match(r"ellipse\[\[(\S+)deg, (\S+)deg\], \[(\S+)arcsec, (\S+)arcsec\], (\S+)deg\]", shapes[0])
    ra, dec, r1, r2, pa = (float(g) for g in m.groups())
    # milliarcsecond radii keep their digits (10 decimals of an arcsec)
    assert r1 == pytest.approx(cat[0].maj / 2, rel=1e-7) and r2 == pytest.approx(cat[0].min / 2, rel=1e-7)
    assert angle_diff(pa, cat[0].pa) < 1e-6
    assert (ra, dec) == pytest.approx((cat[0].ra, cat[0].dec), abs=1e-5)  # FK5 and ICRS differ by ~20 mas

    back = regions_to_sources(read_regions(path), wcs=wcs)
    assert len(back) == len(cat)
    for got, s in zip(back, cat):
        assert got.status == s.status and got.note == str(s.source_id)
        assert got.x == pytest.approx(s.x, abs=1e-3) and got.y == pytest.approx(s.y, abs=1e-3)
        if s.maj == s.maj:  # sized
            assert got.maj == pytest.approx(s.maj, rel=1e-6) and got.min == pytest.approx(s.min, rel=1e-6)
            if s.maj > 1.01 * s.min:
                assert angle_diff(got.pa, s.pa) < 1e-3
        else:
            assert got.maj != got.maj  # a point stays a point


def test_crtf_reads_as_the_same_shapes_as_ds9(tmp_path, cat, wcs):
    write_regions(cat, tmp_path / "a.crtf", wcs=wcs, frame="fk5")
    write_regions(cat, tmp_path / "a.reg", wcs=wcs, frame="fk5")
    crtf = Regions.read(tmp_path / "a.crtf", format="crtf")
    ds9 = Regions.read(tmp_path / "a.reg", format="ds9")
    for a, b in zip(crtf, ds9):
        assert type(a) is type(b)
        if isinstance(a, EllipseSkyRegion):
            # the same ellipse, parametrised the other way round: (w, h, angle) == (h, w, angle - 90)
            assert a.width.to_value(u.arcsec) == pytest.approx(b.height.to_value(u.arcsec), rel=1e-5)
            assert a.height.to_value(u.arcsec) == pytest.approx(b.width.to_value(u.arcsec), rel=1e-5)
            assert angle_diff(a.angle.to_value(u.deg), b.angle.to_value(u.deg) - 90.0) < 1e-6
            assert a.center.separation(b.center).to_value(u.arcsec) < 1e-6
        else:
            assert isinstance(a, PointSkyRegion)


def test_image_frame_crtf_is_in_pixels(tmp_path, cat):
    path = tmp_path / "pix.crtf"
    assert write_regions(cat, path, frame="image") == "image"
    text = path.read_text()
    assert "global coord" not in text and "pix, " in text
    ellipse = next(ln for ln in text.splitlines() if ln.startswith("ellipse"))
    assert ellipse.startswith("ellipse[[100.2500000000pix, 200.5000000000pix], [3.0000000000pix, 1.5000000000pix]")
    assert ellipse.split("], ")[2].startswith("120.0000000000deg")  # theta 30 along the first radius
    back = regions_to_sources(read_regions(path))
    assert [(s.x, s.y, s.status) for s in back] == [(s.x, s.y, s.status) for s in cat]
    assert back[0].maj_img == pytest.approx(6.0) and angle_diff(back[0].theta_img, 30.0) < 1e-6


def test_crtf_written_by_casa_reads(tmp_path):
    """A CRTF file as CASA's viewer writes them: sexagesimal centres, arcsec radii, corr, no colour."""
    path = tmp_path / "viewer.txt"
    path.write_text("#CRTFv0 CASA Version 6.6.0\n"
                    "ellipse [[10:00:00.000, +40.00.00.000], [2.0arcsec, 1.0arcsec], 45.0deg] coord=J2000, "
                    "corr=[I], linewidth=1, linestyle=-, symsize=1, symthick=1, color=magenta, font=Helvetica, "
                    "fontsize=11, fontstyle=normal, usetex=false\n")
    (s,) = regions_to_sources(read_regions(path))
    assert s.ra == pytest.approx(150.0) and s.dec == pytest.approx(40.0)
    assert s.maj == pytest.approx(4.0) and s.min == pytest.approx(2.0) and angle_diff(s.pa, 45.0) < 1e-9
    assert s.status == "candidate"


def test_status_colours_are_the_palette():
    assert {c.lstrip("#").upper() for c in STATUS_COLORS.values()} == {"E69F00", "009E73", "D55E00"}


def test_broken_crtf_names_the_file(tmp_path):
    path = tmp_path / "bad.crtf"
    path.write_text("#CRTFv0\nellipse [[1deg, 2deg], [oops]]\n")
    with pytest.raises(DecorasError, match="bad.crtf"):
        read_regions(path)
