"""`decoras automl --task detect --instrument VLBA --band L`: an Optuna study that builds a model.

``--like IMAGE`` builds one for the image in hand: its instrument, band, beam sampling and kind
(dirty or restored) from its header (:mod:`decoras_gui.ml.like_image`); the study, the final
training and the calibration run in turn, and the model with its card goes to the user's model
folder (``~/.local/share/decoras-gui/models``), where ``decoras detect`` and the window find it.

Runs (or resumes) the study until it holds ``--trials`` finished trials, printing one line per
trial; ``--finalize`` then retrains the best trial for ``--final-steps`` on full-size fields,
calibrates it and writes the model and its card (with the study's summary) to ``--out``.
Ctrl+C stops at once: the study file keeps every finished trial, and the same command resumes.
Watch a study live with ``optuna-dashboard sqlite:///runs/automl/NAME.db`` (docs/models.md).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..cli import command
from .progress import ProgressBar


def _add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--task", default="detect", help="the task the model is for (decoras tasks)")
    p.add_argument("--like", metavar="IMAGE",
                   help="build a model for images like this one (instrument, band, beam sampling, dirty or "
                   "restored from its header); implies --finalize, writes to your model folder")
    p.add_argument("--kind", choices=("dirty", "restored"), help="with --like: when the header does not say")
    p.add_argument("--from-scratch", action="store_true",
                   help="with --like: search the networks' shape too, from nothing, instead of fine-tuning the "
                   "bundled model of the image's kind (needs a far larger budget: a GPU)")
    p.add_argument("--space", choices=("full", "finetune", "training"), default=None,  # ml.automl.SPACES
                   help="what the study searches: 'full' (networks and training), 'finetune' (how to adapt the "
                   "base's init_from model) or 'training' (how to train the base's networks as configured); "
                   "default: finetune when the base starts from a model, else full")
    p.add_argument("--instrument", help="e.g. VLBA (with --like: overrides the header's telescope)")
    p.add_argument("--band", help="e.g. L")
    p.add_argument("--base", default=None, help="base training configuration (TOML; default: the instrument's)")
    p.add_argument("--study", default=None, help="study name (default: the base model's name)")
    p.add_argument("--storage", default=None,
                   help="study file: NAME.db (SQLite) or NAME.log (Optuna journal), or an Optuna storage URL "
                   "(default: runs/automl/STUDY.db)")
    p.add_argument("--trials", type=int, default=12, help="run until the study holds this many finished trials")
    p.add_argument("--timeout", type=float, default=None, help="stop starting trials after this many seconds")
    p.add_argument("--trial-steps", type=int, default=600, help="training steps of a trial that is not pruned")
    p.add_argument("--report-every", type=int, default=200, help="steps between OOD-validation scores (pruning)")
    p.add_argument("--crop", type=int, default=64, help="training crop of the trials (pixels)")
    p.add_argument("--batch-size", type=int, default=8, help="training batch of the trials")
    p.add_argument("--val-fields", type=int, default=16, help="OOD validation fields of the study")
    p.add_argument("--val-size", type=int, default=128, help="side of the validation fields (pixels)")
    p.add_argument("--seed", type=int, default=1, help="sampler seed")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="run the trials on this Dask cluster (e.g. a dask-jobqueue SLURMCluster's scheduler), one "
                   "task per trial, through the study's shared storage (a file all workers see: on NFS use "
                   "--storage NAME.log; docs/survey.md)")
    p.add_argument("--workers", type=int, metavar="N",
                   help="run the trials on a Dask LocalCluster of N worker processes")
    p.add_argument("--work-dir", default=None,
                   help="trial checkpoints and logs (default runs/automl; with --like, automl/ in your data folder)")
    p.add_argument("--finalize", action="store_true",
                   help="retrain the best trial longer, calibrate it, write the model and its card")
    p.add_argument("--final-steps", type=int, default=None, help="training steps of the final model (default: base)")
    p.add_argument("--version", default=None, help="version of the final model (default: the base's)")
    p.add_argument("--out", default=None, help="folder for the final model (default: beside the base)")
    p.add_argument("--calibration-fields", type=int, default=240, help="validation fields of the final calibration")
    p.add_argument("--events", action="store_true",
                   help="write progress as JSON lines on stdout (what the window's training panel reads)")


class Events:
    """Where the command says how it is getting on: a progress bar and lines for a person, or
    with ``--events`` one JSON object a line on stdout for the window's training panel
    (``start``, ``trial``, ``progress`` with its ``stage``, ``line`` and ``done``)."""

    def __init__(self, as_json: bool):
        self.as_json = as_json
        self.bar = None if as_json else ProgressBar("automl")

    def emit(self, event: str, **fields) -> None:
        if self.as_json:
            print(json.dumps({"event": event, **fields}, default=str), flush=True)

    def say(self, line: str) -> None:
        if self.as_json:
            self.emit("line", text=line)
        else:
            self.bar.close()
            print(line, flush=True)

    def progress(self, stage: str, fraction: float, message: str, **fields) -> None:
        """Progress of a ``stage`` (study, train, calibrate); ``fields`` (e.g. the running trial's
        ``running`` and ``of``) go into the JSON event as they are."""
        if self.as_json:
            self.emit("progress", stage=stage, fraction=round(float(fraction), 4), message=message, **fields)
        else:
            self.bar.label = "automl" if stage == "study" else stage
            self.bar(fraction, message)

    def close(self) -> None:
        if self.bar:
            self.bar.close()


def trial_event(trial, best: float | None, done: int, of: int) -> dict:
    """What the panel shows of one finished trial (its number, state, value, the best so far)."""
    return {"number": trial.number, "state": trial.state.name.lower(), "value": trial.value,
            "intermediate": [trial.intermediate_values[k] for k in sorted(trial.intermediate_values)],
            "purity_snr_ge_5": trial.user_attrs.get("purity_snr_ge_5"), "best": best, "done": done, "of": of}


class _TrialCounter:
    """Counts the study's finished trials and tells :class:`Events` of each (those a resumed
    study already holds first)."""

    def __init__(self, events: Events, of: int):
        self.events, self.of = events, of
        self.done, self.best = 0, None

    def _add(self, trial) -> None:
        state = trial.state.name
        if state not in ("COMPLETE", "PRUNED"):
            return
        self.done += 1
        if state == "COMPLETE" and trial.value is not None and (self.best is None or trial.value > self.best):
            self.best = trial.value
        self.events.emit("trial", **trial_event(trial, self.best, self.done, self.of))

    def history(self, study) -> None:
        for trial in study.trials:
            self._add(trial)

    def told(self, trial) -> None:
        self._add(trial)

    def log(self, line: str) -> None:
        if not self.events.as_json:
            self.events.say(line)


@command("automl", "Search network shapes and training settings with Optuna, then build the best model.")(
    _add_arguments)
def run(args: argparse.Namespace) -> int:
    from ..core.errors import DecorasError
    from ..ml.automl import StudySettings, base_config, best_params, config_for, run_study, study_summary
    from ..ml.registry import read_card, write_card
    from ..ml.tasks import get_task
    from ..ml.train import TrainConfig, train
    from ..paths import user_data_dir, user_models_dir
    from .train import calibrate_model

    task = get_task(args.task)
    if args.like:
        from ..core.image import load_fits
        from ..ml.like_image import config_like

        base, domain = config_like(load_fits(args.like), instrument=args.instrument, kind=args.kind,
                                   from_scratch=args.from_scratch)
        intro = (f"{args.like}: {domain.describe()} -> a {base.image_kind} model for {base.instrument} "
                 f"{base.band}, {base.sim.ppb_range[0]:g}-{base.sim.ppb_range[1]:g} pixels per beam: {base.name}"
                 + (f", fine-tuned from {base.init_from}" if base.init_from else ", networks from scratch"))
        args.finalize = True
        args.out = args.out or str(user_models_dir())
        args.work_dir = args.work_dir or str(user_data_dir() / "automl")
    elif not (args.instrument and args.band) and not args.base:
        raise DecorasError("say what the model is for: --instrument and --band, --base, or --like IMAGE")
    else:
        base = TrainConfig.from_toml(args.base) if args.base else base_config(args.instrument, args.band)
        intro = ""
    args.work_dir = args.work_dir or "runs/automl"
    if base.task != task.name:
        raise DecorasError(f"the base configuration is for the task {base.task!r}, not {task.name!r}")
    name = args.study or base.name
    storage = args.storage or str(Path(args.work_dir) / f"{name}.db")
    if (args.scheduler or args.workers) and not args.storage and not Path(storage).exists():
        storage = str(Path(args.work_dir) / f"{name}.log")  # an Optuna journal: safe on a shared (NFS) disk
    settings = StudySettings(base=base, trial_steps=args.trial_steps, report_every=args.report_every, crop=args.crop,
                             batch_size=args.batch_size, val_fields=args.val_fields, val_size=args.val_size,
                             seed=args.seed,
                             space=args.space or "")
    if args.trial_steps % args.report_every:
        raise DecorasError("--trial-steps must be a multiple of --report-every")
    events = Events(args.events)
    if args.events:
        # run by the window's training panel, whose Cancel is SIGINT: a process started from a shell
        # that ignores SIGINT (a background job) inherits that, and Cancel would do nothing
        import signal

        signal.signal(signal.SIGINT, signal.default_int_handler)
    events.emit("start", study=name, storage=storage, trials=args.trials, model=base.name, version=base.version,
                instrument=base.instrument, band=base.band, kind=base.image_kind,
                space=settings.search_space, init_from=base.init_from, out=str(args.out or ""))
    if intro:
        events.say(intro)
    counted = _TrialCounter(events, args.trials)

    def studied(fraction: float, message: str) -> None:
        events.progress("study", fraction, message, running=counted.done + 1, of=args.trials)

    try:
        if args.scheduler or args.workers:
            from ..survey.cluster import require_distributed
            from ..survey.trials import run_study_on_cluster

            require_distributed("automl on a cluster (--scheduler, --workers)")
            if args.timeout is not None:
                raise DecorasError("--timeout is for a study in one process; on a cluster, --trials bounds it")
            study = run_study_on_cluster(settings, storage, name, args.trials, Path(args.work_dir) / name,
                                         workers=args.workers, scheduler=args.scheduler, log=counted.log,
                                         progress=studied, on_open=counted.history, on_trial=counted.told)
        else:
            study = run_study(settings, storage, name, args.trials, Path(args.work_dir) / name,
                              timeout=args.timeout, log=counted.log, progress=studied,
                              on_open=counted.history, on_trial=counted.told)
        summary = study_summary(study)
        events.say(json.dumps({k: v for k, v in summary.items() if k != "best"}, default=str))
        if "best" in summary:
            events.say(f"best trial {summary['best']['number']}: value {summary['best']['value']:.3f}, "
                       f"{json.dumps(summary['best']['params'], default=str)}")
        if not args.finalize:
            events.emit("done", study=name)
            return 0
        params = best_params(study)
        final = config_for(base, params, **({"steps": args.final_steps} if args.final_steps else {}),
                           **({"version": args.version} if args.version else {}))
        out = Path(args.out) if args.out else (Path(args.base).parent if args.base else Path("models"))

        def trained(step: int, _nets) -> None:
            events.progress("train", step / final.steps, f"final training: step {step} of {final.steps}")

        # a run of its own per best trial: a resumed study whose best trial changed starts afresh
        run_dir = Path(args.work_dir) / name / f"final-trial{summary['best']['number']:04d}"
        result = train(final, out, run_dir, resume=True,
                       log=lambda s: None if args.events else print(s, file=sys.stderr, flush=True),
                       callback=trained, callback_every=max(1, min(final.log_every, final.steps)))
        card = read_card(result.card)
        card.training["automl"] = {**summary, "storage": str(storage), "trial_steps": args.trial_steps,
                                   "trial_crop": args.crop, "report_every": args.report_every,
                                   "validation": (f"{args.val_fields} OOD blends of 64^2" if task.name == "deblend"
                                                  else f"{args.val_fields} OOD fields of {args.val_size}^2")}
        write_card(card, result.card)
        if args.calibration_fields > 0:
            events.say(calibrate_model(final, out, result.card, args.calibration_fields,
                                       progress=(lambda d, t: events.progress("calibrate", d / max(t, 1),
                                                                              f"calibration: field {d} of {t}"))
                                       if args.events else None))
    finally:
        events.close()
    events.emit("done", study=name, weights=str(result.weights), card=str(result.card), name=final.name,
                version=final.version)
    events.say(f"wrote {result.weights} and {result.card} ({final.name} {final.version})")
    return 0
