"""`decoras tasks`: the tasks models can be made for, and the installed models of each."""

from __future__ import annotations

import argparse

from ..cli import command


def _add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--models-dir", default=None, help="folder of model cards (default: the bundled models)")


def describe_tasks(folder: str | None = None) -> list[str]:
    """One line per task (name, label, result kind, networks), then its models, one line each."""
    from ..ml.registry import available_models
    from ..ml.tasks import tasks

    lines = []
    for task in tasks():
        lines.append(f"{task.name}: {task.label} -> {task.result_kind} (networks: {', '.join(task.networks)})")
        cards = available_models(folder, task=task.name)
        for card in cards:
            domain = ", ".join(str(v) for v in (card.instrument, card.band, card.image_kind) if v)
            lines.append(f"  {card.name} {card.version}: {domain or 'domain not stated'}; "
                         f"{card.pixels_per_beam_minor:.2f} pixels per beam minor axis")
        if not cards:
            lines.append("  (no model installed)")
    return lines


@command("tasks", "List the tasks (detect, ...) and the installed models of each.")(_add_arguments)
def run(args: argparse.Namespace) -> int:
    print("\n".join(describe_tasks(args.models_dir)))
    return 0
