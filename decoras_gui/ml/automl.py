"""AutoML: an Optuna study that builds a task's model for an instrument and band.

Two search spaces. The *full* one (below) draws the networks too. The *fine-tuning* one, for a
base that starts from another model (``init_from``: ``evn-l-band`` from ``vlba-l-band``, or
``decoras automl --like`` from the bundled model of the image's kind), keeps that model's
networks and draws how to adapt them -- rate, weight decay, loss weights, augmentation --
which is what a CPU can afford; each trial fine-tunes from the model's weights.

In the full space each trial draws a network shape (depth, widths, convolutions per level, stem stride,
residual / attention blocks, the dirty-beam channel on or off), loss weights (BCE positive
weight, MSLE source weight and the MSLE/BCE mix), augmentation strength and learning
schedule (peak rate, weight decay) with the TPE sampler, trains on the task's *training*
family of simulated fields, and is scored every ``report_every`` steps on a fixed
*out-of-distribution* validation set (the simulator's ``ood`` family: schedules, channel
counts, weightings, noise and an imaging route training never samples).  Hyperband prunes
on those intermediate scores.  The objective and constraints (TPE's ``constraints_func``) are
the task's (``Task.study_score``, described by ``Task.study_objective``). Detection's:
completeness x purity at SNR 5-7.5 on the OOD set, at the best detection threshold that keeps
purity >= ``min_purity`` above SNR 5, with purity and the fraction of peaks within 20 % as
constraints; restoration's: the median SSIM of the maps, with the surface-brightness error and
the flux invented off the sources as constraints. A task with one loss has no loss mix to search.

The study lives in an SQLite file or an Optuna journal file, so it resumes after a kill and
several processes (or machines sharing the file system) can work on one study at once.
:func:`finalize` retrains the best trial longer on full-size fields, calibrates it and writes
the model and its card, with the study's summary (trials, pruned trials, best parameters,
Optuna's parameter importances).
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..core.errors import DecorasError
from ..sim.field import simulate_field
from .networks import NetConfig
from .registry import DecorasModel, ModelCard
from .tasks import get_task
from .train import TrainConfig, model_domain, train

#: base training configurations (in models/) by (instrument, band letter), lower case
BASES = {("vlba", "l"): "vlba-l-band", ("evn", "l"): "evn-l-band"}
#: the search spaces: "full" draws the networks' shape as well; "finetune" (a base that starts
#: from another model, ``init_from``) keeps that model's networks and searches how to adapt them;
#: "training" keeps the base's networks as configured (a shape sized to the machine) and searches
#: how to train them from scratch
SPACES = ("full", "finetune", "training")
#: the learning rates a study draws from when its networks start from scratch (full and training
#: spaces); a fine-tuning study's are lower
SCRATCH_RATES = (5e-4, 5e-3)
#: validation fields of the study: seeds (VALIDATION_SEED, i), far from training and test seeds
VALIDATION_SEED = 777_001


@dataclass(frozen=True)
class StudySettings:
    """How big each trial is and what it is judged on."""

    base: TrainConfig
    trial_steps: int = 600
    report_every: int = 200
    crop: int = 64
    sim_size: int = 128  # side of the trials' training fields (a crop of each is trained on)
    batch_size: int = 8
    workers: int = 2  # simulating processes per trial (the simulator, not torch, bounds small trials)
    threads: int = 1
    val_fields: int = 16
    val_size: int = 128
    thresholds: tuple[float, ...] = (0.35, 0.6)
    floors: tuple[float, ...] = (3.5,)
    min_purity: float = 0.97
    min_peak_within: float = 0.6
    seed: int = 1
    space: str = ""  # one of SPACES; default: "finetune" when the base starts from a model

    @property
    def search_space(self) -> str:
        return self.space or ("finetune" if self.base.init_from else "full")

    @property
    def n_reports(self) -> int:
        return max(1, self.trial_steps // self.report_every)


def base_config(instrument: str, band: str, folder: str | os.PathLike | None = None) -> TrainConfig:
    """The base training configuration for ``instrument`` and ``band`` ('L' or 'L (1.4 GHz)')."""
    from .registry import models_dir

    key = (instrument.strip().lower(), band.strip().lower()[:1])
    if key not in BASES:
        known = ", ".join(f"{i.upper()} {b.upper()}" for i, b in BASES)
        raise DecorasError(f"no AutoML base configuration for {instrument} {band} (known: {known})")
    path = Path(folder or models_dir()) / f"{BASES[key]}.toml"
    return TrainConfig.from_toml(path)


def validation_fields(settings: StudySettings) -> list:
    """The study's fixed OOD validation fields: every fourth one empty, two in four with peak SNR
    4-12 (so that the SNR 5-7.5 bin the objective counts holds about two sources a field), one in
    four with the base's range (bright sources and their sidelobes)."""
    cfg = replace(settings.base.sim, size=settings.val_size, variety="ood", margin_pix=12, crowded_fraction=0.0)
    faint = replace(cfg, snr_range=(4.0, 12.0))
    empty = replace(cfg, max_sources=0, empty_fraction=1.0)
    kinds = (faint, cfg, faint, empty)
    return [simulate_field((VALIDATION_SEED, i), kinds[i % 4]) for i in range(settings.val_fields)]


#: the parameters of a trial that set training (both spaces), as :func:`_training` draws them
TRAINING_KEYS = ("pos_weight", "source_weight", "msle_weight", "augment", "learning_rate", "weight_decay")


def _training(trial, learning_rates: tuple[float, float], losses: tuple[str, ...] = ("bce", "msle")) -> dict:
    """The loss weights, augmentation and schedule of a trial (every space); the BCE's positive
    weight and the MSLE/BCE mix only for a task whose networks have a BCE loss beside the MSLE
    (``losses``: the task's loss names; with one loss its weight is only a scale)."""
    bce = {"pos_weight": trial.suggest_float("pos_weight", 1.0, 4.0, log=True),
           "msle_weight": trial.suggest_float("msle_weight", 0.3, 3.0, log=True)} if "bce" in losses else {}
    return {
        **bce,
        "source_weight": trial.suggest_float("source_weight", 1.0, 8.0, log=True),
        "augment": trial.suggest_float("augment", 0.0, 1.0),
        "learning_rate": trial.suggest_float("learning_rate", *learning_rates, log=True),
        "weight_decay": trial.suggest_float("weight_decay", 1e-5, 1e-3, log=True),
    }


def suggest(trial, space: str = "full", losses: tuple[str, ...] = ("bce", "msle")) -> dict:
    """The trial's point in the search space (plain data). The fine-tuning space searches the
    schedule, loss weights and augmentation of adapting the base's networks (a lower rate range);
    the training space the same for the base's networks trained from scratch (the full space's
    range). ``losses``: the task's loss names (a weight is searched only for a loss it has)."""
    if space == "finetune":
        return _training(trial, (1e-4, 1.5e-3), losses)
    if space == "training":
        return _training(trial, SCRATCH_RATES, losses)
    if space != "full":
        raise DecorasError(f"no search space {space!r} (known: {', '.join(SPACES)})")
    levels = trial.suggest_int("levels", 3, 4)
    width = trial.suggest_categorical("width", [8, 12, 16, 24])
    return {
        "widths": [width * 2**i for i in range(levels)],
        "convs_per_level": trial.suggest_int("convs_per_level", 1, 2),
        "stem_stride": trial.suggest_categorical("stem_stride", [1, 2]),
        "block": trial.suggest_categorical("block", ["plain", "residual"]),
        "attention": trial.suggest_categorical("attention", [False, True]),
        "psf_channel": trial.suggest_categorical("psf_channel", [False, True]),
        **_training(trial, SCRATCH_RATES, losses),
    }


def config_for(base: TrainConfig, params: dict, **changes) -> TrainConfig:
    """``base`` with a trial's parameters (both networks share the architecture; a fine-tuning
    or training-space trial keeps the base's networks)."""
    training = {k: params[k] for k in TRAINING_KEYS if k in params}
    if "widths" not in params:
        return replace(base, **training, **changes)
    crop = changes.get("crop", base.crop)
    net = NetConfig.from_dict({**{k: params[k] for k in ("widths", "convs_per_level", "stem_stride", "block",
                                                         "attention", "psf_channel")},
                               "attention_window": crop if params["attention"] else 0})
    return replace(base, networks={name: net for name in base.networks}, init_from="", **training, **changes)


def _card_for(config: TrainConfig) -> ModelCard:
    return ModelCard(name=config.name, version=config.version, weights="", sha256="", task=config.task,
                     domain=model_domain(config), networks={n: c.to_dict() for n, c in config.networks.items()},
                     training={"config": config.to_dict()})


def score(model: DecorasModel, fields: list, settings: StudySettings) -> dict:
    """The objective and constraints of ``model`` on ``fields`` at its best threshold / SNR floor."""
    from ..eval.calibrate import sweep
    from ..eval.evaluate import summarise

    records = sweep(model, fields, settings.thresholds, settings.floors)
    best = None
    for (t, floor, _cap), rec in records.items():
        s = summarise(rec)
        ds, dt = np.asarray(rec.det_snr), np.asarray(rec.det_true)
        purity5 = float(dt[ds >= 5].mean()) if (ds >= 5).any() else 1.0
        comp = s["completeness_snr_5_7.5"]
        pur_bin = s["purity"]["5-7.5"]["value"]
        value = (comp if math.isfinite(comp) else 0.0) * (pur_bin if math.isfinite(pur_bin) else 1.0)
        peak = s["peak_within_20pc"] if math.isfinite(s["peak_within_20pc"]) else 0.0
        row = {"threshold": t, "min_snr": floor, "value": value, "completeness_snr_5_7.5": comp,
               "purity_snr_5_7.5": pur_bin, "purity_snr_ge_5": purity5, "peak_within_20pc": peak,
               "false_per_empty_field": s["false_per_empty_field"]}
        feasible = purity5 >= settings.min_purity and peak >= settings.min_peak_within
        key = (feasible, value if feasible else purity5)
        if best is None or key > best[0]:
            best = (key, row)
    out = best[1]
    out["constraints"] = [settings.min_purity - out["purity_snr_ge_5"], settings.min_peak_within
                          - out["peak_within_20pc"]]
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in out.items()}


#: the constraints of a trial, by name (each <= 0 when met)
CONSTRAINTS = ("purity_snr_ge_5", "peak_within_20pc")


def _constraints(trial) -> list[float]:
    """A finished trial's constraint values (<= 0: met); unmet when it has none."""
    got = getattr(trial, "constraints", None) or {}
    if isinstance(got, dict):
        return [float(got.get(k, 1.0)) for k in CONSTRAINTS]
    return [float(v) for v in got] or [1.0] * len(CONSTRAINTS)


def _set_constraints(trial, values: list[float]) -> None:
    for key, value in zip(CONSTRAINTS, values):
        trial.set_constraint(key, float(value))


def open_study(storage: str, study_name: str, seed: int = 1, n_reports: int = 3):
    """Create or resume the study in ``storage`` (a ``.db`` file: SQLite; a ``.log`` / ``.jsonl``
    file: an Optuna journal; or any Optuna storage URL)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if "://" not in storage:
        path = Path(storage)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix in (".log", ".jsonl", ".journal"):
            from optuna.storages.journal import JournalFileBackend, JournalStorage

            storage = JournalStorage(JournalFileBackend(str(path)))
        else:
            storage = f"sqlite:///{path.resolve()}"
    sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=5)  # constraints: Trial.set_constraint
    pruner = optuna.pruners.HyperbandPruner(min_resource=1, max_resource=n_reports, reduction_factor=3)
    return optuna.create_study(storage=storage, study_name=study_name, sampler=sampler, pruner=pruner,
                               direction="maximize", load_if_exists=True)


FINISHED_STATES = ("COMPLETE", "PRUNED")


def finished_trials(study) -> int:
    return sum(t.state.name in FINISHED_STATES for t in study.trials)


def prepare_study(settings: StudySettings, storage: str, study_name: str):
    """Open (or create) the study and check it searches this run's space; returns (study, task)."""
    study = open_study(storage, study_name, settings.seed, settings.n_reports)
    task = get_task(settings.base.task)
    space = settings.search_space
    if space == "finetune" and not settings.base.init_from:
        raise DecorasError("a fine-tuning study needs a base that starts from a model (init_from)")
    if study.user_attrs.get("space", space) != space:
        raise DecorasError(f"the study {study_name!r} searches the {study.user_attrs['space']!r} space, not {space!r}")
    study.set_user_attr("space", space)
    study.set_user_attr("task", task.name)
    study.set_user_attr("objective", task.study_objective)
    if space == "finetune":
        study.set_user_attr("init_from", settings.base.init_from)
    return study, task


def make_objective(settings: StudySettings, study, task, n_trials: int, work_dir: str | os.PathLike,
                   progress: Callable[[float, str], None] | None = None) -> Callable:
    """The study's objective: train a trial, score it on the OOD fields every ``report_every``
    steps (Hyperband prunes on those), set its constraints and return its value."""
    import optuna
    import torch

    fields = task.study_fields(settings)
    work = Path(work_dir)
    space = settings.search_space
    losses = tuple(task.loss_names.values())

    def objective(trial) -> float:
        params = suggest(trial, space, losses)
        config = config_for(settings.base, params, name=f"{settings.base.name}-trial{trial.number}",
                            steps=settings.trial_steps, crop=settings.crop, batch_size=settings.batch_size,
                            checkpoint_every=settings.trial_steps, log_every=settings.report_every,
                            torch_seed=settings.seed + trial.number, workers=settings.workers,
                            threads=settings.threads,
                            sim=task.trial_sim(settings.base.sim, settings.sim_size))
        card = _card_for(config)
        last: dict = {}
        done = finished_trials(study)

        def report(step: int, nets: dict) -> None:
            if progress:
                progress(min(1.0, (done + step / settings.trial_steps) / max(n_trials, 1)),
                         f"trial {trial.number} ({done + 1} of {n_trials}): step {step} of {settings.trial_steps}")
            if step % settings.report_every:
                return
            with torch.no_grad():
                result = task.study_score(DecorasModel(card, nets), fields, settings)
            last.clear()
            last.update(result)
            k = step // settings.report_every
            trial.report(result["value"], k)
            if trial.should_prune():
                _set_constraints(trial, result["constraints"])
                raise optuna.TrialPruned()

        folder = work / f"trial{trial.number:04d}"
        train(config, folder, folder, log=lambda s: None, resume=False, callback=report,
              callback_every=math.gcd(settings.report_every, 25))  # progress every 25 steps or fewer
        for key, value in last.items():
            if key != "constraints":
                trial.set_user_attr(key, value)
        _set_constraints(trial, last["constraints"])
        return float(last["value"])

    return objective


def trial_line(trial) -> str:
    """The line said of a finished trial."""
    state = trial.state.name.lower()
    value = "-" if trial.value is None else f"{trial.value:.3f}"
    purity = trial.user_attrs.get("purity_snr_ge_5")
    return (f"trial {trial.number} {state}: value {value}"
            + (f", purity(SNR>=5) {purity:.3f}" if isinstance(purity, float) else "")
            + f", {json.dumps(trial.params, default=str)}")


def run_study(settings: StudySettings, storage: str, study_name: str, n_trials: int, work_dir: str | os.PathLike,
              timeout: float | None = None, log: Callable[[str], None] = lambda s: print(s, file=sys.stderr,
                                                                                          flush=True),
              progress: Callable[[float, str], None] | None = None,
              on_open: Callable | None = None, on_trial: Callable | None = None):
    """Run trials until the study holds ``n_trials`` finished (complete or pruned) ones.

    ``progress(fraction of the study, message)`` comes a few times a trial; ``on_open(study)``
    once the study is open (a resumed one holds its earlier trials), ``on_trial(trial)`` after
    each trial this run finishes. (:func:`decoras_gui.survey.trials.run_study_on_cluster` runs
    the trials on a Dask cluster instead.)"""
    import optuna

    study, task = prepare_study(settings, storage, study_name)
    objective = make_objective(settings, study, task, n_trials, work_dir, progress)

    def told(study, trial) -> None:
        log(trial_line(trial))
        if on_trial:
            on_trial(trial)

    if on_open:
        on_open(study)
    finished = tuple(getattr(optuna.trial.TrialState, s) for s in FINISHED_STATES)
    if finished_trials(study) < n_trials:
        study.optimize(objective, timeout=timeout, catch=(),
                       callbacks=[optuna.study.MaxTrialsCallback(n_trials, states=finished), told])
    return study


def run_trial(settings: StudySettings, storage: str, study_name: str, n_trials: int,
              work_dir: str | os.PathLike, user_attrs: dict | None = None) -> int | None:
    """One trial of the study in this process (a Dask worker's task: the study's storage is shared),
    with ``user_attrs`` set on it (where it ran, say); returns its number, or None when the study
    already holds ``n_trials`` finished trials."""
    import multiprocessing


    if multiprocessing.current_process().daemon:  # a Dask worker: its processes may not have children
        settings = replace(settings, workers=0)
    study, task = prepare_study(settings, storage, study_name)
    if finished_trials(study) >= n_trials:
        return None
    objective = make_objective(settings, study, task, n_trials, work_dir)

    def marked(trial) -> float:
        for key, value in (user_attrs or {}).items():
            trial.set_user_attr(key, value)
        return objective(trial)

    numbers: list[int] = []
    study.optimize(marked, n_trials=1, catch=(), callbacks=[lambda _s, trial: numbers.append(trial.number)])
    return numbers[0] if numbers else None


def study_summary(study) -> dict:
    """Trials, pruned trials, the best trial and Optuna's parameter importances (JSON-ready)."""
    import optuna

    states = [t.state for t in study.trials]
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    feasible = [t for t in complete if all(c <= 0 for c in _constraints(t))]
    pool = feasible or complete
    out = {"study": study.study_name, "trials": len(states),
           "complete": sum(s == optuna.trial.TrialState.COMPLETE for s in states),
           "pruned": sum(s == optuna.trial.TrialState.PRUNED for s in states),
           "failed": sum(s == optuna.trial.TrialState.FAIL for s in states),
           "feasible": len(feasible), "sampler": "TPE",
           "objective": study.user_attrs.get("objective", get_task("detect").study_objective),
           "pruner": "Hyperband on intermediate OOD-validation scores",
           "space": study.user_attrs.get("space", "full")}
    if study.user_attrs.get("init_from"):
        out["init_from"] = study.user_attrs["init_from"]
    if pool:
        best = max(pool, key=lambda t: t.value)
        out["best"] = {"number": best.number, "value": best.value, "params": best.params,
                       "figures": dict(best.user_attrs), "constraints": _constraints(best)}
    if len(complete) >= 2:
        try:
            imp = optuna.importance.get_param_importances(study)
            out["importances"] = {k: round(float(v), 4) for k, v in imp.items()}
        except (RuntimeError, ValueError) as exc:  # e.g. every completed trial has the same value
            out["importances_error"] = str(exc)
    return out


def best_params(study) -> dict:
    """The suggested parameters (networks and training) of the study's best feasible trial."""
    summary = study_summary(study)
    if "best" not in summary:
        raise DecorasError(f"the study {study.study_name!r} has no completed trial yet")
    import optuna

    trial = study.trials[summary["best"]["number"]]
    fixed = optuna.trial.FixedTrial(trial.params)
    losses = tuple(get_task(study.user_attrs.get("task", "detect")).loss_names.values())
    return suggest(fixed, study.user_attrs.get("space", "full"), losses)


def study_trials(storage: str | os.PathLike, study_name: str) -> list[dict]:
    """The finished (complete or pruned) trials of a study on disk, oldest first: number, state,
    value; empty when there is no such study yet (what a window shows before resuming it)."""
    path = Path(storage)
    if "://" not in str(storage) and not path.is_file():
        return []
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    url = str(storage) if "://" in str(storage) else f"sqlite:///{path.resolve()}"
    try:
        study = optuna.load_study(study_name=study_name, storage=url)
    except KeyError:  # the file holds other studies only
        return []
    return [{"number": t.number, "state": t.state.name.lower(), "value": t.value}
            for t in study.trials if t.state.name in ("COMPLETE", "PRUNED")]
