"""The dirty beam as a network input: predicted sidelobes, the new network shapes, training pairs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from decoras_gui.ml.networks import CharacterizationNet, DetectionNet, NetConfig
from decoras_gui.ml.sidelobe_map import main_lobe, predicted_sidelobes, psf_centre
from decoras_gui.ml.tasks.detect import network_input, training_pair
from decoras_gui.sim.config import SimConfig
from decoras_gui.sim.field import simulate_sky
from decoras_gui.sim.sky import SkyModel


def _points(xy, flux):
    n = len(flux)
    xy = np.asarray(xy, float)
    return SkyModel(xy[:, 0], xy[:, 1], np.asarray(flux, float), np.zeros(n), np.zeros(n), np.zeros(n),
                    np.array(["point"] * n), np.arange(n), np.ones(n, bool))


def test_predicted_sidelobes_are_the_dirty_image_less_the_restored_one():
    cfg = SimConfig(size=256, noise=False)
    f = simulate_sky(_points([(128, 128)], [1.0]), 0, cfg, dec_deg=20.0)  # one bright point, no noise
    rms = 1e-3  # as if a 1000-sigma source
    pred = predicted_sidelobes(f.dirty / rms, f.beam_image)
    lobe = main_lobe(f.beam_image, psf_centre(f.beam_image))
    assert lobe[128, 128] == pytest.approx(1.0) and lobe.sum() < 100  # the fitted restoring beam
    truth = (f.dirty - f.restored) / rms  # the sidelobes: dirty less restored
    assert np.abs(truth).max() > 200.0
    # CLEANed down to 8 sigma at loop gain 0.5: right to within that and a few per cent of the fit
    assert np.abs(pred - truth).max() < 0.05 * np.abs(truth).max() + 8.0
    assert np.corrcoef(pred.ravel(), truth.ravel())[0, 1] > 0.99


def test_nothing_bright_nothing_predicted():
    rng = np.random.default_rng(1)
    noise = rng.standard_normal((128, 128)).astype(np.float32)
    beam = np.zeros((128, 128), np.float32)
    beam[64, 64] = 1.0
    assert not predicted_sidelobes(np.clip(noise, -5, 5), beam).any()


@pytest.mark.parametrize("net_cls", [DetectionNet, CharacterizationNet])
@pytest.mark.parametrize("shape", [dict(block="residual"), dict(attention=True), dict(psf_channel=True),
                                   dict(block="residual", attention=True, psf_channel=True, stem_stride=2)])
def test_new_network_shapes_run_on_one_or_three_channels(net_cls, shape):
    cfg = NetConfig(widths=(8, 16, 32), **shape)
    net = net_cls(cfg).eval()
    one = torch.randn(2, 1, 64, 64)
    three = torch.cat([one, torch.zeros(2, 1, 64, 64), torch.zeros(2, 1, 64, 64)], dim=1)
    with torch.no_grad():
        a, b = net(one), net(three)
    assert a.shape == (2, 1, 64, 64)
    torch.testing.assert_close(a, b)  # one channel means: no PSF (zeros), as the flag says
    assert NetConfig.from_dict(cfg.to_dict()) == cfg


def test_version_1_configurations_keep_their_card_form_and_parameter_names():
    old = {"widths": [16, 32, 64, 128], "convs_per_level": 2, "stem_stride": 2}
    cfg = NetConfig.from_dict(old)
    assert cfg.to_dict() == old and not cfg.psf_channel
    from decoras_gui.ml.registry import load_model

    model = load_model()  # the bundled model's weights load into the plain blocks unchanged
    assert isinstance(model.detection, DetectionNet)
    with pytest.raises(ValueError, match="block"):
        NetConfig.from_dict({**old, "block": "dense"})


def test_training_pairs_carry_the_sidelobe_channel_and_psf_dropout():
    sim = SimConfig(size=128, variety="wide", max_sources=4, snr_range=(50, 1000), margin_pix=12)
    pairs = [training_pair((3, i), sim, 64, {"psf_dropout": 0.5, "augment": 1.0}) for i in range(12)]
    for p in pairs:
        assert set(p) == {"snr", "mask", "restored", "sidelobes", "has_psf"}
        assert all(a.shape == (1, 64, 64) and a.dtype == np.float32 for a in p.values())
        if p["has_psf"][0, 0, 0] == 0:
            assert not p["sidelobes"].any()
    flags = {float(p["has_psf"][0, 0, 0]) for p in pairs}
    assert flags == {0.0, 1.0}
    assert any(np.abs(p["sidelobes"]).max() > 1.0 for p in pairs)  # bright sources: sidelobes predicted
    batch = {k: torch.from_numpy(np.stack([p[k] for p in pairs[:2]])) for k in pairs[0]}
    assert network_input(batch, DetectionNet(NetConfig(widths=(8, 16), psf_channel=True))).shape[1] == 3
    assert network_input(batch, DetectionNet(NetConfig(widths=(8, 16)))).shape[1] == 1
