"""The training and validation observation families, smearing and the kernel-gridding route."""

import numpy as np
import pytest

from decoras_gui.sim.array import MJIVE20, uvw_tracks
from decoras_gui.sim.config import SimConfig
from decoras_gui.sim.field import coverage_for, simulate_field, simulate_sky
from decoras_gui.sim.imaging import MAS
from decoras_gui.sim.kernel_imaging import make_kernel_coverage
from decoras_gui.sim.observations import draw_observation
from decoras_gui.sim.sky import SkyModel

TRAIN_FAMILIES = {"single-scan", "snapshot", "track"}
OOD_FAMILIES = {"split-track", "cadence", "pair"}


def _point(x, y, flux=1.0):
    return SkyModel(np.array([x], float), np.array([y], float), np.array([flux]), np.zeros(1), np.zeros(1),
                    np.zeros(1), np.array(["point"]), np.zeros(1, int), np.ones(1, bool))


def test_families_span_the_advertised_ranges_and_never_overlap():
    rng = np.random.default_rng(4)
    wide = [draw_observation(rng, "wide", (3.0, 8.0)) for _ in range(300)]
    ood = [draw_observation(rng, "ood", (3.0, 8.0)) for _ in range(300)]
    assert {o.family for o in wide} == TRAIN_FAMILIES and {o.family for o in ood} == OOD_FAMILIES
    nchan = lambda o: round(o.schedule.chan_width_hz * len(o.schedule.freqs_hz) / o.schedule.smear_width_hz)  # noqa: E731
    assert {nchan(o) for o in wide} == {1, 2, 4, 8, 16, 32, 64}
    assert not {nchan(o) for o in ood} & {nchan(o) for o in wide}
    assert {o.weighting for o in wide} == {"natural", "uniform", "robust"}
    assert max(abs(o.robust) for o in wide) <= 1.0 < min(abs(o.robust) for o in ood if o.weighting == "robust")
    assert all(o.taper == 0 for o in wide) and any(o.taper > 0 for o in ood)
    assert {o.gridder for o in wide} == {"nearest"} and {o.gridder for o in ood} == {"kernel"}
    assert {10 - len(o.schedule.stations) for o in wide} == {0, 1, 2, 3}
    assert max(o.gain_amp for o in wide) <= 0.10 and max(o.gain_phase_deg for o in wide) <= 20.0
    assert max(max(o.schedule.sefd_scale) for o in ood) > 1.9 > max(max(o.schedule.sefd_scale) for o in wide)
    hours = [o.schedule.scan_ha_h[-1] - o.schedule.scan_ha_h[0] for o in wide if o.family == "track"]
    assert max(hours) > 10.0 and min(len(o.schedule.scan_ha_h) for o in wide) == 1


@pytest.mark.parametrize("variety", ["wide", "ood"])
def test_variety_fields_are_deterministic_and_sampled_as_drawn(variety):
    cfg = SimConfig(variety=variety, max_sources=4)
    a, b = simulate_field((5, 3), cfg), simulate_field((5, 3), cfg)
    np.testing.assert_array_equal(a.dirty, b.dirty)
    ppb = [simulate_field((5, i), cfg) for i in range(6)]
    for f in ppb:
        assert 2.7 <= f.beam.bmin / f.config.cell_mas <= 8.5  # the cell follows the beam drawn
        assert f.beam_image[128, 128] == pytest.approx(1.0, abs=1e-4)
        assert f.config.gridder == ("kernel" if variety == "ood" else "nearest")
        assert f"gridder={f.config.gridder}" in str(f.header["HISTORY"])


def test_bandwidth_and_time_smearing_lower_peaks_away_from_the_centre():
    from dataclasses import replace

    cfg = SimConfig(size=256, cell_mas=1.0, noise=False)
    offset = 110  # pixels west of the phase centre, ~20 beams
    sharp = replace(MJIVE20, freqs_hz=(1.4e9,), chan_width_hz=128e6)
    smeared = replace(sharp, smearing=True, smear_width_hz=128e6, smear_time_s=10.0)
    peaks = []
    for sched in (sharp, smeared):
        f = simulate_sky(_point(128 + offset, 128), 0, cfg, dec_deg=30.0, schedule=sched)
        g = simulate_sky(_point(128, 128), 0, cfg, dec_deg=30.0, schedule=sched)
        peaks.append((f.dirty.max(), g.dirty[128, 128]))
    assert peaks[0][0] == pytest.approx(1.0, rel=0.01)  # unsmeared: full peak anywhere
    assert peaks[1][1] == pytest.approx(1.0, rel=0.01)  # smeared: full peak at the centre
    assert peaks[1][0] < 0.8  # 128 MHz in one channel at 20 beams radius: strongly smeared


def test_kernel_gridding_images_the_same_sky_as_cell_centre_gridding():
    tracks = uvw_tracks(MJIVE20, 30.0)
    cfg = SimConfig(size=256, cell_mas=1.0, noise=False)
    near = coverage_for(tracks, cfg)
    kern = make_kernel_coverage(tracks, 256, 1.0, 2)
    assert kern.beam.bmaj == pytest.approx(near.beam.bmaj, rel=0.03)
    assert kern.beam.bmin == pytest.approx(near.beam.bmin, rel=0.03)
    # a point 40 px west, 25 px north lands on the same pixel, with the same peak, in both routes
    l, m = -40 * MAS, 25 * MAS
    img_n = near.image(near.visibilities([l], [m], [1.0], [0.0], [0.0], [0.0]))
    img_k = kern.image(kern.visibilities([l], [m], [1.0], [0.0], [0.0], [0.0]))
    peak_at = [np.unravel_index(np.argmax(img), img.shape) for img in (img_k, img_n)]
    assert peak_at[0] == peak_at[1] == (153, 168)
    assert img_k.max() == pytest.approx(1.0, rel=0.03)
    # not the same image: the sidelobes differ in detail (exact uv, kernel, grid correction)
    assert 0.0005 < np.abs(img_k - img_n).max() < 0.2
