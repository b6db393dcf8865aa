"""The data engine: VLBA uv coverage, sky models and dirty-image synthesis.

``simulate_field(seed, SimConfig(...)) -> SimField`` is the training-time entry point
(pure in its arguments); ``run_simulate`` writes fields to disk for ``decoras simulate``.
"""

from .array import MJIVE20, FULL_TRACK, Schedule, get_schedule, random_schedule, uvw_tracks
from .config import SimConfig
from .field import SimField, simulate_field, simulate_sky
from .imaging import RestoringBeam, component_visibilities, fit_beam, make_coverage
from .output import cli_simulate, run_simulate, write_field
from .sky import SkyModel, random_sky

__all__ = [
    "MJIVE20", "FULL_TRACK", "Schedule", "get_schedule", "random_schedule", "uvw_tracks",
    "SimConfig", "SimField", "simulate_field", "simulate_sky", "RestoringBeam", "component_visibilities", "fit_beam",
    "make_coverage", "cli_simulate", "run_simulate", "write_field", "SkyModel", "random_sky",
]
