"""Training from a model's weights with some networks held fixed (fine-tuning)."""

from __future__ import annotations

import pytest
import torch

from decoras_gui.core.errors import DecorasError
from decoras_gui.eval.evaluate import sim_config_for
from decoras_gui.ml.registry import load_model
from decoras_gui.ml.train import TrainConfig, train


def _config(**changes) -> dict:
    base = load_model()
    card = base.card
    raw = {"name": "ft", "steps": 3, "batch_size": 2, "crop": 64, "workers": 0, "threads": 1, "log_every": 1,
           "learning_rate": 1e-3, "sim": {**card.training["config"]["sim"], "size": 64, "margin_pix": 8},
           "detection": card.detection, "characterization": card.characterization}
    raw.update(changes)
    return raw


def test_fine_tuning_one_network_keeps_the_other_exactly(tmp_path):
    eval_sim = {**load_model().card.training["config"]["sim"], "max_sources": 3}
    config = TrainConfig.from_dict(_config(init_from="vlba-l-band", train_networks=["characterization"],
                                           eval_sim=eval_sim))
    result = train(config, tmp_path / "out", tmp_path / "run", log=lambda s: None)
    base, tuned = load_model(), load_model(str(result.card))
    for key, value in base.detection.state_dict().items():  # weights and batch-norm statistics untouched
        assert torch.equal(value, tuned.detection.state_dict()[key]), key
    changed = [k for k, v in base.characterization.state_dict().items()
               if not torch.equal(v, tuned.characterization.state_dict()[k])]
    assert changed, "the characterization network did not learn"
    assert tuned.card.training["config"]["init_from"] == "vlba-l-band"
    assert tuned.card.training["init_from_sha256"] == base.card.sha256
    # calibrated and evaluated on the fields it is meant for, not on the fine-tuning mix
    assert sim_config_for(tuned).max_sources == 3 and sim_config_for(tuned).size == eval_sim["size"]
    assert sim_config_for(base).max_sources == base.card.training["config"]["sim"]["max_sources"]


def test_a_frozen_network_needs_weights_to_start_from():
    with pytest.raises(DecorasError, match="init_from"):
        TrainConfig.from_dict(_config(train_networks=["detection"]))
    with pytest.raises(DecorasError, match="train_networks"):
        TrainConfig.from_dict(_config(init_from="vlba-l-band", train_networks=["decoder"]))


def test_init_from_refuses_a_different_architecture(tmp_path):
    det = {**load_model().card.detection, "widths": [8, 16, 32, 64]}
    config = TrainConfig.from_dict(_config(init_from="vlba-l-band", detection=det))
    with pytest.raises(DecorasError, match="detection network is not the one configured"):
        train(config, tmp_path / "out", tmp_path / "run", log=lambda s: None)
