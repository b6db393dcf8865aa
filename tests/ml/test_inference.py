"""Tiled inference with the bundled model: seams, cancellation, devices, resampling."""

from __future__ import annotations

import threading
from dataclasses import replace

import numpy as np
import pytest

from decoras_gui.core.errors import Cancelled, DecorasError
from decoras_gui.core.image import load_fits
from decoras_gui.ml.characterize import characterize
from decoras_gui.ml.inference import pick_device, run_networks, zoom_factor
from decoras_gui.sim import SimConfig, simulate_field
from decoras_gui.sim.output import write_field


@pytest.fixture(scope="module")
def field_image(tmp_path_factory):
    cfg = replace(SimConfig(), size=768, dec_deg=40.0, max_sources=12, empty_fraction=0.0, snr_range=(20.0, 100.0))
    field = simulate_field((424242, 3), cfg)
    path = write_field(field, tmp_path_factory.mktemp("field"), "f")[0]
    return load_fits(path), field


def assert_same_sources(image, maps_a, maps_b, pixels: float, rel: float) -> None:
    """The catalogues measured from two sets of maps agree source by source."""
    a = characterize(image, maps_a, rms_map=image.rms_map())
    b = characterize(image, maps_b, rms_map=image.rms_map())
    assert len(a) == len(b) > 0
    for sa, sb in zip(sorted(a, key=lambda s: (s.x, s.y)), sorted(b, key=lambda s: (s.x, s.y))):
        assert abs(sa.x - sb.x) < pixels and abs(sa.y - sb.y) < pixels
        assert sb.peak_flux == pytest.approx(sa.peak_flux, rel=rel)
        assert sb.r_eff == pytest.approx(sa.r_eff, rel=rel)


def test_tiling_matches_a_single_pass(bundled_model, field_image):
    image, _ = field_image
    single = run_networks(image.data, image.rms, bundled_model, tile=768, overlap=0, device="cpu")
    tiled = run_networks(image.data, image.rms, bundled_model, device="cpu")  # the default tiles: 2 x 2
    assert_same_sources(image, single, tiled, pixels=0.2, rel=0.03)


def test_cancel_is_honoured_before_the_next_batch(bundled_model):
    """A cancel asked for while a batch runs stops the networks before the next batch: no
    progress after it. (How soon in seconds: benchmarks/huge_image.py.)"""
    rng = np.random.default_rng(0)
    data = rng.normal(0, 1.0, (2048, 2048)).astype(np.float32)
    flag = threading.Event()
    reported = []

    def progress(done, total):
        reported.append((done, total))
        if done >= 1:
            flag.set()

    with pytest.raises(Cancelled):
        run_networks(data, 1.0, bundled_model, device="cpu", progress=progress, cancel=flag.is_set)
    (_, total), (first, _) = reported
    assert reported == [(0, total), (first, total)] and first < total  # one batch, of many


def test_blank_pixels_stay_blank(bundled_model, field_image):
    image, _ = field_image
    data = np.array(image.data, dtype=np.float32)
    data[:40, :] = np.nan
    maps = run_networks(data, image.rms, bundled_model, device="cpu")
    assert np.isnan(maps.probability[:40]).all() and np.isfinite(maps.probability[40:]).all()


def test_resampling_when_the_beam_sampling_differs(bundled_model):
    lo, hi = bundled_model.card.pixels_per_beam_range  # trained on a range: resampled only from outside it
    assert zoom_factor(bundled_model, bundled_model.card.pixels_per_beam_minor) == 1.0
    assert zoom_factor(bundled_model, lo) == zoom_factor(bundled_model, hi) == 1.0
    assert zoom_factor(bundled_model, None) == 1.0
    assert zoom_factor(bundled_model, hi * 2) == pytest.approx(0.5)
    assert zoom_factor(bundled_model, lo / 2) == pytest.approx(2.0)
    data = np.random.default_rng(1).normal(0, 1, (100, 130)).astype(np.float32)
    maps = run_networks(data, 1.0, bundled_model, beam_minor_px=hi * 2, device="cpu")
    assert maps.probability.shape == (100, 130) and maps.zoom == pytest.approx(0.5)
    assert any(f"resampled by 0.5 to the model's beam sampling ({2 * hi:.2f} -> {hi:.2f}" in n for n in maps.notes)
    no_beam = run_networks(data, 1.0, bundled_model, beam_minor_px=None, device="cpu")
    assert no_beam.zoom == 1.0 and any("no beam" in n for n in no_beam.notes)
    # a model trained on one sampling resamples any other
    one = replace(bundled_model, card=replace(bundled_model.card, domain={
        k: v for k, v in bundled_model.card.domain.items() if k != "pixels_per_beam_range"}))
    assert zoom_factor(one, one.card.pixels_per_beam_minor * 2) == pytest.approx(0.5)


def test_device_choice():
    assert pick_device("cpu").type == "cpu"
    assert pick_device("auto").type in ("cpu", "cuda")
    with pytest.raises(DecorasError):
        pick_device("tpu")


def test_bfloat16_matches_float32(bundled_model, field_image, monkeypatch):
    """Where the CPU has native bfloat16 the networks use it; their answers match float32's."""
    import torch

    from decoras_gui.ml.inference import pick_precision

    image, _ = field_image
    fast = run_networks(image.data, image.rms, bundled_model, device="cpu")
    monkeypatch.setenv("DECORAS_PRECISION", "fp32")
    exact = run_networks(image.data, image.rms, bundled_model, device="cpu")
    assert exact.precision == "fp32" and pick_precision(torch.device("cpu")) == "fp32"
    monkeypatch.delenv("DECORAS_PRECISION")
    assert fast.precision == pick_precision(torch.device("cpu"))
    assert pick_precision(torch.device("cuda")) == "fp32"
    assert float(np.nanmax(np.abs(fast.probability - exact.probability))) < 0.03
    assert_same_sources(image, exact, fast, pixels=0.1, rel=0.02)


def test_a_model_trained_without_the_dirty_beam_is_never_shown_one(bundled_model):
    """A card trained with psf_dropout 1 (restored images come without a dirty beam): its networks
    get the 'no dirty beam' channels even when a PSF is given, and no note asks for one."""
    import copy

    f = simulate_field((21, 0), SimConfig(size=128, margin_pix=8, max_sources=3, empty_fraction=0.0))
    rms = float(np.std(f.dirty))
    model = copy.copy(bundled_model)
    model.card = replace(bundled_model.card, training={**bundled_model.card.training,
                                                       "config": {**bundled_model.card.training["config"],
                                                                  "psf_dropout": 1.0}})
    assert bundled_model.card.reads_psf and not model.card.reads_psf
    given = run_networks(f.dirty, rms, model, device="cpu", psf=f.beam_image)
    none = run_networks(f.dirty, rms, model, device="cpu")
    assert np.array_equal(given.probability, none.probability) and given.sidelobes is None
    assert not any("no dirty beam was given" in n for n in none.notes)
    shown = run_networks(f.dirty, rms, bundled_model, device="cpu", psf=f.beam_image)
    assert not np.array_equal(shown.probability, none.probability)  # the dirty model does read it
