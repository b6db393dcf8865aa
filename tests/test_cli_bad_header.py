"""`decoras info BAD.fits` on nonsense header cards (issue 14): exit code 2, one line on
stderr naming the file and the card, no traceback, no hang. One interpreter per case (the
command takes one file), so a representative dozen; the slowest wall time is printed (the
issue's target is 2 s; a hang is caught at 60 s)."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from tests.core.header_patch import NASTY, names_card, write_case

HANG_S = 60
CASES = [  # (base image, card, value text, through gzip)
    ("2d", "NAXIS", "999999999", False),  # the measured hang
    ("2d", "NAXIS", "999999999", True),
    ("2d", "NAXIS1", NASTY["2**63"], False),
    ("2d", "BITPIX", NASTY["abc"], False),
    ("int", "BSCALE", NASTY["0"], False),
    ("int", "BLANK", "1.5", False),
    ("2d", "CDELT1", NASTY["NaN"], False),
    ("2d", "CRPIX1", NASTY["1e30"], False),
    ("2d", "CRVAL2", NASTY["999999999"], False),
    ("2d", "CTYPE1", NASTY["T"], False),
    ("cd", "CD1_1", NASTY["0"], False),
    ("pc", "PC1_2", NASTY["-inf"], False),
    ("4d", "NAXIS4", NASTY["-1"], False),
    ("fz", "ZNAXIS1", NASTY["999999999"], False),
]
WALL: list[tuple[float, str]] = []


@pytest.fixture(scope="module", autouse=True)
def report_slowest(request):
    yield
    if WALL:
        capture = request.config.pluginmanager.getplugin("capturemanager")
        with capture.global_and_fixture_disabled():
            seconds, case = max(WALL)
            print(f"\nslowest `decoras info` on a bad header: {seconds:.2f} s wall ({case}; "
                  f"{len(WALL)} cases, median {sorted(WALL)[len(WALL) // 2][0]:.2f} s)")


@pytest.mark.parametrize("kind, key, value, gz", CASES, ids=[f"{k}-{c}-{v[:12]}{'-gz' if g else ''}"
                                                             for k, c, v, g in CASES])
def test_info_refuses_the_card(tmp_path, kind, key, value, gz):
    path = write_case(tmp_path, kind, key, value, gz=gz)
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "decoras_gui", "info", str(path)],
                          capture_output=True, text=True, timeout=HANG_S)
    WALL.append((time.perf_counter() - start, path.name))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert str(path) in lines[0] and names_card(lines[0], key), lines[0]
    assert proc.stdout == ""
