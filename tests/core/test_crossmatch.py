"""Cross-matching against survey catalogues (core/crossmatch) in the layouts NVSS, FIRST and LoTSS
are served in, written and read by astropy, matched by astropy's match_coordinates_sky."""

from __future__ import annotations

import math

import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.io.votable import from_table
from astropy.table import Table
from astropy.wcs import WCS

from decoras_gui.core.catalogue import Catalogue, Source
from decoras_gui.core.crossmatch import crossmatch, match_radius, read_reference, reference_sources
from decoras_gui.core.errors import DecorasError

SHAPE = (200, 200)


def nvss_wcs() -> WCS:
    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---SIN", "DEC--SIN"]
    w.wcs.crval = [210.0, 30.0]
    w.wcs.crpix = [100.5, 100.5]
    w.wcs.cdelt = [-15.0 / 3600, 15.0 / 3600]  # NVSS: 15" pixels, 45" beam
    w.wcs.radesys = "FK5"
    w.wcs.equinox = 2000.0
    return w


@pytest.fixture
def field():
    """40 detections of an NVSS-like image; a survey that has 30 of them (2" off, 10 % brighter),
    6 more inside the image that were not detected, and 4 outside it."""
    rng = np.random.default_rng(7)
    wcs = nvss_wcs()
    x, y = rng.uniform(10, 190, 40), rng.uniform(10, 190, 40)
    sky = wcs.pixel_to_world(x, y)
    flux = rng.uniform(0.005, 0.2, 40)  # Jy
    cat = Catalogue([Source(x=float(a), y=float(b), ra=float(c.ra.deg), dec=float(c.dec.deg), total_flux=float(f),
                            peak_flux=float(f)) for a, b, c, f in zip(x, y, sky, flux)],
                    meta={"beam_maj": 45.0, "beam_min": 45.0, "beam_pa": 0.0, "radesys": "FK5"})
    theta = rng.uniform(0, 2 * np.pi, 30)
    ref = sky[:30].spherical_offsets_by(2.0 * np.cos(theta) * u.arcsec, 2.0 * np.sin(theta) * u.arcsec)
    missed = wcs.pixel_to_world(rng.uniform(10, 190, 6), rng.uniform(10, 190, 6))
    outside = wcs.pixel_to_world(np.array([-50.0, 250.0, 100.0, 100.0]), np.array([100.0, 100.0, -80.0, 300.0]))
    ra = np.concatenate([ref.ra.deg, missed.ra.deg, outside.ra.deg])
    dec = np.concatenate([ref.dec.deg, missed.dec.deg, outside.dec.deg])
    ref_flux = np.concatenate([1.1 * flux[:30], rng.uniform(0.003, 0.01, 10)]) * 1e3  # mJy
    return wcs, cat, ra, dec, ref_flux


def nvss_vizier_votable(path, ra, dec, flux_mjy):
    """VIII/65/nvss as VizieR serves it: sexagesimal RAJ2000/DEJ2000 strings, S1.4 in mJy, NVSS names."""
    c = SkyCoord(ra * u.deg, dec * u.deg, frame="fk5")
    t = Table()
    t["NVSS"] = [f"{a}{b}" for a, b in zip(c.ra.to_string(u.hour, sep="", precision=2, pad=True),
                                             c.dec.to_string(sep="", precision=1, alwayssign=True, pad=True))]
    t["RAJ2000"] = c.ra.to_string(u.hour, sep=" ", precision=2, pad=True)
    t["DEJ2000"] = c.dec.to_string(sep=" ", precision=1, alwayssign=True, pad=True)
    t["S1.4"] = flux_mjy * u.mJy
    t["MajAxis"] = np.full(len(ra), 50.0) * u.arcsec
    t["MinAxis"] = np.full(len(ra), 45.0) * u.arcsec
    t["PA"] = np.zeros(len(ra)) * u.deg
    from_table(t).to_xml(str(path))


def test_nvss_votable_layout_is_recognised_and_matched(tmp_path, field):
    wcs, cat, ra, dec, flux = field
    nvss_vizier_votable(tmp_path / "nvss.vot", ra, dec, flux)
    ref = read_reference(tmp_path / "nvss.vot")
    assert ref.layout == "NVSS" and len(ref) == 40 and ref.beam == 45.0
    assert ref.columns["ra"] == "RAJ2000" and ref.columns["flux"] == "S1.4"
    assert ref.flux[0] == pytest.approx(flux[0] / 1e3)  # mJy -> Jy
    result = crossmatch(cat, ref, radius_beams=0.5, wcs=wcs, shape=SHAPE)
    assert result.radius_arcsec == pytest.approx(22.5)  # half the coarser beam
    rows = list(result.catalogue)
    assert [s.xmatch for s in rows] == ["matched"] * 30 + ["unmatched"] * 10
    assert all(s.match_sep == pytest.approx(2.0, abs=0.5) for s in rows[:30])  # 2" offsets, names 0.1" rounded
    assert all(s.match_flux_ratio == pytest.approx(1 / 1.1, rel=1e-6) for s in rows[:30])
    assert rows[0].match_name == ref.names[0] and rows[0].match_name.startswith(("13", "14"))  # RA 210 deg: 14h
    assert math.isnan(rows[35].match_sep) and rows[35].match_name == ""
    assert result.inside.sum() == 36 and list(result.unmatched_reference) == list(range(30, 36))
    summary = result.summary()
    assert summary["matched"] == 30 and summary["reference_unmatched"] == 6
    assert summary["median_flux_ratio"] == pytest.approx(1 / 1.1, rel=1e-6)
    assert result.catalogue.meta["xmatch_ref"] == "NVSS (nvss.vot)"


def test_first_fits_and_lotss_srl_layouts(tmp_path, field):
    wcs, cat, ra, dec, flux = field
    first = Table({"RA": ra * u.deg, "DEC": dec * u.deg, "FPEAK": flux * u.mJy / u.beam, "FINT": flux * u.mJy,
                   "RMS": np.full(40, 0.15) * u.mJy / u.beam, "MAJOR": np.full(40, 6.0) * u.arcsec,
                   "MINOR": np.full(40, 5.4) * u.arcsec, "POSANG": np.zeros(40) * u.deg})
    first.write(tmp_path / "first.fits")
    ref = read_reference(tmp_path / "first.fits")
    assert ref.layout == "FIRST" and ref.columns["flux"] == "FINT" and ref.maj[0] == pytest.approx(6.0)
    # LoTSS: our own PyBDSF-style source list, read as a reference
    lotss_cat = Catalogue([Source(ra=a, dec=b, total_flux=f / 1e3, peak_flux=f / 1e3, local_rms=1e-4)
                           for a, b, f in zip(ra, dec, flux)], meta={"beam_maj": 6.0, "beam_min": 6.0})
    lotss_cat.write(tmp_path / "lotss_srl.fits", layout="srl")
    lotss = read_reference(tmp_path / "lotss_srl.fits")
    assert lotss.layout == "LoTSS" and lotss.names[0].startswith("DECORAS J")
    assert lotss.flux == pytest.approx(flux / 1e3)
    result = crossmatch(cat, lotss, radius_arcsec=5.0, wcs=wcs, shape=SHAPE)
    assert sum(s.xmatch == "matched" for s in result.catalogue) == 30


def test_unknown_layout_needs_columns_and_csv_works_with_them(tmp_path, field):
    wcs, cat, ra, dec, flux = field
    t = Table({"alpha_deg": ra, "delta_deg": dec, "S_mJy": flux, "label": [f"src{i}" for i in range(40)]})
    t.write(tmp_path / "mine.csv")
    with pytest.raises(DecorasError, match="RA and Dec.*alpha_deg"):
        read_reference(tmp_path / "mine.csv")
    ref = read_reference(tmp_path / "mine.csv", columns={"ra": "alpha_deg", "dec": "delta_deg", "flux": "S_mJy",
                                                         "name": "label"})
    assert ref.layout == "columns" and ref.names[3] == "src3"
    assert ref.flux[0] == pytest.approx(flux[0] / 1e3)  # no unit: mJy, as surveys give it
    with pytest.raises(DecorasError, match="no column 'nope'"):
        read_reference(tmp_path / "mine.csv", columns={"ra": "nope", "dec": "delta_deg"})
    with pytest.raises(DecorasError, match="no beam"):
        match_radius(Catalogue(), ref)
    result = crossmatch(cat, ref, radius_arcsec=3.0)  # no image: the field is where the detections are
    assert sum(s.xmatch == "matched" for s in result.catalogue) == 30 and result.inside.sum() >= 30


def test_unmatched_reference_sources_become_candidates(tmp_path, field):
    wcs, cat, ra, dec, flux = field
    nvss_vizier_votable(tmp_path / "nvss.vot", ra, dec, flux)
    ref = read_reference(tmp_path / "nvss.vot")
    result = crossmatch(cat, ref, wcs=wcs, shape=SHAPE)
    new = reference_sources(ref, result.unmatched_reference, wcs=wcs)
    assert len(new) == 6 and all(s.origin == "manual" and s.status == "candidate" for s in new)
    assert new[0].note.startswith("from NVSS ") and 10 <= new[0].x <= 190
    assert new[0].maj_img == pytest.approx(50.0 / 15.0, rel=1e-3)  # 50" on 15" pixels
    assert new[0].theta_img == pytest.approx(90.0, abs=0.5)  # PA 0: north, up the image


def test_bad_reference_files_name_the_file(tmp_path):
    bad = tmp_path / "broken.fits"
    bad.write_bytes(b"SIMPLE  = nonsense")
    with pytest.raises(DecorasError, match="broken.fits"):
        read_reference(bad)
    with pytest.raises(DecorasError, match="no such file"):
        read_reference(tmp_path / "missing.vot")
    empty = tmp_path / "empty.ecsv"
    Table({"ra": np.array([], float), "dec": np.array([], float)}).write(empty)
    with pytest.raises(DecorasError, match="no rows"):
        read_reference(empty)


def test_crossmatch_command(tmp_path, field, capsys):
    from astropy.io import fits

    from decoras_gui.cli import main

    wcs, cat, ra, dec, flux = field
    image = tmp_path / "nvss_field.fits"
    fits.PrimaryHDU(np.zeros(SHAPE, np.float32), header=wcs.to_header()).writeto(image)
    cat.meta["image_path"] = str(image)
    cat.write(tmp_path / "ours.ecsv")
    nvss_vizier_votable(tmp_path / "nvss.vot", ra, dec, flux)
    out = tmp_path / "matched.ecsv"
    assert main(["crossmatch", str(tmp_path / "ours.ecsv"), str(tmp_path / "nvss.vot"), "--out", str(out),
                 "--add-unmatched"]) == 0
    said = capsys.readouterr().out
    assert "30 of 40 detections matched NVSS (nvss.vot) within 45 arcsec" in said
    assert "30 of 36 reference sources in the image found, 6 not (added as candidates)" in said
    back = Catalogue.read(out)
    assert len(back) == 46 and sum(s.origin == "manual" for s in back) == 6
    assert back.meta["xmatch_ref"] == "NVSS (nvss.vot)" and back.meta["xmatch_radius"] == pytest.approx(45.0)
    table = Table.read(out)
    assert table["match_sep"].unit == u.arcsec and set(table["xmatch"]) == {"matched", "unmatched"}
    assert main(["crossmatch", str(tmp_path / "ours.ecsv"), str(tmp_path / "nope.vot"), "--out", str(out)]) == 2
    assert "nope.vot" in capsys.readouterr().err


def test_real_atca_detections_against_pybdsf_of_the_same_image(tmp_path, real_data):
    """The observed ATCA Phoenix Deep image: our detections cross-matched with PyBDSF's source
    list of the same image (its own srl FITS, recognised as the PyBDSF layout)."""
    bdsf = pytest.importorskip("bdsf", reason="PyBDSF is in the bench extra (scripts/setup installs it)")
    from decoras_gui.cli import main

    image = real_data / "atca_phoenix_deep_1.4GHz_sub.fits"
    ours = tmp_path / "ours.ecsv"
    assert main(["detect", str(image), "--catalog", str(ours), "--device", "cpu"]) == 0
    img = bdsf.process_image(str(image), quiet=True)
    srl = tmp_path / "pybdsf_srl.fits"
    img.write_catalog(outfile=str(srl), format="fits", catalog_type="srl", clobber=True)
    ref = read_reference(srl)
    assert ref.layout == "PyBDSF" and len(ref) >= 3 and np.all(ref.flux > 0)
    cat = Catalogue.read(ours)
    from decoras_gui.core.image import load_fits

    sky = load_fits(image)
    result = crossmatch(cat, ref, wcs=sky.wcs, shape=sky.data.shape)
    s = result.summary()
    assert s["detections"] >= 3 and s["matched"] == s["detections"]  # every detection is a PyBDSF source
    assert s["median_sep_arcsec"] < 0.3 * result.radius_arcsec  # well inside a beam
    assert 0.6 < s["median_flux_ratio"] < 1.5
