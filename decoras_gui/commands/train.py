"""`decoras train --config models/NAME.toml`: train the networks, then calibrate the threshold."""

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
    p.add_argument("--calibration-fields", type=int, default=80,
                   help="validation fields for choosing the detection threshold (0: keep the configured one)")


@command("train", "Train the detection and characterization networks on simulated fields.")(_add_arguments)
def run(args: argparse.Namespace) -> int:
    from ..eval.calibrate import calibrate_threshold
    from ..ml.registry import load_model, read_card, write_card
    from ..ml.train import TrainConfig, train

    config = TrainConfig.from_toml(args.config)
    out = Path(args.out) if args.out else Path(args.config).parent
    result = train(config, out, args.run_dir, resume=not args.fresh)
    print(f"trained {config.name} in {result.seconds / 60:.1f} min: {result.weights}, {result.card}")
    if args.calibration_fields > 0:
        bar = ProgressBar("calibrate")
        try:
            choice = calibrate_threshold(load_model(config.name, out), config.data_seed, args.calibration_fields,
                                         progress=bar.counter)
        finally:
            bar.close()
        card = read_card(result.card)
        card.threshold = choice["threshold"]
        card.training["calibration"] = choice
        write_card(card, result.card)
        print(f"detection threshold {choice['threshold']:.2f} (from {args.calibration_fields} validation fields)")
    return 0
