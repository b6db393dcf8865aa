"""One simulated field: ``simulate_field(seed, config) -> SimField`` (pure in its arguments)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property, lru_cache

import astropy.units as u
import numpy as np
from astropy.io import fits
from astropy.stats import sigma_clipped_stats
from astropy.table import Table
from astropy.wcs import WCS

from ..core.errors import DecorasError
from .array import Schedule, get_schedule, uvw_tracks
from .clean import clean_restore, draw_clean
from .config import SimConfig
from .imaging import (
    FWHM_SIGMA,
    MAS,
    RestoringBeam,
    gain_errors,
    gaussian_cov,
    make_coverage,
    restored_components,
    thermal_noise,
)
from .instrument import get_instrument
from .observations import draw_observation
from .sky import SkyModel, random_sky

SeedLike = int | tuple | list | np.random.SeedSequence | np.random.Generator


@dataclass(frozen=True)
class SimField:
    """A simulated field and its training targets (all images size x size, indexed [y, x]).

    ``dirty``, ``restored`` and ``mask`` are computed eagerly; ``rms``, ``header``, ``wcs``
    and ``truth`` on first access (training loops that need only the images skip them).
    """

    dirty: np.ndarray  # float32, Jy/beam
    beam_image: np.ndarray  # float32 dirty beam, peak 1 at pixel (size//2, size//2)
    restored: np.ndarray  # float32 noise-free sky convolved with the restoring beam, Jy/beam
    mask: np.ndarray  # bool: inside any component's restored FWHM ellipse (config.mask_level)
    peaks: np.ndarray  # restored peak (Jy/beam) of each component
    rms_predicted: float  # from the per-visibility noise and weights, Jy/beam
    beam: RestoringBeam  # fitted restoring beam (mas, mas, deg)
    sky: SkyModel
    schedule: Schedule
    dec_deg: float
    ra_deg: float
    config: SimConfig
    n_vis: int
    clean: tuple | None = None  # restored images: (CleanSettings, iterations done)

    @cached_property
    def rms(self) -> float:
        """Measured robust rms of ``dirty``: sigma-clipped (3 sigma) std, Jy/beam."""
        if not self.config.noise:
            return float(np.std(self.dirty))
        return float(sigma_clipped_stats(self.dirty, sigma=3.0, maxiters=5)[2])

    @cached_property
    def header(self) -> fits.Header:
        """4-D AIPS-style header of the dirty image."""
        return make_header(self)

    @cached_property
    def wcs(self) -> WCS:
        """Celestial WCS of the 2-D images."""
        return WCS(self.header, naxis=2)

    @cached_property
    def truth(self) -> Table:
        """Truth catalogue, one row per component (see ``truth_table``)."""
        return truth_table(self)


def make_rng(seed: SeedLike) -> np.random.Generator:
    """A Generator from an int, a tuple/list of ints (e.g. (base_seed, index)) or a SeedSequence."""
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, (tuple, list)):
        seed = np.random.SeedSequence([int(s) for s in seed])
    return np.random.default_rng(seed)


def coverage_for(tracks, cfg: SimConfig):
    """The coverage of ``tracks`` imaged as ``cfg`` says (cell, weighting, taper, gridder)."""
    if cfg.gridder == "kernel":
        from .kernel_imaging import make_kernel_coverage

        return make_kernel_coverage(tracks, cfg.size, cfg.cell_mas, cfg.pad, cfg.weighting, cfg.robust, cfg.taper)
    return make_coverage(tracks, cfg.size, cfg.cell_mas, cfg.pad, cfg.weighting, cfg.robust, cfg.taper)


@lru_cache(maxsize=96)
def cached_coverage(schedule: Schedule, dec_deg: float, size: int, cell_mas: float, pad: int,
                    weighting: str, robust: float, taper: float = 0.0, gridder: str = "nearest"):
    """uv coverage, dirty beam and restoring beam of a (deterministic) schedule at one declination."""
    cfg = SimConfig(size=size, cell_mas=cell_mas, pad=pad, weighting=weighting, robust=robust, taper=taper,
                    gridder=gridder)
    return coverage_for(uvw_tracks(schedule, dec_deg), cfg)


def _observe_variety(rng: np.random.Generator, cfg: SimConfig, attempts: int = 8):
    """Draw an observation of ``cfg.variety``: the effective configuration (cell size from the
    beam sampling drawn, weighting, gains, gridder), the schedule, declination and coverage.
    An observation that cannot be imaged (no sample above the elevation limit, a beam with no
    main lobe) is drawn again, up to ``attempts`` times."""
    for attempt in range(attempts):
        try:
            return _observe_once(rng, cfg)
        except (DecorasError, np.linalg.LinAlgError, ValueError):
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def _observe_once(rng: np.random.Generator, cfg: SimConfig):
    instrument, band = cfg.instrument, cfg.band or None
    if cfg.instrument_mix:  # a model for several arrays: each field one of them
        instrument = str(cfg.instrument_mix[int(rng.integers(len(cfg.instrument_mix)))])
    if band == "any":
        bands = list(get_instrument(instrument).bands)
        band = bands[int(rng.integers(len(bands)))]
    obs = draw_observation(rng, cfg.variety, cfg.ppb_range, instrument, band)
    dec = float(cfg.dec_deg) if cfg.dec_deg is not None else float(rng.uniform(*cfg.dec_range))
    tracks = uvw_tracks(obs.schedule, dec)
    eff = replace(cfg, weighting=obs.weighting, robust=obs.robust, taper=obs.taper, gain_amp_sigma=obs.gain_amp,
                  gain_phase_deg=obs.gain_phase_deg, gridder=obs.gridder)
    if cfg.crowded_fraction > 0 and rng.random() < cfg.crowded_fraction:
        eff = replace(eff, max_sources=cfg.crowded_max_sources, empty_fraction=0.0, min_sep_beams=1.5)
    # the beam at a trial cell (nearest-cell gridding, a small grid) fixes the cell for the sampling drawn
    trial = make_coverage(tracks, 128, _trial_cell(tracks), 2, eff.weighting, eff.robust, eff.taper)
    eff = replace(eff, cell_mas=float(trial.beam.bmin / obs.pixels_per_beam))
    return eff, obs.schedule, dec, coverage_for(tracks, eff)


def _trial_cell(tracks) -> float:
    """A cell (mas) that samples the longest baseline's fringe about four times."""
    uv_max = float(np.sqrt(np.max(tracks.u**2 + tracks.v**2)))
    return 1.0 / (4.0 * uv_max * MAS)


def simulate_field(seed: SeedLike, config: SimConfig = SimConfig()) -> SimField:
    """Simulate one field: a pure function of ``(seed, config)`` (pass an int or (base, index))."""
    rng = make_rng(seed)
    cfg = config
    if cfg.variety != "none":
        cfg, schedule, dec, cov = _observe_variety(rng, cfg)
    elif cfg.schedule == "random":
        schedule = get_schedule("random", rng, cfg.instrument, cfg.band or None)
        dec = float(cfg.dec_deg) if cfg.dec_deg is not None else float(rng.uniform(*cfg.dec_range))
        cov = coverage_for(uvw_tracks(schedule, dec), cfg)
    else:
        schedule = get_schedule(cfg.schedule, instrument=cfg.instrument)
        if cfg.dec_deg is not None:
            dec = float(cfg.dec_deg)
        else:
            dec = float(rng.uniform(*cfg.dec_range))
            if cfg.dec_step_deg > 0:
                dec = float(np.round(dec / cfg.dec_step_deg) * cfg.dec_step_deg)
        cov = cached_coverage(schedule, dec, cfg.size, cfg.cell_mas, cfg.pad, cfg.weighting, cfg.robust,
                              cfg.taper, cfg.gridder)
    ra = float(rng.uniform(0.0, 360.0))
    sky = random_sky(rng, cfg, cov.beam, cov.rms)
    return render_field(rng, cfg, cov, schedule, ra, dec, sky)


def simulate_sky(sky: SkyModel, seed: SeedLike, config: SimConfig = SimConfig(), dec_deg: float = 30.0,
                 ra_deg: float = 180.0, schedule: Schedule | None = None) -> SimField:
    """Observe a given sky model (e.g. injected test sources) at a given pointing."""
    rng = make_rng(seed)
    cfg = config
    schedule = schedule or get_schedule(cfg.schedule, rng, cfg.instrument, cfg.band or None)
    if schedule.name == "random":
        cov = coverage_for(uvw_tracks(schedule, dec_deg), cfg)
    else:
        cov = cached_coverage(schedule, float(dec_deg), cfg.size, cfg.cell_mas, cfg.pad, cfg.weighting, cfg.robust,
                              cfg.taper, cfg.gridder)
    return render_field(rng, cfg, cov, schedule, float(ra_deg), float(dec_deg), sky)


def render_field(rng: np.random.Generator, cfg: SimConfig, cov, schedule: Schedule,
                 ra: float, dec: float, sky: SkyModel) -> SimField:
    """Observe ``sky`` with coverage ``cov`` (gains, noise from ``rng``) and build the images."""
    l, m = sky.lm(cfg.size, cfg.cell_mas)
    vis = cov.visibilities(l, m, sky.flux, sky.maj, sky.min, sky.pa)
    if cfg.gain_amp_sigma > 0 or cfg.gain_phase_deg > 0:
        vis = vis * gain_errors(cov, rng, cfg.gain_amp_sigma, cfg.gain_phase_deg)
    if cfg.noise:
        vis = vis + thermal_noise(cov, rng)
    dirty = cov.image(vis)
    clean = None
    if cfg.image_kind == "restored":  # deconvolved as imaging programs do (sim.clean)
        settings = draw_clean(rng, cfg.variety)
        dirty, n_iter = clean_restore(dirty, cov.beam_image, cov.beam, cfg.cell_mas, cov.rms, settings)
        clean = (settings, n_iter)
    restored, mask, peaks = restored_components(cfg.size, cfg.cell_mas, cov.beam, sky.x, sky.y, sky.flux,
                                                sky.maj, sky.min, sky.pa, cfg.mask_level)
    return SimField(dirty, cov.beam_image, restored, mask, peaks, cov.rms, cov.beam, sky, schedule,
                    dec, ra, cfg, cov.n_vis, clean)


def _station_list(stations: tuple[str, ...]) -> str:
    """The stations as the header's HISTORY gives them: two-letter VLBI codes run together (as
    before), longer names separated by commas."""
    return "".join(stations) if all(len(n) <= 2 for n in stations) else ",".join(stations)


def make_header(f: SimField) -> fits.Header:
    """A 4-D (RA---SIN, DEC--SIN, FREQ, STOKES) header as AIPS/Difmap write for a dirty image."""
    cfg, schedule, ra, dec, beam = f.config, f.schedule, f.ra_deg, f.dec_deg, f.beam
    freqs = np.asarray(schedule.freqs_hz)
    bw = schedule.chan_width_hz * freqs.size
    h = fits.Header()
    h["BUNIT"] = "JY/BEAM"
    inst = get_instrument(schedule.instrument)
    h["TELESCOP"] = inst.telescop
    h["INSTRUME"] = inst.telescop
    h["OBJECT"] = "SIMULATED"
    h["BMAJ"] = beam.bmaj / 3.6e6
    h["BMIN"] = beam.bmin / 3.6e6
    h["BPA"] = beam.bpa
    for i, (ctype, crval, cdelt, crpix) in enumerate([
        ("RA---SIN", ra, -cfg.cell_mas / 3.6e6, cfg.size // 2 + 1.0),
        ("DEC--SIN", dec, cfg.cell_mas / 3.6e6, cfg.size // 2 + 1.0),
        ("FREQ", float(freqs.mean()), bw, 1.0),
        ("STOKES", 1.0, 1.0, 1.0),
    ], start=1):
        h[f"CTYPE{i}"] = ctype
        h[f"CRVAL{i}"] = crval
        h[f"CDELT{i}"] = cdelt
        h[f"CRPIX{i}"] = crpix
        h[f"CROTA{i}"] = 0.0
    h["CUNIT1"], h["CUNIT2"], h["CUNIT3"] = "deg", "deg", "Hz"
    h["RADESYS"] = "FK5"
    h["EQUINOX"] = 2000.0
    h["OBSRA"] = ra
    h["OBSDEC"] = dec
    h["ORIGIN"] = "decoras-gui simulator"
    h.add_history(f"DECORAS SIM instrument={inst.name} band={inst.band_at(float(freqs.mean())).name}")
    h.add_history(f"DECORAS SIM schedule={schedule.name} scans={len(schedule.scan_ha_h)} "
                  f"stations={_station_list(schedule.stations)}")
    h.add_history("DECORAS SIM scan HA(h)=" + ",".join(f"{x:.3f}" for x in schedule.scan_ha_h))
    nchan = round(bw / schedule.smear_width_hz) if schedule.smearing and schedule.smear_width_hz else freqs.size
    h.add_history(f"DECORAS SIM nvis={f.n_vis} nchan={nchan} weighting={cfg.weighting}")
    h.add_history(f"DECORAS SIM robust={cfg.robust:.2f} taper={cfg.taper:.2f} gridder={cfg.gridder}")
    if schedule.smearing:
        h.add_history(f"DECORAS SIM smearing: channel {schedule.smear_width_hz / 1e6:g} MHz, "
                      f"integration {schedule.smear_time_s or schedule.integration_s:g} s")
    if f.clean is None:
        h.add_history(f"DECORAS SIM dirty, no deconvolution; noise={cfg.noise} "
                      f"rms={f.rms_predicted:.3e} gain={cfg.gain_amp_sigma:.3g},{cfg.gain_phase_deg:.3g}d")
    else:
        settings, n_iter = f.clean
        h["NITER"] = (n_iter, "CLEAN iterations (Hogbom)")
        h.add_history(f"DECORAS SIM restored: Hogbom CLEAN niter={n_iter} gain={settings.gain:.3f} "
                      f"threshold={settings.threshold_sigma:.2f} sigma windows={settings.windowed}; "
                      f"noise={cfg.noise} rms={f.rms_predicted:.3e} "
                      f"gain_errors={cfg.gain_amp_sigma:.3g},{cfg.gain_phase_deg:.3g}d")
    return h


def truth_table(f: SimField) -> Table:
    """Truth catalogue, one row per component.

    Columns: ra, dec (deg); x, y (0-based pixels); peak_flux (Jy/beam, the component
    convolved with the restoring beam); total_flux (Jy); maj, min (intrinsic FWHM, mas;
    0 for points); pa (deg E of N); kind ('point', 'gaussian', 'double', 'core', 'jet');
    group (source id: both components of a double / core-jet share it); separable (False
    for the fainter member of a pair closer than 1.2 beam widths -- count only separable
    rows as sources for completeness); snr (peak_flux / measured robust rms of the dirty
    image, which includes other sources' sidelobes); snr_thermal (peak_flux / rms predicted
    from the visibility noise, the quantity drawn log-uniform); r_eff (mas: half-light radius of the component as
    restored, i.e.
    sqrt(maj_r * min_r) / 2 of its beam-convolved FWHMs).
    """
    sky, beam = f.sky, f.beam
    ra, dec = f.wcs.all_pix2world(sky.x, sky.y, 0) if len(sky) else (np.zeros(0), np.zeros(0))
    ctot = gaussian_cov(sky.maj, sky.min, sky.pa) + beam.cov()
    r_eff = 0.5 * FWHM_SIGMA * np.linalg.det(ctot).reshape(len(sky)) ** 0.25
    rms = f.rms
    t = Table(meta={"ra_deg": f.ra_deg, "dec_deg": f.dec_deg, "schedule": f.schedule.name,
                    "bmaj_mas": beam.bmaj, "bmin_mas": beam.bmin, "bpa_deg": beam.bpa, "rms": rms,
                    "rms_predicted": f.rms_predicted, "cell_mas": f.config.cell_mas, "size": f.config.size})
    t["ra"] = np.asarray(ra, float) * u.deg
    t["dec"] = np.asarray(dec, float) * u.deg
    t["x"] = sky.x * u.pix
    t["y"] = sky.y * u.pix
    t["peak_flux"] = f.peaks * u.Jy / u.beam
    t["total_flux"] = sky.flux * u.Jy
    t["maj"] = sky.maj * u.mas
    t["min"] = sky.min * u.mas
    t["pa"] = sky.pa * u.deg
    t["kind"] = sky.kind.astype(str)
    t["group"] = sky.group
    t["separable"] = sky.separable
    t["snr"] = f.peaks / rms if rms > 0 else np.full(len(sky), np.inf)
    t["snr_thermal"] = f.peaks / f.rms_predicted
    t["r_eff"] = r_eff * u.mas
    return t
