"""Checks of a FITS file's header cards before astropy reads them.

A single nonsense card can make astropy hang (``NAXIS = 999999999`` makes it look up a
billion NAXISn keywords), allocate terabytes, silently drop an HDU, or build a WCS that
quietly ignores an unparsable ``CDELT1 = NAN``. :func:`read_headers` therefore walks the
raw 2880-byte header blocks of every HDU itself (plain, gzip/bzip2/xz/zip-compressed
files through their stdlib readers, header bytes only; tile-compressed ``.fz`` images are
ordinary BINTABLE extensions) and refuses a broken structure; :func:`check_values` then
checks the cards that give the pixel values and positions of the HDU being loaded their
meaning. Every refusal is a :class:`DecorasError` naming the file and the card.

Values are parsed by astropy's own card parser (``fits.Card``); only the walk over the
blocks and the checks are written here.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import math
import re
import warnings
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
from astropy import units as u
from astropy.io import fits

from .errors import DecorasError

BLOCK = 2880
CARD = 80
MAX_NAXIS = 999  # the FITS standard's limit on NAXIS
BITPIX_VALUES = (8, 16, 32, 64, -32, -64)
#: a header longer than this (28.8 MB, 360,000 cards) is taken as one without END; the longest
#: observed one here (VLBA NGC 1052, 3,330 HISTORY lines) has 93 blocks
MAX_HEADER_BLOCKS = 10_000
MAX_HDUS = 10_000  # far beyond any mosaic camera (~100 extensions); bounds the walk
#: |CRPIXn| above this is no reference pixel of any real image: the longest axes of mosaics
#: and cubes are ~10^6 pixels, and the observed ATCA cutout has CRPIX -253 / 937 on 100 pixels
MAX_CRPIX = 1e9
#: the reference point may lie at most this far (intermediate world coordinates, degrees)
#: from the image centre: no projection puts a sky pixel further from it (beyond, even TAN
#: is within 10 deg of its horizon)
MAX_REFERENCE_OFFSET_DEG = 360.0
#: pixel size bounds on a celestial axis, degrees: a pixel cannot be wider than half the sky,
#: and 1e-15 deg (4e-6 microarcsec) is five orders of magnitude below the finest
#: interferometer pixels (EHT, ~1e-10 deg)
MAX_PIXEL_DEG = 180.0
MIN_PIXEL_DEG = 1e-15
#: longitudes (CRVAL of RA, GLON...) and angles (CROTAn, LONPOLE, LATPOLE, BPA): headers
#: write -180..360; beyond two turns a value is no angle, only a loss of precision
MAX_LONGITUDE_DEG = MAX_ANGLE_DEG = 720.0
#: EQUINOX/EPOCH in years: B1950 and J2000 in practice; the IAU 1976 precession that
#: converts them holds for a few centuries around 2000 (EQUINOX = 0 or 1e30 moves a
#: position by tens of degrees without a word)
MIN_EQUINOX, MAX_EQUINOX = 1800.0, 2200.0
MAX_BEAM_DEG = 180.0
#: a tile-compressed image may expand at most this much over its table and heap: deflate
#: cannot pass 1032:1, and astropy's RICE/GZIP/PLIO/HCOMPRESS files of constant 4096^2
#: images measure 100-1030:1; a corrupted ZNAXISn/ZTILEn pair declaring 256 GB in 8 kB does not
MAX_COMPRESSION_RATIO = 1_000_000

_COMMENTARY = {"", "COMMENT", "HISTORY"}
_MATRIX_KEY = re.compile(r"^(PC|CD)0*(\d{1,3})_0*(\d{1,3})$")
_UNPARSABLE = object()


@dataclass(frozen=True)
class HeaderUnit:
    """The raw header of one HDU: the first card of each keyword, as 80 characters."""

    index: int
    cards: dict[str, str]
    data_bytes: int  # declared size of the data unit, without padding

    @property
    def where(self) -> str:
        """Prefix naming the HDU in messages (nothing for the primary HDU)."""
        return f"HDU {self.index}: " if self.index else ""

    @property
    def compressed(self) -> bool:
        """A tile-compressed image (a BINTABLE with ZIMAGE = T)."""
        return self.index > 0 and _parse(self.cards.get("ZIMAGE", "")) is True

    @property
    def is_image(self) -> bool:
        """Primary, IMAGE or tile-compressed: an HDU whose pixel-value cards astropy reads."""
        if self.index == 0:
            return True
        xtension = _parse(self.cards.get("XTENSION", ""))
        return (isinstance(xtension, str) and xtension.strip().upper() == "IMAGE") or self.compressed

    def has(self, key: str) -> bool:
        return key in self.cards

    def value(self, key: str):
        """The card's value as astropy parses it (``_UNPARSABLE`` when it cannot)."""
        return _parse(self.cards[key])

    def text(self, key: str) -> str:
        """``KEY = value`` as the header writes it, for messages."""
        return f"{key} = {_value_text(self.cards[key])}"

    def image_key(self, key: str) -> str:
        """BITPIX/NAXIS/NAXISn, or their ZBITPIX/ZNAXIS/ZNAXISn for a compressed image."""
        return f"Z{key}" if self.compressed else key

    @property
    def bitpix(self) -> int:
        return self.value(self.image_key("BITPIX"))

    @property
    def naxis(self) -> int:
        return self.value(self.image_key("NAXIS"))


# ------------------------------------------------------------------------- card values


def _parse(card: str):
    if not card:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            value = fits.Card.fromstring(card).value
        except Exception:  # VerifyError and friends: astropy cannot parse this card
            return _UNPARSABLE
    if isinstance(value, fits.card.Undefined):
        return _UNPARSABLE
    return value


_QUOTED = re.compile(r"'(?:[^']|'')*'?")


def _value_text(card: str) -> str:
    """The value field of a card as written (a quoted string kept whole, no comment)."""
    field = card[10:] if card[8:10] == "= " else card[8:]
    field = field.strip()
    match = _QUOTED.match(field)
    text = match.group(0) if match else field.split("/")[0].strip()
    text = "".join(c if " " <= c <= "~" else "?" for c in text)
    if not text:
        return "(no value)"
    return text if len(text) <= 40 else text[:37] + "..."


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _is_real(value) -> bool:
    return (_is_int(value) or isinstance(value, (float, np.floating))) and not isinstance(value, bool)


# ------------------------------------------------------------------------- file access

_MAGIC = ((b"\x1f\x8b", gzip.open), (b"BZh", bz2.open), (b"\xfd7zXZ\x00", lzma.open))


@contextmanager
def _stream(path: Path) -> Iterator[tuple[BinaryIO, int | None]]:
    """The file's (decompressed) bytes as a seekable stream, and its size when known
    without decompressing (plain files only)."""
    with open(path, "rb") as raw:
        magic = raw.read(6)
    for prefix, opener in _MAGIC:
        if magic.startswith(prefix):
            with opener(path, "rb") as fh:
                yield fh, None
            return
    if magic.startswith(b"PK\x03\x04"):  # astropy opens a zip holding one member
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if len(names) != 1:
                raise DecorasError(f"a zip archive holding {len(names)} files, not one FITS file", path)
            with archive.open(names[0]) as fh:
                yield fh, None
        return
    with open(path, "rb") as fh:
        yield fh, path.stat().st_size


# ------------------------------------------------------------------------ the HDU chain


def read_headers(path: str | Path) -> list[HeaderUnit]:
    """Walk the headers of every HDU of ``path`` (skipping each data unit by its declared
    size) and check their structural cards; raise a DecorasError naming the card otherwise.

    The data of each HDU must fit in the file: a header declaring more data than there is
    is refused here, before astropy could try to read or allocate it.
    """
    path = Path(path)
    units: list[HeaderUnit] = []
    try:
        with _stream(path) as (fh, size):
            pos = 0
            while len(units) < MAX_HDUS:
                fh.seek(pos)
                first = fh.read(BLOCK)
                if units and (len(first) < BLOCK or not first.strip(b"\0 ")):
                    break  # end of file, a partial block or padding after the last HDU
                if units and not first.startswith(b"XTENSION"):
                    last = units[-1]
                    raise DecorasError(f"the bytes after HDU {last.index} ({_declared(last)}) are not a FITS extension "
                                       f"(no XTENSION card at byte {pos:,}): NAXISn/BITPIX corrupted?", path)
                cards, blocks = _read_cards(fh, first, len(units), path)
                unit = _check_structure(len(units), cards, path)
                data_start = pos + blocks * BLOCK
                available = _skip(fh, data_start, unit.data_bytes, size)
                if available < unit.data_bytes:
                    raise DecorasError(_size_message(unit, available), path)
                units.append(unit)
                pos = data_start + unit.data_bytes + (-unit.data_bytes) % BLOCK
                if size is not None and pos >= size:
                    break
            else:
                raise DecorasError(f"more than {MAX_HDUS:,} HDUs: not a FITS file this program can read", path)
    except DecorasError:
        raise
    except EOFError:  # a compressed stream cut short
        raise DecorasError(f"the compressed file ends early (truncated) inside HDU {len(units)}", path) from None
    except Exception as exc:  # OSError, zlib.error, BadZipFile, LZMAError...: a damaged file
        text = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        detail = f"{type(exc).__name__}{': ' + text if text else ''}"
        raise DecorasError(f"not a readable FITS file ({detail})", path) from None
    return units


#: keywords that say how the file is laid out: given twice, astropy may walk the file without end
_STRUCTURAL = re.compile(r"SIMPLE|XTENSION|BITPIX|NAXIS\d*|PCOUNT|GCOUNT|EXTEND|GROUPS|THEAP|TFIELDS|"
                         r"ZIMAGE|ZBITPIX|ZNAXIS\d*|ZTILE\d+|ZCMPTYPE|BSCALE|BZERO|BLANK")


def _read_cards(fh: BinaryIO, first: bytes, index: int, path: Path) -> tuple[dict[str, str], int]:
    """The first card of each keyword of one header, and the number of blocks it takes."""
    where = f"HDU {index}: " if index else ""
    if index == 0 and not first:
        raise DecorasError("not a FITS file (it is empty)", path)
    if index == 0 and not first.startswith(b"SIMPLE  "):
        raise DecorasError("not a FITS file (it does not start with a SIMPLE card)", path)
    cards: dict[str, str] = {}
    block, blocks = first, 0
    while True:
        if len(block) < BLOCK:
            raise DecorasError(f"{where}the header has no END card (the file ends inside it: truncated, "
                               "or not FITS)", path)
        blocks += 1
        text = block.decode("latin-1")
        for at in range(0, BLOCK, CARD):
            card = text[at:at + CARD]
            key = card[:8].rstrip().upper()
            if key == "END":
                return cards, blocks
            if key in cards and _STRUCTURAL.fullmatch(key):
                raise DecorasError(f"{where}{key} is given twice ({_value_text(cards[key])} and "
                                   f"{_value_text(card)}): the header's structure is ambiguous", path)
            if key not in _COMMENTARY and key not in cards:
                cards[key] = card
        if blocks >= MAX_HEADER_BLOCKS:
            raise DecorasError(f"{where}no END card in the first {MAX_HEADER_BLOCKS:,} header blocks "
                               f"({MAX_HEADER_BLOCKS * BLOCK / 1e6:.1f} MB): not a FITS header", path)
        block = fh.read(BLOCK)


def _skip(fh: BinaryIO, data_start: int, declared: int, size: int | None) -> int:
    """Bytes of data actually present after the header (at most ``declared``)."""
    if size is not None:
        return max(0, min(declared, size - data_start))
    target = data_start + min(declared, 1 << 62)
    return max(0, fh.seek(target) - data_start)  # a decompressing reader stops at its end


def _declared(unit: HeaderUnit) -> str:
    """``N bytes of data (BITPIX = .., NAXIS1 = .., ...)``: the cards that declare the data size."""
    keys = ["BITPIX", "NAXIS"] + [f"NAXIS{i}" for i in range(1, unit.value("NAXIS") + 1)][:8]
    keys += [key for key, usual in (("PCOUNT", 0), ("GCOUNT", 1)) if unit.has(key) and unit.value(key) != usual]
    return f"{unit.data_bytes:,} bytes of data ({', '.join(unit.text(k) for k in keys)})"


def _size_message(unit: HeaderUnit, available: int) -> str:
    return (f"{unit.where}the header declares {_declared(unit)} but the file holds only {available:,} "
            "(truncated, or NAXISn/BITPIX corrupted)")


def _need(unit: HeaderUnit, key: str, ok, what: str, path: Path, default=None):
    """The value of a card that must pass ``ok`` (``default`` when absent, if given)."""
    if not unit.has(key):
        if default is not None:
            return default
        raise DecorasError(f"{unit.where}the mandatory {key} card is missing", path)
    value = unit.value(key)
    if value is _UNPARSABLE or not ok(value):
        raise DecorasError(f"{unit.where}{unit.text(key)} {what}", path)
    return value


_BITPIX_TEXT = "is not a FITS data type (FITS allows 8, 16, 32, 64, -32, -64)"
_NAXIS_TEXT = f"is not a valid axis count (FITS allows 0..{MAX_NAXIS})"
_LENGTH_TEXT = "is not a valid axis length (a whole number >= 0)"


def _check_structure(index: int, cards: dict[str, str], path: Path) -> HeaderUnit:
    unit = HeaderUnit(index, cards, 0)

    def need(key: str, ok, what: str, default=None):
        return _need(unit, key, ok, what, path, default)

    if index == 0:
        need("SIMPLE", lambda v: isinstance(v, bool), "is not T or F (not a FITS file)")
    else:
        need("XTENSION", lambda v: isinstance(v, str) and v.strip(), "is not an extension type")
    bitpix = need("BITPIX", lambda v: _is_int(v) and v in BITPIX_VALUES, _BITPIX_TEXT)
    naxis = need("NAXIS", lambda v: _is_int(v) and 0 <= v <= MAX_NAXIS, _NAXIS_TEXT)
    for i in range(1, naxis + 1):
        if not unit.has(f"NAXIS{i}"):
            raise DecorasError(f"{unit.where}{unit.text('NAXIS')} but there is no NAXIS{i} card", path)
    lengths = [need(f"NAXIS{i}", lambda v: _is_int(v) and v >= 0, _LENGTH_TEXT) for i in range(1, naxis + 1)]
    pcount = need("PCOUNT", lambda v: _is_int(v) and v >= 0, "is not a valid parameter count (a whole number >= 0)",
                  default=0)
    gcount = need("GCOUNT", lambda v: _is_int(v) and v >= 0, "is not a valid group count (a whole number >= 0)",
                  default=1)
    if naxis == 0:
        data_bytes = 0
    else:  # astropy's formula; random groups (GROUPS = T, NAXIS1 = 0) leave NAXIS1 out
        groups = index == 0 and _parse(cards.get("GROUPS", "")) is True and lengths[0] == 0
        data_bytes = abs(bitpix) * gcount * (pcount + math.prod(lengths[1:] if groups else lengths)) // 8
    unit = HeaderUnit(index, cards, data_bytes)
    if unit.compressed:
        _check_compressed(unit, lengths, path)
    if unit.is_image:
        _check_pixel_cards(unit, path)
    return unit


def _check_compressed(unit: HeaderUnit, table_axes: list[int], path: Path) -> None:
    """ZBITPIX/ZNAXIS/ZNAXISn/ZTILEn of a tile-compressed image, and that the table has
    one row per tile they imply (so a corrupted ZNAXISn cannot make astropy decompress
    into an image of another size)."""

    def need(key: str, ok, what: str, default=None):
        return _need(unit, key, ok, what, path, default)

    need("ZBITPIX", lambda v: _is_int(v) and v in BITPIX_VALUES, _BITPIX_TEXT)
    znaxis = need("ZNAXIS", lambda v: _is_int(v) and 0 <= v <= MAX_NAXIS, _NAXIS_TEXT)
    for i in range(1, znaxis + 1):
        if not unit.has(f"ZNAXIS{i}"):
            raise DecorasError(f"{unit.where}{unit.text('ZNAXIS')} but there is no ZNAXIS{i} card", path)
    lengths = [need(f"ZNAXIS{i}", lambda v: _is_int(v) and v >= 0, _LENGTH_TEXT) for i in range(1, znaxis + 1)]
    tiles = [need(f"ZTILE{i}", lambda v, n=n: _is_int(v) and 1 <= v <= max(n, 1),
                  f"is not a valid tile size (a whole number from 1 to ZNAXIS{i} = {n})",
                  default=(n if i == 1 else 1)) for i, n in enumerate(lengths, start=1)]
    need("ZCMPTYPE", lambda v: isinstance(v, str), "is not a compression algorithm name", default="")
    if len(table_axes) == 2:  # one row per tile
        expected = math.prod(-(-n // t) for n, t in zip(lengths, tiles)) if znaxis else 0
        if expected != table_axes[1]:
            keys = ", ".join(unit.text(k) for k in ["ZNAXIS"] + [f"ZNAXIS{i}" for i in range(1, min(znaxis, 8) + 1)])
            raise DecorasError(f"{unit.where}{keys} and the tile sizes imply {expected:,} tiles, but the table holds "
                               f"{table_axes[1]:,} (NAXIS2): ZNAXISn or ZTILEn corrupted", path)
    image_bytes = math.prod(lengths) * abs(unit.bitpix) // 8
    if znaxis and image_bytes > MAX_COMPRESSION_RATIO * max(unit.data_bytes, 1):
        keys = ", ".join(unit.text(k) for k in [f"ZNAXIS{i}" for i in range(1, min(znaxis, 8) + 1)] + ["ZBITPIX"])
        raise DecorasError(f"{unit.where}{keys} declare a {image_bytes:,}-byte image compressed into "
                           f"{unit.data_bytes:,} bytes (more than {MAX_COMPRESSION_RATIO:,}:1, beyond any FITS "
                           "tile compression): ZNAXISn or ZTILEn corrupted", path)


def _check_pixel_cards(unit: HeaderUnit, path: Path) -> None:
    """BSCALE, BZERO and BLANK: astropy applies them to the pixels of every image HDU."""
    bscale = _number(unit, "BSCALE", path)
    if bscale == 0:
        raise DecorasError(f"{unit.where}{unit.text('BSCALE')} would make every pixel the same value "
                           "(BSCALE must be a non-zero number)", path)
    bzero = _number(unit, "BZERO", path)
    bitpix = unit.bitpix
    if bitpix > 0 and (bscale is not None or bzero is not None):
        # astropy scales 8/16-bit integers into float32 and 32/64-bit ones into float64
        limits = np.finfo(np.float32 if bitpix <= 16 else np.float64)
        scale, zero = abs(bscale if bscale is not None else 1.0), abs(bzero or 0.0)
        if scale * 2.0 ** bitpix + zero > float(limits.max):
            key = "BSCALE" if scale * 2.0 ** bitpix > zero else "BZERO"
            raise DecorasError(f"{unit.where}{unit.text(key)} overflows the {limits.dtype} pixel values of this "
                               f"{bitpix}-bit integer image (largest {float(limits.max):.3g})", path)
        if scale < float(limits.tiny):
            raise DecorasError(f"{unit.where}{unit.text('BSCALE')} is below the smallest {limits.dtype} "
                               f"({float(limits.tiny):.3g}): every pixel of this integer image would be {zero:g}", path)
    if unit.has("BLANK") and bitpix > 0 and not _is_int(unit.value("BLANK")):
        raise DecorasError(f"{unit.where}{unit.text('BLANK')} is not an integer, so the blank pixels of this "
                           f"integer image ({unit.image_key('BITPIX')} = {bitpix}) cannot be told", path)


def _number(unit: HeaderUnit, key: str, path: Path) -> float | None:
    """The value of a numeric card as a finite float (None when absent)."""
    if not unit.has(key):
        return None
    value = unit.value(key)
    if value is _UNPARSABLE or not _is_real(value):
        hint = " (FITS headers have no NaN or Inf)" if re.search(r"NAN|INF", _value_text(unit.cards[key]),
                                                                  re.IGNORECASE) else ""
        raise DecorasError(f"{unit.where}{unit.text(key)} is not a number{hint}", path)
    value = float(value)
    if not math.isfinite(value):
        raise DecorasError(f"{unit.where}{unit.text(key)} is not a finite number", path)
    return value


# ---------------------------------------------------------------- the HDU being loaded


def check_values(unit: HeaderUnit, path: str | Path) -> None:
    """Refuse nonsense values of the cards that place the pixels of ``unit`` on the sky
    (CTYPEn, CUNITn, CRPIXn, CRVALn, CDELTn, CROTAn, PCi_j, CDi_j, LONPOLE, LATPOLE,
    EQUINOX) and of its beam (BMAJ, BMIN, BPA). A header with no celestial WCS at all, or
    with a projection wcslib does not know, passes: the loader then works in pixels."""
    path = Path(path)
    naxis = unit.naxis
    where = unit.where
    for key in ("EQUINOX", "EPOCH"):  # some writers quote them ('J2000'), which wcslib ignores
        if not isinstance(unit.value(key) if unit.has(key) else None, str):
            value = _number(unit, key, path)
            if value is not None and not MIN_EQUINOX <= value <= MAX_EQUINOX:
                raise DecorasError(f"{where}{unit.text(key)} is not an equinox ({MIN_EQUINOX:g}..{MAX_EQUINOX:g}: "
                                   "positions would be precessed over millennia)", path)
    angles = ["LONPOLE", "LATPOLE", "BPA"] + [f"CROTA{i}" for i in range(1, naxis + 1)]
    for key in angles:
        value = _number(unit, key, path)
        if value is not None and abs(value) > MAX_ANGLE_DEG:
            raise DecorasError(f"{where}{unit.text(key)} is not an angle (|value| <= {MAX_ANGLE_DEG:g} deg)", path)
    for key in ("BMAJ", "BMIN"):  # 0 is how some imagers say "no beam": beam.py then looks in HISTORY
        value = _number(unit, key, path)
        if value is not None and not 0 <= value <= MAX_BEAM_DEG:
            raise DecorasError(f"{where}{unit.text(key)} is not a beam size (0..{MAX_BEAM_DEG:g} deg)", path)
    ctypes = []
    for i in range(1, naxis + 1):
        key = f"CTYPE{i}"
        if unit.has(key) and not isinstance(unit.value(key), str):
            raise DecorasError(f"{where}{unit.text(key)} is not an axis type (a quoted string such as "
                               "'RA---SIN')", path)
        ctypes.append(str(unit.value(key)).strip() if unit.has(key) else "")
        _number(unit, f"CRVAL{i}", path)
        crpix = _number(unit, f"CRPIX{i}", path)
        if crpix is not None and abs(crpix) > MAX_CRPIX:
            raise DecorasError(f"{where}{unit.text(f'CRPIX{i}')} is no reference pixel (|CRPIX| <= "
                               f"{MAX_CRPIX:.0e}: no image axis is that long)", path)
    matrix, kind = _linear_matrix(unit, naxis, path)
    if naxis:
        _check_singular(unit, matrix, kind, path)
    sky = _celestial_pair(ctypes)
    if sky is not None:
        _check_celestial(unit, matrix, kind, sky, ctypes, path)


def _linear_matrix(unit: HeaderUnit, naxis: int, path: Path) -> tuple[np.ndarray, str]:
    """Pixel -> intermediate world matrix (world units per pixel) as wcslib builds it:
    PCi_j with CDELTn when any PC card is present, else CDi_j, else CDELTn (CROTAn only
    rotates it, which changes neither its singularity nor the pixel size)."""
    cdelt = np.ones(naxis)
    for i in range(naxis):
        value = _number(unit, f"CDELT{i + 1}", path)
        if value is not None:
            cdelt[i] = value
    found: dict[str, dict[tuple[int, int], float]] = {"PC": {}, "CD": {}}
    for key in unit.cards:
        match = _MATRIX_KEY.match(key)
        if match and 1 <= int(match[2]) <= naxis and 1 <= int(match[3]) <= naxis:
            found[match[1]][int(match[2]) - 1, int(match[3]) - 1] = _number(unit, key, path)
    if found["PC"] or not found["CD"]:
        pc = np.eye(naxis)
        for (i, j), value in found["PC"].items():
            pc[i, j] = value
        return cdelt[:, None] * pc, "PC" if found["PC"] else "CDELT"
    cd = np.zeros((naxis, naxis))
    for (i, j), value in found["CD"].items():
        cd[i, j] = value
    written = {i for pair in found["CD"] for i in pair}
    for i in set(range(naxis)) - written:  # wcslib's cdfix: an axis with no CD card at all gets CDi_i = 1
        cd[i, i] = 1.0
    return cd, "CD"


def _matrix_cards(unit: HeaderUnit, kind: str, rows, cols) -> str:
    if kind == "CDELT":
        return ", ".join(unit.text(f"CDELT{r + 1}") if unit.has(f"CDELT{r + 1}") else f"CDELT{r + 1} (absent: 1)"
                         for r in rows)
    keys = [f"{kind}{r + 1}_{c + 1}" for r in rows for c in cols]
    present = [unit.text(k) for k in keys if unit.has(k)]
    if kind == "PC":
        present += [unit.text(f"CDELT{r + 1}") for r in rows if unit.has(f"CDELT{r + 1}")]
    return ", ".join(present) or f"no {kind} cards"


def _check_singular(unit: HeaderUnit, matrix: np.ndarray, kind: str, path: Path) -> None:
    norms = np.max(np.abs(matrix), axis=1)  # rows scaled by their largest element: no overflow
    for r in np.flatnonzero(~(norms > 0)):
        raise DecorasError(f"{unit.where}{_matrix_cards(unit, kind, [r], range(len(matrix)))}: world axis {r + 1} "
                           "does not change across the image (a zero pixel spacing): the WCS is singular", path)
    with np.errstate(all="ignore"):
        det = abs(np.linalg.det(matrix / norms[:, None]))
    if not det > 1e-10:
        axes = range(len(matrix))
        raise DecorasError(f"{unit.where}{_matrix_cards(unit, kind, axes, axes)}: the {kind} matrix is singular "
                           "(two axes point the same way)", path)


def _celestial_pair(ctypes: list[str]) -> tuple[int, int] | None:
    """0-based (longitude, latitude) axes as wcslib reads the CTYPEs, or None (no celestial
    WCS, or one wcslib refuses: unknown projection, unmatched axes...)."""
    if not any(ctypes):
        return None
    from astropy.wcs import WCS

    probe = WCS(naxis=len(ctypes))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            probe.wcs.ctype = ctypes
            probe.wcs.crval = [45.0] * len(ctypes)  # a latitude every projection accepts
            probe.wcs.set()
    except Exception:
        return None
    if probe.wcs.lng < 0 or probe.wcs.lat < 0:
        return None
    return int(probe.wcs.lng), int(probe.wcs.lat)


def _to_degrees(unit: HeaderUnit, axis: int, ctype: str, path: Path) -> float:
    key = f"CUNIT{axis + 1}"
    if not unit.has(key):
        return 1.0
    value = unit.value(key)
    if isinstance(value, str):
        try:  # the FITS spelling, as wcslib reads it: 'deg', 'arcsec', 'mas', 'rad' (not 'DEG')
            return float(u.Unit(value.strip() or "deg", format="fits").to(u.deg))
        except (ValueError, TypeError, u.UnitsError):
            pass
    raise DecorasError(f"{unit.where}{unit.text(key)} is not an angle unit ({ctype} is a celestial axis)", path)


def _check_celestial(unit: HeaderUnit, matrix: np.ndarray, kind: str, sky: tuple[int, int], ctypes: list[str],
                     path: Path) -> None:
    """Latitude of the reference point, pixel size and where the reference pixel lies."""
    where = unit.where
    lng, lat = sky
    factor = np.array([_to_degrees(unit, a, ctypes[a], path) for a in sky])
    lat_val = (_number(unit, f"CRVAL{lat + 1}", path) or 0.0) * factor[1]
    if not -90.0 <= lat_val <= 90.0:
        raise DecorasError(f"{where}{unit.text(f'CRVAL{lat + 1}')} is not a latitude ({ctypes[lat]}: -90..90 deg)",
                           path)
    lng_val = (_number(unit, f"CRVAL{lng + 1}", path) or 0.0) * factor[0]
    if abs(lng_val) > MAX_LONGITUDE_DEG:
        raise DecorasError(f"{where}{unit.text(f'CRVAL{lng + 1}')} is not a longitude ({ctypes[lng]}: "
                           f"|value| <= {MAX_LONGITUDE_DEG:g} deg)", path)
    block = matrix[np.ix_(sky, sky)] * factor[:, None]  # degrees per pixel
    for r, axis in enumerate(sky):
        with np.errstate(over="ignore"):
            size = float(np.hypot(*block[r]))
        if not MIN_PIXEL_DEG <= size <= MAX_PIXEL_DEG:
            raise DecorasError(f"{where}{_matrix_cards(unit, kind, [axis], sky)}: a pixel of {size:.3g} deg along "
                               f"{ctypes[axis]} is no sky pixel ({MIN_PIXEL_DEG:g}..{MAX_PIXEL_DEG:g} deg)", path)
    lengths = [unit.value(f"{unit.image_key('NAXIS')}{a + 1}") for a in sky]
    crpix = np.array([_number(unit, f"CRPIX{a + 1}", path) or 0.0 for a in sky])
    centre_from_ref = (np.array(lengths) + 1) / 2.0 - crpix
    offset = block @ centre_from_ref
    if not np.all(np.abs(offset) <= MAX_REFERENCE_OFFSET_DEG):
        pull = np.abs(centre_from_ref) * np.hypot(*block)
        axis = sky[int(np.argmax(pull))]
        key = f"CRPIX{axis + 1}"
        card = unit.text(key) if unit.has(key) else f"{key} (absent: 0)"
        raise DecorasError(f"{where}{card} puts the reference pixel {float(np.max(np.abs(offset))):.3g} deg from the "
                           f"image centre (at most {MAX_REFERENCE_OFFSET_DEG:g} deg: further is off the sky)", path)
