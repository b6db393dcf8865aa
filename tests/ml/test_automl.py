"""decoras automl: a real (tiny) Optuna study that trains, scores on OOD fields, prunes, resumes."""

from __future__ import annotations

import json

import optuna
import pytest

from decoras_gui.cli import main as decoras
from decoras_gui.core.errors import DecorasError
from decoras_gui.ml.automl import (
    StudySettings,
    base_config,
    best_params,
    config_for,
    open_study,
    run_study,
    study_summary,
    validation_fields,
)
from decoras_gui.ml.registry import load_model


def _settings(**changes) -> StudySettings:
    base = base_config("VLBA", "L (1.4 GHz)")
    kw = dict(base=base, trial_steps=4, report_every=2, crop=32, sim_size=64, batch_size=2, workers=0, threads=1,
              val_fields=4, val_size=64)
    kw.update(changes)
    return StudySettings(**kw)


def test_validation_fields_are_of_the_family_training_never_samples():
    fields = validation_fields(_settings(val_fields=8))
    assert all(f.config.gridder == "kernel" and f.schedule.name in {"split-track", "cadence", "pair"} for f in fields)
    assert [len(f.sky) == 0 for f in fields][3::4] == [True, True]
    assert base_config("vlba", "L").sim.variety == "wide"
    with pytest.raises(DecorasError, match="no AutoML base configuration"):
        base_config("ALMA", "7")


@pytest.mark.parametrize("suffix", [".db", ".log"])
def test_a_study_resumes_from_its_file_and_summarises_itself(tmp_path, suffix):
    settings = _settings()
    storage = str(tmp_path / f"study{suffix}")
    lines: list[str] = []
    study = run_study(settings, storage, "s", 2, tmp_path / "work", log=lines.append)
    assert len(study.trials) == 2 and len(lines) == 2
    again = run_study(settings, storage, "s", 3, tmp_path / "work", log=lines.append)  # a new process would do this
    assert len(again.trials) == 3
    finished = [t for t in again.trials if t.state in (optuna.trial.TrialState.COMPLETE,
                                                      optuna.trial.TrialState.PRUNED)]
    assert len(finished) == 3
    for t in finished:
        assert set(t.constraints) == {"purity_snr_ge_5", "peak_within_20pc"}
        assert t.intermediate_values  # scored on the OOD fields while training
    summary = study_summary(again)
    assert summary["trials"] == 3 and summary["complete"] + summary["pruned"] == 3
    json.dumps(summary)
    if summary["complete"]:
        params = best_params(again)
        config = config_for(settings.base, params)
        assert list(config.networks["detection"].widths) == params["widths"]
        assert config.pos_weight == params["pos_weight"]
    assert open_study(storage, "s").trials[0].params == again.trials[0].params


def test_the_command_runs_a_study_and_finalizes_a_model(tmp_path, capsys):
    args = ["automl", "--task", "detect", "--instrument", "VLBA", "--band", "L", "--trials", "1",
            "--trial-steps", "2", "--report-every", "1", "--crop", "32", "--val-fields", "2", "--val-size", "64",
            "--work-dir", str(tmp_path / "runs"), "--storage", str(tmp_path / "s.db")]
    assert decoras(args) == 0
    out = capsys.readouterr().out
    assert '"trials": 1' in out
    assert decoras([*args, "--finalize", "--final-steps", "2", "--calibration-fields", "0", "--version", "9.9.9",
                    "--out", str(tmp_path / "models")]) == 0
    model = load_model("vlba-l-band", tmp_path / "models")
    assert model.card.version == "9.9.9" and model.card.training["automl"]["trials"] == 1
    assert model.card.domain["pixels_per_beam_range"] == [3.0, 8.0]
    assert decoras(["automl", "--task", "detect", "--instrument", "LOFAR", "--band", "HBA"]) == 2
    assert "no AutoML base configuration" in capsys.readouterr().err


def test_automl_like_an_image_builds_a_model_for_it_in_the_users_folder(tmp_path, monkeypatch, capsys):
    from decoras_gui.core.image import load_fits
    from decoras_gui.ml.pipeline import detect
    from decoras_gui.paths import resources_dir, user_models_dir

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    sample = resources_dir() / "sample_vlba_dirty.fits"
    args = ["automl", "--like", str(sample), "--trials", "1", "--trial-steps", "2", "--report-every", "1",
            "--crop", "32", "--val-fields", "2", "--val-size", "64", "--final-steps", "2", "--calibration-fields", "0"]
    assert decoras(args) == 0
    out = capsys.readouterr().out
    assert "a dirty model for VLBA L" in out and "like-sample-vlba-dirty" in out
    model = load_model("like-sample-vlba-dirty")  # found in the user's folder
    assert (user_models_dir() / "like-sample-vlba-dirty.json").is_file()
    assert model.card.image_kind == "dirty" and model.card.domain["instrument"] == "VLBA"
    lo, hi = model.card.pixels_per_beam_range
    ppb = load_fits(sample).beam_pixels[1]
    assert lo < ppb < hi and hi / lo < 1.8  # the image's own sampling, not the bundled model's 3-8
    assert model.card.training["automl"]["trials"] == 1  # (calibration is tests/eval's: a 2-step model finds
    image = load_fits(sample)                            # noise everywhere, and measuring it all takes minutes)
    catalogue, _ = detect(image, model, device="cpu", threshold=0.9)  # it loads and detects
    assert catalogue.meta["model"] == "like-sample-vlba-dirty"
    assert decoras(["automl", "--like", str(tmp_path / "nothing.fits")]) == 2


def test_the_configuration_for_an_image_comes_from_its_header():
    import warnings
    from pathlib import Path

    from decoras_gui.core.image import load_fits
    from decoras_gui.ml.like_image import config_like

    real = Path(__file__).resolve().parents[3] / "shared" / "data" / "real"
    if not real.is_dir():
        pytest.skip("the observed images are not here")
    expected = {"evn_L_4C39.25_n05l1_ICLN.fits": ("EVN", "L", "restored"),
                "vlba_X_NGC1052_2017-04-04_map.fits": ("VLBA", "X", "restored"),
                "nvss_postage_stamp_aips.fits": ("VLA-D", "L", "restored"),  # NVSS: the D configuration's beam
                "atca_phoenix_deep_1.4GHz_sub.fits": ("ATCA", "16cm", "restored")}
    for name, (instrument, band, kind) in expected.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            config, domain = config_like(load_fits(real / name))
        assert (config.sim.instrument, config.sim.band, config.image_kind) == (instrument, band, kind), name
        assert config.sim.image_kind == kind and config.psf_dropout == 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(DecorasError, match="22.46 GHz is in no band"):
            config_like(load_fits(real / "nvas_vla_K_W51.fits"))
