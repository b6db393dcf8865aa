"""CLEAN-restored images: the simulator's Högbom CLEAN on real coverage, and the restored fields."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from decoras_gui.core.image import load_fits
from decoras_gui.core.image_domain import image_domain
from decoras_gui.sim.clean import CleanSettings, clean_restore, draw_clean, hogbom
from decoras_gui.sim.config import SimConfig
from decoras_gui.sim.field import make_header, simulate_field, simulate_sky
from decoras_gui.sim.output import write_field
from decoras_gui.sim.sky import SkyModel

SIZE = 128


def _point(flux: float, x: float = 64.0, y: float = 64.0) -> SkyModel:
    one = lambda v: np.array([v])  # noqa: E731
    return SkyModel(one(x), one(y), one(flux), one(0.0), one(0.0), one(0.0), one("point"), one(0), one(True))


def test_hogbom_takes_a_point_source_out_of_its_dirty_image():
    cfg = SimConfig(size=SIZE, noise=False, margin_pix=8)
    f = simulate_sky(_point(0.05), 1, cfg, dec_deg=40.0)
    residual, model, n = hogbom(f.dirty, f.beam_image, threshold=1e-4, gain=0.1, niter=2000)
    assert 0 < n < 2000
    assert np.abs(residual).max() < 0.02 * f.dirty.max()  # the sidelobes went with the source
    assert model.sum() == pytest.approx(0.05, rel=0.05)  # its flux, in components
    ys, xs = np.nonzero(model)
    assert np.all(np.hypot(xs - 64, ys - 64) <= 1.5)  # at the source, not on its sidelobes


def test_the_restored_image_is_residual_plus_components_in_the_restoring_beam():
    cfg = SimConfig(size=SIZE, margin_pix=8)
    f = simulate_sky(_point(0.02), 2, cfg, dec_deg=40.0)
    settings = CleanSettings(threshold_sigma=2.0, gain=0.1, niter=3000, windowed=False)
    restored, n = clean_restore(f.dirty, f.beam_image, f.beam, cfg.cell_mas, f.rms_predicted, settings)
    assert n > 0
    assert restored[64, 64] == pytest.approx(0.02, rel=0.1)  # a point's peak is its flux, in Jy/beam
    far = np.ones(restored.shape, bool)
    far[40:90, 40:90] = False
    # far from the source the dirty image is sidelobes; restored, it is the noise
    assert restored[far].std() < 0.5 * f.dirty[far].std()
    assert restored[far].std() == pytest.approx(f.rms_predicted, rel=0.5)


def test_restored_fields_say_so_and_vary_how_they_were_cleaned(tmp_path):
    cfg = SimConfig(size=SIZE, margin_pix=8, variety="wide", image_kind="restored", max_sources=4, empty_fraction=0.0)
    fields = [simulate_field((4, i), cfg) for i in range(6)]
    assert all(f.clean is not None for f in fields)
    assert len({f.clean[0].gain for f in fields}) == 6 and any(f.clean[0].windowed for f in fields)
    h = make_header(fields[0])
    assert h["NITER"] == fields[0].clean[1]
    assert any("restored: Hogbom CLEAN" in str(line) for line in h["HISTORY"])
    path = write_field(fields[0], tmp_path, "f")[0]
    assert image_domain(load_fits(path)).kind == "restored"
    dirty = simulate_field((4, 0), replace(cfg, image_kind="dirty"))
    assert image_domain(load_fits(write_field(dirty, tmp_path, "d")[0])).kind == "dirty"
    with pytest.raises(Exception, match="image kind"):
        SimConfig(image_kind="clean")


def test_the_validation_family_cleans_otherwise_than_training():
    rng = np.random.default_rng(0)
    train = [draw_clean(rng, "wide") for _ in range(200)]
    ood = [draw_clean(rng, "ood") for _ in range(200)]
    assert max(c.gain for c in train) < 0.3 <= min(c.gain for c in ood)
    assert {c.niter for c in train}.isdisjoint({c.niter for c in ood})
    assert {c.window_sigma for c in train} == {5.0} and {c.window_sigma for c in ood} == {3.0}


def test_a_model_for_several_arrays_and_any_band_observes_with_each():
    cfg = SimConfig(size=SIZE, margin_pix=8, variety="wide", image_kind="restored", instrument_mix=("VLBA", "EVN"),
                    band="any", max_sources=2)
    heads = [make_header(simulate_field((8, i), cfg)) for i in range(12)]
    assert {h["TELESCOP"] for h in heads} == {"VLBA", "EVN"}
    vlba_ghz = {round(h["CRVAL3"] / 1e9) for h in heads if h["TELESCOP"] == "VLBA"}
    assert len(vlba_ghz) >= 2  # more than one of its bands
