"""Valid images written by astropy, and one card of their raw header patched afterwards
(so astropy's writer cannot refuse the value): shared by the header-value tests of
load_fits, `decoras info` and the window."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import numpy as np
from astropy.io import fits

from tests.conftest import sky_header

#: the nasty values of the issue, as FITS value text
NASTY = {
    "0": "0", "-1": "-1", "NaN": "NAN", "inf": "INF", "-inf": "-INF", "1e30": "1E30", "-1e30": "-1E30",
    "999999999": "999999999", "2**63": str(2**63), "abc": "abc", "T": "T", "empty": "",
    "huge string": "'" + "x" * 66 + "'",
}


def _base(kind: str) -> fits.HDUList:
    rng = np.random.default_rng(7)
    noise = rng.normal(0, 1e-3, (64, 64)).astype(np.float32)
    h = sky_header()
    h["BMAJ"], h["BMIN"], h["BPA"] = 4e-6, 1.5e-6, 10.0
    if kind == "2d":
        return fits.HDUList([fits.PrimaryHDU(noise, h)])
    if kind == "4d":
        return fits.HDUList([fits.PrimaryHDU(noise[None, None], sky_header(naxis=4))])
    if kind == "int":
        hdu = fits.PrimaryHDU((noise * 1e4).astype(np.int16), h)
        hdu.header["BSCALE"], hdu.header["BZERO"], hdu.header["BLANK"] = 1e-4, 0.0, -32768
        return fits.HDUList([hdu])
    if kind == "cd":
        for key in ("CDELT1", "CDELT2"):
            del h[key]
        h["CD1_1"], h["CD1_2"], h["CD2_1"], h["CD2_2"] = -2.7777778e-7, 0.0, 0.0, 2.7777778e-7
        return fits.HDUList([fits.PrimaryHDU(noise, h)])
    if kind == "pc":
        h["PC1_1"], h["PC1_2"], h["PC2_1"], h["PC2_2"] = 1.0, 0.0, 0.0, 1.0
        return fits.HDUList([fits.PrimaryHDU(noise, h)])
    if kind == "fz":
        return fits.HDUList([fits.PrimaryHDU(), fits.CompImageHDU(noise, h, compression_type="RICE_1")])
    raise ValueError(kind)


def base_bytes(kind: str) -> bytes:
    """The valid file of one kind ("2d", "4d", "int", "cd", "pc", "fz"), as bytes."""
    from io import BytesIO

    buf = BytesIO()
    _base(kind).writeto(buf)
    return buf.getvalue()


def card_text(key: str, value: str) -> bytes:
    return f"{key:<8s}= {value:>20s}".ljust(80)[:80].encode("latin-1")


def patch_card(raw: bytes, key: str, value: str, hdu: int = 0) -> bytes:
    """``raw`` with the value of ``key`` in header ``hdu`` replaced by the text ``value``
    (the card is added before END when the header has none)."""
    out = bytearray(raw)
    start = _header_start(raw, hdu)
    pos = start
    while True:
        card = raw[pos:pos + 80]
        name = card[:8].rstrip().decode("latin-1")
        if name == key:
            out[pos:pos + 80] = card_text(key, value)
            return bytes(out)
        if name == "END":
            if (pos + 80) % 2880 == 0:
                raise ValueError(f"no room for {key} in header {hdu}")
            out[pos:pos + 160] = card_text(key, value) + b"END".ljust(80)
            return bytes(out)
        pos += 80


def _header_start(raw: bytes, hdu: int) -> int:
    starts = [m.start() for m in re.finditer(rb"(SIMPLE  =|XTENSION=)", raw) if m.start() % 2880 == 0]
    return starts[hdu]


def write_case(folder: Path, kind: str, key: str, value: str, hdu: int | None = None,
               gz: bool = False) -> Path:
    """Write the ``kind`` image with one card patched; gzip it with ``gz``."""
    raw = patch_card(base_bytes(kind), key, value, hdu if hdu is not None else (1 if kind == "fz" else 0))
    safe = re.sub(r"[^A-Za-z0-9]+", "_", value)[:20] or "empty"
    suffix = ".fz" if kind == "fz" else ".fits"
    path = folder / f"{kind}_{key}_{safe}{suffix}{'.gz' if gz else ''}"
    path.write_bytes(gzip.compress(raw, mtime=0) if gz else raw)
    return path


def names_card(message: str, key: str) -> bool:
    """True when ``message`` names the card ``key`` as a word (NAXIS3 does not name NAXIS)."""
    return re.search(rf"(?<![A-Z0-9_]){re.escape(key)}(?![A-Z0-9_])", message) is not None
