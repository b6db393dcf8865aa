"""The source finders the benchmarks compare, each run from an image file to a Catalogue.

Every finder reads the FITS file itself (the time it takes is part of its figure) and its
sources are converted to :class:`decoras_gui.core.catalogue.Source` rows with pixel positions
from the image's own WCS, peak and integrated flux, convolved FWHM sizes (arcsec) and
``r_eff = sqrt(maj * min) / 2`` -- what ``decoras`` reports -- so that one matcher and one
scorer (``decoras_gui.eval.evaluate.score_field``) judge them all alike.

* ``decoras``: the bundled networks, ``load_fits`` + ``detect`` as ``decoras detect`` runs them, with
  the dirty beam found beside the image (``NAME_beam.fits``, as ``decoras detect`` finds it);
  ``decoras-nopsf``: the same without it, for a model that reads the dirty beam.
* ``pybdsf``: ``bdsf.process_image`` with its documented defaults for radio images
  (``thresh_isl=3``, ``thresh_pix=5``); sources (``srl``), centroid positions, ``peak_flux_max``.
* ``aegean``: BANE background and noise maps, then Aegean with its default seed and flood
  clips (5 and 4 sigma); one row per fitted component.
* ``photutils``: the 5-sigma segmentation baseline of ``decoras evaluate``.

The classical tools are optional (``pip install -e ".[bench]"``); :func:`available` lists the
finders whose packages import here.  They run in a worker process of their own, started clean
(``spawn``) and kept for the whole run: BANE forks a process pool for every image, and forking
the benchmark's own process, with torch's thread pools running in it, can deadlock the children.
A call that takes longer than its timeout stops the worker and raises ``TimeoutError``.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import io
import logging
import math
import multiprocessing
import os
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from decoras_gui.core.catalogue import Catalogue, Source
from decoras_gui.core.image import SkyImage, load_fits
from decoras_gui.eval.evaluate import rms_at

Finder = Callable[[Path], Catalogue]


def _sources_from_sky(image: SkyImage, rows: list[dict], name: str) -> Catalogue:
    """Catalogue rows from (ra, dec, peak, total, maj, min [arcsec], pa) dicts of a finder."""
    cat = Catalogue(meta={"model": name})
    if not rows:
        return cat
    ra = np.array([r["ra"] for r in rows], float)
    dec = np.array([r["dec"] for r in rows], float)
    x, y = image.wcs.world_to_pixel_values(ra, dec)
    for r, xi, yi in zip(rows, np.atleast_1d(x), np.atleast_1d(y)):
        maj, mn = float(r["maj"]), float(r["min"])
        cat.add(Source(ra=float(r["ra"]), dec=float(r["dec"]), x=float(xi), y=float(yi),
                       peak_flux=float(r["peak"]), total_flux=float(r["total"]), maj=maj, min=mn,
                       pa=float(r["pa"]), r_eff=0.5 * math.sqrt(maj * mn) if maj > 0 and mn > 0 else math.nan,
                       model=name))
    return cat


def with_snr(cat: Catalogue, rms_map: np.ndarray) -> Catalogue:
    """Set every source's SNR to its peak over ``rms_map`` under it: one SNR scale for all finders."""
    for s in cat:
        rms = rms_at(rms_map, s.x, s.y)
        cat.update(s.source_id, snr=s.peak_flux / rms if rms > 0 else math.nan)
    return cat


def decoras_finder(model, device: str = "cpu", use_psf: bool = True) -> Finder:
    """The bundled DECORAS networks, as ``decoras detect`` runs them (with the PSF beside the image
    when ``use_psf``)."""
    from decoras_gui.core.psf import find_psf
    from decoras_gui.ml.pipeline import detect

    def run(path: Path) -> Catalogue:
        cat, _ = detect(load_fits(path), model, device=device, psf=find_psf(path) if use_psf else None)
        return cat

    return run


def photutils_finder(path: Path) -> Catalogue:
    """The 5-sigma segmentation baseline of ``decoras evaluate``."""
    from decoras_gui.eval.baseline import photutils_baseline

    return photutils_baseline(load_fits(path))


def pybdsf_finder(path: Path, thresh_isl: float = 3.0, thresh_pix: float = 5.0) -> Catalogue:
    """PyBDSF with its documented defaults for radio images; no detections if it finds no island."""
    import bdsf

    image = load_fits(path)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):  # its log handlers
        img = bdsf.process_image(str(path), thresh_isl=thresh_isl, thresh_pix=thresh_pix, quiet=True)
    rows = []
    for s in getattr(img, "sources", None) or []:
        ra, dec = s.posn_sky_centroid
        maj, mn, pa = s.size_sky
        rows.append({"ra": ra, "dec": dec, "peak": s.peak_flux_max, "total": s.total_flux,
                     "maj": maj * 3600.0, "min": mn * 3600.0, "pa": pa})
    return _sources_from_sky(image, rows, "pybdsf")


def aegean_finder(path: Path, cores: int = 1) -> Catalogue:
    """BANE noise and background, then Aegean with its default clips (seed 5, flood 4 sigma); on one
    core, as the other finders run (BANE's own pool of forked children once hung on an OOD field,
    the whole run waiting on it: benchmarks/RESULTS.md)."""
    from AegeanTools import BANE
    from AegeanTools.source_finder import SourceFinder

    image = load_fits(path)
    cube = 0 if image.extra_axes else None
    for name in ("BANE", "source_finder", "Aegean", "AegeanTools"):
        logging.getLogger(name).setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="decoras-bane-") as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its fitter's ill-conditioned covariance matrices, on every field
        base = os.path.join(tmp, "bane")
        BANE.filter_image(str(path), out_base=base, cores=cores, cube_index=cube)
        finder = SourceFinder(log=logging.getLogger("Aegean"))
        found = finder.find_sources_in_image(str(path), bkgin=base + "_bkg.fits", rmsin=base + "_rms.fits",
                                             cores=cores, progress=False, cube_index=cube)
    rows = [{"ra": s.ra, "dec": s.dec, "peak": s.peak_flux, "total": s.int_flux, "maj": s.a, "min": s.b,
             "pa": s.pa} for s in found]
    return _sources_from_sky(image, rows, "aegean")


CLASSICAL = {"pybdsf": ("bdsf", pybdsf_finder), "aegean": ("AegeanTools", aegean_finder)}


def _run_classical(name: str, path: str) -> Catalogue:
    return CLASSICAL[name][1](Path(path))


class IsolatedFinder:
    """A classical finder run in its own clean worker process (see the module's docstring)."""

    def __init__(self, name: str, timeout: float = 900.0):
        self.name, self.timeout = name, timeout
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None

    def __call__(self, path: Path) -> Catalogue:
        if self._pool is None:
            self._pool = concurrent.futures.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
        future = self._pool.submit(_run_classical, self.name, str(path))
        try:
            return future.result(timeout=self.timeout)
        except concurrent.futures.TimeoutError:
            self.close()
            raise TimeoutError(f"{self.name} took longer than {self.timeout:.0f} s") from None
        except concurrent.futures.process.BrokenProcessPool:
            self.close()
            raise

    def close(self) -> None:
        """Stop the worker (killing it if it is stuck)."""
        if self._pool is not None:
            for proc in list(getattr(self._pool, "_processes", {}).values()):
                proc.kill()
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


def available(model=None, device: str = "cpu", timeout: float = 900.0) -> dict[str, Finder]:
    """The finders that run here, in the order the tables show them."""
    finders: dict[str, Finder] = {}
    if model is not None:
        finders["decoras"] = decoras_finder(model, device)
        if model.card.reads_psf:
            finders["decoras-nopsf"] = decoras_finder(model, device, use_psf=False)
    for name, (module, _) in CLASSICAL.items():
        try:
            __import__(module)
        except ImportError:
            continue
        finders[name] = IsolatedFinder(name, timeout)
    finders["photutils"] = photutils_finder
    return finders
