"""PyBDSF-style source (srl) and Gaussian (gaul) lists with the LoTSS-DR1 column names and units."""

from __future__ import annotations

import math

import numpy as np
import pytest
from astropy import units as u
from astropy.io import fits
from astropy.table import Table

from decoras_gui.core.catalogue import Catalogue, Source
from decoras_gui.core.components import assign_groups
from decoras_gui.core.errors import DecorasError
from decoras_gui.core.pybdsf_layout import GAUL_COLUMNS, SRL_COLUMNS, iau_name, pybdsf_table

#: The columns of the LoTSS-DR1 source list (Shimwell et al. 2019, A&A 622, A1, table 5)
LOTSS_DR1_SRL = ["Source_Name", "RA", "E_RA", "E_RA_tot", "DEC", "E_DEC", "E_DEC_tot", "Peak_flux", "E_Peak_flux",
                 "E_Peak_flux_tot", "Total_flux", "E_Total_flux", "E_Total_flux_tot", "Maj", "E_Maj", "Min", "E_Min",
                 "DC_Maj", "E_DC_Maj", "DC_Min", "E_DC_Min", "PA", "E_PA", "DC_PA", "E_DC_PA", "Isl_rms", "S_Code",
                 "Mosaic_ID", "Isl_id"]
UNITS = {"RA": u.deg, "DEC": u.deg, "E_RA": u.arcsec, "E_DEC_tot": u.arcsec, "Peak_flux": u.mJy / u.beam,
         "E_Peak_flux_tot": u.mJy / u.beam, "Total_flux": u.mJy, "E_Total_flux": u.mJy, "Maj": u.arcsec,
         "DC_Min": u.arcsec, "PA": u.deg, "E_DC_PA": u.deg, "Isl_rms": u.mJy / u.beam}
BEAM = {"beam_maj": 6.0, "beam_min": 6.0, "beam_pa": 0.0, "image": "P164+55-mosaic.fits", "radesys": "ICRS"}


def lofar_source(ra, dec, peak, maj=7.0, mn=6.5, pa=40.0, **kw) -> Source:
    """A LoTSS-like component: 6 arcsec beam, 1.5 arcsec pixels, peak in Jy/beam, 0.1 mJy/beam noise."""
    return Source(ra=ra, dec=dec, x=kw.pop("x", 100.0), y=kw.pop("y", 100.0), peak_flux=peak,
                  peak_flux_err=1e-4, total_flux=peak * maj * mn / 36.0, total_flux_err=2e-4, maj=maj, min=mn, pa=pa,
                  maj_deconv=math.sqrt(maj**2 - 36.0), min_deconv=math.sqrt(mn**2 - 36.0), pa_deconv=pa,
                  ra_err=0.3, dec_err=0.25, local_rms=1e-4, maj_img=maj / 1.5, min_img=mn / 1.5,
                  theta_img=pa + 90.0, snr=peak / 1e-4, det_prob=0.99, **kw)


@pytest.fixture
def cat() -> Catalogue:
    comps = [lofar_source(164.1, 55.2, 0.010, x=100, y=100), lofar_source(164.1003, 55.2, 0.004, x=103, y=100),
             lofar_source(164.3, 55.4, 0.002, x=300, y=400)]
    return Catalogue(assign_groups(comps, [1, 1, 2]), meta=dict(BEAM))


def test_srl_has_the_lotss_dr1_columns_in_order_with_their_units(cat):
    t = pybdsf_table(cat, "srl")
    assert t.colnames[: len(LOTSS_DR1_SRL)] == LOTSS_DR1_SRL == list(SRL_COLUMNS)
    for name, unit in UNITS.items():
        assert t[name].unit == unit, name
    assert {"snr", "det_prob", "p_sidelobe", "status", "n_components"} <= set(t.colnames)  # our own, after
    assert len({c.lower() for c in t.colnames}) == len(t.colnames)  # FITS column names are case-blind


def test_srl_values_are_mjy_and_sources(cat):
    t = pybdsf_table(cat, "srl", flux_scale_error=0.2, astrometric_error=0.2)
    assert len(t) == 2 and list(t["S_Code"]) == ["M", "S"] and list(t["n_components"]) == [2, 1]
    assert list(t["Isl_id"]) == [0, 1] and set(t["Mosaic_ID"]) == {"P164+55-mosaic"}
    bright = t[0]
    assert bright["Peak_flux"] == pytest.approx(10.0)  # mJy/beam
    assert bright["Total_flux"] == pytest.approx(1e3 * sum(s.total_flux for s in list(cat)[:2]))
    assert bright["E_Total_flux_tot"] == pytest.approx(math.hypot(bright["E_Total_flux"], 0.2 * bright["Total_flux"]))
    single = t[1]
    assert single["E_RA_tot"] == pytest.approx(math.hypot(0.3, 0.2)) and single["E_DEC"] == pytest.approx(0.25)
    assert single["Isl_rms"] == pytest.approx(0.1) and single["Maj"] == pytest.approx(7.0)
    # Condon (1997) size errors: a few per cent at SNR 20, the PA error large for a nearly round source
    assert 0.005 < single["E_Maj"] / single["Maj"] < 0.2 and single["E_PA"] > 5.0
    assert single["E_DC_Maj"] == single["E_Maj"]
    assert t.meta["flux_scale_error"] == 0.2 and t.meta["layout"] == "pybdsf-srl"


def test_gaul_rows_are_components_of_sources(cat):
    t = pybdsf_table(cat, "gaul")
    assert list(t.colnames[: len(GAUL_COLUMNS)]) == list(GAUL_COLUMNS)
    assert {"Gaus_id", "Isl_id", "Source_id", "Xposn", "Isl_Total_flux"} <= set(t.colnames)
    assert set(LOTSS_DR1_SRL) - {"E_RA_tot"} <= set(t.colnames) | {"E_RA_tot"}
    assert list(t["Gaus_id"]) == [0, 1, 2] and list(t["Source_id"]) == [0, 0, 1] and list(t["Isl_id"]) == [0, 0, 1]
    assert t["Isl_Total_flux"][0] == pytest.approx(t["Total_flux"][0] + t["Total_flux"][1])
    assert list(t["component_id"]) == [s.source_id for s in cat]
    assert len({c.lower() for c in t.colnames}) == len(t.colnames)


def test_iau_names_truncate():
    ra = (42 * 60 + 44.33) * 15 / 3600  # 00 42 44.33 +41 16 07.5
    assert iau_name(ra, 41.26875, "M31") == "M31 J004244.33+411607.5"
    assert iau_name(10.6847458, 41.26875) == "DECORAS J004244.33+411607.5"  # 44.339 s truncated, not rounded
    assert iau_name(359.9999999, -0.5, "") == "J235959.99-003000.0"
    assert iau_name(150.0, -30.0000001, "X", fine=True) == "X J100000.0000-300000.000"
    assert iau_name(float("nan"), 0.0) == ""


@pytest.mark.parametrize("ext", [".fits", ".vot", ".csv"])
def test_srl_file_is_read_by_name_and_back_by_us(tmp_path, cat, ext):
    path = tmp_path / f"lotss_srl{ext}"
    cat.write(path, layout="srl")
    if ext == ".fits":
        with fits.open(path) as hdul:
            names = hdul[1].columns.names
            assert names[: len(LOTSS_DR1_SRL)] == LOTSS_DR1_SRL
            assert u.Unit(hdul[1].columns["Peak_flux"].unit, format="fits") == u.mJy / u.beam
    t = Table.read(path)
    sel = t[t["Total_flux"] > 5.0]  # downstream code as written for LoTSS: select by name, in mJy
    assert len(sel) == 1 and sel["S_Code"][0] == "M"
    back = Catalogue.read(path)  # PyBDSF names and mJy read back into ours (Jy)
    assert len(back) == 2
    assert back[0].peak_flux == pytest.approx(0.010, rel=1e-6) if ext != ".csv" else back[0].peak_flux > 0
    assert back[1].ra == pytest.approx(164.3) and back[1].local_rms == pytest.approx(1e-4 if ext != ".csv" else 0.1)


def test_bad_layout_and_negative_errors_are_refused(tmp_path, cat):
    with pytest.raises(DecorasError, match="layout"):
        cat.write(tmp_path / "x.fits", layout="aegean")
    with pytest.raises(DecorasError, match="negative"):
        cat.write(tmp_path / "x.fits", layout="srl", flux_scale_error=-1)
    assert not (tmp_path / "x.fits").exists()
    assert np.isnan(pybdsf_table(Catalogue([Source(x=1, y=2)]), "srl")["RA"][0])
