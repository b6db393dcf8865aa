"""Source / Catalogue: the column spec, edits, and round trips through real files."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
from astropy import units as u
from astropy.io import fits
from astropy.io.votable import parse as parse_votable
from astropy.io.votable import validate
from astropy.table import Table

from decoras_gui.core.catalogue import (
    COLUMN_NAMES,
    COLUMNS,
    STATUSES,
    Catalogue,
    Source,
    infer_format,
)
from decoras_gui.core.errors import DecorasError

META = {
    "image": "J1234+4000_X.fits",
    "image_path": "/data/vlbi/J1234+4000_X.fits",
    "model": "decoras-unet",
    "model_version": "1.0.3",
    "beam_maj": 0.0021,
    "beam_min": 0.0009,
    "beam_pa": -12.5,
    "bunit": "JY/BEAM",
    "creator": "decoras-gui",
    "creator_version": "0.1.0",
}


def votable_is_valid(path) -> bool:
    report = io.StringIO()
    ok = validate(str(path), output=report)
    assert "no violations" in report.getvalue(), report.getvalue()
    return ok is True


def make_catalogue() -> Catalogue:
    cat = Catalogue(meta=META)
    cat.add(
        Source(
            ra=150.000123456789, dec=40.00001234567, ra_err=0.00005, dec_err=0.00004,
            x=100.25, y=200.5, peak_flux=0.0123, peak_flux_err=0.0002,
            total_flux=0.0456, total_flux_err=0.001, maj=0.0031, min=0.0012, pa=33.0,
            maj_deconv=0.0021, min_deconv=0.0004, pa_deconv=35.0, r_eff=0.001,
            snr=61.5, local_rms=0.0002, det_prob=0.98, model="decoras-unet",
            maj_img=3.1, min_img=1.2, theta_img=123.0,
        )
    )
    cat.add(Source(ra=150.0001, dec=40.0002, x=10.0, y=20.0, status="accepted",
                   origin="manual", note="by hand, with a comma", edited=True, snr=7.0))
    cat.add(Source(ra=150.0002, dec=40.0003, x=30.0, y=40.0, status="rejected",
                   note="sidelobe near 3C 84 — µJy, café", det_prob=0.1))
    # no celestial WCS: NaN sky values
    cat.add(Source(x=5.0, y=6.0, maj_img=2.0, min_img=2.0, theta_img=0.0))
    return cat


# ----------------------------------------------------------------- spec and model


def test_column_spec_matches_source_fields():
    assert COLUMN_NAMES[:6] == ("source_id", "group", "island", "s_code", "ra", "dec")  # grouping after the id
    assert "maj_img" in COLUMN_NAMES and "theta_img" in COLUMN_NAMES
    for spec in COLUMNS:
        assert spec.ucd and spec.description
    assert Source().status == "candidate" and Source().origin == "model"
    assert math.isnan(Source().ra) and Source().edited is False
    assert STATUSES == ("candidate", "accepted", "rejected")


def test_source_validates_status_and_origin():
    with pytest.raises(ValueError):
        Source(status="maybe")
    with pytest.raises(ValueError):
        Source(origin="elsewhere")
    s = Source(x=1.0).replace(status="accepted")
    assert s.status == "accepted" and s.x == 1.0
    assert Source() == Source()  # NaN fields compare equal


def test_catalogue_edits():
    cat = Catalogue()
    a = cat.add(Source(x=1.0, y=1.0))
    b = cat.add(Source(x=2.0, y=2.0))
    c = cat.add(Source(source_id=10, x=3.0, y=3.0))
    assert (a.source_id, b.source_id, c.source_id) == (1, 2, 10)
    assert cat.add(Source()).source_id == 11
    with pytest.raises(ValueError):
        cat.add(Source(source_id=2))
    assert len(cat) == 4 and cat[1] == b and cat[-1].source_id == 11
    assert [s.source_id for s in cat] == [1, 2, 10, 11]
    assert cat.get(10) == c
    old, new = cat.update(2, status="accepted", note="ok")
    assert old == b and new.status == "accepted" and cat.get(2) == new
    removed = cat.remove(1)
    assert removed == a and cat.ids == [2, 10, 11]
    assert cat.get(10) == c  # index still right after removal
    with pytest.raises(KeyError):
        cat.get(1)
    with pytest.raises(KeyError):
        cat.remove(1)
    copy = cat.copy()
    copy.update(10, status="rejected")
    assert cat.get(10).status == "candidate"
    assert cat.filter(["accepted"]).ids == [2]
    assert cat.filter("candidate").ids == [10, 11]
    with pytest.raises(ValueError):
        cat.filter(["nonsense"])


def test_to_table_has_units_ucds_and_meta():
    cat = make_catalogue()
    table = cat.to_table()
    assert table.colnames == list(COLUMN_NAMES)
    assert len(table) == 4
    assert table["ra"].unit == u.deg
    assert table["maj"].unit == u.arcsec
    assert table["x"].unit == u.pix
    assert table["peak_flux"].unit == u.Jy / u.beam
    assert table["total_flux"].unit == u.Jy
    assert table["snr"].unit == u.dimensionless_unscaled
    assert table["ra"].meta["ucd"] == "pos.eq.ra;meta.main"
    assert table["snr"].meta["ucd"] == "stat.snr"
    assert table.meta["model"] == "decoras-unet"
    assert len(cat.to_table(statuses=["accepted", "rejected"])) == 2
    assert len(Catalogue().to_table()) == 0


# ------------------------------------------------------------------ round trips


@pytest.mark.parametrize("ext", ["ecsv", "fits", "fit", "vot", "votable", "xml", "csv"])
def test_round_trip(tmp_path, ext):
    cat = make_catalogue()
    path = tmp_path / f"cat.{ext}"
    assert cat.write(path) == path
    back = Catalogue.read(path)
    assert len(back) == len(cat)
    for got, want in zip(back, cat):
        assert got == want  # every field, NaN == NaN, strings and bools included
    if ext != "csv":
        for key, value in META.items():
            assert back.meta[key] == value, key
    # no temporary files left beside the target
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


@pytest.mark.parametrize("ext", ["ecsv", "fits", "vot"])
def test_units_in_files(tmp_path, ext):
    path = tmp_path / f"cat.{ext}"
    make_catalogue().write(path)
    table = Table.read(path)
    assert table["ra"].unit == u.deg
    assert table["maj"].unit == u.arcsec
    assert table["peak_flux"].unit == u.Jy / u.beam
    assert table["total_flux"].unit == u.Jy
    assert table["x"].unit == u.pix


def test_csv_is_plain_and_reads_with_spec_units(tmp_path):
    path = tmp_path / "cat.csv"
    make_catalogue().write(path)
    header = path.read_text().splitlines()[0]
    assert header.split(",")[:6] == ["source_id", "component_id", "island", "s_code", "ra", "dec"]
    table = Catalogue.read(path).to_table()
    assert table["maj"].unit == u.arcsec


def test_fits_header_keywords(tmp_path):
    path = tmp_path / "cat.fits"
    make_catalogue().write(path)
    with fits.open(path) as hdul:
        header = hdul[1].header
        assert header["MODEL"] == "decoras-unet"
        assert header["BEAMMAJ"] == pytest.approx(0.0021)
        assert header["IMAGE"] == "J1234+4000_X.fits"
        assert header["TTYPE5"] == "ra" and header["TUNIT5"] == "deg"


def test_votable_validates_and_carries_ucds(tmp_path):
    path = tmp_path / "cat.vot"
    make_catalogue().write(path)
    assert votable_is_valid(path)
    vot = parse_votable(str(path))
    fields = {f.name: f for f in vot.get_first_table().fields}
    assert fields["ra"].ucd == "pos.eq.ra;meta.main"
    assert fields["peak_flux"].ucd == "phot.flux.density;stat.max"
    assert str(fields["maj"].unit) == "arcsec"
    params = {p.name: p for p in vot.get_first_table().params}
    assert params["beam_maj"].value == pytest.approx(0.0021)
    assert str(params["beam_maj"].unit) == "arcsec"
    infos = {i.name: i.value for i in vot.resources[0].infos}
    assert infos["model_version"] == "1.0.3"


def test_empty_catalogue_round_trips(tmp_path):
    for ext in ("ecsv", "fits", "vot"):
        path = tmp_path / f"empty.{ext}"
        Catalogue(meta={"image": "x.fits"}).write(path)
        back = Catalogue.read(path)
        assert len(back) == 0 and back.meta["image"] == "x.fits"
    assert votable_is_valid(tmp_path / "empty.vot")


@pytest.mark.parametrize("ext", ["ecsv", "csv", "fits", "vot"])
def test_status_filter_on_write(tmp_path, ext):
    path = tmp_path / f"accepted.{ext}"
    make_catalogue().write(path, statuses=["accepted"])
    back = Catalogue.read(path)
    assert [s.status for s in back] == ["accepted"]
    assert back[0].source_id == 2


def test_explicit_format_and_overwrite(tmp_path):
    path = tmp_path / "catalogue.txt"
    cat = make_catalogue()
    cat.write(path, format="ecsv")
    assert len(Catalogue.read(path, format="ecsv")) == 4
    with pytest.raises(DecorasError) as err:
        cat.write(path, format="ecsv", overwrite=False)
    assert str(path) in str(err.value)
    with pytest.raises(DecorasError) as err:
        cat.write(tmp_path / "catalogue.dat")
    assert "catalogue.dat" in str(err.value)
    assert infer_format("a.VOTABLE") == "votable"
    assert infer_format("a.fits.gz") == "fits"


# ----------------------------------------------- foreign tables and unit conversion


def test_from_table_converts_units_and_fills_missing(tmp_path):
    table = Table()
    table["ra"] = [150.0, 150.1] * u.deg
    table["dec"] = [40.0, 40.1] * u.deg
    table["maj"] = [1e-6, 2e-6] * u.deg  # degrees in the file: arcsec in the catalogue
    table["Peak_flux"] = [12.0, 3.0] * u.mJy / u.beam
    table["status"] = ["Accepted", ""]
    path = tmp_path / "foreign.ecsv"
    table.write(path)
    cat = Catalogue.read(path)
    assert cat[0].maj == pytest.approx(0.0036)
    assert cat[1].maj == pytest.approx(0.0072)
    assert cat[0].peak_flux == pytest.approx(0.012)
    assert cat[0].status == "accepted" and cat[1].status == "candidate"
    assert cat[0].origin == "imported"
    assert math.isnan(cat[0].total_flux) and cat[0].note == "" and cat[0].edited is False
    assert cat.ids == [1, 2]


def test_pybdsf_like_fits_columns(tmp_path):
    table = Table()
    table["Source_id"] = np.array([0, 1])
    table["RA"] = [150.0, 150.1] * u.deg
    table["DEC"] = [40.0, 40.1] * u.deg
    table["Total_flux"] = [0.5, 0.25] * u.Jy
    table["Maj"] = [1e-6, 2e-6] * u.deg
    table["DC_Maj"] = [5e-7, 1e-6] * u.deg
    path = tmp_path / "pybdsf.fits"
    table.write(path)
    cat = Catalogue.read(path)
    assert cat.ids == [0, 1]
    assert cat[1].total_flux == pytest.approx(0.25)
    assert cat[0].maj == pytest.approx(0.0036)
    assert cat[0].maj_deconv == pytest.approx(0.0018)


def test_incompatible_unit_is_an_error(tmp_path):
    table = Table()
    table["ra"] = [150.0] * u.deg
    table["dec"] = [40.0] * u.deg
    table["maj"] = [1.0] * u.Jy
    path = tmp_path / "badunit.ecsv"
    table.write(path)
    with pytest.raises(DecorasError) as err:
        Catalogue.read(path)
    assert str(path) in str(err.value) and "maj" in str(err.value)


# ----------------------------------------------------------------------- bad input


def test_missing_file(tmp_path):
    path = tmp_path / "missing.ecsv"
    with pytest.raises(DecorasError) as err:
        Catalogue.read(path)
    assert str(path) in str(err.value)


@pytest.mark.parametrize("ext", ["ecsv", "csv", "fits", "vot"])
@pytest.mark.parametrize("content", [b"this is not a catalogue\nat all {{{ \n", b"\x00\x01\x02\xff" * 50])
def test_garbage_files(tmp_path, ext, content):
    path = tmp_path / f"garbage.{ext}"
    path.write_bytes(content)
    with pytest.raises(DecorasError) as err:
        Catalogue.read(path)
    assert str(path) in str(err.value)


def test_wrong_columns(tmp_path):
    path = tmp_path / "wrong.csv"
    Table({"a": [1, 2], "b": [3, 4]}).write(path)
    with pytest.raises(DecorasError) as err:
        Catalogue.read(path)
    assert str(path) in str(err.value) and "ra/dec or x/y" in str(err.value)


def test_bad_status_in_file(tmp_path):
    path = tmp_path / "badstatus.csv"
    Table({"x": [1.0], "y": [2.0], "status": ["maybe"]}).write(path)
    with pytest.raises(DecorasError) as err:
        Catalogue.read(path)
    assert str(path) in str(err.value) and "status" in str(err.value)


def test_write_into_missing_folder(tmp_path):
    path = tmp_path / "nowhere" / "cat.ecsv"
    with pytest.raises(DecorasError) as err:
        make_catalogue().write(path)
    assert "nowhere" in str(err.value)


def test_failed_write_keeps_old_file(tmp_path):
    path = tmp_path / "keep.ecsv"
    make_catalogue().write(path)
    before = path.read_bytes()
    bad = Catalogue(meta={"unserialisable": object()})
    with pytest.raises(Exception):
        bad.write(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["keep.ecsv"]
