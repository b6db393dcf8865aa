"""A 16384 x 16384 float32 image (1 GiB): open time and memory, detect time and peak memory,
and how fast a running detection stops when cancelled (not a test: prints figures).

    .venv/bin/python benchmarks/huge_image.py [--size 16384] [--cancel-after 20]

The image is written in chunks (noise plus a grid of point sources convolved with a
Gaussian beam), so writing it does not inflate this process's memory.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from astropy.io import fits

CHUNK_ROWS = 512


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_image(path: Path, n: int) -> int:
    """Noise (rms 1 mJy/beam) plus a point source of 20-100 sigma every 512 pixels."""
    h = fits.Header()
    h["SIMPLE"], h["BITPIX"], h["NAXIS"], h["NAXIS1"], h["NAXIS2"] = True, -32, 2, n, n
    h["CTYPE1"], h["CRVAL1"], h["CDELT1"], h["CRPIX1"] = "RA---SIN", 150.0, -2.7777778e-7, n / 2 + 1
    h["CTYPE2"], h["CRVAL2"], h["CDELT2"], h["CRPIX2"] = "DEC--SIN", 40.0, 2.7777778e-7, n / 2 + 1
    h["BMAJ"], h["BMIN"], h["BPA"], h["BUNIT"] = 13.4 / 3.6e6, 5.2 / 3.6e6, 0.0, "JY/BEAM"
    rng = np.random.default_rng(16384)
    sx, sy = 13.4 / 2.3548, 5.2 / 2.3548
    spacing = 512
    centres = np.arange(spacing // 2, n, spacing)
    amps = rng.uniform(0.02, 0.1, (len(centres), len(centres)))
    stream = fits.StreamingHDU(path, h)
    xx = np.arange(n)
    for y0 in range(0, n, CHUNK_ROWS):
        rows = rng.normal(0, 1e-3, (CHUNK_ROWS, n)).astype(np.float32)
        yy = np.arange(y0, y0 + CHUNK_ROWS)[:, None]
        for i, cy in enumerate(centres):
            if abs(cy - (y0 + CHUNK_ROWS / 2)) > CHUNK_ROWS / 2 + 6 * sx:
                continue
            gy = np.exp(-0.5 * ((yy - cy) / sx) ** 2)
            for j, cx in enumerate(centres):
                sl = slice(max(0, cx - 40), min(n, cx + 40))
                rows[:, sl] += (amps[i, j] * gy * np.exp(-0.5 * ((xx[sl] - cx) / sy) ** 2)).astype(np.float32)
        stream.write(rows)
    stream.close()
    return len(centres) ** 2


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--size", type=int, default=16384)
    p.add_argument("--cancel-after", type=float, default=20.0, help="seconds into the second run")
    args = p.parse_args()
    from decoras_gui.core.errors import Cancelled
    from decoras_gui.core.image import load_fits
    from decoras_gui.ml.pipeline import detect
    from decoras_gui.ml.registry import load_model

    tmp = Path(tempfile.mkdtemp(prefix="decoras-huge-"))
    path = tmp / f"huge_{args.size}.fits"
    t = time.perf_counter()
    n_true = write_image(path, args.size)
    print(f"wrote {path.stat().st_size / 2**30:.2f} GiB in {time.perf_counter() - t:.0f} s "
          f"({n_true} injected sources); RSS now {rss_mb():.0f} MB")
    model = load_model()
    base = rss_mb()
    t = time.perf_counter()
    image = load_fits(path)
    rms = image.rms
    print(f"open (memory map) + robust rms: {time.perf_counter() - t:.2f} s; RSS {rss_mb():.0f} MB "
          f"(+{rss_mb() - base:.0f} MB); memory mapped: {image.memory_mapped}; rms {rms * 1e3:.3f} mJy/beam")

    last = [0.0]

    def progress(fraction, message):
        if fraction - last[0] >= 0.1:
            last[0] = fraction
            print(f"  {fraction:4.0%} {message}  RSS {rss_mb():.0f} MB", flush=True)

    t = time.perf_counter()
    catalogue, _ = detect(image, model, device="cpu", progress=progress)
    seconds = time.perf_counter() - t
    print(f"detect: {seconds:.0f} s ({seconds / (image.data.size / 1e6):.2f} s per megapixel), "
          f"{len(catalogue)} sources (of {n_true} injected, plus noise); peak RSS of the process "
          f"{peak_rss_mb():.0f} MB")

    stop = threading.Event()
    result = {}

    def run():
        try:
            detect(image, model, device="cpu", cancel=stop.is_set)
        except Cancelled:
            result["stopped"] = time.perf_counter()

    worker = threading.Thread(target=run)
    worker.start()
    time.sleep(args.cancel_after)
    asked = time.perf_counter()
    stop.set()
    worker.join()
    print(f"cancel: stopped {result.get('stopped', float('nan')) - asked:.2f} s after the request "
          f"({args.cancel_after:.0f} s into a run)")
    path.unlink()


if __name__ == "__main__":
    main()
