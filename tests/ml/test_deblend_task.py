"""The deblend task: training views of GalSim blends, the network's shape, its loss, its card."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from decoras_gui.core.errors import DecorasError
from decoras_gui.ml.networks import DeblendNet, NetConfig, deblend_l1_loss
from decoras_gui.ml.tasks import get_task
from decoras_gui.ml.tasks.deblend import background_and_noise, centroid, cutout_at, flux_noise, training_views
from decoras_gui.ml.train import TrainConfig
from decoras_gui.sim.blends import BlendConfig

SIM = BlendConfig(size=96)


def test_the_task_is_registered_with_its_network_and_result_kind():
    task = get_task("deblend")
    assert task.result_kind == "components" and task.networks == ("deblender",)
    assert "split" in task.study_objective


def test_views_centre_one_galaxy_first_and_sum_to_the_noise_free_light():
    views = training_views((4, 1), SIM, 64, {"augment": 0.5}, views=8)
    assert len(views) == 8
    for v in views:
        assert v["snr"].shape == (1, 64, 64) and v["target"].shape == (2, 64, 64) and v["fwhm"].shape == (1, 64, 64)
        assert 2.7 < float(v["fwhm"][0, 0, 0]) < 4.8  # 0.6-1.0" on 0.214" pixels
        x, y = centroid(v["target"][0])
        assert abs(x - 31.5) < 4 and abs(y - 31.5) < 4  # the first galaxy is the one at the centre
        # the noise is fresh per view, the targets in units of the view's own noise
        resid = v["snr"][0] - v["target"].sum(0)
        assert 0.8 < float(np.std(resid)) < 1.25
    # either galaxy is put at the centre: the brighter is not always first
    first_brighter = [float(v["target"][0].sum()) > float(v["target"][1].sum()) for v in
                      (w for s in range(6) for w in training_views((4, s), SIM, 64, {}, 4))]
    assert 0.2 < np.mean(first_brighter) < 0.8


def test_views_need_blends_larger_than_the_window():
    with pytest.raises(DecorasError, match="cannot give 96-pixel"):
        training_views((4, 1), BlendConfig(size=64), 96)


def test_the_network_gives_two_non_negative_components_on_any_multiple_of_its_depth():
    net = DeblendNet(NetConfig((8, 16, 32), 1, 2, "residual", psf_channel=True)).eval()
    x = torch.randn(3, 2, 96, 64)
    with torch.no_grad():
        out = net(x)
    assert out.shape == (3, 2, 96, 64) and bool((out >= 0).all())
    no_psf = DeblendNet(NetConfig((8, 16), 1, 1)).eval()
    with torch.no_grad():
        assert no_psf(x[:, :1]).shape == (3, 2, 96, 64)  # without the FWHM plane it reads one channel


def test_the_loss_is_zero_for_the_truth_and_counts_a_swap():
    t = torch.rand(2, 2, 16, 16)
    assert float(deblend_l1_loss(t, t)) == pytest.approx(0.0)
    swapped = deblend_l1_loss(t.flip(1), t)
    assert float(swapped) > 0.1
    half = deblend_l1_loss(t * 0.5, t, flux_weight=1.0)
    assert float(half) == pytest.approx(2 * (0.5 + 0.5), rel=1e-5)  # per galaxy: image 0.5, flux 0.5


def test_background_noise_and_flux_noise():
    rng = np.random.default_rng(3)
    data = rng.normal(2.0, 5.0, (64, 64))
    data[30:34, 30:34] += 500.0  # a bright object does not bias the sky
    bg, sigma = background_and_noise(data)
    assert bg == pytest.approx(2.0, abs=0.4) and sigma == pytest.approx(5.0, rel=0.06)
    assert background_and_noise(np.full((4, 4), np.nan)) == (0.0, 0.0)
    flat = np.zeros((8, 8))
    flat[:2, :2] = 1.0  # four equal pixels: sigma * 2
    assert flux_noise(flat, 3.0) == pytest.approx(6.0)


def test_cutouts_pad_past_the_edge_and_refuse_outside():
    data = np.arange(100.0).reshape(10, 10)
    cut, origin, notes = cutout_at(data, 1.0, 1.0, 6)
    assert origin == (-2, -2) and np.isnan(cut[0, 0]) and cut[2, 2] == 0.0 and notes
    cut, origin, notes = cutout_at(data, 5.0, 5.0, 4)
    assert origin == (3, 3) and not notes and cut[0, 0] == 33.0
    with pytest.raises(DecorasError, match="outside the image"):
        cutout_at(data, 40.0, 40.0, 6)


def test_the_card_states_the_domain_pixel_scale_psf_range_and_depth():
    config = TrainConfig.from_toml("models/vst-deblend.toml")
    domain = get_task("deblend").domain(config)
    assert domain["image_kind"] == "optical" and domain["instrument"] == "VST"
    assert domain["pixel_arcsec"] == 0.214 and domain["psf_fwhm_range_arcsec"] == [0.6, 1.0]
    assert domain["depth_mag"] == 24.9 and domain["cell_mas"] == 214.0

