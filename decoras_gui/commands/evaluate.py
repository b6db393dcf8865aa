"""`decoras evaluate`: completeness, purity and measurement errors on fresh simulated fields."""

from __future__ import annotations

import argparse
import json
import math

from ..cli import command
from ..core.errors import DecorasError
from ..core.fileio import atomic_write_text
from .progress import ProgressBar


def _add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=int, required=True, help="test-set seed (must not be a training seed)")
    p.add_argument("--n-fields", type=int, default=200)
    p.add_argument("--model", default=None, help="bundled model name or path to a model card")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.add_argument("--schedule", choices=("mjive20", "full-track", "random"),
                   help="observing schedule of the test fields (default: the model's training schedule)")
    p.add_argument("--variety", choices=("wide", "ood"),
                   help="draw the test fields' observations from the training families (wide) or from the "
                   "validation families no model is trained on (ood: the figure that counts)")
    p.add_argument("--no-psf", action="store_true",
                   help="do not give the run the fields' dirty beams (no sidelobe test, no dirty-beam channel)")
    p.add_argument("--json", dest="json_out", help="also write the figures as JSON")
    p.add_argument("--update-card", action="store_true", help="store the figures in the model card")


def _clean(obj):
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


@command("evaluate", "Evaluate a model against its task's classical baseline (detection: photutils) "
         "on a fresh simulated test set.")(
    _add_arguments)
def run(args: argparse.Namespace) -> int:
    from ..core.fileio import file_sha256
    from ..eval.evaluate import sim_config_for
    from ..ml.registry import DEFAULT_MODEL, card_path_of, load_model, read_card, write_card

    model = load_model(args.model or DEFAULT_MODEL)
    task = model.task
    if args.seed == model.card.training.get("config", {}).get("data_seed"):
        raise DecorasError(f"seed {args.seed} was used to train {model.card.name}: pick another")
    bar = ProgressBar("evaluate")
    try:
        changes = {k: v for k, v in (("schedule", args.schedule), ("variety", args.variety)) if v}
        sim = sim_config_for(model, **changes) if changes else None
        result = task.evaluate(model, args.seed, args.n_fields, sim=sim, device=args.device, progress=bar.counter,
                               with_psf=not args.no_psf)
        result["variety"], result["with_psf"] = args.variety or "as trained", not args.no_psf
    finally:
        bar.close()
    print(task.format_report(result))
    clean = _clean(result)
    if args.json_out:
        atomic_write_text(args.json_out, json.dumps(clean, indent=2) + "\n")
    if args.update_card:
        card_path = card_path_of(args.model or DEFAULT_MODEL)
        card = read_card(card_path)
        if file_sha256(card_path.parent / card.weights) != card.sha256:
            raise DecorasError("weights changed since evaluation started", card_path)
        if args.variety or args.no_psf:  # figures by family and with / without the dirty beam
            beam = ("" if card.image_kind == "optical" else  # an optical image has a PSF, not a dirty beam
                    "restored images (no dirty beam)" if card.image_kind == "restored" else
                    "no dirty beam" if args.no_psf else "with its dirty beam")
            key = f"{args.variety or 'as trained'}" + (f", {beam}" if beam else "")
            card.evaluation.setdefault("by_family", {})[key] = clean
        elif args.schedule:  # figures on another schedule go beside the main ones
            card.evaluation.setdefault("by_schedule", {})[args.schedule] = clean
        else:
            card.evaluation = {**clean, "by_schedule": card.evaluation.get("by_schedule", {}),
                               "by_family": card.evaluation.get("by_family", {})}
        write_card(card, card_path)
        print(f"figures stored in {card_path}")
    return 0
