#!/usr/bin/env python
"""Write decoras_gui/sim/instruments/lofar-hba.toml from the LOFAR station positions that the
``lofarantpos`` package carries (ASTRON's station calibration tables, ETRS89/ITRF metres).

The Dutch array as LoTSS images it: the 24 core stations split into their two 24-tile HBA
fields (CSxxxHBA0 / HBA1) plus the 14 remote stations' 48-tile fields. SEFDs follow the
ASTRON sensitivity page's recipe, SEFD = 2 k Tsys / A_eff, with A_eff = tiles x 16 dipoles x
min(lambda^2 / 3, 1.5625 m^2) and Tsys = 60 K lambda^2.55 (Galactic, mid latitudes) + 140 K
(receiver) at the band centre: about 2.6 kJy for a core sub-station, 1.3 kJy for a remote one.
Run: python scripts/instruments/lofar_hba.py (tests/sim/test_instrument.py checks the file
against lofarantpos).
"""

from __future__ import annotations

import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[2] / "decoras_gui" / "sim" / "instruments" / "lofar-hba.toml"
CENTRE_HZ = 144e6
K_BOLTZMANN = 1.380649e-23


def sefd_jy(tiles: int, freq_hz: float = CENTRE_HZ) -> float:
    """SEFD of an HBA field of ``tiles`` tiles at ``freq_hz`` (ASTRON's recipe, module docstring)."""
    lam = 299_792_458.0 / freq_hz
    area = tiles * 16 * min(lam ** 2 / 3.0, 1.5625)
    tsys = 60.0 * lam ** 2.55 + 140.0
    return 2.0 * K_BOLTZMANN * tsys / area / 1e-26


def stations() -> list[tuple[str, float, float, float, float, int]]:
    """(name, x, y, z, diameter m, tiles) of the Dutch HBA fields, LoTSS-style."""
    from lofarantpos.db import LofarAntennaDatabase

    centres = LofarAntennaDatabase().phase_centres
    rows = []
    for name in sorted(centres):
        if name.startswith("CS") and name.endswith(("HBA0", "HBA1")):
            rows.append((name, *map(float, centres[name]), 30.8, 24))
        elif name.startswith("RS") and name.endswith("HBA"):
            rows.append((name, *map(float, centres[name]), 41.0, 48))
    return rows


def render() -> str:
    rows = stations()
    core, remote = sefd_jy(24), sefd_jy(48)
    lines = [
        "# LOFAR HBA, the Dutch array as LoTSS images it (Shimwell et al. 2017, 2019): the 24 core",
        "# stations split into their two 24-tile fields, plus the 14 remote stations.",
        "# Positions: the lofarantpos package (ASTRON's station calibration tables), geocentric metres;",
        "# written by scripts/instruments/lofar_hba.py -- do not edit by hand.",
        f"# SEFDs at {CENTRE_HZ / 1e6:.0f} MHz: 2 k Tsys / A_eff (ASTRON's LOFAR sensitivity page):",
        f"#   core sub-station {core:.0f} Jy, remote station {remote:.0f} Jy.",
        'name = "LOFAR-HBA"',
        'full_name = "LOFAR High Band Antennas (Dutch stations)"',
        'array = "connected"',
        'frame = "itrf"',
        "reference_longitude_deg = 6.9",
        "elevation_limit_deg = 20.0",
        "quantisation_efficiency = 0.95",
        'telescop = "LOFAR"',
        "",
        "stations = [",
        "  # name, x (m), y (m), z (m), diameter (m) of the tile field",
    ]
    lines += [f'  ["{n}", {x:.3f}, {y:.3f}, {z:.3f}, {d:.1f}],' for n, x, y, z, d, _ in rows]
    lines += ["]", "", "[bands.HBA]", f"centre_hz = {CENTRE_HZ:.6g}", "bandwidths_hz = [24e6, 48e6]",
              "jitter_hz = 4e6", f"sefd_jy = {core:.0f}.0",
              "sefd_by_station = { " + ", ".join(f'"{n}" = {remote:.0f}.0' for n, *_ , t in rows if t == 48) + " }",
              "",
              "# a short look: three 10-minute scans two hours apart",
              "[schedules.snapshot]", 'band = "HBA"', "scan_ha_h = [-2.0, 0.0, 2.0]",
              "scan_len_min = [10.0, 10.0, 10.0]", "nchan = 4", "bandwidth_hz = 48e6", "integration_s = 60.0",
              "",
              "# a LoTSS pointing: 8 h centred on transit, 120-168 MHz",
              "[schedules.track]", 'band = "HBA"', "scan_ha_h = [-4.0]", "scan_len_min = [480.0]",
              "nchan = 6", "bandwidth_hz = 48e6", "integration_s = 300.0", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    OUT.write_text(render())
    print(f"wrote {OUT} ({len(stations())} stations)", file=sys.stderr)
