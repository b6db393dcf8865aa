"""`decoras detect IMAGE... `: find and measure sources with a bundled model, headless."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..cli import EXIT_USER_ERROR, command
from ..core.errors import DecorasError
from ..core.formats import catalogue_format
from .options import add_format_argument, add_frame_argument
from .progress import ProgressBar


def _add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("images", nargs="+", help="FITS images")
    p.add_argument("--model", default=None, help="bundled model name or path to a model card (.json)")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.add_argument("--threshold", type=float, default=None, help="detection probability threshold (model default)")
    p.add_argument("--catalog", help="output catalogue for a single image (format from the extension)")
    p.add_argument("--regions", help="output DS9 region file for a single image")
    p.add_argument("--out-dir", help="folder for one catalogue and region file per image (batch mode)")
    add_format_argument(p, default="ecsv", help="catalogue format in batch mode")
    add_frame_argument(p)


def _outputs(args: argparse.Namespace, image: Path) -> tuple[Path | None, Path | None]:
    if args.out_dir:
        out = Path(args.out_dir)
        stem = image.name.split(".fits")[0].split(".fz")[0]
        return out / f"{stem}{catalogue_format(args.format).extension}", out / f"{stem}.reg"
    return (Path(args.catalog) if args.catalog else None, Path(args.regions) if args.regions else None)


@command("detect", "Detect and measure sources in FITS images with a DECORAS model.")(_add_arguments)
def run(args: argparse.Namespace) -> int:
    from ..core.image import load_fits
    from ..core.regions_io import write_regions
    from ..ml.registry import DEFAULT_MODEL, load_model
    from ..ml.tasks import get_task

    if len(args.images) > 1 and not args.out_dir:
        raise DecorasError("several images need --out-dir (one catalogue and region file per image)")
    if args.out_dir:
        Path(args.out_dir).mkdir(parents=True, exist_ok=True)
    elif not (args.catalog or args.regions):
        raise DecorasError("say where to write the results: --catalog and/or --regions, or --out-dir")
    task = get_task("detect")
    model = load_model(args.model or DEFAULT_MODEL, task=task.name)  # refuses a model made for another task
    failures = 0
    for name in args.images:
        path = Path(name)
        bar = ProgressBar(path.name[:24])
        try:
            image = load_fits(path)
            output = task.run(image, model, device=args.device, threshold=args.threshold, progress=bar)
            catalogue = output.result
            bar.close()
            for note in output.notes:
                print(f"decoras detect: {path.name}: note: {note}", file=sys.stderr)
            catalog_path, regions_path = _outputs(args, path)
            written = []
            if catalog_path:
                catalogue.write(catalog_path)
                written.append(str(catalog_path))
            if regions_path:
                frame = args.frame if image.wcs is not None else "image"
                write_regions(catalogue, regions_path, wcs=image.wcs, frame=frame)
                written.append(str(regions_path))
            print(f"{path}: {len(catalogue)} sources -> {', '.join(written)}")
        except DecorasError as exc:
            bar.close()
            failures += 1
            print(f"decoras detect: error: {exc}", file=sys.stderr)
    if failures:
        print(f"decoras detect: {failures} of {len(args.images)} images failed", file=sys.stderr)
        return EXIT_USER_ERROR
    return 0
