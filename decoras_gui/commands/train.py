"""`decoras train --config models/NAME.toml`: train the task's networks, then calibrate the model
(detection: its threshold and SNR floor)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..cli import command
from .progress import ProgressBar


def _add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", required=True, help="training configuration (TOML)")
    p.add_argument("--out", default=None, help="folder for weights and model card (default: beside the config)")
    p.add_argument("--run-dir", default=None, help="folder for checkpoints and the loss log (default: runs/NAME)")
    p.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint and start over")
    p.add_argument("--calibration-fields", type=int, default=240,
                   help="validation fields for choosing the detection threshold, SNR floor and peak cap "
                   "(0: keep the configured ones)")
    p.add_argument("--calibrate-only", action="store_true",
                   help="do not train: recalibrate the model already written to --out (its weights are unchanged)")


@command("train", "Train a model's networks (detection: detection and characterization) on simulated fields.")(
    _add_arguments)
def run(args: argparse.Namespace) -> int:
    from ..ml.registry import load_model
    from ..ml.tasks import get_task
    from ..ml.train import TrainConfig, train

    config = TrainConfig.from_toml(args.config)
    task = get_task(config.task)
    out = Path(args.out) if args.out else Path(args.config).parent
    if args.calibrate_only:
        card_path = out / f"{config.name}.json"
        load_model(config.name, out, task=task.name)  # refuses a missing or modified model before any work
    else:
        result = train(config, out, args.run_dir, resume=not args.fresh)
        card_path = result.card
        print(f"trained {config.name} in {result.seconds / 60:.1f} min: {result.weights}, {card_path}")
    if args.calibration_fields > 0:
        print(calibrate_model(config, out, card_path, args.calibration_fields))
    return 0


def calibrate_model(config, out: Path, card_path: Path, n_fields: int, progress=None) -> str:
    """Choose the settings of the model ``config`` names in ``out`` on ``n_fields`` validation fields
    (its task's calibration, with a progress bar or ``progress(done, total)``), store them in its
    card; the line saying what."""
    from ..ml.registry import load_model, read_card, write_card
    from ..ml.tasks import get_task

    task = get_task(config.task)
    card = read_card(card_path)
    bar = ProgressBar("calibrate")
    try:
        line = task.calibrate(load_model(config.name, out, task=task.name), card, config.data_seed, n_fields,
                              progress=progress or bar.counter)
    finally:
        bar.close()
    write_card(card, card_path)
    return line
