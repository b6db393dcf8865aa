"""Reproducible training of a task's networks from the project's own simulator.

``decoras train --config models/vlba-l-band.toml`` streams training pairs simulated by the
configuration's task (seeds ``(data_seed, index)``, never the evaluation seeds), trains the
task's networks side by side on the same batches, each with its own loss (detection: the
detection network with binary cross-entropy, the characterization network with mean squared
logarithmic error), checkpoints, and writes the weights plus a JSON model card into ``models/``.
The configuration holds one table per network of the task, named after it (``[detection]``).
"""

from __future__ import annotations

import csv
import functools
import json
import operator
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from ..core.errors import DecorasError
from ..core.fileio import atomic_path, file_sha256
from ..sim.config import SimConfig
from ..sim.field import simulate_field
from .networks import NetConfig
from .registry import IMAGE_KINDS, ModelCard, write_card
from .tasks import DEFAULT_TASK, Task, get_task

#: Seeds reserved for evaluation: training refuses them as data seeds.
EVALUATION_SEEDS = range(900_000, 1_000_000)


@dataclass
class TrainConfig:
    """Everything a training run depends on (read from a TOML file)."""

    name: str
    version: str = "1.0.0"
    task: str = DEFAULT_TASK  # what the model is for: its networks, losses and training pairs
    description: str = ""
    instrument: str = "VLBA"
    band: str = "L (1.4 GHz)"
    image_kind: str = "dirty"  # the kind of image the model reads (the simulator's: dirty)
    sim: SimConfig = field(default_factory=SimConfig)  # the task's simulator configuration (Task.sim_config)
    # the shape of each of the task's networks, from the table named after it (default NetConfig())
    networks: dict[str, NetConfig] = field(default_factory=dict)
    steps: int = 4000
    batch_size: int = 8
    crop: int = 128
    learning_rate: float = 2e-3
    weight_decay: float = 1e-4
    pos_weight: float = 2.0
    source_weight: float = 4.0  # extra MSLE weight on pixels inside sources (the mask)
    msle_weight: float = 1.0  # the characterization loss's weight against the detection loss
    augment: float = 0.0  # probability of the extra augmentations (a diagonal mirror)
    psf_dropout: float = 0.25  # fraction of examples shown without their dirty beam
    data_seed: int = 1
    torch_seed: int = 1
    threads: int = 2
    workers: int = 1
    views_per_field: int = 1  # training windows cut from each simulated field (costly fields: several)
    log_every: int = 25
    checkpoint_every: int = 250
    threshold: float = 0.5
    # the fields the model is meant for, on which it is calibrated and evaluated (``[eval_sim]``;
    # default: the training fields) -- a fine-tuning run may train on another mix
    eval_sim: SimConfig | None = None
    init_from: str = ""  # a model (name or card path) to start from: fine-tuning
    train_networks: tuple[str, ...] = ()  # the others stay as initialised (default: all of the task's)

    def __post_init__(self) -> None:
        task = get_task(self.task)
        self.networks = {name: self.networks.get(name) or NetConfig() for name in task.networks}
        self.train_networks = tuple(self.train_networks) if self.train_networks else task.networks

    @classmethod
    def from_toml(cls, path: str | os.PathLike) -> "TrainConfig":
        from ..core.fileio import read_toml

        return cls.from_dict(read_toml(path, "training configuration"), Path(path))

    @classmethod
    def from_dict(cls, raw: dict, path: str | os.PathLike | None = None) -> "TrainConfig":
        raw = dict(raw)
        try:
            task = get_task(raw.get("task", DEFAULT_TASK))
        except DecorasError as exc:
            raise DecorasError(f"bad training configuration: {exc}", path) from None
        try:
            sim = task.sim_config(raw.pop("sim", {}))
            eval_raw = raw.pop("eval_sim", None)
            eval_sim = task.sim_config(eval_raw) if eval_raw else None
            networks = {name: NetConfig.from_dict(raw.pop(name, NetConfig().to_dict())) for name in task.networks}
            known = {f.name for f in fields(cls)} - {"networks"}
            unknown = set(raw) - known
            if unknown:
                raise DecorasError(f"unknown training settings: {', '.join(sorted(unknown))}", path)
            if "train_networks" in raw:
                raw["train_networks"] = tuple(raw["train_networks"])
                if not raw["train_networks"]:
                    raise DecorasError(f"train_networks must name some of {', '.join(task.networks)}", path)
            config = cls(sim=sim, eval_sim=eval_sim, networks=networks, **raw)
        except TypeError as exc:
            raise DecorasError(f"bad training configuration ({exc})", path) from None
        unknown_nets = set(config.train_networks) - set(task.networks)
        if unknown_nets:
            raise DecorasError(f"train_networks must name some of {', '.join(task.networks)}", path)
        if len(config.train_networks) < len(task.networks) and not config.init_from:
            raise DecorasError("a network left untrained needs init_from (the model whose weights it keeps)", path)
        if config.image_kind not in IMAGE_KINDS:
            raise DecorasError(f"image_kind must be one of {', '.join(IMAGE_KINDS)}", path)
        if config.sim.image_kind != config.image_kind:
            raise DecorasError(f"the model is for {config.image_kind} images but [sim] makes {config.sim.image_kind} "
                               "ones (set image_kind in both)", path)
        if config.data_seed in EVALUATION_SEEDS:
            raise DecorasError(f"data_seed {config.data_seed} is reserved for evaluation", path)
        if config.views_per_field < 1:
            raise DecorasError("views_per_field must be 1 or more", path)
        if config.crop > config.sim.size or config.crop % (2 ** max(n.depth for n in networks.values())):
            raise DecorasError("crop must fit in the simulated field and be a multiple of 2**depth", path)
        return config

    def to_dict(self) -> dict:
        """The configuration as plain data, one entry per network named after it (as in the TOML)."""
        out = {}
        for f in fields(self):
            if f.name == "networks":
                out.update({name: net.to_dict() for name, net in self.networks.items()})
            else:
                out[f.name] = getattr(self, f.name)
        out["sim"] = asdict(self.sim)
        out["eval_sim"] = asdict(self.eval_sim) if self.eval_sim else None
        return json.loads(json.dumps(out, default=list))


# --------------------------------------------------------------------------------- data


class SimulatedFields(IterableDataset):
    """An endless stream of the task's training pairs, partitioned across loader workers."""

    def __init__(self, config: TrainConfig, start_index: int = 0):
        self.config = config
        self.start_index = start_index

    def __iter__(self) -> Iterator[dict[str, np.ndarray]]:
        task = get_task(self.config.task)
        info = get_worker_info()
        worker, n_workers = (info.id, info.num_workers) if info else (0, 1)
        index = self.start_index + worker
        while True:
            yield from task.training_views((self.config.data_seed, index), self.config.sim, self.config.crop,
                                           {"augment": self.config.augment, "psf_dropout": self.config.psf_dropout},
                                           self.config.views_per_field)
            index += n_workers


# ----------------------------------------------------------------------------- training


@dataclass
class TrainResult:
    weights: Path
    card: Path
    seconds: float
    final_losses: dict


def train(config: TrainConfig, out_dir: str | os.PathLike, run_dir: str | os.PathLike | None = None,
          log: Callable[[str], None] = lambda s: print(s, file=sys.stderr, flush=True),
          resume: bool = True, callback: Callable[[int, dict[str, nn.Module]], None] | None = None,
          callback_every: int = 0) -> TrainResult:
    """Train the task's networks; write ``<out_dir>/<name>.pt`` and ``<out_dir>/<name>.json``.

    ``callback(step, networks)`` runs every ``callback_every`` steps (networks in eval mode
    meanwhile, back in training mode after): an AutoML trial scores its networks there and may
    raise to stop (a pruned trial) -- the exception propagates and nothing is written."""
    out_dir = Path(out_dir)
    run_dir = Path(run_dir) if run_dir else Path("runs") / config.name
    run_dir.mkdir(parents=True, exist_ok=True)
    task = get_task(config.task)
    torch.manual_seed(config.torch_seed)
    torch.set_num_threads(config.threads)
    nets = {name: task.build_network(name, config.networks[name]) for name in task.networks}
    init_sha256 = _initialise_from(config, task, nets) if config.init_from else ""
    for name, net in nets.items():
        net.requires_grad_(name in config.train_networks)
    params = [q for name in config.train_networks for q in nets[name].parameters()]
    opt = torch.optim.AdamW(params, lr=config.learning_rate, weight_decay=config.weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=config.learning_rate, total_steps=config.steps,
                                                pct_start=0.05)
    step, elapsed_before = 0, 0.0
    checkpoint = run_dir / "checkpoint.pt"
    if resume and checkpoint.exists():
        state = torch.load(checkpoint, weights_only=True)
        for name, net in nets.items():
            net.load_state_dict(state[name])
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        step, elapsed_before = int(state["step"]), float(state["elapsed"])
        if sched.total_steps != config.steps:  # the run was lengthened or shortened: re-plan the schedule
            if step >= config.steps:
                raise DecorasError(f"the checkpoint is already at step {step} of a {config.steps}-step run", checkpoint)
            sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=config.learning_rate, total_steps=config.steps,
                                                        pct_start=0.05, last_epoch=step - 1)
        log(f"resumed from {checkpoint} at step {step} of {config.steps}")
    loader = DataLoader(SimulatedFields(config, start_index=step * config.batch_size // config.views_per_field),
                        batch_size=config.batch_size, num_workers=config.workers,
                        persistent_workers=config.workers > 0, prefetch_factor=4 if config.workers else None)
    for name, net in nets.items():
        net.train(name in config.train_networks)  # frozen networks keep their batch-norm statistics
    zero = torch.zeros(())
    skipped = 0
    start = time.perf_counter()
    labels = [task.loss_names[name] for name in task.networks]
    running = {label: 0.0 for label in labels}
    log_path = run_dir / "losses.csv"
    final = _last_losses(log_path, labels) if step else {}  # a resumed run may have no step left to log
    with open(log_path, "a", newline="") as log_file:
        writer = csv.writer(log_file)
        if log_file.tell() == 0:
            writer.writerow(["step", "seconds", *labels, "lr"])
        for batch in loader:
            if step >= config.steps:
                break
            losses = {task.loss_names[name]: task.loss(name, net, batch, config)
                      if name in config.train_networks else zero for name, net in nets.items()}
            opt.zero_grad(set_to_none=True)
            total = functools.reduce(operator.add, losses.values())
            if not torch.isfinite(total):  # a broken batch must not poison the weights: skip it
                skipped += 1
                if skipped > MAX_SKIPPED_BATCHES:
                    raise DecorasError(f"training stopped: {skipped} batches gave a non-finite loss")
                continue
            total.backward()
            torch.nn.utils.clip_grad_norm_(params, 5.0)
            opt.step()
            sched.step()
            step += 1
            for label, value in losses.items():
                running[label] += value.item()
            if step % config.log_every == 0 or step == config.steps:
                n = config.log_every if step % config.log_every == 0 else step % config.log_every
                seconds = elapsed_before + time.perf_counter() - start
                avg = {k: v / n for k, v in running.items()}
                writer.writerow([step, f"{seconds:.1f}", *(f"{avg[k]:.5f}" for k in labels),
                                 f"{sched.get_last_lr()[0]:.2e}"])
                log_file.flush()
                log(f"step {step}/{config.steps}  " + "  ".join(f"{k} {avg[k]:.4f}" for k in labels)
                    + f"  {seconds / 60:.1f} min")
                final = avg
                running = {k: 0.0 for k in running}
            if callback is not None and callback_every and step % callback_every == 0:
                for net in nets.values():
                    net.eval()
                callback(step, nets)
                for name, net in nets.items():
                    net.train(name in config.train_networks)
            if step % config.checkpoint_every == 0 or step == config.steps:
                with atomic_path(checkpoint) as tmp:
                    torch.save({**{name: net.state_dict() for name, net in nets.items()},
                                "optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
                                "step": torch.tensor(step),
                                "elapsed": torch.tensor(elapsed_before + time.perf_counter() - start)}, tmp)
    seconds = elapsed_before + time.perf_counter() - start
    weights, card = save_model(config, nets, out_dir, seconds, final if step else {}, init_sha256)
    log(f"wrote {weights} and {card}")
    return TrainResult(weights, card, seconds, final if step else {})


def _last_losses(log_path: Path, labels: list[str]) -> dict[str, float]:
    """The last logged mean losses of a run (``losses.csv``), or none."""
    if not log_path.is_file():
        return {}
    with open(log_path, newline="") as f:
        rows = list(csv.DictReader(f))
    return {k: float(rows[-1][k]) for k in labels if rows and rows[-1].get(k)} if rows else {}


def _initialise_from(config: TrainConfig, task: Task, nets: dict[str, nn.Module]) -> str:
    """Load the weights of ``config.init_from`` (checked against its card, and a model of the same
    task) into the networks; returns their sha256, which the new card records."""
    from .registry import load_model

    source = load_model(config.init_from, task=task.name)
    for name, net in nets.items():
        if source.card.networks[name] != json.loads(json.dumps(config.networks[name].to_dict())):
            raise DecorasError(f"init_from {config.init_from!r}: its {name} network is not the one configured here")
        net.load_state_dict(source.networks[name].state_dict())
    return source.card.sha256


def save_model(config: TrainConfig, nets: dict[str, nn.Module], out_dir: Path, seconds: float, losses: dict,
               init_sha256: str = "") -> tuple[Path, Path]:
    """Write the weights (tensors only, loadable with weights_only=True) and the model card."""
    out_dir.mkdir(parents=True, exist_ok=True)
    weights = out_dir / f"{config.name}.pt"
    with atomic_path(weights) as tmp:
        torch.save({name: net.state_dict() for name, net in nets.items()}, tmp)
    card = ModelCard(
        name=config.name,
        version=config.version,
        task=config.task,
        description=config.description,
        domain=model_domain(config),
        weights=weights.name,
        sha256=file_sha256(weights),
        networks={name: net.to_dict() for name, net in config.networks.items()},
        threshold=config.threshold,
        training={"config": config.to_dict(), "seconds": round(seconds, 1), "final_losses": losses,
                  "torch": torch.__version__, "data_seeds": f"({config.data_seed}, 0..)",
                  "fields_seen": config.steps * config.batch_size,
                  **({"init_from_sha256": init_sha256} if init_sha256 else {})},
        evaluation={},
    )
    card_path = out_dir / f"{config.name}.json"
    write_card(card, card_path)
    return weights, card_path


#: batches with a non-finite loss a run may skip before it stops
MAX_SKIPPED_BATCHES = 20


def model_domain(config: TrainConfig) -> dict:
    """The card's ``domain``: instrument, band, image kind and the beam sampling trained on (a
    model trained on a range of samplings, ``sim.variety``, carries the range)."""
    from ..sim.instrument import get_instrument

    own = get_task(config.task).domain(config)
    if own is not None:
        return own
    names = list(config.sim.instrument_mix) or [config.sim.instrument]
    spans = []
    for name in names:  # the receivers' coverage of every band the training fields were observed in
        inst = get_instrument(name)
        bands = list(inst.bands.values()) if config.sim.band == "any" else [inst.band(config.sim.band or None)]
        spans += [b.range_hz for b in bands]
    domain = {"instrument": config.instrument, "band": config.band, "image_kind": config.image_kind,
              "cell_mas": config.sim.cell_mas,
              "freq_range_hz": [min(lo for lo, _ in spans), max(hi for _, hi in spans)]}
    if config.sim.instrument_mix:
        domain["instruments"] = [get_instrument(n).name for n in names]
    if config.sim.variety != "none":
        lo, hi = config.sim.ppb_range
        return {**domain, "pixels_per_beam_minor": round(float(np.sqrt(lo * hi)), 3),
                "pixels_per_beam_range": [float(lo), float(hi)]}
    return {**domain, "pixels_per_beam_minor": _typical_beam_minor_pixels(config.sim)}


def _fixed_schedule(sim: SimConfig) -> str:
    """The schedule itself, or for 'random' the instrument's first named one (the VLBA's mjive20)."""
    from ..sim.array import schedule_names

    return sim.schedule if sim.schedule != "random" else schedule_names(sim.instrument)[0]


def _typical_beam_minor_pixels(sim: SimConfig) -> float:
    """Beam minor axis in pixels for the schedule at dec +30 (the model's sampling)."""
    f = simulate_field(0, replace(sim, dec_deg=30.0, noise=False, max_sources=0, empty_fraction=1.0,
                                  schedule=_fixed_schedule(sim)))
    return round(float(f.beam.bmin / sim.cell_mas), 3)

