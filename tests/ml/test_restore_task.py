"""The restore task: training pairs from LOFAR fields, a trained network, a SkyMap, its figures."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from decoras_gui.core.errors import Cancelled, DecorasError
from decoras_gui.core.geometry import gaussian_area
from decoras_gui.core.image import load_fits
from decoras_gui.core.psf import DirtyBeam
from decoras_gui.eval.restore_metrics import score_map, summarise
from decoras_gui.ml.registry import load_model
from decoras_gui.ml.tasks import get_task
from decoras_gui.ml.tasks.restore import (
    field_beam_pix,
    field_image,
    resolution_of,
    sky_at_resolution,
    training_pair,
    training_views,
)
from decoras_gui.ml.train import TrainConfig, train
from decoras_gui.sim.surface import SurfaceConfig, simulate_surface_field

SIM = SurfaceConfig(size=128, observations=4)

TINY = {
    "name": "lofar-restore-test", "task": "restore", "instrument": "LOFAR-HBA", "band": "HBA", "image_kind": "dirty",
    "steps": 40, "batch_size": 4, "crop": 64, "learning_rate": 2e-3, "data_seed": 5, "torch_seed": 5, "threads": 1,
    "workers": 0, "log_every": 10, "checkpoint_every": 40,
    "sim": {"size": 128, "variety": "wide", "image_kind": "dirty", "observations": 4},
    "restoration": {"widths": [8, 16], "convs_per_level": 1, "psf_channel": True}, "psf_dropout": 0.25,
}


@pytest.fixture(scope="module")
def tiny_card(tmp_path_factory):
    """The card of a restore model trained here for 40 steps (its figures mean nothing)."""
    folder = tmp_path_factory.mktemp("restore-model")
    return train(TrainConfig.from_dict(TINY), folder, folder / "run", log=lambda s: None).card


@pytest.fixture(scope="module")
def tiny_model(tiny_card):
    return load_model(str(tiny_card))


def test_a_training_pair_is_the_image_and_the_sky_at_half_the_beam_in_rms_units():
    bright = replace(SIM, snr_range=(50.0, 300.0), empty_fraction=0.0, max_sources=2,  # sidelobes to predict
                     kind_probs=(1.0, 0.0, 0.0, 0.0, 0.0, 0.0))
    pair = training_pair((7, 0), bright, 128)
    assert set(pair) == {"snr", "target", "mask", "sidelobes", "has_psf"}
    assert all(a.shape == (1, 128, 128) for a in pair.values()) and np.all(pair["has_psf"] == 1.0)
    assert np.abs(pair["sidelobes"]).max() > 0  # its bright emission's sidelobes, from the dirty beam
    blind = training_pair((7, 0), bright, 128, {"psf_dropout": 1.0})
    assert np.all(blind["has_psf"] == 0.0) and not blind["sidelobes"].any()
    f = simulate_surface_field((7, 0), bright)
    beam = field_beam_pix(f)
    rms = float(np.median(np.abs(f.image)) / 0.6745)  # a rough rms: the pair's is sigma-clipped
    area = gaussian_area(beam[0], beam[1])
    flux = pair["target"].sum() * rms / area  # in Jy again, up to the mirroring
    assert flux == pytest.approx(float(f.truth.sum()), rel=0.5)
    assert pair["target"].min() >= 0.0 and set(np.unique(pair["mask"])) <= {0.0, 1.0}
    assert sky_at_resolution(f.truth, beam).sum() == pytest.approx(float(f.truth.sum()), rel=1e-3)


def test_several_training_windows_come_from_one_simulated_field():
    one = training_pair((7, 1), SIM, 64, {"psf_dropout": 0.5})
    views = training_views((7, 1), SIM, 64, {"psf_dropout": 0.5}, 3)
    assert len(views) == 3 and all(np.array_equal(views[0][k], one[k]) for k in one)  # the first is the pair
    assert not np.array_equal(views[1]["snr"], views[2]["snr"])  # each its own window
    assert len({float(v["has_psf"][0, 0, 0]) for v in views}) == 1  # one field: one beam shown or not
    with pytest.raises(DecorasError, match="one training example per field"):
        get_task("detect").training_views((7, 1), None, 64, {}, 2)


def test_the_trained_network_gives_a_sky_map_on_the_images_grid(tiny_model, tmp_path):
    assert tiny_model.card.task == "restore" and tiny_model.card.domain["instrument"] == "LOFAR-HBA"
    f = simulate_surface_field((8, 1), SIM)
    image = field_image(f)
    out = get_task("restore").run(image, tiny_model)
    assert any("sidelobe channel" in n for n in out.notes)  # it reads the dirty beam and was given none
    with_beam = get_task("restore").run(image, tiny_model, psf=DirtyBeam(Path("psf.fits"), f.psf, (64, 64)))
    assert not any("sidelobe channel" in n for n in with_beam.notes)
    assert not np.array_equal(with_beam.result.data, out.result.data)  # the channel is read
    sky = out.result
    assert sky.data.shape == f.image.shape and np.all(np.isfinite(sky.data)) and np.all(sky.data >= 0)
    assert sky.resolution == pytest.approx(resolution_of(sky.image_beam))
    assert sky.image_beam[0] == pytest.approx(f.beam.bmaj / 1000.0)
    back = load_fits(sky.write(tmp_path / "map.fits"))
    assert np.allclose(back.data, sky.data) and back.header["BUNIT"] == "JY/PIXEL"
    with pytest.raises(Cancelled):
        get_task("restore").run(image, tiny_model, cancel=lambda: True)
    with pytest.raises(DecorasError, match="restoring beam"):
        get_task("restore").run(replace(image, beam=None), tiny_model)


def test_with_its_dirty_beam_the_map_follows_the_beam_fitted_to_it_not_the_headers(tiny_model):
    from decoras_gui.core.beam import Beam

    f = simulate_surface_field((8, 2), SIM)
    image = field_image(f)
    psf = DirtyBeam(Path("psf.fits"), f.psf, (64, 64))
    truthful = get_task("restore").run(image, tiny_model, psf=psf)
    b = image.beam  # an imaging program's fit a quarter too wide and turned by 90 deg
    wrong = replace(image, beam=Beam(b.major * 1.25, b.minor * 1.25, b.pa + 90.0))
    told = get_task("restore").run(wrong, tiny_model, psf=psf)
    assert np.array_equal(told.result.data, truthful.result.data)  # the training fields' fit, from the PSF
    assert told.result.image_beam[0] == pytest.approx(f.beam.bmaj / 1000.0, rel=1e-3)
    assert any("fitted to the dirty beam" in n and "header" in n for n in told.notes)
    headless = get_task("restore").run(replace(image, beam=None), tiny_model, psf=psf)  # no header beam needed
    assert np.array_equal(headless.result.data, truthful.result.data)


def test_a_perfect_map_scores_perfectly_and_an_empty_one_does_not():
    f = simulate_surface_field((9, 0), replace(SIM, empty_fraction=0.0, snr_range=(30.0, 100.0),
                                              kind_probs=(0.0, 0.5, 0.5, 0.0, 0.0, 0.0)))
    beam = field_beam_pix(f)
    truth = sky_at_resolution(f.truth, beam)
    res = resolution_of(beam)
    perfect = score_map(truth, truth, f.sky.labels, f.sky.sources, f.rms, beam, res)
    assert perfect.sb_error == pytest.approx(0.0, abs=1e-9) and perfect.ssim == pytest.approx(1.0)
    assert all(r == pytest.approx(1.0) for r in perfect.flux_ratios) and perfect.invented == pytest.approx(0.0)
    empty = score_map(np.zeros_like(truth), truth, f.sky.labels, f.sky.sources, f.rms, beam, res)
    assert empty.sb_error == pytest.approx(1.0) and empty.ssim < perfect.ssim
    assert all(r == 0.0 for r in empty.flux_ratios)
    doubled = score_map(truth + 10 * f.rms / gaussian_area(beam[0], beam[1]), truth, f.sky.labels,
                        f.sky.sources, f.rms, beam, res)
    assert doubled.invented > 5  # a pedestal of 10 sigma per beam is invented emission
    table = summarise([perfect, empty])
    assert table["n_fields"] == 2 and 0.0 <= table["flux_within_10pc"] <= 1.0


def test_evaluation_compares_the_network_with_hogbom(tiny_model):
    result = get_task("restore").evaluate(tiny_model, 999401, 2, sim=replace(SIM, variety="ood"))
    assert set(result["methods"]) == {"lofar-restore-test", "hogbom"}
    for figures in result["methods"].values():
        assert figures["n_fields"] == 2 and np.isfinite(figures["sb_error"])
    assert "surface-brightness error" in get_task("restore").format_report(result)


def test_the_restore_command_writes_the_map_and_the_residual(tiny_card, tmp_path, capsys):
    from astropy.io import fits

    from decoras_gui.cli import main

    f = simulate_surface_field((10, 0), SIM)
    image = field_image(f)
    h = image.wcs.to_header()
    h["BUNIT"], h["BMAJ"], h["BMIN"], h["BPA"] = "JY/BEAM", image.beam.major, image.beam.minor, image.beam.pa
    fits.writeto(tmp_path / "lofar.fits", f.image, h)
    fits.writeto(tmp_path / "lofar_psf.fits", f.psf, h)
    model = str(tiny_card)
    code = main(["restore", str(tmp_path / "lofar.fits"), "--model", model, "--out", str(tmp_path / "map.fits"),
                 "--residual", str(tmp_path / "res.fits")])
    err = capsys.readouterr().err
    assert code == 0 and "total flux" in err and "residual rms" in err
    sky, res = load_fits(tmp_path / "map.fits"), load_fits(tmp_path / "res.fits")
    assert sky.header["BUNIT"] == "JY/PIXEL" and res.data.shape == f.image.shape
    # without a beam in the header the command says so, naming the file
    del h["BMAJ"], h["BMIN"], h["BPA"]
    fits.writeto(tmp_path / "nobeam.fits", f.image, h)
    code = main(["restore", str(tmp_path / "nobeam.fits"), "--model", model, "--out", str(tmp_path / "x.fits")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "nobeam.fits" in err and "restoring beam" in err and len(err.splitlines()) == 1


def test_an_automl_study_searches_a_restore_model_on_its_own_figures(tmp_path):
    import optuna

    from decoras_gui.ml.automl import StudySettings, run_study, study_summary

    base = TrainConfig.from_dict({**TINY, "name": "restore-study"})
    settings = StudySettings(base=base, trial_steps=40, report_every=20, crop=32, sim_size=64, batch_size=2,
                             workers=0, val_fields=2, val_size=64, space="full")
    study = run_study(settings, f"sqlite:///{tmp_path / 'study.db'}", "restore-study", 2, tmp_path / "work",
                      log=lambda s: None)
    trials = [t for t in study.trials if t.state in (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)]
    assert len(trials) == 2
    done = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert done and all(-1.0 <= t.value <= 1.0 for t in done)  # the median SSIM of its maps
    assert all("sb_error" in t.user_attrs and "invented_sigma_median" in t.user_attrs for t in done)
    summary = study_summary(study)
    assert summary["trials"] == 2 and "SSIM" in summary["objective"] and "purity" not in summary["objective"]
    assert all("pos_weight" not in t.params and "msle_weight" not in t.params for t in trials)  # one loss: no mix


def test_a_training_space_study_keeps_the_bases_networks(tmp_path):
    from decoras_gui.ml.automl import StudySettings, best_params, config_for, run_study

    base = TrainConfig.from_dict({**TINY, "name": "restore-training", "views_per_field": 2})
    settings = StudySettings(base=base, trial_steps=40, report_every=40, crop=32, sim_size=64, batch_size=2,
                             workers=0, val_fields=2, val_size=64, space="training")
    study = run_study(settings, f"sqlite:///{tmp_path / 'study.db'}", "restore-training", 1, tmp_path / "work",
                      log=lambda s: None)
    assert study.user_attrs["space"] == "training"
    params = best_params(study)
    assert "widths" not in params and {"learning_rate", "source_weight"} <= set(params)
    assert not {"pos_weight", "msle_weight"} & set(params)
    final = config_for(base, params)
    assert final.networks == base.networks and final.views_per_field == 2
    assert final.learning_rate == pytest.approx(params["learning_rate"])
