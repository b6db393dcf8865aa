"""Tools > Train a Model for This Image…: the panel runs a real (tiny) AutoML study for the open
image in its own process, shows trial n of N, the best score and the study's plot, cancels (the
study keeps what it finished), resumes, and installs the model it builds in the user's folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.gui.conftest import open_and_wait

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "resources" / "sample_vlba_dirty.fits"
REAL = REPO.parent / "shared" / "data" / "real"
#: a study of any size runs minutes at most here; the panel is waited on by its signals
STUDY_MS = 900_000


@pytest.fixture
def data_home(tmp_path, monkeypatch) -> Path:
    """The user's data folder (studies, trial checkpoints) in a temporary folder; the study's
    process inherits it."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    return tmp_path / "data"


def _tiny(panel, trials: int) -> None:
    panel.trials_spin.setValue(trials)
    panel.trial_steps_spin.setValue(3)
    panel.val_spin.setValue(2)
    panel.final_steps_spin.setValue(2)
    panel.calibration_spin.setValue(0)
    panel.crop_spin.setValue(32)


def _finished_trials(panel) -> list[dict]:
    from decoras_gui.ml.automl import study_trials

    return study_trials(panel.storage, panel.config.name)


def test_the_panel_trains_a_model_for_the_image_resumes_its_study_and_installs_it(qtbot, window, data_home):
    from decoras_gui.ml.registry import load_model
    from decoras_gui.paths import user_models_dir

    open_and_wait(qtbot, window, SAMPLE)
    assert window.act_train.isEnabled()
    window.act_train.trigger()
    panel = window.training_panel
    qtbot.waitUntil(panel.isVisible)
    text = panel.domain_label.text()
    assert "dirty" in text and "VLBA" in text and "like-sample-vlba-dirty" in text and "fine-tuned from" in text
    assert panel.start_button.text() == "Start" and not panel.cancel_button.isEnabled()
    _tiny(panel, trials=1)
    installed = []
    panel.finished_model.connect(installed.append)
    panel.start_button.click()
    assert panel.running and panel.cancel_button.isEnabled() and not panel.trials_spin.isEnabled()
    qtbot.waitUntil(lambda: not panel.running, timeout=STUDY_MS)  # ended: with a model, or a failure
    assert installed == [panel.card_path] and panel.card_path, panel.log.toPlainText()[-2000:]
    card = Path(panel.card_path)
    assert card.parent == user_models_dir() and card.is_file()
    assert panel.trial_label.text() == "1 of 1 finished"
    assert float(panel.best_label.text()) == pytest.approx(panel.plot.best, abs=1e-3)
    assert list(panel.plot.trials) == [0]
    assert panel.plot.complete.getData()[0] is not None
    assert "Done" in panel.stage_label.text() and panel.progress.value() == 1000
    # the window lists the new model at once
    assert window.model_combo.findData("like-sample-vlba-dirty") >= 0
    model = load_model("like-sample-vlba-dirty")
    assert model.card.training["automl"]["trials"] == 1 and model.card.training["automl"]["space"] == "finetune"

    # a larger budget resumes the same study: its first trial is kept, one more is run
    panel.trials_spin.setValue(2)
    panel.read_domain()
    assert panel.final_steps_spin.value() == 2  # the budget set stays
    assert panel.start_button.text() == "Resume (1 of 2 trials done)"
    panel.start_button.click()
    qtbot.waitUntil(lambda: not panel.running, timeout=STUDY_MS)
    assert panel.card_path and "Done" in panel.stage_label.text(), panel.log.toPlainText()[-2000:]
    assert [t["number"] for t in _finished_trials(panel)] == [0, 1]
    assert sorted(panel.plot.trials) == [0, 1] and panel.trial_label.text() == "2 of 2 finished"
    assert load_model("like-sample-vlba-dirty").card.training["automl"]["trials"] == 2


def test_cancel_stops_the_study_keeping_its_file_and_closing_the_window_stops_it_too(qtbot, window, data_home):
    import optuna

    open_and_wait(qtbot, window, SAMPLE)
    panel = window.show_training()
    _tiny(panel, trials=2)
    panel.trial_steps_spin.setValue(3000)  # far longer than it takes to see the first step and cancel
    panel.stop_grace_ms = STUDY_MS  # however loaded the machine, the study stops by itself: never killed here
    panel.start()
    qtbot.waitUntil(lambda: panel.stage == "study", timeout=STUDY_MS)  # the first trial is training
    assert panel.trial_label.text() == "1 of 2 running"
    with qtbot.waitSignal(panel.stopped, timeout=STUDY_MS) as stopped:
        panel.cancel()
    assert stopped.args == ["cancelled"] and not panel.running
    assert "Cancelled" in panel.stage_label.text() and panel.start_button.isEnabled()
    assert panel.start_button.text() == "Start"  # nothing had finished
    study = optuna.load_study(study_name=panel.config.name, storage=f"sqlite:///{panel.storage}")
    assert [t.state.name for t in study.trials] == ["FAIL"]  # interrupted, marked so: not left 'running'
    # a study running when the window closes is stopped, not orphaned
    panel.start()
    qtbot.waitUntil(lambda: panel.running and panel.stage == "study", timeout=STUDY_MS)
    proc = panel.process
    window.ask_on_close = False
    window.close()
    assert proc.state() == proc.ProcessState.NotRunning


def test_an_image_no_model_can_be_trained_for_says_why_and_cannot_start(qtbot, window, data_home):
    w51 = REAL / "nvas_vla_K_W51.fits"
    if not w51.is_file():
        pytest.skip("the observed images are not here")
    open_and_wait(qtbot, window, w51)
    panel = window.show_training()
    # the W51 header names the VLA at 22.5 GHz: no VLA K band is in its instrument file
    assert "No model can be trained" in panel.domain_label.text() and "nvas_vla_K_W51.fits" in panel.domain_label.text()
    assert not panel.start_button.isEnabled()
