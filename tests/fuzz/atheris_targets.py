"""Coverage-guided fuzz targets (atheris / libFuzzer) for the three readers of user files.

    python -m tests.fuzz.atheris_targets fits|session|regions CORPUS_DIR -runs=N [libFuzzer flags]

Each input is written to a file and read as the program reads it; a DecorasError naming
the file is the expected answer to bad input, anything else is a crash that libFuzzer
reports (and saves as ``crash-*``). Run by tests/fuzz/test_atheris.py with seed corpora.
"""

from __future__ import annotations

import os
import sys
import tempfile

import atheris

#: what each target's coverage is measured on: our code and the library that parses that kind
#: of file (instrumenting every import, astropy whole, cost 50 s of start-up per target)
INSTRUMENTED = {"fits": ["decoras_gui", "astropy.io.fits"], "session": ["decoras_gui", "json", "astropy.io.ascii"],
                "regions": ["decoras_gui", "regions"]}
TARGET = sys.argv[1] if len(sys.argv) > 1 else "fits"

with atheris.instrument_imports(include=INSTRUMENTED.get(TARGET, ["decoras_gui"])):
    from decoras_gui.core.errors import DecorasError
    from decoras_gui.core.image import load_fits
    from decoras_gui.core.regions_io import read_regions, regions_to_sources
    from decoras_gui.core.session import load_session

TMP = tempfile.mkdtemp(prefix="decoras-atheris-")


def _fits(path: str) -> None:
    image = load_fits(path)
    _ = image.rms


def _regions(path: str) -> None:
    regions_to_sources(read_regions(path))


TARGETS = {"fits": ("x.fits", _fits), "session": ("x.decoras", load_session), "regions": ("x.reg", _regions)}


def main() -> None:
    name = sys.argv.pop(1)
    filename, read = TARGETS[name]
    path = os.path.join(TMP, filename)

    def one_input(data: bytes) -> None:
        with open(path, "wb") as fh:
            fh.write(data)
        try:
            read(path)
        except DecorasError as exc:
            if filename not in str(exc):
                raise AssertionError(f"the message does not name the file: {exc}") from None

    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
