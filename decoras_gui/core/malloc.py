"""glibc's allocator tuned for measuring many images: freed memory kept, arrays from the heap.

Measuring an image allocates and frees many arrays of 0.1-30 MB; with glibc's mmap threshold
fixed low each one is mapped and unmapped afresh (page faults). ``decoras detect`` and the Dask
workers of a survey run call :func:`tune_malloc` once.
"""

from __future__ import annotations

#: glibc's mallopt parameters, and the values set. Dask's nanny starts workers with
#: MALLOC_TRIM_THRESHOLD_=65536, which also fixes the mmap threshold at 128 KiB, so that every
#: array of an image's measuring above that is mapped and unmapped afresh: 0.70 s an image here
#: against 0.56 s without it, and 0.47 s with these (benchmarks/RESULTS.md, session 14)
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
TRIM_THRESHOLD, MMAP_THRESHOLD = 64 << 20, 32 << 20


def tune_malloc() -> bool:
    """Keep freed memory of up to 64 MiB and serve arrays of up to 32 MiB from the heap (glibc)."""
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the process's own symbols: glibc's, where it is glibc
    except (OSError, AttributeError):  # musl and others: their allocator as it is
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
