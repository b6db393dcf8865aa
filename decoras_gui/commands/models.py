"""`decoras models`: the installed models -- each one's domain, figures and AutoML study -- and,
with ``--for IMAGE``, which of them the program would choose for an image, and why."""

from __future__ import annotations

import argparse

from ..cli import command


def _add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--for", dest="images", nargs="+", metavar="IMAGE",
                   help="say which model suits each of these images, and why")
    p.add_argument("--task", default=None, help="only the models of this task (detect, ...)")
    p.add_argument("--models-dir", default=None, help="folder of model cards (default: the bundled models)")


def describe_models(folder: str | None = None, task: str | None = None) -> list[str]:
    """Every model: heading, domain, headline figures and its study, a block each."""
    from ..ml.card_summary import card_figures, card_heading, study_lines
    from ..ml.model_choice import domain_text
    from ..ml.registry import available_models

    lines: list[str] = []
    cards = available_models(folder, task=task)
    if not cards:
        return ["no model installed" + (f" for the task {task}" if task else "")]
    for card in cards:
        lines += [card_heading(card), f"  domain: {domain_text(card)}"]
        if card.description:
            lines.append(f"  {card.description}")
        lines += [f"  {label}: {value}" for label, value in card_figures(card)]
        lines += [f"  {line}" for line in study_lines(card)]
        lines.append("")
    return lines[:-1]


def describe_choice(path: str, folder: str | None = None, task: str = "detect") -> list[str]:
    """The model chosen for the image at ``path``, each model's check, and the warning if any."""
    from ..core.image import load_fits
    from ..core.image_domain import image_domain
    from ..ml.model_choice import choose_model
    from ..ml.registry import available_models

    image = image_domain(load_fits(path))
    choice = choose_model(available_models(folder, task=task), image)
    lines = [f"{path}: {image.describe()} (dirty or restored: {image.kind_evidence})", f"  {choice.summary()}"]
    for c in choice.checks:
        verdict = "covers it" if c.covers else "outside: " + "; ".join(c.mismatches)
        lines.append(f"  {c.card.name} {c.card.version}: {verdict}"
                     + (f" (not told: {'; '.join(c.unknowns)})" if c.unknowns else "")
                     + (f" ({'; '.join(c.notes)})" if c.notes else ""))
    warning = choice.warning()
    if warning:
        lines.append(f"  warning: {warning}")
    return lines


@command("models", "List the installed models (domain, figures, study), or say which suits an image.")(_add_arguments)
def run(args: argparse.Namespace) -> int:
    if args.images:
        for path in args.images:
            print("\n".join(describe_choice(path, args.models_dir, args.task or "detect")))
        return 0
    print("\n".join(describe_models(args.models_dir, args.task)))
    return 0
