"""One shared cross-matcher: detections <-> true components, one-to-one, beam-relative."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment


@dataclass
class Match:
    """Index pairs (truth row, detection row) plus the unmatched rows of each side."""

    pairs: list[tuple[int, int]]
    unmatched_truth: list[int]
    unmatched_detections: list[int]


def beam_distance(dx: np.ndarray, dy: np.ndarray, bmaj: float, bmin: float, theta_img: float) -> np.ndarray:
    """Offsets in units of the beam's half-width along each of its axes (1 = on the HWHM ellipse).

    ``theta_img`` is the beam major axis angle in the pixel frame (deg CCW from +x);
    ``bmaj``/``bmin`` are FWHM in pixels.
    """
    t = math.radians(theta_img)
    along = dx * math.cos(t) + dy * math.sin(t)
    across = -dx * math.sin(t) + dy * math.cos(t)
    return np.hypot(along / (bmaj / 2.0), across / (bmin / 2.0))


def match(truth_xy: np.ndarray, det_xy: np.ndarray, bmaj: float, bmin: float, theta_img: float,
          radius: float = 1.0) -> Match:
    """Optimal one-to-one matching within ``radius`` half-widths of the beam."""
    n_t, n_d = len(truth_xy), len(det_xy)
    if n_t == 0 or n_d == 0:
        return Match([], list(range(n_t)), list(range(n_d)))
    dx = det_xy[None, :, 0] - truth_xy[:, None, 0]
    dy = det_xy[None, :, 1] - truth_xy[:, None, 1]
    dist = beam_distance(dx, dy, bmaj, bmin, theta_img)
    cost = np.where(dist <= radius, dist, 1e6)
    rows, cols = linear_sum_assignment(cost)
    pairs = [(int(r), int(c)) for r, c in zip(rows, cols) if dist[r, c] <= radius]
    mt = {r for r, _ in pairs}
    md = {c for _, c in pairs}
    return Match(pairs, [i for i in range(n_t) if i not in mt], [j for j in range(n_d) if j not in md])
