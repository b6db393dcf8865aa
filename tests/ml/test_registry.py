"""Model cards and weights: sha256 verification, weights_only loading, clear refusals."""

from __future__ import annotations

import json
import shutil

import pytest
import torch

from decoras_gui.core.errors import DecorasError
from decoras_gui.core.fileio import file_sha256
from decoras_gui.ml.registry import DEFAULT_MODEL, available_models, load_model
from decoras_gui.paths import models_dir


@pytest.fixture
def model_copy(tmp_path):
    card = json.loads((models_dir() / f"{DEFAULT_MODEL}.json").read_text())
    shutil.copy(models_dir() / card["weights"], tmp_path / card["weights"])
    (tmp_path / f"{DEFAULT_MODEL}.json").write_text(json.dumps(card))
    return tmp_path, card


def test_the_bundled_restore_models_cards_are_complete():
    cards = {c.name: c for c in available_models(task="restore")}
    assert {"lofar-restore", "lofar-restored"} <= set(cards)
    for card in cards.values():
        assert card.sha256 == file_sha256(models_dir() / card.weights)
        assert card.domain["instrument"] == "LOFAR-HBA" and card.image_kind in ("dirty", "restored")
        families = card.evaluation.get("by_family", {})  # in-distribution and OOD figures, both
        assert any(k.startswith("wide") for k in families) and any(k.startswith("ood") for k in families)
        assert card.training["calibration"]["fields"] > 0 and card.training["config"]["data_seed"] not in range(
            900_000, 1_000_000)
    study = cards["lofar-restore"].training["automl"]  # found by the AutoML search, its summary kept
    assert study["trials"] >= 8 and "SSIM" in study["objective"] and study["importances"]
    assert cards["lofar-restored"].training["config"]["init_from"] == "lofar-restore"


def test_bundled_model_card_is_complete():
    cards = {c.name: c for c in available_models()}
    card = cards[DEFAULT_MODEL]
    assert card.sha256 == file_sha256(models_dir() / card.weights)
    assert (models_dir() / card.weights).stat().st_size < 20 * 2**20
    assert card.pixels_per_beam_minor > 2
    assert card.training["config"]["data_seed"] not in range(900_000, 1_000_000)
    assert card.training["torch"]
    for key in ("completeness_snr_ge_7.5", "purity_snr_ge_5.5", "position_error_mas"):
        assert key in card.evaluation["methods"][card.name]


def test_loads_and_verifies(model_copy):
    folder, card = model_copy
    model = load_model(DEFAULT_MODEL, folder)
    assert model.card.sha256 == card["sha256"]
    assert not model.detection.training and not model.characterization.training


def test_tampered_weights_are_refused(model_copy):
    folder, card = model_copy
    weights = folder / card["weights"]
    blob = bytearray(weights.read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    weights.write_bytes(bytes(blob))
    with pytest.raises(DecorasError, match="does not match"):
        load_model(DEFAULT_MODEL, folder)


def test_tampered_card_is_refused(model_copy):
    folder, card = model_copy
    card["sha256"] = "0" * 64
    (folder / f"{DEFAULT_MODEL}.json").write_text(json.dumps(card))
    with pytest.raises(DecorasError, match="does not match"):
        load_model(DEFAULT_MODEL, folder)
    (folder / f"{DEFAULT_MODEL}.json").write_text("{not json")
    with pytest.raises(DecorasError, match="not valid JSON"):
        load_model(DEFAULT_MODEL, folder)


class _Payload:
    """Anything but tensors: unpickling this would run code, so weights_only must refuse it."""

    def __reduce__(self):
        return (print, ("pickled code ran",))


def test_pickled_objects_are_refused_even_with_a_matching_checksum(model_copy):
    folder, card = model_copy
    weights = folder / card["weights"]
    torch.save({"detection": _Payload(), "characterization": {}}, weights)
    card["sha256"] = file_sha256(weights)
    (folder / f"{DEFAULT_MODEL}.json").write_text(json.dumps(card))
    with pytest.raises(DecorasError, match="cannot be loaded"):
        load_model(DEFAULT_MODEL, folder)


def test_unknown_model_names_the_choices(tmp_path):
    with pytest.raises(DecorasError, match="no model card for 'nope'"):
        load_model("nope")


def test_runs_without_the_dirty_beam_get_their_own_calibrated_settings():
    card = load_model().card
    assert card.uses_psf and card.without_psf
    with_psf = card.settings(with_psf=True)
    assert with_psf == {"threshold": card.threshold, "min_snr": card.min_snr, "peak_cap": card.peak_cap}
    alone = card.settings(with_psf=False)
    assert alone == {k: card.without_psf[k] for k in ("threshold", "min_snr", "peak_cap")}
    assert card.training["calibration_without_psf"]["with_psf"] is False
    card.without_psf = {}
    assert card.settings(with_psf=False) == with_psf  # a card without the second set uses the first


def test_models_in_the_users_folder_are_listed_after_the_bundled_and_load(tmp_path, monkeypatch):
    import json
    import shutil

    from decoras_gui.ml.registry import available_models, card_path_of, load_model
    from decoras_gui.paths import models_dir

    user = tmp_path / "mine"
    user.mkdir()
    monkeypatch.setenv("DECORAS_MODELS", str(user))
    raw = json.loads((models_dir() / "vlba-l-band.json").read_text())
    shutil.copy(models_dir() / raw["weights"], user / raw["weights"])
    raw["name"] = "my-image-model"
    (user / "my-image-model.json").write_text(json.dumps(raw))
    (user / "vlba-l-band.json").write_text(json.dumps({**raw, "name": "vlba-l-band", "version": "9.9"}))
    names = [c.name for c in available_models()]
    assert names.index("vlba-l-band") < names.index("my-image-model")
    assert next(c for c in available_models() if c.name == "vlba-l-band").version != "9.9"  # bundled wins
    assert card_path_of("my-image-model") == user / "my-image-model.json"
    assert load_model("my-image-model").card.name == "my-image-model"
    assert [c.name for c in available_models(models_dir())] == [c.name for c in available_models(models_dir())
                                                                   if c.name != "my-image-model"]
