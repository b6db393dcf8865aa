"""Fields of extended emission observed with LOFAR HBA: the restore task's training data.

``simulate_surface_field(seed, config) -> SurfaceField`` draws an observation
(:func:`draw_lofar_observation`: a 4-8 h track at 120-168 MHz through the Dutch stations at their
real positions, natural, uniform or Briggs -1..1 weighting (LoTSS's -0.5 among them), residual
antenna gains), a sky of extended sources (:mod:`.extended`) scaled to
the observation's noise, and images it: the dirty image (the sky's visibilities at the cell centres,
times the gains, plus thermal noise, gridded and Fourier transformed, :mod:`.imaging`), its dirty
beam, and -- for ``image_kind = 'restored'`` -- the Hogbom CLEAN-restored image of it (:mod:`.clean`).

The visibilities of a pixelated sky at the centres of the padded grid's cells are exactly its
discrete Fourier transform there (:func:`image_visibilities`), so the dirty image is the sky
convolved with the dirty beam plus the gain and noise terms, as for the component skies of
:mod:`.field`. The validation families (``variety = 'ood'``) observe with schedules, weighting,
bad stations and calibration errors training never samples; images made by another imaging code
(WSClean, :mod:`decoras_gui.eval.wsclean`) are the other half of what training never sees.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from scipy import fft as sfft

from ..core.errors import DecorasError
from .array import Schedule, uvw_tracks
from .beam_fit import RestoringBeam
from .clean import clean_restore, draw_clean
from .config import config_from_dict
from .extended import ExtendedSky, draw_extended_sky
from .field import _trial_cell
from .imaging import MAS, Coverage, gain_errors, make_coverage, thermal_noise
from .instrument import get_instrument
from .observations import Observation

LOFAR = "LOFAR-HBA"


@dataclass(frozen=True)
class SurfaceConfig:
    """Everything but the seed that sets a restore field: geometry (``size`` pixels, ``ppb_range``
    pixels per restoring-beam minor axis, the cell following from the beam), the array and the
    observation family (``variety``: 'wide' for training, 'ood' for validation), declinations,
    the sky (:func:`~.extended.draw_extended_sky`'s options), ``image_kind`` ('dirty' or
    'restored'), and whether to add noise and the observation's antenna gain errors.
    ``observations``: how many distinct observations a family cycles through (fields ``(seed, i)``
    share observation ``i // fields_per_observation`` modulo it, so their coverage is built once;
    0: a new one for every field)."""

    size: int = 256
    instrument: str = LOFAR
    variety: str = "wide"
    image_kind: str = "dirty"
    ppb_range: tuple[float, float] = (3.0, 6.0)
    dec_range: tuple[float, float] = (15.0, 85.0)
    max_sources: int = 6
    kind_probs: tuple[float, ...] = (0.35, 0.2, 0.15, 0.12, 0.09, 0.09)
    snr_range: tuple[float, float] = (3.0, 300.0)
    empty_fraction: float = 0.05
    confusion_density: float = 0.02
    pad: int = 2
    noise: bool = True
    gain_errors: bool = True
    observations: int = 64
    fields_per_observation: int = 8

    def __post_init__(self) -> None:
        if self.variety not in ("wide", "ood"):
            raise DecorasError(f"unknown observation variety {self.variety!r} (wide, ood)")
        if self.image_kind not in ("dirty", "restored"):
            raise DecorasError(f"unknown image kind {self.image_kind!r} (dirty, restored)")

    @classmethod
    def from_dict(cls, d: dict) -> "SurfaceConfig":
        return config_from_dict(cls, d)


@dataclass(frozen=True)
class LofarObservation(Observation):
    """One drawn observation (:class:`~.observations.Observation`: schedule, imaging weights,
    gains, beam sampling) and where it points."""

    dec_deg: float
    ra_deg: float


@dataclass
class SurfaceField:
    """A simulated restore field (images ``size`` x ``size``, indexed [y, x])."""

    image: np.ndarray  # float32 Jy/beam: dirty, or CLEAN-restored for image_kind 'restored'
    psf: np.ndarray  # float32 dirty beam, peak 1 at (size // 2, size // 2)
    truth: np.ndarray  # float32 true sky, Jy/pixel
    sky: ExtendedSky
    beam: RestoringBeam  # fitted restoring beam (mas, mas, deg)
    rms: float  # predicted image rms, Jy/beam
    cell_arcsec: float
    observation: LofarObservation
    config: SurfaceConfig
    freq_hz: float
    clean: tuple | None = None  # restored images: (CleanSettings, iterations done)
    dirty: np.ndarray | None = field(default=None, repr=False)  # the dirty image too, when restored

    @property
    def beam_pix(self) -> float:
        """Geometric-mean FWHM of the restoring beam, pixels."""
        return float(np.sqrt(self.beam.bmaj * self.beam.bmin) / (self.cell_arcsec * 1000.0))


def _schedule(rng: np.random.Generator, variety: str, inst) -> tuple[str, tuple, tuple, float, tuple, float]:
    """(family, scan starts (h), scan lengths (min), sampled step (s), frequencies (Hz), channel width)."""
    if variety == "wide":
        hours, centre = rng.uniform(4.0, 8.0), rng.uniform(-1.0, 1.0)
        starts, lengths, family = (centre - hours / 2,), (hours * 60.0,), "track"
        step = float(rng.choice([300.0, 450.0, 600.0]))
        centre_hz, width = 144e6 + rng.uniform(-4e6, 4e6), 48e6
        n_f = int(rng.integers(4, 9))
    else:
        kind = int(rng.integers(3))
        if kind == 0:  # split track: two blocks with a gap (an interrupted night)
            gap, centre = rng.uniform(1.0, 3.0), rng.uniform(-1.0, 1.0)
            a, b = rng.uniform(1.5, 3.0, 2)
            starts, lengths, family = (centre - gap / 2 - a, centre + gap / 2), (a * 60.0, b * 60.0), "split-track"
        elif kind == 1:  # a short track, off transit
            hours = rng.uniform(2.0, 3.5)
            starts, lengths, family = (rng.uniform(-4.0, 1.0),), (hours * 60.0,), "short-track"
        else:  # an 8-hour track through a third of the stations less (a station outage)
            starts, lengths, family = (-4.0,), (480.0,), "outage"
        step = float(rng.choice([240.0, 360.0]))
        centre_hz, width = float(rng.choice([130e6, 155e6])), float(rng.choice([24e6, 72e6]))
        n_f = int(rng.choice([3, 6]))
    freqs = tuple(float(f) for f in centre_hz - width / 2 + width / n_f * (np.arange(n_f) + 0.5))
    return family, starts, lengths, step, freqs, width / n_f


def draw_lofar_observation(rng: np.random.Generator, variety: str, ppb_range: tuple[float, float],
                           dec_range: tuple[float, float], instrument: str = LOFAR) -> LofarObservation:
    """An observation of the ``variety`` families ('wide': training, 'ood': validation)."""
    inst = get_instrument(instrument)
    family, starts, lengths, step, freqs, chan_width = _schedule(rng, variety, inst)
    names = list(inst.station_names)
    if variety == "wide":
        n_missing = int(rng.integers(0, 5))
    else:
        n_missing = len(names) // 3 if family == "outage" else int(rng.integers(2, 7))
    drop = set(rng.choice(len(names), size=n_missing, replace=False).tolist())
    stations = tuple(n for i, n in enumerate(names) if i not in drop)
    sefd = np.exp(0.1 * rng.standard_normal(len(stations)))
    if variety == "wide":  # natural, uniform, or Briggs -1..1 (LoTSS's -0.5 among them), half the time
        w = int(rng.integers(4))
        weighting, robust, taper = (("natural", 0.0, 0.0), ("uniform", 0.0, 0.0),
                                    ("robust", float(rng.uniform(-1.0, 1.0)), 0.0),
                                    ("robust", float(rng.uniform(-1.0, 1.0)), 0.0))[w]
        gain_amp, gain_phase = rng.uniform(0.0, 0.05), rng.uniform(0.0, 10.0)
    else:  # weightings training never uses: Briggs beyond |R| = 1.2, or a Gaussian uv taper
        bad = rng.choice(len(stations), size=int(rng.integers(2, 6)), replace=False)
        sefd[bad] *= rng.uniform(2.0, 4.0, bad.size)
        w = int(rng.integers(3))
        weighting, robust, taper = (
            ("robust", float(rng.choice([-1.0, 1.0]) * rng.uniform(1.2, 2.0)), 0.0),
            ("natural", 0.0, float(rng.uniform(0.2, 0.4))),
            ("uniform", 0.0, float(rng.uniform(0.2, 0.4))))[w]
        gain_amp, gain_phase = rng.uniform(0.05, 0.12), rng.uniform(10.0, 25.0)
    schedule = Schedule(family, tuple(float(s) for s in starts), tuple(float(x) for x in lengths), freqs, chan_width,
                        step, stations, inst.elevation_limit_deg, instrument=inst.name,
                        sefd_scale=tuple(float(x) for x in sefd))
    dec = float(rng.uniform(*dec_range))
    return LofarObservation(family, schedule, weighting, robust, taper, float(gain_amp), float(gain_phase),
                            float(rng.uniform(*ppb_range)), "nearest", dec, float(rng.uniform(0.0, 360.0)))


def observe(obs: LofarObservation, size: int, pad: int = 2) -> Coverage:
    """The gridded coverage of ``obs`` at the cell its beam sampling asks for."""
    tracks = uvw_tracks(obs.schedule, obs.dec_deg)
    trial = make_coverage(tracks, 128, _trial_cell(tracks), 2, obs.weighting, obs.robust, obs.taper)
    if trial.beam.bmin <= 0:
        raise DecorasError("the observation's beam has no main lobe")
    cell = float(trial.beam.bmin / obs.pixels_per_beam)
    return make_coverage(tracks, size, cell, pad, obs.weighting, obs.robust, obs.taper)


@lru_cache(maxsize=4)
def _cached_observation(variety: str, seed_key: tuple, size: int, pad: int, ppb_range: tuple, dec_range: tuple,
                        instrument: str) -> tuple[LofarObservation, Coverage]:
    rng = np.random.default_rng(list(seed_key) + [17])
    for attempt in range(8):
        obs = draw_lofar_observation(rng, variety, ppb_range, dec_range, instrument)
        try:
            return obs, observe(obs, size, pad)
        except (DecorasError, np.linalg.LinAlgError, ValueError):
            if attempt == 7:
                raise
    raise AssertionError("unreachable")


def image_visibilities(cov: Coverage, sky: np.ndarray) -> np.ndarray:
    """Visibilities (Jy) at the kept samples of ``cov`` of a sky image (Jy/pixel, ``cov.size``
    square, phase centre at pixel (size // 2, size // 2)): its discrete Fourier transform at each
    sample's cell centre, V(u, v) = sum S(x, y) exp(-2 pi i (u l + v m)), l east."""
    n, npad = cov.size, cov.npad
    c = n // 2
    grid = np.zeros((npad, npad))
    rows = (np.arange(n) - c) % npad
    grid[np.ix_(rows, rows)] = sky
    ft = sfft.fft2(grid, workers=1)
    dl = cov.cell_mas * MAS
    nx = np.rint(-cov.ucell_u * dl * npad).astype(np.int64) % npad
    ny = np.rint(cov.ucell_v * dl * npad).astype(np.int64) % npad
    return ft[ny, nx][cov.uinv]


def simulate_surface_field(seed, config: SurfaceConfig = SurfaceConfig()) -> SurfaceField:
    """One restore field, a pure function of ``(seed, config)`` (``seed``: an int or (base, index))."""
    key = tuple(int(s) for s in (seed if isinstance(seed, (tuple, list)) else (seed,)))
    rng = np.random.default_rng(list(key) + [3])
    if config.observations > 0:  # fields share observations: their coverage is built once
        index = key[-1] // max(config.fields_per_observation, 1) % config.observations
        obs_key = (*key[:-1], index, 1)
    else:
        obs_key = (*key, 0)
    obs, cov = _cached_observation(config.variety, obs_key, config.size, config.pad, tuple(config.ppb_range),
                                   tuple(config.dec_range), config.instrument)
    cell_arcsec = cov.cell_mas / 1000.0
    beam_pix = float(np.sqrt(cov.beam.bmaj * cov.beam.bmin) / cov.cell_mas)
    sky = draw_extended_sky(rng, config.size, beam_pix, cov.rms, max_sources=config.max_sources,
                            kind_probs=config.kind_probs, snr_range=config.snr_range,
                            empty_fraction=config.empty_fraction, confusion_density=config.confusion_density)
    vis = image_visibilities(cov, sky.image)
    if config.gain_errors and (obs.gain_amp > 0 or obs.gain_phase_deg > 0):
        vis = vis * gain_errors(cov, rng, obs.gain_amp, obs.gain_phase_deg)
    if config.noise:
        vis = vis + thermal_noise(cov, rng)
    dirty = cov.image(vis)
    image, clean, kept = dirty, None, None
    if config.image_kind == "restored":
        settings = draw_clean(rng, "ood" if config.variety == "ood" else "wide")
        image, n_iter = clean_restore(dirty, cov.beam_image, cov.beam, cov.cell_mas, cov.rms, settings)
        clean, kept = (settings, n_iter), dirty
    freq = float(np.mean(obs.schedule.freqs_hz))
    return SurfaceField(image.astype(np.float32), cov.beam_image, sky.image, sky, cov.beam, float(cov.rms),
                        cell_arcsec, obs, config, freq, clean, kept)
