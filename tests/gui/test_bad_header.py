"""The window on nonsense header cards (issue 14): opening one shows an error message box
naming the file and the card, the image open before stays open, nothing hangs."""

from __future__ import annotations

import time

import pytest

from tests.core.header_patch import NASTY, base_bytes, names_card, write_case

HANG_MS = 60_000
BAD = [  # (base image, card, value text)
    ("2d", "NAXIS", "999999999"),  # the measured hang
    ("2d", "CDELT1", NASTY["NaN"]),
    ("int", "BSCALE", NASTY["0"]),
    ("2d", "CRVAL2", NASTY["999999999"]),
    ("fz", "ZNAXIS1", NASTY["999999999"]),
]


@pytest.fixture
def good(tmp_path):
    path = tmp_path / "good.fits"
    path.write_bytes(base_bytes("2d"))
    return path


def test_bad_headers_show_an_error_and_keep_the_image(qtbot, window, good, tmp_path):
    with qtbot.waitSignal(window.image_opened, timeout=HANG_MS):
        window.open_path(good)
    assert window.image.path == good
    timings = []
    for kind, key, value in BAD:
        bad = write_case(tmp_path, kind, key, value)
        start = time.perf_counter()
        with qtbot.waitSignal(window.task_failed, timeout=HANG_MS) as failed:
            window.open_path(bad)
        timings.append((time.perf_counter() - start, bad.name))
        message = failed.args[0]
        assert str(bad) in message and names_card(message, key), message
        qtbot.waitUntil(lambda: window.error_box is not None and window.error_box.isVisible(), timeout=HANG_MS)
        box = window.error_box
        assert bad.name in box.text() and names_card(box.text(), key), box.text()
        assert window.image.path == good, "the image open before must stay open"
        box.accept()
        qtbot.waitUntil(lambda: window.error_box is None, timeout=HANG_MS)
    seconds, case = max(timings)
    print(f"slowest bad header in the window: {seconds:.2f} s from open_path to task_failed ({case})")
    with qtbot.waitSignal(window.image_opened, timeout=HANG_MS):  # still usable
        window.open_path(good)
