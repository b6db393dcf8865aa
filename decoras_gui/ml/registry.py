"""Bundled models: model cards in models/*.json, sha256-verified weights, safe loading.

A card names the model's task (``"detect"``, :mod:`decoras_gui.ml.tasks`), its domain (the
images it was trained for: instrument, band, dirty or restored, pixel size and beam sampling)
and the shape of each of the task's networks. Cards written before tasks existed (network
shapes and domain fields at the top level, no task) are read as detection models.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.errors import DecorasError
from ..core.fileio import atomic_write_text, file_sha256
from ..paths import models_dir, user_models_dir
from .tasks import DEFAULT_TASK, Task, get_task

if TYPE_CHECKING:  # torch is imported when a model is loaded, not to list or read cards
    import torch
    from torch import nn

DEFAULT_MODEL = "vlba-l-band"

#: what a card's ``domain`` holds: the images a model is meant for
DOMAIN_KEYS = ("instrument", "instruments", "band", "freq_range_hz", "image_kind", "cell_mas", "pixels_per_beam_minor",
               "pixels_per_beam_range")
#: image kinds a domain names: straight from imaging, deconvolved (CLEANed) and restored, or an
#: optical survey image (no beam: a PSF)
IMAGE_KINDS = ("dirty", "restored", "optical")


@dataclass
class ModelCard:
    """What a model is, what it is for, how it was trained, how well it does, and its checksum.

    ``domain``: ``instrument`` (or ``instruments``, a list), ``band``, ``freq_range_hz`` [low, high],
    ``image_kind`` (one of :data:`IMAGE_KINDS`),
    ``cell_mas`` (pixel size of the training images) and ``pixels_per_beam_minor`` (their beam
    sampling; with ``pixels_per_beam_range`` [low, high] for a model trained on a range of them).
    ``networks``: the :class:`~decoras_gui.ml.networks.NetConfig` of each of the
    task's networks, as a dict (also reachable as an attribute: ``card.detection``).
    """

    name: str
    version: str
    weights: str
    sha256: str
    task: str = DEFAULT_TASK
    domain: dict = field(default_factory=dict)
    networks: dict = field(default_factory=dict)
    threshold: float = 0.5
    min_snr: float = 2.0  # measured peak / local rms below which a detection is not reported
    # reported peaks: the image fit's, at most peak_cap x the restored map's (0: the restored map's)
    peak_cap: float = 0.0
    # for a model that reads the dirty beam, the settings calibrated for runs without one:
    # {"threshold": ..., "min_snr": ..., "peak_cap": ...} (empty: the ones above)
    without_psf: dict = field(default_factory=dict)
    description: str = ""
    training: dict = field(default_factory=dict)
    evaluation: dict = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: dict, path: Path | None = None) -> "ModelCard":
        d = dict(d)
        task = _task_of(d.get("task", DEFAULT_TASK), path)
        if "networks" not in d:  # a card from before tasks: the networks at the top level
            d["networks"] = {name: d.pop(name) for name in task.networks if name in d}
        if "domain" not in d:  # ... and so the domain fields
            d["domain"] = {"instrument": "VLBA", **{k: d.pop(k) for k in DOMAIN_KEYS if k in d}}
        names = {f.name for f in fields(cls)}
        try:
            card = cls(**{k: v for k, v in d.items() if k in names})
        except TypeError as exc:
            raise DecorasError(f"not a valid model card ({exc})", path) from None
        if not isinstance(card.networks, dict) or not isinstance(card.domain, dict):
            raise DecorasError("not a valid model card (networks and domain must be objects)", path)
        missing = [n for n in task.networks if not isinstance(card.networks.get(n), dict)]
        if missing:
            raise DecorasError(f"not a valid model card (no configuration for the {', '.join(missing)} "
                               f"network of a {task.name} model)", path)
        for key in ("cell_mas", "pixels_per_beam_minor"):
            if not isinstance(card.domain.get(key), (int, float)):
                raise DecorasError(f"not a valid model card (its domain has no {key})", path)
        if card.domain.get("image_kind", "dirty") not in IMAGE_KINDS:
            raise DecorasError(f"not a valid model card (image_kind must be one of {', '.join(IMAGE_KINDS)})", path)
        return card

    def __getattr__(self, name: str) -> Any:
        networks = self.__dict__.get("networks") or {}
        if name in networks:
            return networks[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @property
    def instrument(self) -> str:
        return str(self.domain.get("instrument", ""))

    @property
    def band(self) -> str:
        return str(self.domain.get("band", ""))

    @property
    def image_kind(self) -> str:
        """'dirty' or 'restored'; '' when the card does not say."""
        return str(self.domain.get("image_kind", ""))

    @property
    def cell_mas(self) -> float:
        return float(self.domain["cell_mas"])

    @property
    def pixels_per_beam_minor(self) -> float:
        return float(self.domain["pixels_per_beam_minor"])

    @property
    def pixels_per_beam_range(self) -> tuple[float, float] | None:
        """(low, high) pixels per beam minor axis the model was trained on, for a model trained
        on a range of beam samplings (``domain.pixels_per_beam_range``); None for one sampling."""
        r = self.domain.get("pixels_per_beam_range")
        return (float(r[0]), float(r[1])) if r else None

    def settings(self, with_psf: bool = True) -> dict:
        """The calibrated ``threshold``, ``min_snr`` and ``peak_cap`` for a run with or without the
        image's dirty beam (a model that reads it has a set for each)."""
        chosen = {"threshold": self.threshold, "min_snr": self.min_snr, "peak_cap": self.peak_cap}
        if not with_psf and self.reads_psf and self.without_psf:
            chosen.update({k: float(v) for k, v in self.without_psf.items() if k in chosen})
        return chosen

    @property
    def uses_psf(self) -> bool:
        """True when one of its networks has the dirty-beam channels (the predicted sidelobes)."""
        return any(bool(n.get("psf_channel")) for n in self.networks.values() if isinstance(n, dict))

    @property
    def reads_psf(self) -> bool:
        """True when the networks are given the image's dirty beam: they have its channels and were
        trained with it (a model trained with ``psf_dropout`` 1, e.g. for restored images, which
        come without one, never saw it: it is given none, and its channels say so)."""
        dropout = ((self.training or {}).get("config") or {}).get("psf_dropout", 0.0)
        return self.uses_psf and float(dropout) < 1.0


def _task_of(name: Any, path: Path | None) -> Task:
    try:
        return get_task(name)
    except DecorasError as exc:
        raise DecorasError(f"the model card is for {exc}", path) from None


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


def model_folders(folder: str | os.PathLike | None = None) -> list[Path]:
    """The folders models are looked for in: ``folder`` alone when given, else the bundled models
    and then the user's (:func:`decoras_gui.paths.user_models_dir`)."""
    if folder:
        return [Path(folder)]
    return [models_dir(), user_models_dir()]


_INSTALLED: dict[tuple, list[ModelCard]] = {}


def installed_cards(folder: str | os.PathLike | None = None, task: str | None = None) -> list[ModelCard]:
    """:func:`available_models`, read again only when a card file changed (size, time), for views
    that ask often (a window's menus after every task). The cards are shared: do not change them."""
    state = []
    for place in model_folders(folder):
        if place.is_dir():
            for path in sorted(place.glob("*.json")):
                try:
                    st = path.stat()
                except OSError:
                    continue
                state.append((str(path), st.st_mtime_ns, st.st_size))
    key = (str(folder), task, tuple(state))
    if key not in _INSTALLED:
        if len(_INSTALLED) > 32:
            _INSTALLED.clear()
        _INSTALLED[key] = available_models(folder, task)
    return list(_INSTALLED[key])


def available_models(folder: str | os.PathLike | None = None, task: str | None = None) -> list[ModelCard]:
    """Cards of every model in ``folder`` (default: the bundled models, then the user's; a bundled
    name wins), by name within each folder; only those of ``task`` when given. Cards that cannot
    be read (or are for a task unknown here) are left out."""
    if task is not None:
        get_task(task)  # a misspelt task is an error, not an empty list
    cards, names = [], set()
    for place in model_folders(folder):
        if not place.is_dir():
            continue
        for path in sorted(place.glob("*.json")):
            try:
                card = read_card(path)
            except DecorasError:
                continue
            if card.name in names:
                continue
            names.add(card.name)
            if task is None or card.task == task:
                cards.append(card)
    return cards


class ModelIdentity:
    """What a model is, from its ``card``: shared by a loaded model and one whose networks run
    in another process (:class:`decoras_gui.ml.network_worker.RemoteModel`)."""

    card: ModelCard

    @property
    def label(self) -> str:
        return f"{self.card.name} {self.card.version}"

    @property
    def task(self) -> Task:
        return get_task(self.card.task)


@dataclass
class DecorasModel(ModelIdentity):
    """A verified, loaded model: its card and its task's networks in eval mode (also reachable
    as attributes by name: ``model.detection``)."""

    card: ModelCard
    networks: dict[str, "nn.Module"]

    def __getattr__(self, name: str) -> Any:
        networks = self.__dict__.get("networks") or {}
        if name in networks:
            return networks[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def to(self, device: "torch.device | str") -> "DecorasModel":
        for net in self.networks.values():
            net.to(device)
        return self


def card_path_of(name: str, folder: str | os.PathLike | None = None) -> Path:
    """The card file of model ``name`` (a name in ``folder`` -- default the bundled models, then
    the user's -- or a path to a .json card)."""
    if name.endswith(".json"):
        return Path(name)
    places = model_folders(folder)
    for place in places:
        if (place / f"{name}.json").is_file():
            return place / f"{name}.json"
    return places[0] / f"{name}.json"


def load_model(name: str = DEFAULT_MODEL, folder: str | os.PathLike | None = None,
               task: str | None = None) -> DecorasModel:
    """Load a model by name (or path to its card), refusing weights whose sha256 differs, and,
    when ``task`` is given, a model made for another task (before reading its weights)."""
    import torch

    from .networks import NetConfig

    card_path = card_path_of(name, folder)
    if not card_path.exists():
        known = ", ".join(c.name for c in available_models(folder)) or "none"
        raise DecorasError(f"no model card for {name!r} (available: {known})", card_path)
    card = read_card(card_path)
    if task is not None and card.task != get_task(task).name:
        raise DecorasError(f"{card.name} is a model for the task {card.task!r} ({get_task(card.task).label}), "
                           f"not for {task!r}", card_path)
    weights = card_path.parent / card.weights
    if not weights.is_file():
        raise DecorasError("the weight file named by the model card is missing", weights)
    actual = file_sha256(weights)
    if actual != card.sha256:
        raise DecorasError(
            f"the weight file's sha256 ({actual[:12]}...) does not match its model card "
            f"({card.sha256[:12]}...): refusing to load a modified or corrupted model", weights)
    model_task = get_task(card.task)
    try:
        state = torch.load(weights, map_location="cpu", weights_only=True)
        nets = {}
        for net_name in model_task.networks:
            nets[net_name] = model_task.build_network(net_name, NetConfig.from_dict(card.networks[net_name]))
            nets[net_name].load_state_dict(state[net_name])
    except DecorasError:
        raise
    except Exception as exc:  # unpickling refusals, shape mismatches, missing keys
        raise DecorasError(f"the weights cannot be loaded ({type(exc).__name__}: {exc})", weights) from None
    for net in nets.values():
        net.eval()
    return DecorasModel(card, nets)
