"""WSClean (Offringa et al. 2014), run on the very visibilities of a simulated restore field.

:func:`observe_with_wsclean` writes the field's observation as a Measurement Set
(:mod:`decoras_gui.sim.measurement_set`), has WSClean predict the true sky into MODEL_DATA with
its own degridder, and puts the corrupted data in DATA: the model times the field's antenna gains
plus thermal noise of each sample's sigma. :func:`wsclean_image` then images DATA -- the dirty
image and PSF (what the network reads: an imaging code that training never used), Hogbom CLEAN
(``multiscale=False``, the lower bar) or multi-scale CLEAN (the anchor), each with its model
(Jy/pixel), restored image and residual.

WSClean is the Debian package ``wsclean`` (3.1 here; ``scripts/setup`` installs it). Its
options follow its documentation: ``-weight briggs R``, ``-taper-gaussian``, ``-auto-threshold``,
``-auto-mask``, ``-multiscale``, ``-mgain``, ``-predict``.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from astropy.io import fits

from ..core.errors import DecorasError

WSCLEAN = "wsclean"


def wsclean_available() -> bool:
    """True when the ``wsclean`` program is on the PATH."""
    return shutil.which(WSCLEAN) is not None


def wsclean_version() -> str:
    """WSClean's version line ('WSClean version 3.1.0 (2022-04-01)'), or '' without it."""
    if not wsclean_available():
        return ""
    out = subprocess.run([WSCLEAN, "--version"], capture_output=True, text=True, timeout=60).stdout
    return next((line.strip() for line in out.splitlines() if "version" in line.lower()), "")


def run_wsclean(args: list[str], cwd: Path, timeout: float = 1800.0) -> float:
    """Run ``wsclean ARGS`` in ``cwd``; its wall time in seconds. A DecorasError with the end of
    its output if it fails or is missing."""
    if not wsclean_available():
        raise DecorasError("WSClean is not installed (Debian: apt-get install wsclean; or run scripts/setup)")
    t0 = time.perf_counter()
    try:
        done = subprocess.run([WSCLEAN, "-quiet", *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise DecorasError(f"WSClean took longer than {timeout:.0f} s: wsclean {' '.join(args)}") from None
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-8:])
        raise DecorasError(f"WSClean failed (exit {done.returncode}): wsclean {' '.join(args)}\n{tail}")
    return time.perf_counter() - t0


def weighting_args(weighting: str, robust: float, taper: float, uv_max_lambda: float) -> list[str]:
    """WSClean's options for one of the simulator's weightings; ``taper`` (the fraction of the
    longest baseline where the simulator's Gaussian uv taper falls to 0.5) becomes
    ``-taper-gaussian`` with the image-plane FWHM of the same Gaussian."""
    if weighting in ("robust", "briggs"):
        args = ["-weight", "briggs", f"{robust:.3f}"]
    elif weighting in ("natural", "uniform"):
        args = ["-weight", weighting]
    else:
        raise DecorasError(f"unknown weighting {weighting!r} (natural, uniform, robust)")
    if taper > 0:
        fwhm_uv = 2.0 * taper * uv_max_lambda  # full width at half maximum, wavelengths
        fwhm_rad = 4.0 * np.log(2.0) / (np.pi * fwhm_uv)
        args += ["-taper-gaussian", f"{np.rad2deg(fwhm_rad) * 3600.0:.4f}asec"]
    return args


@dataclass
class WscleanImages:
    """What one WSClean run made (2-D float32 arrays; absent ones None) and how long it took."""

    dirty: np.ndarray | None = None
    psf: np.ndarray | None = None
    model: np.ndarray | None = None  # Jy/pixel
    restored: np.ndarray | None = None  # Jy/beam
    residual: np.ndarray | None = None
    header: fits.Header | None = None
    beam_deg: tuple[float, float, float] = (0.0, 0.0, 0.0)  # BMAJ, BMIN (deg), BPA of the restoring beam
    seconds: float = 0.0
    files: dict[str, Path] = field(default_factory=dict)


def _plane(path: Path) -> np.ndarray:
    return np.asarray(fits.getdata(path), np.float32).reshape(fits.getheader(path)["NAXIS2"], -1)


def read_products(cwd: Path, name: str, seconds: float) -> WscleanImages:
    """The FITS files of ``wsclean -name NAME`` in ``cwd``."""
    out = WscleanImages(seconds=seconds)
    for kind, suffix in (("dirty", "dirty"), ("psf", "psf"), ("model", "model"), ("restored", "image"),
                         ("residual", "residual")):
        path = cwd / f"{name}-{suffix}.fits"
        if path.exists():
            setattr(out, kind, _plane(path))
            out.files[kind] = path
    ref = out.files.get("restored") or out.files.get("dirty")
    if ref is not None:
        out.header = fits.getheader(ref)
        out.beam_deg = (float(out.header.get("BMAJ", 0.0)), float(out.header.get("BMIN", 0.0)),
                        float(out.header.get("BPA", 0.0)))
    return out


def wsclean_image(ms: Path, cwd: Path, name: str, size: int, scale_arcsec: float, weighting: list[str], *,
                  niter: int = 0, multiscale: bool = False, auto_threshold: float = 1.0, auto_mask: float = 3.0,
                  mgain: float = 0.8, gain: float = 0.1, make_psf: bool = True, column: str = "DATA",
                  extra: list[str] | None = None, timeout: float = 1800.0) -> WscleanImages:
    """Image ``column`` of ``ms``: dirty (``niter`` 0) or CLEANed to ``auto_threshold`` sigma with an
    auto-mask at ``auto_mask`` sigma (multi-scale with ``multiscale``); its products."""
    args = ["-name", name, "-size", str(size), str(size), "-scale", f"{scale_arcsec:.6f}asec", *weighting,
            "-data-column", column, "-niter", str(int(niter)), "-no-update-model-required"]
    if make_psf or niter > 0:
        args.append("-make-psf")
    if niter > 0:
        args += ["-auto-threshold", f"{auto_threshold:g}", "-mgain", f"{mgain:g}", "-gain", f"{gain:g}"]
        if auto_mask > 0:
            args += ["-auto-mask", f"{auto_mask:g}"]
        if multiscale:
            args.append("-multiscale")
    args += list(extra or [])
    seconds = run_wsclean([*args, str(ms)], cwd, timeout)
    return read_products(cwd, name, seconds)


def predict(ms: Path, cwd: Path, model: np.ndarray, header: fits.Header, size: int, scale_arcsec: float,
            name: str = "truth", timeout: float = 1800.0) -> float:
    """Have WSClean predict the sky ``model`` (Jy/pixel, on ``header``'s grid) into MODEL_DATA."""
    h = header.copy()
    h["BUNIT"] = "JY/PIXEL"
    fits.writeto(cwd / f"{name}-model.fits", np.asarray(model, np.float32)[None, None], h, overwrite=True)
    return run_wsclean(["-predict", "-name", name, "-size", str(size), str(size), "-scale", f"{scale_arcsec:.6f}asec",
                        str(ms)], cwd, timeout)


@dataclass
class WscleanObservation:
    """A field observed through WSClean: its MS, the grid, the weighting options, and the seconds
    each step took."""

    ms: Path
    cwd: Path
    size: int
    scale_arcsec: float
    weighting: list[str]
    seconds: dict[str, float] = field(default_factory=dict)


def observe_with_wsclean(f, cwd: Path, seed: int | tuple = 0) -> WscleanObservation:
    """The restore field ``f`` (:class:`decoras_gui.sim.surface.SurfaceField`) as WSClean data:
    an MS of its observation whose DATA is WSClean's prediction of ``f.truth`` times the field's
    gains plus thermal noise (drawn from ``seed``)."""
    from ..sim.array import uvw_tracks
    from ..sim.measurement_set import put_stokes_i, read_stokes_i, tracks_order, write_ms

    cwd = Path(cwd)
    cwd.mkdir(parents=True, exist_ok=True)
    obs = f.observation
    tracks = uvw_tracks(obs.schedule, obs.dec_deg)
    ms = write_ms(cwd / "field.ms", tracks, obs.schedule, obs.dec_deg, obs.ra_deg)
    size, scale = f.config.size, f.cell_arcsec
    uv_max = float(np.sqrt(np.max(tracks.u**2 + tracks.v**2)))
    weighting = weighting_args(obs.weighting, obs.robust, obs.taper, uv_max)
    seconds = {}
    grid = wsclean_image(ms, cwd, "grid", size, scale, weighting, make_psf=False)  # the header to predict on
    seconds["grid"] = grid.seconds
    seconds["predict"] = predict(ms, cwd, f.truth, grid.header, size, scale)
    model = read_stokes_i(ms, "MODEL_DATA")
    rows, chans = tracks_order(tracks, len(obs.schedule.freqs_hz))
    rng = np.random.default_rng(np.atleast_1d(seed).tolist() + [29])
    n_rows, n_chan = model.shape
    gains = np.ones(n_rows, complex)
    if f.config.gain_errors and (obs.gain_amp > 0 or obs.gain_phase_deg > 0):
        n_ant = int(max(tracks.ant1.max(), tracks.ant2.max())) + 1
        scans = tracks.scan[:n_rows]
        g = (1.0 + obs.gain_amp * rng.standard_normal((int(scans.max()) + 1, n_ant))) * np.exp(
            1j * np.deg2rad(obs.gain_phase_deg) * rng.standard_normal((int(scans.max()) + 1, n_ant)))
        gains = g[scans, tracks.ant1[:n_rows]] * np.conj(g[scans, tracks.ant2[:n_rows]])
    sigma = np.zeros((n_rows, n_chan))
    sigma[rows, chans] = tracks.sigma
    noise = sigma * (rng.standard_normal(sigma.shape) + 1j * rng.standard_normal(sigma.shape))
    put_stokes_i(ms, model * gains[:, None] + (noise if f.config.noise else 0.0))
    for stale in cwd.glob("grid-*.fits"):
        stale.unlink()
    return WscleanObservation(ms, cwd, size, scale, weighting, seconds)
