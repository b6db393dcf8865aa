"""A terminal progress bar on stderr for headless commands."""

from __future__ import annotations

import sys
import time


class ProgressBar:
    """``bar(fraction, message)`` redraws one line on stderr (at most 10 times a second)."""

    def __init__(self, label: str, width: int = 30, stream=None):
        self.label, self.width = label, width
        self.stream = stream if stream is not None else sys.stderr  # looked up now, not at import
        self._last = 0.0
        self._shown = False

    def __call__(self, fraction: float, message: str = "") -> None:
        now = time.monotonic()
        if fraction < 1.0 and now - self._last < 0.1:
            return
        self._last = now
        fraction = min(max(fraction, 0.0), 1.0)
        filled = int(round(self.width * fraction))
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(f"\r{self.label} [{bar}] {100 * fraction:5.1f}% {message[:50]:50s}")
        self.stream.flush()
        self._shown = True

    def counter(self, done: int, total: int) -> None:
        self(done / max(total, 1), f"{done}/{total}")

    def close(self) -> None:
        if self._shown:
            self.stream.write("\n")
            self.stream.flush()
            self._shown = False
