"""What runs on a Dask worker: the model, loaded once per worker process, and one image.

:class:`DetectPlugin` is registered on every worker of the cluster (those that join or are
restarted later too); it sets torch's threads and keeps each model the worker has loaded.
:func:`detect_image` detects one image with ``decoras detect``'s own per-image routine
(:func:`decoras_gui.commands.detect.detect_file`) and writes its catalogue and region file
(atomically: a worker killed mid-write leaves no half file), then answers the manifest entry.
It says when it starts on the ``decoras-survey`` event topic (:meth:`distributed.Worker.log_event`),
so that the client knows which image each worker holds.
"""

from __future__ import annotations

import argparse
import os
import resource
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from distributed import get_worker
from distributed.diagnostics.plugin import WorkerPlugin

from ..core.errors import DecorasError
from ..core.malloc import tune_malloc
from .manifest import file_stamp

PLUGIN = "decoras-detect"
#: the key of a result's catalogue table (taken out before the entry goes to the manifest)
TABLE = "_table"
TOPIC = "decoras-survey"


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


class DetectPlugin(WorkerPlugin):
    """Per worker process: torch's threads, and the models loaded (each once)."""

    idempotent = True  # registered again by a rerun on the same cluster: kept as it is

    def __init__(self, torch_threads: int | None = None):
        self.torch_threads = torch_threads

    def setup(self, worker) -> None:
        import torch

        # Dask's nanny sets OMP_NUM_THREADS=1 for its workers; torch gets the cores this worker's
        # share of the machine has: given, or the cores over the worker's task threads
        threads = self.torch_threads or max(1, available_cores() // max(1, worker.state.nthreads))
        torch.set_num_threads(threads)
        self.threads = threads
        self.malloc_tuned = tune_malloc()
        self.models: dict[str, Any] = {}
        self.loads = 0
        self._lock = threading.Lock()

    def model(self, name: str) -> Any:
        """The model ``name`` (bundled name or card path), loaded on first use."""
        with self._lock:
            if name not in self.models:
                from ..ml.registry import load_model

                self.models[name] = load_model(name, task="detect")
                self.loads += 1
            return self.models[name]


def model_name_for(path: Path, requested: str | None) -> tuple[str, bool]:
    """The model an image gets: the one asked for, else the installed one whose domain suits the
    image's header best (:mod:`decoras_gui.ml.model_choice`); and whether the program chose it."""
    from ..commands.detect import detect_cards
    from ..ml.registry import DEFAULT_MODEL

    if requested:
        return requested, False
    cards = list(detect_cards())
    if len(cards) <= 1:
        return (cards[0].name if cards else DEFAULT_MODEL), True
    from astropy.io import fits

    from ..core.image_domain import header_domain
    from ..ml.model_choice import choose_model

    try:
        return choose_model(cards, header_domain(fits.getheader(path), path.name)).card.name, True
    except (OSError, ValueError, TypeError):
        return DEFAULT_MODEL, True  # the image's own error is said when it is read


def read_catalogue_table(path: Path):
    """An image's catalogue file as an astropy Table (its format from the extension)."""
    from astropy.table import Table

    from ..core.formats import catalogue_format_for_path

    return Table.read(path, format=catalogue_format_for_path(path).astropy)


def output_paths(out_dir: Path, name: str, extension: str) -> tuple[Path, Path]:
    return out_dir / f"{name}{extension}", out_dir / f"{name}.reg"


def detect_image(path: str, name: str, out_dir: str, options: dict) -> dict:
    """Detect the sources of the image ``path``, write ``name``'s catalogue and regions in
    ``out_dir``, and return the image's manifest entry (never raises for the image's own problems:
    a bad file is a failed entry naming it)."""
    from ..commands.detect import detect_file
    from ..core.formats import catalogue_format

    worker = get_worker()
    plugin: DetectPlugin = worker.plugins[PLUGIN]
    image = Path(path)
    worker.log_event(TOPIC, {"event": "start", "input": path, "name": name, "worker": worker.address,
                             "pid": os.getpid()})
    t0 = time.perf_counter()
    entry: dict[str, Any] = {"input": path, "name": name, "worker": worker.address, **file_stamp(image),
                             "settings": options["settings"]}
    try:
        model_name, chosen = model_name_for(image, options.get("model"))
        model = plugin.model(model_name)
        args = argparse.Namespace(**{**options["detect"], "model": model_name, "model_chosen": chosen})
        catalogue, regions = output_paths(Path(out_dir), name, catalogue_format(args.format).extension)
        outcome = detect_file(args, image, model, outputs=(catalogue, regions))
        notes = [line.split(": note: ", 1)[-1] for line in outcome.err if ": note: " in line]
        warnings = [line.split(": warning: ", 1)[-1] for line in outcome.err if ": warning: " in line]
        if outcome.failed:
            error = next((line.split("error: ", 1)[-1] for line in outcome.err if "error: " in line), "failed")
            entry.update(status="failed", error=error)
        else:
            entry.update(status="done", sources=outcome.sources, catalogue=catalogue.name, regions=regions.name,
                         model=f"{model.card.name} {model.card.version}", notes=notes, warnings=warnings)
            # the catalogue as read back from its file, here on the worker: the survey catalogue is
            # built from these (the same rows as a rerun reads from the files) without the client
            # parsing a file an image (12-24 ms each, serial, at the end of the run)
            entry[TABLE] = read_catalogue_table(catalogue)
    except DecorasError as exc:  # the model cannot be loaded, or the file not read
        entry.update(status="failed", error=str(exc))
    except Exception as exc:  # a bug: recorded with its traceback, and the run goes on
        entry.update(status="failed", error=f"internal error: {type(exc).__name__}: {exc}",
                     traceback=traceback.format_exc())
    entry["seconds"] = round(time.perf_counter() - t0, 4)
    entry["pid"] = os.getpid()
    entry["model_loads"] = plugin.loads
    entry["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)
    return entry
