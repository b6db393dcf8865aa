"""Families of observations: what a field's schedule, correlator set-up, array, weighting,
calibration and beam sampling are drawn from (``SimConfig.variety``).

``'wide'`` -- the training families, spanning what real VLBA L-band observations do:

* schedules: a single scan (1-10 min), snapshots (2-8 scans of 1-5 min over 0.5-6 h), and
  full tracks (4-12 h of 20-min scans);
* 1, 2, 4, ..., 64 correlator channels across 32-256 MHz, integrations of 2-120 s, with the
  bandwidth and time smearing they cause;
* 0-3 stations missing, station SEFDs scattered by 10 %;
* natural, uniform or robust (-1..1) weighting; residual gains up to 10 % / 20 deg rms;
* 3-8 pixels per beam minor axis (the cell size follows from the beam).

``'ood'`` -- the validation families, which training never samples:

* schedules of another shape: split tracks (two 1.5-3 h blocks 3-5 h apart), regular-cadence
  surveys (12-24 scans of 30-60 s evenly over 8-12 h), snapshot pairs 5-8 h apart;
* channel counts 3, 6, 12, 24, 48, 96 or 128 across 96 or 192 MHz, 1 s or 20 s integrations;
* one or two bad stations (SEFD x 2-4) on top of the scatter;
* robust weighting beyond |R| = 1.2, or a Gaussian uv taper (with natural or uniform weights);
* the second imaging route: Kaiser-Bessel convolutional gridding (:mod:`.kernel_imaging`).

The families are written for the VLBA at L band; with another instrument (``SimConfig.instrument``)
its stations are dropped from, and the bandwidths and band-centre offsets scale with its band's
(by the median of its bandwidths over 64 MHz, and its jitter over 20 MHz).

The number of samples stays bounded: at most 8 frequencies and a time step of at least 10 s
(120 s in tracks) are sampled, each standing for the data it averages, while smearing follows
the correlator's own channel width and integration.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.errors import DecorasError
from .array import Schedule, _band
from .instrument import DEFAULT_INSTRUMENT, Band, Instrument, get_instrument

MAX_SAMPLED_FREQS = 8


@dataclass(frozen=True)
class Observation:
    """One drawn observation: how a field is observed and imaged."""

    family: str
    schedule: Schedule
    weighting: str
    robust: float
    taper: float
    gain_amp: float
    gain_phase_deg: float
    pixels_per_beam: float
    gridder: str


def _stations(rng: np.random.Generator, names: tuple[str, ...]) -> tuple[str, ...]:
    n_missing = min(int(rng.choice(4, p=[0.4, 0.3, 0.2, 0.1])), len(names) - 3)  # at least three stay
    missing = set(rng.choice(len(names), size=max(n_missing, 0), replace=False).tolist())
    return tuple(n for i, n in enumerate(names) if i not in missing)


#: the bandwidths and centre offsets below are the VLBA L band's; other bands scale them
VLBA_L_WIDTH_HZ = 64e6  # the median of the band's bandwidths they scale by
VLBA_L_JITTER_HZ = 20e6


def _correlator(rng: np.random.Generator, channels, bands_hz, integrations_s, rx: Band) -> dict:
    """Frequencies sampled, the bandwidth each stands for, and the smearing width and time."""
    nchan = int(rng.choice(channels))
    scale = float(np.median(rx.bandwidths_hz)) / VLBA_L_WIDTH_HZ
    band = float(rng.choice(bands_hz)) * scale
    n_f = min(nchan, MAX_SAMPLED_FREQS)
    reach = 50e6 * (rx.jitter_hz / VLBA_L_JITTER_HZ)
    centre = rx.centre_hz + rng.uniform(-reach, reach)
    return {"freqs_hz": _band(centre, band, n_f), "chan_width_hz": band / n_f, "smearing": True,
            "smear_width_hz": band / nchan, "smear_time_s": float(rng.choice(integrations_s))}


def _scans(starts, length_min: float | np.ndarray) -> tuple[tuple[float, ...], tuple[float, ...]]:
    starts = np.sort(np.atleast_1d(np.asarray(starts, float)))
    lengths = np.broadcast_to(np.asarray(length_min, float), starts.shape)
    return tuple(float(s) for s in starts), tuple(float(x) for x in lengths)


def _wide_schedule(rng: np.random.Generator) -> tuple[str, tuple, tuple, float]:
    """(family, scan starts (h), scan lengths (min), sampling step (s)) of a training schedule."""
    kind = rng.choice(3, p=[0.25, 0.45, 0.30])
    if kind == 0:
        return ("single-scan", *_scans([rng.uniform(-4.0, 4.0)], rng.uniform(1.0, 10.0)), 10.0)
    if kind == 1:
        n = int(rng.integers(2, 9))
        spread, centre = rng.uniform(0.5, 6.0), rng.uniform(-2.0, 2.0)
        return ("snapshot", *_scans(centre + spread * (rng.random(n) - 0.5), rng.uniform(1.0, 5.0, n)), 10.0)
    hours, centre = rng.uniform(4.0, 12.0), rng.uniform(-1.5, 1.5)
    starts = centre - hours / 2 + np.arange(0.0, hours, 22.0 / 60.0)
    return ("track", *_scans(starts, 20.0), 120.0)


def _ood_schedule(rng: np.random.Generator) -> tuple[str, tuple, tuple, float]:
    """A validation schedule, of a shape the training families never have."""
    kind = rng.choice(3)
    if kind == 0:  # split track: two blocks of 10-min scans with a long gap
        gap, centre = rng.uniform(3.0, 5.0), rng.uniform(-1.0, 1.0)
        blocks = []
        for sign in (-1, 1):
            length = rng.uniform(1.5, 3.0)
            edge = centre + sign * gap / 2
            start = edge if sign > 0 else edge - length
            blocks.append(start + np.arange(0.0, length, 12.0 / 60.0))
        return ("split-track", *_scans(np.concatenate(blocks), 10.0), 60.0)
    if kind == 1:  # regular-cadence survey: many short scans evenly over most of a day's track
        n, hours = int(rng.integers(12, 25)), rng.uniform(8.0, 12.0)
        starts = rng.uniform(-1.0, 1.0) - hours / 2 + hours * np.arange(n) / (n - 1)
        return ("cadence", *_scans(starts, rng.uniform(0.5, 1.0)), 10.0)
    sep, centre = rng.uniform(5.0, 8.0), rng.uniform(-1.0, 1.0)  # snapshot pair
    starts = [centre - sep / 2 + rng.uniform(0, 0.2) * k for k in range(int(rng.integers(1, 3)))]
    starts += [centre + sep / 2 + rng.uniform(0, 0.2) * k for k in range(int(rng.integers(1, 3)))]
    return ("pair", *_scans(starts, rng.uniform(2.0, 3.0)), 10.0)


def draw_observation(rng: np.random.Generator, variety: str, ppb_range: tuple[float, float],
                     instrument: Instrument | str = DEFAULT_INSTRUMENT, band: str | None = None) -> Observation:
    """Draw one observation of the ``variety`` family set ('wide' or 'ood') with ``instrument``
    in ``band`` (default its first)."""
    inst = get_instrument(instrument) if isinstance(instrument, str) else instrument
    rx = inst.band(band or None)
    if variety == "wide":
        family, starts, lengths, step = _wide_schedule(rng)
        corr = _correlator(rng, [1, 2, 4, 8, 16, 32, 64], [32e6, 64e6, 128e6, 256e6], [2.0, 4.0, 10.0, 30.0],
                           rx)
        if family == "track":
            corr["smear_time_s"] = float(rng.choice([2.0, 4.0, 10.0, 30.0, 60.0, 120.0]))
        stations = _stations(rng, inst.station_names)
        sefd = np.exp(0.1 * rng.standard_normal(len(stations)))
        w = rng.choice(3, p=[0.4, 0.2, 0.4])
        weighting, robust, taper = (("natural", 0.0, 0.0), ("uniform", 0.0, 0.0),
                                    ("robust", float(rng.uniform(-1.0, 1.0)), 0.0))[w]
        gridder = "nearest"
    elif variety == "ood":
        family, starts, lengths, step = _ood_schedule(rng)
        corr = _correlator(rng, [3, 6, 12, 24, 48, 96, 128], [96e6, 192e6], [1.0, 20.0], rx)
        stations = _stations(rng, inst.station_names)
        sefd = np.exp(0.1 * rng.standard_normal(len(stations)))
        bad = rng.choice(len(stations), size=int(rng.integers(1, 3)), replace=False)
        sefd[bad] *= rng.uniform(2.0, 4.0, bad.size)
        w = rng.choice(3, p=[0.5, 0.3, 0.2])
        if w == 0:
            r = float(rng.uniform(1.2, 2.0)) * (1.0 if rng.random() < 0.5 else -1.0)
            weighting, robust, taper = "robust", r, 0.0
        else:
            weighting, robust, taper = ("natural" if w == 1 else "uniform"), 0.0, float(rng.uniform(0.3, 0.7))
        gridder = "kernel"
    else:
        raise DecorasError(f"unknown observation variety {variety!r} (wide, ood)")
    step = max(step, corr["smear_time_s"])
    schedule = Schedule(family, starts, lengths, corr["freqs_hz"], corr["chan_width_hz"], step, stations,
                        inst.elevation_limit_deg, instrument=inst.name, smearing=True,
                        smear_width_hz=corr["smear_width_hz"], smear_time_s=corr["smear_time_s"],
                        sefd_scale=tuple(float(x) for x in sefd))
    return Observation(family, schedule, weighting, robust, taper, float(rng.uniform(0.0, 0.10)),
                       float(rng.uniform(0.0, 20.0)), float(rng.uniform(*ppb_range)), gridder)
