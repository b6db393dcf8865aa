"""Centres refit on the image: closer to the truth than a perturbed first guess, neighbours removed."""

from __future__ import annotations

import math

import numpy as np

from decoras_gui.ml.refine import gaussian, refine_positions

SHAPE = (96, 96)
YY, XX = np.mgrid[: SHAPE[0], : SHAPE[1]]


def measurement(x, y, peak=1.0, maj=13.0, mn=5.0, theta=20.0) -> dict:
    return {"x": x, "y": y, "peak": peak, "maj": maj, "min": mn, "theta": theta}


def test_offset_guess_is_pulled_onto_the_source():
    rng = np.random.default_rng(3)
    data = gaussian(XX, YY, 1.0, 40.3, 51.7, 13.0, 5.0, 20.0) + rng.normal(0, 0.02, SHAPE)
    guess = measurement(41.3, 51.0)
    (_, m), = refine_positions(data, [(1, guess)], bmin_px=5.0)
    assert math.hypot(m["x"] - 40.3, m["y"] - 51.7) < 0.1
    assert (m["maj"], m["min"], m["theta"], m["peak"]) == (13.0, 5.0, 20.0, 1.0)  # only the centre moves


def test_close_neighbour_light_is_subtracted():
    a = measurement(40.0, 48.0, peak=1.0, theta=0.0)
    b = measurement(40.0, 55.0, peak=3.0, theta=0.0)  # 1.4 beam minor axes away, three times brighter
    data = sum(gaussian(XX, YY, m["peak"], m["x"], m["y"], m["maj"], m["min"], m["theta"]) for m in (a, b))
    out = refine_positions(data, [(1, {**a, "y": 48.8}), (2, b)], bmin_px=5.0)
    assert math.hypot(out[0][1]["x"] - 40.0, out[0][1]["y"] - 48.0) < 0.05
    assert math.hypot(out[1][1]["x"] - 40.0, out[1][1]["y"] - 55.0) < 0.05


def test_unusable_fits_keep_the_network_centre():
    data = np.full(SHAPE, np.nan)
    data[:, 60:] = 0.0
    nan_core = measurement(30.0, 30.0)
    edge = measurement(95.4, 0.2)
    noise_only = measurement(70.0, 70.0)
    data[60:80, 60:80] = -1.0  # no positive source there: a negative amplitude is refused
    out = dict(refine_positions(data, [(1, nan_core), (2, edge), (3, noise_only)], bmin_px=5.0))
    assert out[1] == nan_core and out[3] == noise_only
    assert math.hypot(out[2]["x"] - 95.4, out[2]["y"] - 0.2) <= 2.5
