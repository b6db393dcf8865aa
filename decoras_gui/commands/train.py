"""`decoras train --config models/NAME.toml`: train the networks from the simulator."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..cli import command


def _add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", required=True, help="training configuration (TOML)")
    p.add_argument("--out", default=None, help="folder for weights and model card (default: beside the config)")
    p.add_argument("--run-dir", default=None, help="folder for checkpoints and the loss log (default: runs/NAME)")
    p.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint and start over")


@command("train", "Train the detection and characterization networks on simulated fields.")(_add_arguments)
def run(args: argparse.Namespace) -> int:
    from ..ml.train import TrainConfig, train

    config = TrainConfig.from_toml(args.config)
    out = Path(args.out) if args.out else Path(args.config).parent
    result = train(config, out, args.run_dir, resume=not args.fresh)
    print(f"trained {config.name} in {result.seconds / 60:.1f} min: {result.weights}, {result.card}")
    return 0
