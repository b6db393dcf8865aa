"""The survey catalogue: every done image's catalogue in one table, the image named in a column.

Built from the manifest (each input once, whatever the runs and retries that made it) and the
per-image catalogues on disk, so that a resumed run's catalogue holds the earlier runs' images too.
Written as Parquet (pyarrow), plus the run's catalogue format (ECSV by default, or FITS, ...).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from ..core.errors import DecorasError
from ..core.fileio import atomic_path
from ..core.formats import catalogue_format

#: the merged catalogue's name in the output folder
STEM = "survey"


def merged_table(folder: Path, entries: list[dict], read: dict | None = None):
    """One astropy Table of the catalogues of ``entries`` (done manifest entries), with ``image``
    (the input's file name) and ``image_path`` columns first; sources keep their columns and units.
    ``read``: tables already read back from their files, by input (the workers' of this run)."""
    from astropy.table import Table, vstack
    from astropy.utils.metadata import MergeConflictWarning

    from .worker import read_catalogue_table

    tables = []
    for entry in entries:
        path = folder / entry["catalogue"]
        table = (read or {}).get(entry["input"])
        try:
            table = read_catalogue_table(path) if table is None else table.copy(copy_data=False)
        except (OSError, ValueError) as exc:
            raise DecorasError(f"cannot read the image's catalogue for the survey catalogue: {exc}", path) from exc
        if len(table) == 0:
            continue
        table.meta = {}
        table.add_column([Path(entry["input"]).name] * len(table), name="image", index=0)
        table.add_column([entry["input"]] * len(table), name="image_path", index=1)
        tables.append(table)
    if not tables:
        return Table({"image": [], "image_path": []}, dtype=[str, str])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MergeConflictWarning)
        merged = vstack(tables, join_type="outer", metadata_conflicts="silent")
    merged.meta["comments"] = [f"decoras survey catalogue: {len(merged)} rows from {len(tables)} images"]
    return merged


def write_merged(folder: str | os.PathLike, entries: list[dict], format: str = "ecsv",
                 read: dict | None = None) -> list[Path]:
    """Write ``survey.parquet`` and ``survey.<format>`` in ``folder``; returns the paths."""
    folder = Path(folder)
    table = merged_table(folder, entries, read)
    written = []
    parquet = folder / f"{STEM}.parquet"
    table_out = table.copy(copy_data=False)
    table_out.meta = {}
    try:
        with atomic_path(parquet) as tmp:
            table_out.write(tmp, format="parquet")
    except ImportError as exc:
        raise DecorasError("writing Parquet needs pyarrow (pip install decoras-gui[cluster])", parquet) from exc
    written.append(parquet)
    fmt = catalogue_format(format)
    if fmt.extension != ".parquet":
        other = folder / f"{STEM}{fmt.extension}"
        with atomic_path(other) as tmp:
            if fmt.key == "fits":
                table.meta = {}
            table.write(tmp, format=fmt.astropy)
        written.append(other)
    return written
