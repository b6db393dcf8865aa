"""Instruments as data: the bundled files, a user's station file, and the simulator using them."""

from __future__ import annotations

import importlib.util
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from decoras_gui.core.errors import DecorasError
from decoras_gui.sim.array import get_schedule, uvw_tracks
from decoras_gui.sim.config import SimConfig
from decoras_gui.sim.field import make_header, simulate_field
from decoras_gui.sim.instrument import (
    BUNDLED_DIR,
    add_instrument,
    available_instruments,
    enu_to_itrf,
    get_instrument,
    read_instrument,
)

REPO = Path(__file__).resolve().parents[2]

#: longest baseline (km) each bundled array must have, within a few per cent
LONGEST_KM = {"VLBA": 8611.0, "LOFAR-HBA": 120.0, "EVN": 10157.0, "VLA-A": 36.4, "VLA-B": 11.1, "VLA-C": 3.4,
              "VLA-D": 1.03, "MeerKAT": 7.7, "ATCA": 5.94}  # VLA: its OSS; MeerKAT: SARAO; ATCA 6A


@pytest.fixture
def user_dir(tmp_path, monkeypatch):
    folder = tmp_path / "instruments"
    monkeypatch.setenv("DECORAS_INSTRUMENTS", str(folder))
    return folder


def test_every_bundled_instrument_reads_and_sits_on_the_earth():
    files = sorted(BUNDLED_DIR.glob("*.toml"))
    assert len(files) >= 2
    for path in files:
        inst = read_instrument(path)
        radius = np.linalg.norm(inst.xyz, axis=1)
        assert np.all((radius > 6.35e6) & (radius < 6.40e6)), path.name
        assert len(set(inst.station_names)) == len(inst.station_names) >= 2
        assert inst.schedules and inst.bands
        for band in inst.bands.values():
            assert len(band.sefd_jy) == len(inst.station_names) and min(band.sefd_jy) > 0
        assert path.read_text().lstrip().startswith("#"), f"{path.name}: say where its numbers come from"
        if inst.name in LONGEST_KM:
            assert inst.longest_baseline_m / 1e3 == pytest.approx(LONGEST_KM[inst.name], rel=0.03)


def test_the_lofar_file_is_what_lofarantpos_carries():
    pytest.importorskip("lofarantpos")
    spec = importlib.util.spec_from_file_location("lofar_hba", REPO / "scripts" / "instruments" / "lofar_hba.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (BUNDLED_DIR / "lofar-hba.toml").read_text() == module.render()
    inst = get_instrument("lofar-hba")  # any case
    assert len(inst.station_names) == 62  # 24 core stations split in two, 14 remote
    core, remote = inst.band("HBA").sefd_jy[0], inst.band("HBA").sefd_jy[-1]
    assert core == pytest.approx(2 * remote, rel=0.01)  # half the tiles, twice the SEFD


@pytest.mark.parametrize("name", [p.stem for p in sorted(BUNDLED_DIR.glob("*.toml"))])
def test_the_simulator_observes_with_every_bundled_instrument(name):
    inst = read_instrument(BUNDLED_DIR / f"{name}.toml")
    cell = inst.resolution_mas() / 5.0
    schedule = next(iter(inst.schedules))
    cfg = SimConfig(size=64, cell_mas=cell, instrument=inst.name, schedule=schedule, max_sources=2,
                    empty_fraction=0.0, margin_pix=8, dec_deg=30.0 if inst.xyz[:, 2].mean() > 0 else -40.0)
    f = simulate_field((3, 0), cfg)
    assert np.isfinite(f.dirty).all() and f.rms_predicted > 0
    assert f.beam.bmin / cell > 1.0  # resolved by the grid, not an aliased spike
    h = make_header(f)
    assert h["TELESCOP"] == inst.telescop
    assert any(f"instrument={inst.name}" in str(line) for line in h["HISTORY"])
    centre = inst.bands[inst.schedules[schedule].band].centre_hz
    assert h["CRVAL3"] == pytest.approx(centre, rel=1e-6)


def test_the_vlba_is_the_default_and_its_noise_follows_its_sefd():
    vlba = get_instrument()
    assert vlba.name == "VLBA" and vlba.band("L").sefd_jy == (289.0,) * 10
    sched = get_schedule("mjive20")
    tracks = uvw_tracks(sched, 30.0)
    expected = 289.0 / (0.88 * math.sqrt(2 * sched.chan_width_hz * sched.integration_s)) / math.sqrt(2)
    assert np.allclose(tracks.sigma, expected)


def _write_cfg(path: Path, coordsys: str = "LOC") -> Path:
    # a small east-west and north arm array, local metres about its centre
    rows = [(0.0, 0.0, 0.0), (300.0, 0.0, 0.0), (-500.0, 40.0, 1.0), (0.0, 800.0, -2.0), (1200.0, -300.0, 3.0)]
    text = ["# observatory=TESTARRAY", f"# coordsys={coordsys}", "# x y z diam pad"]
    text += [f"{x} {y} {z} 12.0 P{i}" for i, (x, y, z) in enumerate(rows)]
    path.write_text("\n".join(text) + "\n")
    return path


def test_a_user_adds_an_array_from_a_casa_station_file_and_simulates_with_it(tmp_path, user_dir):
    cfg_file = _write_cfg(tmp_path / "test.cfg")
    band = {"name": "L", "centre_hz": 1.4e9, "tsys_k": 25.0, "aperture_efficiency": 0.7,
            "reference": [21.44, -30.71, 1050.0]}
    written = add_instrument(cfg_file, name="MYARRAY", band=band)
    assert written.parent == user_dir and written.is_file()
    inst = get_instrument("myarray")
    assert inst.station_names == ("P0", "P1", "P2", "P3", "P4")
    d = inst.xyz[1] - inst.xyz[0]
    assert np.linalg.norm(d) == pytest.approx(300.0, abs=0.01)  # local offsets kept as distances
    # SEFD = 2 k Tsys / (eta pi D^2 / 4): 25 K, 12 m at 70 %: about 870 Jy
    assert inst.band().sefd_jy[0] == pytest.approx(2 * 1.380649e-23 * 25 / (0.7 * math.pi * 36) / 1e-26, rel=1e-9)
    assert "MYARRAY" in [i.name for i in available_instruments()]
    f = simulate_field((1, 0), SimConfig(size=64, cell_mas=inst.resolution_mas() / 4, instrument="MYARRAY",
                                         schedule="random", dec_deg=-30.0, margin_pix=8))
    assert np.isfinite(f.dirty).all()
    with pytest.raises(DecorasError, match="added before"):
        add_instrument(cfg_file, name="MYARRAY", band=band)
    add_instrument(cfg_file, name="MYARRAY", band=band, replace_existing=True)


def test_bad_instrument_files_are_refused_with_the_file_named(tmp_path, user_dir):
    band = {"name": "L", "centre_hz": 1.4e9, "sefd_jy": 400.0}
    with pytest.raises(DecorasError, match="bundled instrument"):
        add_instrument(_write_cfg(tmp_path / "a.cfg"), name="VLBA", band={**band, "reference": [0.0, 45.0, 0.0]})
    with pytest.raises(DecorasError) as err:  # local offsets given as geocentric positions
        add_instrument(_write_cfg(tmp_path / "b.cfg", "XYZ"), name="B", band=band)
    assert "Earth's surface" in str(err.value) and "b.cfg" in str(err.value)
    with pytest.raises(DecorasError, match="COFA"):
        add_instrument(_write_cfg(tmp_path / "c.cfg", "LOC"), name="C", band=band)
    bad = tmp_path / "d.toml"
    bad.write_text('name = "D"\nstations = [["A", 1, 2]]\n')
    with pytest.raises(DecorasError) as err:
        add_instrument(bad)
    assert "d.toml" in str(err.value)
    with pytest.raises(DecorasError, match="unknown instrument"):
        get_instrument("NOSUCH")
    with pytest.raises(DecorasError, match="schedule"):
        SimConfig(instrument="LOFAR-HBA", schedule="mjive20")
    assert not user_dir.exists() or not list(user_dir.glob("*.toml"))


def test_enu_offsets_turn_into_geocentric_positions():
    xyz = enu_to_itrf(np.array([[0.0, 0.0, 0.0], [1000.0, 0.0, 0.0], [0.0, 0.0, 100.0]]), -107.6184, 34.0784, 2124.0)
    assert np.linalg.norm(xyz[1] - xyz[0]) == pytest.approx(1000.0)
    assert np.linalg.norm(xyz[2]) - np.linalg.norm(xyz[0]) == pytest.approx(100.0, abs=0.5)  # up is outwards


def test_the_instruments_command_lists_shows_and_adds(tmp_path, user_dir):
    env_run = [sys.executable, "-m", "decoras_gui"]
    listed = subprocess.run([*env_run, "instruments"], capture_output=True, text=True, check=True).stdout
    for path in BUNDLED_DIR.glob("*.toml"):
        assert read_instrument(path).name in listed
    shown = subprocess.run([*env_run, "instruments", "show", "VLBA"], capture_output=True, text=True, check=True)
    assert "PT" in shown.stdout and "289 Jy" in shown.stdout
    cfg_file = _write_cfg(tmp_path / "mine.cfg")
    added = subprocess.run([*env_run, "instruments", "add", str(cfg_file), "--name", "MINE", "--band-centre", "5e9",
                            "--sefd", "300", "--reference", "10,45,100"], capture_output=True, text=True)
    assert added.returncode == 0, added.stderr
    assert (user_dir / "mine.toml").is_file()
    refused = subprocess.run([*env_run, "instruments", "add", str(cfg_file)], capture_output=True, text=True)
    assert refused.returncode != 0 and "mine.cfg" in refused.stderr and "Traceback" not in refused.stderr
