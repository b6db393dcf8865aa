"""Bundled models: model cards in models/*.json, sha256-verified weights, safe loading."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import torch

from ..core.errors import DecorasError
from ..core.fileio import atomic_write_text
from ..paths import models_dir
from .networks import CharacterizationNet, DetectionNet, NetConfig

DEFAULT_MODEL = "vlba-l-band"


@dataclass
class ModelCard:
    """What a bundled model is, how it was trained, how well it does, and its checksum."""

    name: str
    version: str
    weights: str
    sha256: str
    cell_mas: float
    pixels_per_beam_minor: float
    detection: dict
    characterization: dict
    threshold: float = 0.5
    min_snr: float = 2.0  # measured peak / local rms below which a detection is not reported
    description: str = ""
    instrument: str = "VLBA"
    band: str = ""
    training: dict = field(default_factory=dict)
    evaluation: dict = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: dict, path: Path | None = None) -> "ModelCard":
        names = {f.name for f in fields(cls)}
        try:
            return cls(**{k: v for k, v in d.items() if k in names})
        except TypeError as exc:
            raise DecorasError(f"not a valid model card ({exc})", path) from None


def sha256_of(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_card(card: ModelCard, path: str | os.PathLike) -> None:
    atomic_write_text(path, json.dumps(asdict(card), indent=2) + "\n")


def read_card(path: str | os.PathLike) -> ModelCard:
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DecorasError("no such model card", path) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DecorasError(f"the model card is not valid JSON ({exc})", path) from None
    if not isinstance(raw, dict):
        raise DecorasError("the model card is not a JSON object", path)
    return ModelCard.from_dict(raw, path)


def available_models(folder: str | os.PathLike | None = None) -> list[ModelCard]:
    """Cards of every model in ``folder`` (default: the bundled models), by name."""
    folder = Path(folder) if folder else models_dir()
    cards = []
    for path in sorted(folder.glob("*.json")):
        try:
            cards.append(read_card(path))
        except DecorasError:
            continue
    return cards


@dataclass
class DecorasModel:
    """A verified, loaded model: both networks in eval mode, plus its card."""

    card: ModelCard
    detection: DetectionNet
    characterization: CharacterizationNet

    @property
    def label(self) -> str:
        return f"{self.card.name} {self.card.version}"

    def to(self, device: torch.device | str) -> "DecorasModel":
        self.detection.to(device)
        self.characterization.to(device)
        return self


def load_model(name: str = DEFAULT_MODEL, folder: str | os.PathLike | None = None) -> DecorasModel:
    """Load a model by name (or path to its card), refusing weights whose sha256 differs."""
    folder = Path(folder) if folder else models_dir()
    card_path = Path(name) if name.endswith(".json") else folder / f"{name}.json"
    if not card_path.exists():
        known = ", ".join(c.name for c in available_models(folder)) or "none"
        raise DecorasError(f"no model card for {name!r} (available: {known})", card_path)
    card = read_card(card_path)
    weights = card_path.parent / card.weights
    if not weights.is_file():
        raise DecorasError("the weight file named by the model card is missing", weights)
    actual = sha256_of(weights)
    if actual != card.sha256:
        raise DecorasError(
            f"the weight file's sha256 ({actual[:12]}...) does not match its model card "
            f"({card.sha256[:12]}...): refusing to load a modified or corrupted model", weights)
    try:
        state = torch.load(weights, map_location="cpu", weights_only=True)
        det = DetectionNet(NetConfig.from_dict(card.detection))
        char = CharacterizationNet(NetConfig.from_dict(card.characterization))
        det.load_state_dict(state["detection"])
        char.load_state_dict(state["characterization"])
    except DecorasError:
        raise
    except Exception as exc:  # unpickling refusals, shape mismatches, missing keys
        raise DecorasError(f"the weights cannot be loaded ({type(exc).__name__}: {exc})", weights) from None
    det.eval(), char.eval()
    return DecorasModel(card, det, char)
