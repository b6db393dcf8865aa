"""The data engine: uv coverage of any instrument (:mod:`.instrument`; the VLBA by default), sky
models and dirty-image synthesis.

``simulate_field(seed, SimConfig(...)) -> SimField`` is the training-time entry point, a
pure function of its arguments (seed: an int or a tuple such as ``(base_seed, index)``).
``simulate_sky(sky, seed, config, dec_deg, ra_deg)`` observes a given ``SkyModel``;
``run_simulate`` writes fields for ``decoras simulate``.

Conventions: pixels 0-based, images indexed [y, x], phase centre at pixel
(size//2, size//2), x increasing to the west (CDELT1 < 0); sizes are FWHM in mas, position
angles degrees east of north.  Dirty images are in Jy/beam with the dirty-beam peak 1.

Truth catalogue (``SimField.truth``, ``field_NNNNN_truth.ecsv``): one row per component;
a double or core-jet is one *group* (source id) with two rows.  For completeness count the
rows with ``separable`` True: the fainter member of a pair closer than 1.2 restoring-beam
widths (measured along the pair's direction) is marked False and belongs to its brighter
companion.  See ``field.truth_table`` for the columns.

Training targets: ``SimField.restored`` (noise-free sky convolved with the fitted restoring
beam, Jy/beam) and ``SimField.mask`` (pixels inside any component's restored FWHM ellipse,
i.e. above ``SimConfig.mask_level`` = 0.5 of that component's own restored peak).
"""

import importlib

#: Where each public name lives; imported on first use, so that ``decoras`` commands that do
#: not simulate do not load the simulator.
_WHERE = {
    "MJIVE20": "array", "FULL_TRACK": "array", "Schedule": "array", "get_schedule": "array",
    "random_schedule": "array", "uvw_tracks": "array", "SimConfig": "config", "SimField": "field",
    "simulate_field": "field", "simulate_sky": "field", "RestoringBeam": "imaging",
    "component_visibilities": "imaging", "fit_beam": "imaging", "make_coverage": "imaging",
    "run_simulate": "output", "write_field": "output", "SkyModel": "sky", "random_sky": "sky",
    "Instrument": "instrument", "get_instrument": "instrument", "available_instruments": "instrument",
}


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "MJIVE20", "FULL_TRACK", "Schedule", "get_schedule", "random_schedule", "uvw_tracks",
    "SimConfig", "SimField", "simulate_field", "simulate_sky", "RestoringBeam", "component_visibilities",
    "fit_beam", "make_coverage", "run_simulate", "write_field", "SkyModel", "random_sky",
    "Instrument", "get_instrument", "available_instruments",
]
