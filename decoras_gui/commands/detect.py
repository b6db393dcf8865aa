"""`decoras detect IMAGE... `: find and measure sources with a bundled model, headless.

The dirty beam of each image (``--psf FILE``, else the one found beside it:
:func:`decoras_gui.core.psf.find_psf`) gives every detection the sidelobe test
(:mod:`decoras_gui.core.sidelobes`): ``sidelobe_of`` and ``p_sidelobe`` in the catalogue, and a
note on the likely sidelobes (p_sidelobe > 0.5), which are kept, flagged, unless
``--drop-sidelobes`` leaves them out of the catalogue and region files. Without a dirty beam
the notes say the test was skipped.

Without ``--model`` each image gets the installed model whose domain suits it best
(:mod:`decoras_gui.ml.model_choice`: instrument, frequency, dirty or restored, beam sampling,
from its header); the choice is said on stderr, with a warning when the image is outside every
model's domain -- and the same warning when ``--model`` names a model whose domain it is outside.
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..cli import EXIT_USER_ERROR, command
from ..core.errors import DecorasError
from ..core.formats import catalogue_format
from .options import add_format_argument, add_frame_argument, add_layout_arguments, layout_options
from .progress import ProgressBar


def _add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("images", nargs="+", help="FITS images")
    p.add_argument("--model", default=None,
                   help="bundled model name or path to a model card (.json) (default: the model whose domain "
                   "suits each image best)")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.add_argument("--threshold", type=float, default=None, help="detection probability threshold (model default)")
    p.add_argument("--catalog", help="output catalogue for a single image (format from the extension)")
    p.add_argument("--regions", help="output region file for a single image: DS9 (.reg) or CASA region text (.crtf)")
    p.add_argument("--psf", metavar="FILE", help="dirty beam (PSF) FITS file for the sidelobe test (default: the "
                   "one beside each image, NAME_psf.fits, NAME-psf.fits, NAME.psf.fits, NAME_beam.fits)")
    p.add_argument("--drop-sidelobes", action="store_true",
                   help="leave detections the sidelobe test calls likely sidelobes (p_sidelobe > 0.5) out of the "
                   "outputs (default: kept, with a note)")
    p.add_argument("--out-dir", help="folder for one catalogue and region file per image (batch mode)")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="survey mode: detect on a Dask LocalCluster of N worker processes, each loading the model "
                   "once; writes a manifest (a rerun does only what is left) and a merged survey catalogue "
                   "(Parquet, and --format) to --out-dir; IMAGES may be folders (needs decoras-gui[cluster])")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="survey mode on an existing Dask cluster: its scheduler, e.g. tcp://10.0.0.5:8786 (a "
                   "dask-jobqueue SLURMCluster's; docs/survey.md)")
    p.add_argument("--retry-failed", action="store_true",
                   help="survey mode: detect again the images the manifest says failed (default: left as they are)")
    p.add_argument("--per", choices=("component", "source"), default="component",
                   help="catalogue rows: one per component (source_id names its source, component_id the row; "
                   "default) or one per source (its components aggregated)")
    add_format_argument(p, default="ecsv", help="catalogue format in batch mode")
    add_layout_arguments(p)
    p.add_argument("--planes", metavar="PLANES", default=None,
                   help="a cube (FREQ or STOKES axis): detect on these planes, 0-based: all, 5, 2:10 or 0,3,7 "
                   "(default: the first plane only); each source gets its plane and frequency, and on a FREQ axis "
                   "its spectrum across all planes and a spectral index")
    p.add_argument("--spectra", metavar="FILE", default=None,
                   help="with --planes: write every source's flux in every plane (one row per source and plane)")
    add_frame_argument(p)
    p.add_argument("--timing", action="store_true",
                   help="say on stderr where the time went: the networks (in their worker process) and the rest")


def _outputs(args: argparse.Namespace, image: Path) -> tuple[Path | None, Path | None]:
    if args.out_dir:
        out = Path(args.out_dir)
        stem = image.name.split(".fits")[0].split(".fz")[0]
        return out / f"{stem}{catalogue_format(args.format).extension}", out / f"{stem}.reg"
    return (Path(args.catalog) if args.catalog else None, Path(args.regions) if args.regions else None)


@command("detect", "Detect and measure sources in FITS images with a DECORAS model.")(_add_arguments)
def run(args: argparse.Namespace) -> int:
    from ..core.malloc import tune_malloc

    tune_malloc()
    if args.workers is not None or args.scheduler:
        from .detect_survey import run_survey

        return run_survey(args)
    if len(args.images) > 1 and not args.out_dir:
        raise DecorasError("several images need --out-dir (one catalogue and region file per image)")
    if args.model is not None:
        args.model_chosen = False
        return _run_model(args)
    worst = 0
    for name, images in _models_for(args.images):  # one run per model chosen (usually one)
        sub = argparse.Namespace(**{**vars(args), "model": name, "images": images, "model_chosen": True})
        worst = max(worst, _run_model(sub))
    return worst


def _models_for(images: list[str]) -> list[tuple[str, list[str]]]:
    """(model name, the images it suits best), in the images' order. With one model installed
    no header is read here (the choice is said, and checked, per image as it is detected)."""
    from ..ml.registry import DEFAULT_MODEL

    cards = list(detect_cards())
    if len(cards) <= 1:
        return [(cards[0].name if cards else DEFAULT_MODEL, list(images))]
    from astropy.io import fits

    from ..core.image_domain import header_domain
    from ..ml.model_choice import choose_model

    groups: dict[str, list[str]] = {}
    for name in images:
        try:  # the primary header is enough to choose (the image itself is read later)
            chosen = choose_model(cards, header_domain(fits.getheader(name), Path(name).name)).card.name
        except (OSError, ValueError, TypeError):
            chosen = DEFAULT_MODEL  # the image's own error is reported when it is detected
        groups.setdefault(chosen, []).append(name)
    return list(groups.items())


@functools.lru_cache(maxsize=1)
def detect_cards() -> tuple:
    """The installed detection models' cards, read once per process (a batch says the model for
    every image; the cards, with their calibration sweeps, are a few hundred kB each)."""
    from ..ml.registry import available_models

    return tuple(available_models(task="detect"))


def model_lines(path: Path, image: Any, card: Any, chosen: bool) -> list[str]:
    """What stderr says about the model for one image: the choice, or a warning that the image is
    outside the domain of the model used (and of every model, when the program chose)."""
    from ..core.image_domain import image_domain
    from ..ml.model_choice import check, choose_model

    domain = image_domain(image)
    cards = list(detect_cards())
    if card.name not in [c.name for c in cards]:
        cards.append(card)
    choice = choose_model(cards, domain)
    mine = check(card, domain)
    head = f"decoras detect: {path.name}:"
    if mine.covers:
        note = choice.summary() if chosen else f"model {card.name} {card.version}: its domain covers this image"
        return [f"{head} note: {note}"] + [f"{head} note: {n}" for n in mine.notes]
    if chosen:
        return [f"{head} warning: {choice.warning()}"]
    better = [c.card.name for c in choice.checks if c.covers]
    hint = f" ({', '.join(better)} covers it)" if better else ""
    return [f"{head} warning: this image ({domain.describe()}) is outside the domain of {card.name} "
            f"{card.version}: {'; '.join(mine.mismatches)}; detections may be unreliable{hint}"]


def _run_model(args: argparse.Namespace) -> int:
    """``run`` with ``args.model`` set: every image of ``args.images`` with that model."""
    from ..ml.network_worker import NetworkWorker, worker_pays
    from ..ml.registry import DEFAULT_MODEL

    if len(args.images) > 1 and not args.out_dir:
        raise DecorasError("several images need --out-dir (one catalogue and region file per image)")
    if args.out_dir:
        Path(args.out_dir).mkdir(parents=True, exist_ok=True)
    elif not (args.catalog or args.regions):
        raise DecorasError("say where to write the results: --catalog and/or --regions, or --out-dir")
    # the networks' process starts first: it imports torch and loads the model while this one
    # imports the rest and reads the first image (ml.network_worker)
    started = time.perf_counter()
    if len(args.images) >= SURVEY_HINT_IMAGES:
        print(f"decoras detect: note: {len(args.images)} images in one process; --workers 2 detects them on a Dask "
              "cluster of 2 worker processes, resumably, with a survey catalogue", file=sys.stderr)
    worker = NetworkWorker(args.model or DEFAULT_MODEL, task="detect") if worker_pays() else None
    try:
        return _detect_all(args, worker)
    finally:
        if worker is not None:
            worker.close()
        if args.timing:
            print(_timing(len(args.images), time.perf_counter() - started, worker), file=sys.stderr)


def _timing(n_images: int, seconds: float, worker: Any) -> str:
    """The ``--timing`` line: the command's seconds (after the interpreter's start and the command
    line), and with a worker its start-up, the networks' own time and the time waited for them."""
    text = f"decoras detect: timing: {n_images} images in {seconds:.2f} s"
    if worker is None:
        return text + " (networks in this process)"
    return (text + f"; networks' worker ready after {worker.ready_seconds:.2f} s, networks "
            f"{worker.network_seconds:.2f} s ({worker.requests} runs), waited for them {worker.wait_seconds:.2f} s")


@dataclass
class _Loaded:
    """One image read, with its dirty beam, or the error that stopped it."""

    path: Path
    image: Any = None
    psf_path: Path | None = None
    psf: Any = None
    error: DecorasError | None = None


def _load(args: argparse.Namespace, path: Path, model: Any) -> _Loaded:
    """Read ``path`` and its dirty beam; with a worker, start the networks on it at once."""
    from ..core.image import load_fits
    from ..core.psf import find_psf, load_psf
    from ..ml.network_worker import WHOLE_IMAGE_MAX, ModelUnavailable, RemoteModel

    try:
        image = load_fits(path)
        psf_path = Path(args.psf) if args.psf else find_psf(path)
        psf = load_psf(psf_path, image) if psf_path is not None else None
        if (isinstance(model, RemoteModel) and max(image.shape) <= WHOLE_IMAGE_MAX and image.rms > 0
                and getattr(args, "planes", None) is None):
            beam = image.beam_pixels  # the arguments pipeline.detect will run the networks with
            model.prefetch(image.data, image.rms, beam_minor_px=beam[1] if beam else None, device=args.device,
                           psf=psf.data if psf is not None else None)
        return _Loaded(path, image, psf_path, psf)
    except ModelUnavailable:
        raise
    except DecorasError as exc:
        return _Loaded(path, error=exc)


@dataclass
class _Outcome:
    """What one image gave: the lines for stdout and stderr, in order, and whether it failed."""

    out: list[str] = field(default_factory=list)
    err: list[str] = field(default_factory=list)
    failed: bool = False
    sources: int = 0  # rows written

    def emit(self) -> None:
        for line in self.err:
            print(line, file=sys.stderr)
        for line in self.out:
            print(line)


def detect_file(args: argparse.Namespace, loaded: _Loaded | Path, model: Any, bar: Any = None,
                outputs: tuple[Path | None, Path | None] | None = None) -> _Outcome:
    """Detect the sources of one image (``loaded``, or its path) and write its outputs (the
    catalogue and region paths ``outputs``, else those the options name); what to print comes
    back (the Dask workers of a survey run this too: :mod:`decoras_gui.survey.worker`)."""
    from ..core.sidelobes import is_flagged
    from ..ml.network_worker import ModelUnavailable
    from ..ml.tasks import get_task

    if isinstance(loaded, Path):
        loaded = _load(args, loaded, model)
    path, image, psf_path = loaded.path, loaded.image, loaded.psf_path
    result = _Outcome()
    err = result.err
    try:
        if loaded.error is not None:
            raise loaded.error
        if getattr(args, "planes", None) is not None:
            output = _detect_planes(args, image, model, loaded.psf, bar, err)
        else:
            output = get_task("detect").run(image, model, device=args.device, threshold=args.threshold,
                                            progress=bar, psf=loaded.psf)
        catalogue = output.result
        if bar is not None:
            bar.close()
        err.extend(model_lines(path, image, model.card, getattr(args, "model_chosen", False)))
        if psf_path is not None and not args.psf:
            err.append(f"decoras detect: {path.name}: note: dirty beam {psf_path.name} found beside the image")
        for note in output.notes:
            err.append(f"decoras detect: {path.name}: note: {note}")
        if args.drop_sidelobes:
            dropped = catalogue.remove_many([s.source_id for s in catalogue if is_flagged(s.p_sidelobe)])
            if dropped:
                err.append(f"decoras detect: {path.name}: note: {len(dropped)} likely sidelobes left out "
                           "(--drop-sidelobes)")
        catalog_path, regions_path = outputs or _outputs(args, path)
        written = []
        if catalog_path:
            catalogue.write(catalog_path, per=args.per, **layout_options(args))
            written.append(str(catalog_path))
        if regions_path:
            from ..core.regions_io import write_regions

            frame = args.frame if image.wcs is not None else "image"
            write_regions(catalogue, regions_path, wcs=image.wcs, frame=frame)
            written.append(str(regions_path))
        result.sources = len(catalogue)
        result.out.append(f"{path}: {len(catalogue)} sources -> {', '.join(written)}")
    except ModelUnavailable:
        raise
    except DecorasError as exc:
        result.failed = True
        err.append(f"decoras detect: error: {exc}")
    finally:
        if bar is not None:
            bar.close()
        loaded.image = loaded.psf = None  # the next image is read; this one need not stay
    return result


def _detect_planes(args: argparse.Namespace, image: Any, model: Any, psf: Any, bar: Any, err: list[str]) -> Any:
    """``--planes``: detect on each plane of the cube, then (FREQ axis) measure every source's
    spectrum across all planes and fit its spectral index; ``--spectra`` writes the spectra."""
    from types import SimpleNamespace

    from ..core.cube import cube_axis, detect_cube, measure_spectra, parse_planes
    from ..ml.tasks import get_task

    axis = cube_axis(image)
    if axis is None:
        raise DecorasError("--planes is for cubes: the image has a single plane", image.path)
    planes = parse_planes(args.planes, axis.length)
    notes: list[str] = []

    def one(plane: Any) -> Any:
        output = get_task("detect").run(plane, model, device=args.device, threshold=args.threshold, psf=psf)
        notes.extend(n for n in output.notes if n not in notes)
        return output.result

    catalogue = detect_cube(image, planes, one, progress=bar)
    catalogue, spectra = measure_spectra(catalogue, image)
    if axis.is_frequency:
        fitted = sum(s.spectral_index == s.spectral_index for s in catalogue)
        notes.append(f"{len(catalogue)} sources on {len(planes)} of {axis.length} {axis.name} planes; spectral "
                     f"index fitted for {fitted}")
    if args.spectra:
        from ..core.fileio import atomic_path
        from ..core.formats import catalogue_format_for_path

        fmt = catalogue_format_for_path(args.spectra)
        try:
            with atomic_path(args.spectra) as tmp:
                spectra.to_table().write(tmp, format=fmt.astropy)
        except OSError as exc:
            raise DecorasError(f"cannot write the spectra: {exc.strerror or exc}", args.spectra) from exc
        err.append(f"decoras detect: {image.name}: note: spectra of {len(catalogue)} sources on {axis.length} "
                   f"planes -> {args.spectra}")
    return SimpleNamespace(result=catalogue, notes=notes)


#: batch mode of this many images or more in one process says that survey mode (--workers) exists
SURVEY_HINT_IMAGES = 8


def _detect_all(args: argparse.Namespace, worker: Any) -> int:
    from ..ml.network_worker import RemoteModel
    from ..ml.registry import DEFAULT_MODEL, load_model

    if worker is not None:
        model = RemoteModel(worker)  # the model is checked and loaded in the worker
        worker.idle = _warm_ups(args)
    else:
        model = load_model(args.model or DEFAULT_MODEL, task="detect")  # refuses a model made for another task
    failures = 0
    paths = [Path(name) for name in args.images]
    # one image ahead: its networks run in the worker while this one's sources are measured; the
    # first is handed over before the measuring side (photutils, astropy.table, regions) is imported
    ahead = _load(args, paths[0], model)
    for k in range(len(paths)):
        current = ahead
        if k + 1 < len(paths):
            ahead = _load(args, paths[k + 1], model)
        outcome = detect_file(args, current, model, ProgressBar(current.path.name[:24]))
        outcome.emit()
        failures += outcome.failed
    if worker is not None:
        worker.card  # noqa: B018  a model the worker could not load is the error, even if no image reached it
    return _finish(args, failures)


def _warm_ups(args: argparse.Namespace) -> list:
    """Imports the first image needs after its networks, done while the worker still computes them."""

    def photutils_meta() -> None:
        # photutils' SourceCatalog imports matplotlib when it is installed (an optional dependency:
        # not in a plain install), only to note its version in its metadata
        import importlib
        import importlib.util

        try:
            if importlib.util.find_spec("matplotlib") is not None:
                importlib.import_module("matplotlib")
        except (ImportError, ValueError):  # absent, or broken: photutils copes without it
            pass

    def regions() -> None:
        from ..core import regions_io  # noqa: F401

    return [photutils_meta] + ([regions] if args.regions or args.out_dir else [])


def _finish(args: argparse.Namespace, failures: int) -> int:
    if failures:
        print(f"decoras detect: {failures} of {len(args.images)} images failed", file=sys.stderr)
        return EXIT_USER_ERROR
    return 0
