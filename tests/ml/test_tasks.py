"""The task registry, model cards that name their task and domain, and the CLI reading both."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from decoras_gui.cli import main
from decoras_gui.core.catalogue import Catalogue
from decoras_gui.core.errors import DecorasError
from decoras_gui.core.image import load_fits
from decoras_gui.core.psf import find_psf
from decoras_gui.ml import tasks
from decoras_gui.ml.registry import DEFAULT_MODEL, ModelCard, available_models, load_model, read_card
from decoras_gui.ml.tasks import DEFAULT_TASK, get_task, task_names
from decoras_gui.ml.tasks.detect import DetectTask
from decoras_gui.ml.train import TrainConfig, train
from decoras_gui.paths import models_dir, resources_dir

SAMPLE = resources_dir() / "sample_vlba_dirty.fits"


def bundled_card_json() -> dict:
    return json.loads((models_dir() / f"{DEFAULT_MODEL}.json").read_text())


def legacy_form(card: dict) -> dict:
    """The card as written before tasks: networks and domain fields at the top level, no task."""
    old = {k: v for k, v in card.items() if k not in ("task", "domain", "networks")}
    old.update(card["networks"])
    old.update({k: v for k, v in card["domain"].items() if k != "image_kind"})
    return old


@pytest.fixture
def model_folder(tmp_path):
    """A models folder holding a copy of the bundled weights; cards are written by each test."""
    shutil.copy(models_dir() / bundled_card_json()["weights"], tmp_path)
    return tmp_path


class _OtherTask(DetectTask):
    """A second registered task (a detection network pair under another name and result kind), so
    that refusing a model made for another task can be tested with a task of detection's shape."""

    name = "other-task"
    label = "another task"
    result_kind = "sky-map"


@pytest.fixture
def other_task(monkeypatch):
    task = _OtherTask()
    monkeypatch.setitem(tasks._TASKS, task.name, task)
    return task


def test_detection_is_registered_with_its_parts():
    assert DEFAULT_TASK == "detect" and "detect" in task_names()
    task = get_task("detect")
    assert task.result_kind == "catalogue" and task.networks == ("detection", "characterization")
    assert task.loss_names == {"detection": "bce", "characterization": "msle"}
    assert task.baseline_name == "photutils-5sigma"
    with pytest.raises(DecorasError, match=r"unknown task 'sharpen' \(known: .*detect.*restore"):
        get_task("sharpen")


def test_the_bundled_card_names_task_and_domain():
    card = read_card(models_dir() / f"{DEFAULT_MODEL}.json")
    assert card.task == "detect"
    assert card.domain == {"instrument": "VLBA", "band": "L (1.4 GHz)", "freq_range_hz": [1.2e9, 1.8e9],
                           "image_kind": "dirty", "cell_mas": 1.0, "pixels_per_beam_minor": 4.899,
                           "pixels_per_beam_range": [3.0, 8.0]}
    assert (card.instrument, card.image_kind, card.pixels_per_beam_range) == ("VLBA", "dirty", (3.0, 8.0))
    assert card.uses_psf and card.version == "2.1.0"
    # calibrated on the OOD validation families, its peaks the image fit's bounded by the restored map's
    assert card.training["calibration"]["family"] == "ood" and card.peak_cap == card.training["calibration"]["peak_cap"]
    assert set(card.networks) == set(get_task("detect").networks)
    assert card.detection == card.networks["detection"]  # a network's shape by its name
    detect, restore, deblend = (available_models(task=t) for t in ("detect", "restore", "deblend"))
    assert sorted(c.name for c in detect + restore + deblend) == sorted(c.name for c in available_models())
    assert all(c.task == "detect" for c in detect) and all(c.task == "restore" for c in restore)
    assert [c.name for c in deblend] == ["vst-deblend"]
    with pytest.raises(DecorasError, match="unknown task"):
        available_models(task="sharpen")


def test_a_card_from_before_tasks_loads_as_the_same_detection_model(model_folder, bundled_model):
    new = bundled_card_json()
    (model_folder / "old.json").write_text(json.dumps(legacy_form(new)))
    old = read_card(model_folder / "old.json")
    assert old.task == "detect" and old.networks == new["networks"]
    assert old.domain == {k: v for k, v in new["domain"].items() if k != "image_kind"}
    model = load_model(str(model_folder / "old.json"), task="detect")
    for name in get_task("detect").networks:
        a, b = model.networks[name].state_dict(), bundled_model.networks[name].state_dict()
        assert list(a) == list(b) and all((a[k] == b[k]).all() for k in a)
    with pytest.raises(DecorasError, match="no configuration for the characterization network"):
        ModelCard.from_dict({k: v for k, v in legacy_form(new).items() if k != "characterization"})


def test_a_card_for_an_unknown_task_is_refused_clearly(model_folder, capsys):
    card = {**bundled_card_json(), "task": "sharpen"}
    path = model_folder / "future.json"
    path.write_text(json.dumps(card))
    with pytest.raises(DecorasError, match=r"future\.json.*for unknown task 'sharpen'"):
        read_card(path)
    assert available_models(model_folder) == []
    code = main(["detect", str(SAMPLE), "--catalog", str(model_folder / "x.ecsv"), "--model", str(path)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "unknown task 'sharpen'" in err


def test_detect_refuses_a_model_of_another_task_before_reading_its_weights(model_folder, other_task, capsys):
    card = {**bundled_card_json(), "name": "sky", "task": other_task.name, "weights": "absent.pt"}
    path = model_folder / "sky.json"
    path.write_text(json.dumps(card))
    assert [c.name for c in available_models(model_folder, task=other_task.name)] == ["sky"]
    assert available_models(model_folder, task="detect") == []
    with pytest.raises(DecorasError, match="sky is a model for the task 'other-task' .*not for 'detect'"):
        load_model("sky", model_folder, task="detect")
    out = model_folder / "x.ecsv"
    assert main(["detect", str(SAMPLE), "--catalog", str(out), "--model", str(path)]) == 2
    err = capsys.readouterr().err
    assert "decoras detect: error:" in err and "not for 'detect'" in err and "sky.json" in err
    assert not out.exists()


def test_run_gives_the_catalogue_and_the_notes(bundled_model):
    task = get_task(bundled_model.card.task)
    output = task.run(load_fits(SAMPLE), bundled_model, device="cpu", psf=find_psf(SAMPLE))
    assert isinstance(output.result, Catalogue) and len(output.result) >= 3
    assert output.notes == output.maps.notes and output.maps.probability.shape == load_fits(SAMPLE).shape
    # without the dirty beam: the settings calibrated for such runs, stricter, and a note saying so
    alone = task.run(load_fits(SAMPLE), bundled_model, device="cpu")
    assert 1 <= len(alone.result) <= len(output.result) and any("dirty beam" in n for n in alone.notes)


def test_training_writes_a_card_with_task_domain_and_the_task_losses(tmp_path):
    raw = {"name": "tiny", "steps": 2, "batch_size": 2, "crop": 64, "workers": 0, "log_every": 1,
           "checkpoint_every": 2, "sim": {"size": 64, "margin_pix": 8}, "image_kind": "dirty",
           "detection": {"widths": [8, 16]}, "characterization": {"widths": [8, 16]}}
    result = train(TrainConfig.from_dict(raw), tmp_path / "models", tmp_path / "run", log=lambda s: None)
    card = read_card(result.card)
    assert card.task == "detect" and card.domain["image_kind"] == "dirty" and card.domain["cell_mas"] == 1.0
    assert card.networks["detection"]["widths"] == [8, 16]
    assert set(result.final_losses) == {"bce", "msle"}
    assert (tmp_path / "run" / "losses.csv").read_text().splitlines()[0] == "step,seconds,bce,msle,lr"
    assert load_model("tiny", tmp_path / "models", task="detect").card.training["config"]["task"] == "detect"
    with pytest.raises(DecorasError, match="unknown task 'sharpen'"):
        TrainConfig.from_dict({**raw, "task": "sharpen"})
    with pytest.raises(DecorasError, match="image_kind"):
        TrainConfig.from_dict({**raw, "image_kind": "clean"})


def test_tasks_command_lists_tasks_and_models_without_loading_torch():
    code = ("import sys; from decoras_gui.cli import main; rc = main(['tasks']); "
            "assert 'torch' not in sys.modules, 'torch was imported'; sys.exit(rc)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("detect: source detection -> catalogue")
    assert any(line.strip().startswith(f"{DEFAULT_MODEL} ") and "VLBA" in line and "dirty" in line for line in lines)
