"""DS9 region export/import through the `regions` package, with a real VLBI-like WCS."""

from __future__ import annotations

import math

import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.wcs import WCS
from regions import (
    CircleSkyRegion,
    EllipsePixelRegion,
    EllipseSkyRegion,
    PixCoord,
    PointSkyRegion,
    PolygonPixelRegion,
    Regions,
)

from decoras_gui.core.catalogue import Catalogue, Source
from decoras_gui.core.errors import DecorasError
from decoras_gui.core.regions_io import (
    CONVENTION_COMMENT,
    STATUS_COLORS,
    catalogue_to_regions,
    read_regions,
    regions_to_sources,
    write_regions,
)

MAS = 1e-3  # arcsec


def make_wcs(radesys: str = "ICRS") -> WCS:
    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---SIN", "DEC--SIN"]
    w.wcs.crval = [150.0, 40.0]
    w.wcs.crpix = [257.0, 257.0]  # FITS 1-based: pixel (256, 256) 0-based
    w.wcs.cdelt = [-1.0 / 3.6e6, 1.0 / 3.6e6]  # 1 mas pixels
    w.wcs.cunit = ["deg", "deg"]
    w.wcs.radesys = radesys
    if radesys == "FK5":
        w.wcs.equinox = 2000.0
    w.wcs.set()
    return w


def angle_diff(a: float, b: float, period: float = 180.0) -> float:
    d = (a - b) % period
    return min(d, period - d)


@pytest.fixture
def wcs() -> WCS:
    return make_wcs()


@pytest.fixture
def cat(wcs) -> Catalogue:
    """Three sources with consistent sky and pixel descriptions (sky from the pixel ellipse)."""
    c = Catalogue(meta={"image": "vlbi.fits"})
    rows = [
        (100.25, 200.5, 6.0, 3.0, 30.0, "candidate"),
        (256.0, 256.0, 4.0, 4.0, 0.0, "accepted"),
        (400.0, 50.75, 9.0, 2.5, 135.0, "rejected"),
    ]
    for x, y, maj, mn, theta, status in rows:
        pix = EllipsePixelRegion(PixCoord(x, y), width=maj, height=mn, angle=theta * u.deg)
        sky = pix.to_sky(wcs)
        c.add(
            Source(
                x=x,
                y=y,
                ra=sky.center.ra.deg,
                dec=sky.center.dec.deg,
                maj=sky.width.to_value(u.arcsec),
                min=sky.height.to_value(u.arcsec),
                pa=(sky.angle.to_value(u.deg) - 90.0) % 180.0,
                maj_img=maj,
                min_img=mn,
                theta_img=theta,
                status=status,
                peak_flux=0.1,
            )
        )
    return c


def test_wcs_geometry_is_what_the_tests_assume(wcs, cat):
    # 1 mas pixels, north up, east left: theta_img = PA + 90 for this WCS
    s = cat[0]
    assert s.maj == pytest.approx(6 * MAS, rel=1e-6)
    assert angle_diff(s.theta_img, s.pa + 90.0) < 1e-4
    assert wcs.pixel_to_world(256, 256).dec.deg == pytest.approx(40.0)


@pytest.mark.parametrize("frame", ["fk5", "icrs"])
def test_sky_export_round_trips_through_regions(tmp_path, cat, wcs, frame):
    path = tmp_path / f"out_{frame}.reg"
    used = write_regions(cat, path, wcs=wcs, frame=frame)
    assert used == frame
    text = path.read_text()
    lines = text.splitlines()
    assert frame in [line.strip() for line in lines]
    assert any("FWHM/2" in line and "PA + 90" in line and line.startswith("#") for line in lines)

    regs = Regions.read(path, format="ds9")
    assert len(regs) == len(cat)
    for reg, s in zip(regs, cat):
        assert isinstance(reg, EllipseSkyRegion)
        expected = SkyCoord(s.ra * u.deg, s.dec * u.deg, frame="icrs").transform_to(frame)
        got = reg.center.transform_to(frame)
        assert got.spherical.lon.deg == pytest.approx(expected.spherical.lon.deg, abs=1e-9)
        assert got.spherical.lat.deg == pytest.approx(expected.spherical.lat.deg, abs=1e-9)
        assert reg.center.separation(SkyCoord(s.ra * u.deg, s.dec * u.deg)).deg < 1e-6 or frame == "fk5"
        # full widths are the FWHM: DS9 semi-axes are FWHM / 2
        assert reg.width.to_value(u.arcsec) == pytest.approx(s.maj, rel=1e-6)
        assert reg.height.to_value(u.arcsec) == pytest.approx(s.min, rel=1e-6)
        assert angle_diff(reg.angle.to_value(u.deg), s.pa + 90.0) < 1e-6
        assert reg.meta["tag"] == [s.status]
        assert str(reg.meta["text"]) == str(s.source_id)
        assert reg.visual["edgecolor"].upper() == STATUS_COLORS[s.status].upper()


def test_sky_semi_axes_in_file_are_half_fwhm(tmp_path, wcs):
    c = Catalogue()
    c.add(Source(ra=150.0, dec=40.0, maj=3.6, min=1.8, pa=10.0))  # 1e-3 and 5e-4 deg FWHM
    path = tmp_path / "one.reg"
    write_regions(c, path, frame="icrs")
    line = next(ln for ln in path.read_text().splitlines() if ln.startswith("ellipse"))
    args = [float(a) for a in line[line.index("(") + 1 : line.index(")")].split(",")]
    assert args[2] == pytest.approx(0.0005)  # semi-major = FWHM/2 in deg
    assert args[3] == pytest.approx(0.00025)
    assert args[4] == pytest.approx(100.0)  # PA + 90


def test_image_frame_round_trips_zero_based(tmp_path, cat):
    path = tmp_path / "image.reg"
    used = write_regions(cat, path, frame="image")
    assert used == "image"
    lines = path.read_text().splitlines()
    assert "image" in [line.strip() for line in lines]
    assert CONVENTION_COMMENT in lines
    # DS9 text is 1-based: the first source at x=100.25 appears as 101.25
    first = next(ln for ln in lines if ln.startswith("ellipse"))
    assert first.startswith("ellipse(101.25")

    regs = Regions.read(path, format="ds9")
    assert len(regs) == 3
    for reg, s in zip(regs, cat):
        assert isinstance(reg, EllipsePixelRegion)
        assert reg.center.x == pytest.approx(s.x, abs=1e-9)
        assert reg.center.y == pytest.approx(s.y, abs=1e-9)
        assert reg.width == pytest.approx(s.maj_img)
        assert reg.height == pytest.approx(s.min_img)
        assert angle_diff(reg.angle.to_value(u.deg), s.theta_img) < 1e-6


def test_no_wcs_and_no_sky_positions_falls_back_to_image(tmp_path):
    c = Catalogue()
    c.add(Source(x=10.0, y=20.0, maj_img=4.0, min_img=2.0, theta_img=15.0))
    path = tmp_path / "nowcs.reg"
    assert write_regions(c, path, frame="fk5") == "image"
    regs = Regions.read(path, format="ds9")
    assert isinstance(regs[0], EllipsePixelRegion)
    assert (regs[0].center.x, regs[0].center.y) == pytest.approx((10.0, 20.0))


def test_sky_frame_from_pixels_through_wcs(cat, wcs):
    # a source with only pixel values is put on the sky through the WCS
    s = cat[0]
    pix_only = Catalogue()
    pix_only.add(s.replace(ra=math.nan, dec=math.nan, maj=math.nan, min=math.nan, pa=math.nan))
    reg = catalogue_to_regions(pix_only, wcs=wcs, frame="icrs")[0]
    assert isinstance(reg, EllipseSkyRegion)
    assert reg.center.separation(SkyCoord(s.ra * u.deg, s.dec * u.deg)).to_value(u.arcsec) < 1e-6
    assert reg.width.to_value(u.arcsec) == pytest.approx(s.maj, rel=1e-4)
    assert angle_diff(reg.angle.to_value(u.deg), s.pa + 90.0) < 1e-3


def test_image_frame_from_sky_through_wcs(cat, wcs):
    s = cat[2]
    sky_only = Catalogue()
    sky_only.add(s.replace(x=math.nan, y=math.nan, maj_img=math.nan, min_img=math.nan, theta_img=math.nan))
    reg = catalogue_to_regions(sky_only, wcs=wcs, frame="image")[0]
    assert isinstance(reg, EllipsePixelRegion)
    assert (reg.center.x, reg.center.y) == pytest.approx((s.x, s.y), abs=1e-6)
    assert reg.width == pytest.approx(s.maj_img, rel=1e-4)
    assert angle_diff(reg.angle.to_value(u.deg), s.theta_img) < 1e-3


def test_status_filter_colors_and_labels(cat):
    regs = catalogue_to_regions(cat, frame="icrs", statuses=["accepted"], labels=False,
                                colors={"accepted": "#0072B2"})
    assert len(regs) == 1
    assert regs[0].visual["color"] == "#0072B2"
    assert "text" not in regs[0].meta
    assert set(STATUS_COLORS) == {"candidate", "accepted", "rejected"}


def test_empty_catalogue_still_has_frame_and_comment(tmp_path):
    path = tmp_path / "empty.reg"
    write_regions(Catalogue(), path, frame="icrs")
    lines = path.read_text().splitlines()
    assert "icrs" in lines and CONVENTION_COMMENT in lines
    assert len(read_regions(path)) == 0


def test_regions_to_sources_reverses_the_convention(tmp_path, cat, wcs):
    path = tmp_path / "rt.reg"
    write_regions(cat, path, wcs=wcs, frame="fk5")
    regs = read_regions(path)
    assert regs.skipped == []
    sources = regions_to_sources(regs, wcs=wcs)
    assert len(sources) == 3
    for got, s in zip(sources, cat):
        assert got.origin == "imported"
        assert got.status == s.status
        assert got.note == str(s.source_id)
        # ra/dec back in the WCS frame (ICRS), although the file is FK5
        sep = SkyCoord(got.ra * u.deg, got.dec * u.deg).separation(SkyCoord(s.ra * u.deg, s.dec * u.deg))
        assert sep.to_value(u.arcsec) < 1e-6
        assert got.maj == pytest.approx(s.maj, rel=1e-6)
        assert got.min == pytest.approx(s.min, rel=1e-6)
        assert angle_diff(got.pa, s.pa) < 1e-5
        assert (got.x, got.y) == pytest.approx((s.x, s.y), abs=1e-4)
        assert got.maj_img == pytest.approx(s.maj_img, rel=1e-4)
        assert angle_diff(got.theta_img, s.theta_img) < 1e-3
    imported = Catalogue()
    for src in sources:
        imported.add(src)
    assert imported.ids == [1, 2, 3]


def test_read_regions_keeps_circles_points_and_skips_others(tmp_path, wcs):
    center = wcs.pixel_to_world(256, 256)
    regs = Regions(
        [
            CircleSkyRegion(center, radius=2 * u.mas),
            PointSkyRegion(center),
            PolygonPixelRegion(PixCoord([1, 5, 5], [1, 1, 6])),
            EllipsePixelRegion(PixCoord(10, 10), width=2, height=5, angle=0 * u.deg),
        ]
    )
    path = tmp_path / "mixed.reg"
    regs.write(path, format="ds9")
    got = read_regions(path)
    assert len(got) == 3
    assert got.skipped == ["PolygonPixelRegion"]
    sources = regions_to_sources(got, wcs=wcs)
    circle, point, ellipse = sources
    assert circle.maj == pytest.approx(4 * MAS) and circle.min == pytest.approx(4 * MAS)
    assert (circle.x, circle.y) == pytest.approx((256, 256), abs=1e-6)
    assert math.isnan(point.maj) and (point.x, point.y) == pytest.approx((256, 256), abs=1e-6)
    # width < height: major axis is the height, turned by 90 deg
    assert ellipse.maj_img == pytest.approx(5) and ellipse.min_img == pytest.approx(2)
    assert ellipse.theta_img == pytest.approx(90.0)
    assert ellipse.maj == pytest.approx(5 * MAS, rel=1e-4)
    assert angle_diff(ellipse.pa, 0.0) < 1e-3  # along +y = north


def test_pixel_regions_without_wcs(tmp_path):
    path = tmp_path / "pix.reg"
    Regions([EllipsePixelRegion(PixCoord(3, 4), width=6, height=2, angle=20 * u.deg)]).write(path, format="ds9")
    (s,) = regions_to_sources(read_regions(path))
    assert (s.x, s.y, s.maj_img, s.min_img, s.theta_img) == pytest.approx((3, 4, 6, 2, 20))
    assert math.isnan(s.ra) and math.isnan(s.maj)


def test_missing_region_file(tmp_path):
    path = tmp_path / "nope.reg"
    with pytest.raises(DecorasError) as err:
        read_regions(path)
    assert str(path) in str(err.value)


@pytest.mark.parametrize(
    "content",
    [b"this is not a region file\n%%%% 1 2 3\n", b"hello world\n", b"\x89PNG\r\n\x1a\n\x00\xff\xfe"],
)
def test_garbage_region_file(tmp_path, content):
    path = tmp_path / "garbage.reg"
    path.write_bytes(content)
    with pytest.raises(DecorasError) as err:
        read_regions(path)
    assert str(path) in str(err.value)


def test_write_into_missing_folder(tmp_path, cat):
    path = tmp_path / "no" / "such" / "out.reg"
    with pytest.raises(DecorasError) as err:
        write_regions(cat, path, frame="image")
    assert "no" in str(err.value)


def test_fk5_wcs_frame(tmp_path):
    wcs = make_wcs("FK5")
    c = Catalogue()
    world = wcs.pixel_to_world(np.array([10.0]), np.array([20.0]))
    c.add(Source(ra=float(world.ra.deg[0]), dec=float(world.dec.deg[0]), maj=0.002, min=0.001, pa=45.0))
    path = tmp_path / "fk5.reg"
    write_regions(c, path, wcs=wcs, frame="fk5")
    reg = Regions.read(path, format="ds9")[0]
    # catalogue ra/dec are in the image's FK5 frame: written unchanged
    assert reg.center.ra.deg == pytest.approx(c[0].ra, abs=1e-9)
    assert reg.center.dec.deg == pytest.approx(c[0].dec, abs=1e-9)
