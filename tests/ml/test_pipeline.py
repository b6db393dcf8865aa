"""detect(): images bigger than a block are done block by block with the same sources."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

import decoras_gui.ml.pipeline as pipeline
from decoras_gui.core.image import load_fits
from decoras_gui.sim import SimConfig, simulate_field
from decoras_gui.sim.output import write_field


@pytest.fixture(scope="module")
def big_field(tmp_path_factory):
    cfg = replace(SimConfig(), size=768, dec_deg=40.0, max_sources=14, empty_fraction=0.0,
                  snr_range=(20.0, 100.0), kind_probs=(0.6, 0.4, 0.0, 0.0))
    field = simulate_field((424243, 1), cfg)
    return load_fits(write_field(field, tmp_path_factory.mktemp("big"), "f")[0])


def test_block_grid_covers_every_pixel_once():
    cover = np.zeros((1000, 700), int)
    for (y0, y1, x0, x1), (Y0, Y1, X0, X1) in pipeline.block_grid((1000, 700), 300, 50):
        cover[y0:y1, x0:x1] += 1
        assert Y0 == max(0, y0 - 50) and X1 == min(700, x1 + 50)
    assert (cover == 1).all()


def test_blocks_find_the_same_sources_as_one_pass(bundled_model, big_field, monkeypatch):
    whole, maps = pipeline.detect(big_field, bundled_model, device="cpu")
    assert maps.probability is not None and len(whole) >= 5
    monkeypatch.setattr(pipeline, "BLOCK", 256)  # 3 x 3 blocks of the 768 x 768 image
    monkeypatch.setattr(pipeline, "MARGIN", 96)
    seen = []
    blocks, bmaps = pipeline.detect(big_field, bundled_model, device="cpu", progress=lambda f, m: seen.append(m))
    assert bmaps.probability is None and any("block 9/9" in m for m in seen)
    bright_whole = [s for s in whole if s.snr >= 6]
    for s in bright_whole:  # every clear source is found once, at the same place and brightness
        near = [t for t in blocks if math.hypot(t.x - s.x, t.y - s.y) < 1.0]
        assert len(near) == 1, (s.x, s.y, len(near))
        assert near[0].peak_flux == pytest.approx(s.peak_flux, rel=0.05)
        sky = big_field.wcs.pixel_to_world(near[0].x, near[0].y)
        assert near[0].ra == pytest.approx(sky.spherical.lon.deg, abs=1e-9)
    for t in blocks:  # and no clear source appears that one pass did not find (faint ones may differ:
        if t.snr >= 6:  # each block is normalised by its own rms)
            assert any(math.hypot(t.x - s.x, t.y - s.y) < 1.0 for s in whole), (t.x, t.y, t.snr)
    assert len(set(blocks.ids)) == len(blocks)


def test_cancel_between_blocks(bundled_model, big_field, monkeypatch):
    monkeypatch.setattr(pipeline, "BLOCK", 256)
    monkeypatch.setattr(pipeline, "MARGIN", 96)
    calls = []

    def cancel():
        calls.append(1)
        return len(calls) > 3

    with pytest.raises(pipeline.Cancelled):
        pipeline.detect(big_field, bundled_model, device="cpu", cancel=cancel)
