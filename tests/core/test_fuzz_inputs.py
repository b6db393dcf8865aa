"""Bad input never crashes: mutated and truncated FITS files, session files and region files.

Every case either loads (and the result is usable) or raises DecorasError naming the file;
nothing else escapes, nothing runs past a per-case time limit, and nothing allocates far
beyond the size of the file it was given (a header that declares a 10^12-pixel image must
not make the loader try to allocate one).
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import signal
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from decoras_gui.core.catalogue import Catalogue, Source
from decoras_gui.core.errors import DecorasError
from decoras_gui.core.image import load_fits
from decoras_gui.core.regions_io import read_regions, regions_to_sources
from decoras_gui.core.session import Session, load_session, session_to_dict

#: a hang detector, not a speed limit: cases take 1-100 ms (pytest --hypothesis-show-statistics)
CASE_SECONDS = 10
#: allowed allocation beyond a few times the file's real size
SLACK_BYTES = 64 << 20
FUZZ = settings(max_examples=1200, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


class CaseTimeout(BaseException):
    """Not an Exception: the loaders turn every Exception astropy raises into a DecorasError,
    which would report a hung case as a refused file (a pass, only on a machine slow enough)."""


@contextlib.contextmanager
def time_limit(seconds: int):
    def fire(*_):
        raise CaseTimeout(f"case ran longer than {seconds} s")

    old = signal.signal(signal.SIGALRM, fire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def run_case(path: Path, data: bytes, load) -> None:
    """Write ``data`` to ``path`` and load it: only success or a DecorasError naming the file
    may come out."""
    path.write_bytes(data)
    size = path.stat().st_size
    tracemalloc.start()
    try:
        with time_limit(CASE_SECONDS):
            load(path)
    except DecorasError as exc:
        assert path.name in str(exc), f"error does not name the file: {exc}"
    except CaseTimeout:  # no shrinking (every try would hang too): the case is kept for a look
        kept = path.with_name(f"hung-{path.name}")
        kept.write_bytes(data)
        pytest.fail(f"reading a {size}-byte file hung (over {CASE_SECONDS} s); the file is kept as {kept}")
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peak < 8 * size + SLACK_BYTES, f"allocated {peak / 2**20:.0f} MiB for a {size}-byte file"


# ------------------------------------------------------------------ FITS

def _sky_header(h: fits.Header) -> fits.Header:
    h["CTYPE1"], h["CRVAL1"], h["CDELT1"], h["CRPIX1"] = "RA---SIN", 150.0, -2.7777778e-7, 17.0
    h["CTYPE2"], h["CRVAL2"], h["CDELT2"], h["CRPIX2"] = "DEC--SIN", 40.0, 2.7777778e-7, 17.0
    h["BMAJ"], h["BMIN"], h["BPA"], h["BUNIT"] = 4e-6, 1.5e-6, 10.0, "JY/BEAM"
    return h


def _to_bytes(hdul: fits.HDUList) -> bytes:
    buf = io.BytesIO()
    hdul.writeto(buf)
    return buf.getvalue()


def fits_seeds() -> list[bytes]:
    rng = np.random.default_rng(0)
    flat = fits.PrimaryHDU(rng.normal(0, 1e-3, (32, 32)).astype(np.float32), _sky_header(fits.Header()))
    cube = fits.PrimaryHDU(rng.normal(0, 1e-3, (1, 1, 32, 32)).astype(np.float32), _sky_header(fits.Header()))
    for k, (ctype, val) in enumerate((("FREQ", 1.4e9), ("STOKES", 1.0)), start=3):
        cube.header[f"CTYPE{k}"], cube.header[f"CRVAL{k}"] = ctype, val
        cube.header[f"CDELT{k}"], cube.header[f"CRPIX{k}"] = 1.0, 1.0
    ints = fits.PrimaryHDU((rng.normal(0, 100, (32, 32))).astype(np.int16), _sky_header(fits.Header()))
    ints.header["BSCALE"], ints.header["BZERO"], ints.header["BLANK"] = 1e-5, 0.0, -32768
    nans = fits.PrimaryHDU(np.full((16, 16), np.nan, np.float32), _sky_header(fits.Header()))
    ext = fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(rng.normal(0, 1, (24, 24)).astype(np.float64),
                                                         _sky_header(fits.Header()), name="SCI")])
    plain = [_to_bytes(fits.HDUList([h])) for h in (flat, cube, ints, nans)] + [_to_bytes(ext)]
    return plain + [gzip.compress(plain[0], mtime=0)]


SEEDS = fits_seeds()
KEYWORDS = ["SIMPLE", "BITPIX", "NAXIS", "NAXIS1", "NAXIS2", "NAXIS3", "NAXIS4", "EXTEND", "XTENSION",
            "CTYPE1", "CTYPE2", "CDELT1", "CDELT2", "CRPIX1", "CRVAL2", "CUNIT1", "BMAJ", "BMIN", "BPA",
            "BLANK", "BSCALE", "BZERO", "BUNIT", "PCOUNT", "GCOUNT", "END"]
VALUES = st.one_of(
    st.sampled_from(["0", "-1", "7", "-64", "-32", "16", "8", "3", "999", "2147483647", "99999999999999",
                     "1000000", "65536", "1.5", "NAN", "INF", "-0", "T", "F", "''", "'RA---XXX'",
                     "'GLON-CAR'", "'DEC--TAN'", "'JY/BEAM'", "'FREQ'", "1E400", "1E-400", "'unterminated"]),
    st.binary(min_size=1, max_size=20).map(lambda b: b.decode("latin-1")),
)


def _damaged(draw, raw: bytes, kind: str, max_flips: int = 20) -> bytes:
    """``raw`` cut short at a random length ("truncate") or with random bytes overwritten."""
    if kind == "truncate":
        return raw[: draw(st.integers(0, len(raw) - 1))]
    out = bytearray(raw)
    for _ in range(draw(st.integers(1, max_flips))):
        out[draw(st.integers(0, len(out) - 1))] = draw(st.integers(0, 255))
    return bytes(out)


def _card(key: str, value: str) -> bytes:
    text = ("END" if key == "END" else f"{key:<8s}= {value:>20s}").ljust(80)[:80]
    return text.encode("latin-1")


def _header_offsets(data: bytes) -> list[int]:
    """Byte offsets of the 80-character cards of every header (plain files only)."""
    out, pos = [], 0
    while pos + 80 <= len(data):
        card = data[pos:pos + 80]
        out.append(pos)
        if card.startswith(b"END     ") or card.rstrip() == b"END":
            pos = (pos // 2880 + 1) * 2880
            # skip the data unit by searching for the next header start
            nxt = data.find(b"XTENSION= ", pos)
            if nxt < 0 or nxt % 2880:
                break
            pos = nxt
        else:
            pos += 80
    return out


@st.composite
def mutated_fits(draw) -> bytes:
    seed = bytearray(draw(st.sampled_from(SEEDS)))
    kind = draw(st.sampled_from(["card", "cards", "bytes", "truncate", "no_end", "data_size"]))
    gz = seed[:2] == b"\x1f\x8b"
    if gz and kind in ("card", "cards", "no_end", "data_size"):
        kind = "bytes"
    if kind in ("card", "cards"):
        offsets = _header_offsets(bytes(seed))
        for _ in range(1 if kind == "card" else draw(st.integers(2, 6))):
            at = draw(st.sampled_from(offsets))
            seed[at:at + 80] = _card(draw(st.sampled_from(KEYWORDS)), draw(VALUES))
    elif kind in ("bytes", "truncate"):
        return _damaged(draw, bytes(seed), kind, max_flips=30)
    elif kind == "no_end":
        seed = bytearray(bytes(seed).replace(b"END" + b" " * 77, b" " * 80))
    else:  # a header that declares far more data than the file holds
        offsets = _header_offsets(bytes(seed))
        naxis1 = [o for o in offsets if seed[o:o + 8] == b"NAXIS1  "]
        if naxis1:
            seed[naxis1[0]:naxis1[0] + 80] = _card("NAXIS1", str(draw(st.sampled_from([10**6, 10**9, 2**31 - 1]))))
    return bytes(seed)


def _load_and_use(path: Path) -> None:
    image = load_fits(path)
    assert image.data.ndim == 2
    float(np.nanmax(image.data)) if np.isfinite(image.data).any() else None
    image.rms  # the noise estimate every later step needs


def test_fits_seeds_load(tmp_path):
    for i, seed in enumerate(SEEDS):
        p = tmp_path / f"seed{i}.fits"
        p.write_bytes(seed)
        if i != 3:  # the NaN-only seed is refused with a message; the others load
            _load_and_use(p)


@FUZZ
@given(data=mutated_fits())
def test_mutated_fits_never_crash(tmp_path, data):
    run_case(tmp_path / "fuzz.fits", data, _load_and_use)


# ------------------------------------------------------------------ sessions

def _session_dict() -> dict:
    cat = Catalogue([Source(source_id=i, x=10.0 + i, y=20.0, ra=150.0, dec=40.0, peak_flux=1e-3 * i,
                            status=("candidate", "accepted", "rejected")[i % 3], note="ok") for i in range(1, 5)])
    return session_to_dict(Session(catalogue=cat, image_path="/data/img.fits", image_sha256="0" * 64,
                                   hdu=0, plane=[0], model="vlba-l-band", model_version="1.0.0",
                                   view={"stretch": "linear"}))


SESSION = _session_dict()
JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers(-10**30, 10**30) | st.floats(allow_nan=False)
                           | st.text(max_size=30), lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=8)


def _paths(d, prefix=()):
    yield prefix
    if isinstance(d, dict):
        for k, v in d.items():
            yield from _paths(v, (*prefix, k))


@st.composite
def mutated_session(draw) -> bytes:
    d = json.loads(json.dumps(SESSION))
    kind = draw(st.sampled_from(["retype", "delete", "ecsv", "bytes", "truncate"]))
    if kind in ("retype", "delete"):
        for _ in range(draw(st.integers(1, 4))):
            paths = [p for p in _paths(d) if p]
            if not paths:
                break
            p = draw(st.sampled_from(paths))
            parent = d
            for k in p[:-1]:
                parent = parent[k]
            if kind == "delete":
                del parent[p[-1]]
            else:
                parent[p[-1]] = draw(JSON_VALUES)
        return json.dumps(d).encode()
    if kind == "ecsv":  # damage the embedded catalogue's lines
        lines = d["catalogue_ecsv"].splitlines()
        for _ in range(draw(st.integers(1, 5))):
            i = draw(st.integers(0, len(lines) - 1))
            lines[i] = draw(st.sampled_from(["", "# %ECSV 9.9", "1 2 3", "x" * 50, lines[i][::-1],
                                             lines[i].replace("float64", "object"), "# - {name: x, datatype: int8}"]))
        d["catalogue_ecsv"] = "\n".join(lines)
        return json.dumps(d).encode()
    return _damaged(draw, json.dumps(d).encode(), kind)


def _load_session(path: Path) -> None:
    s = load_session(path)
    assert isinstance(s.catalogue, Catalogue)


@FUZZ
@given(data=mutated_session())
def test_mutated_sessions_never_crash(tmp_path, data):
    run_case(tmp_path / "fuzz.decoras-session", data, _load_session)


# ------------------------------------------------------------------ regions

REGION_TEXT = """# Region file format: DS9 version 4.1
global color=green dashlist=8 3 width=1 font="helvetica 10 normal roman" select=1
fk5
ellipse(150.0001000,40.0002000,0.0040",0.0015",30.000) # color=#E69F00 text={1}
circle(150.0003000,40.0001000,0.0030") # text={2}
point(150.0002000,40.0000500) # point=x
image
ellipse(12.5,20.5,4,2,15) # text={4}
"""
REGION_LINES = REGION_TEXT.splitlines()
REGION_JUNK = st.sampled_from([
    "ellipse(nan,nan,1\",1\",0)", "ellipse(1e400,40,1\",1\",0)", "circle(150,40,-1\")", "polygon(1,2,3)",
    "ellipse(150,40)", "galactic", "ecliptic", "icrs;ellipse(1,2,3,4,5)", "image;circle(1,2,0)",
    "ellipse(150,40,1\",1\",0) # text={unterminated", "# Region file format: DS9 version 9", "fk5(",
    "box(150,40,1\",1\",0)", "ellipse(150,40,1',1d,0) || x", "annulus(1,2,3,4)", "\x00\x01", "text(1,2) text={a}",
])


@st.composite
def mutated_regions(draw) -> bytes:
    lines = list(REGION_LINES)
    kind = draw(st.sampled_from(["junk", "bytes", "truncate", "shuffle"]))
    if kind == "junk":
        for _ in range(draw(st.integers(1, 4))):
            lines.insert(draw(st.integers(0, len(lines))), draw(REGION_JUNK | st.text(max_size=40)))
        return "\n".join(lines).encode("utf-8", "surrogatepass")
    if kind == "shuffle":
        return "\n".join(draw(st.permutations(lines))).encode()
    return _damaged(draw, "\n".join(lines).encode(), kind)


def _read_regions(path: Path) -> None:
    from astropy.wcs import WCS

    wcs = WCS(_sky_header(fits.Header()), naxis=2)
    regs = read_regions(path)
    regions_to_sources(regs, wcs)


@FUZZ
@given(data=mutated_regions())
def test_mutated_region_files_never_crash(tmp_path, data):
    run_case(tmp_path / "fuzz.reg", data, _read_regions)


def test_time_limit_and_memory_guard_work(tmp_path):
    """The harness itself can fail: a slow loader and an allocating loader are caught."""
    import time

    path = tmp_path / "x.fits"
    with pytest.raises(CaseTimeout):
        with time_limit(1):
            time.sleep(3)
    with pytest.raises(AssertionError, match="allocated"):
        run_case(path, SEEDS[0], lambda p: np.ones(2**24, np.float64).sum())  # 128 MiB for a 12 KiB file
