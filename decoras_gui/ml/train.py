"""Reproducible training of the DECORAS networks from the project's own simulator.

``decoras train --config models/vlba-l-band.toml`` streams simulated fields (seeds
``(data_seed, index)``, never the evaluation seeds), trains the detection network
(binary cross-entropy) and the characterization network (mean squared logarithmic
error) side by side on the same batches, checkpoints, and writes the weights plus a
JSON model card into ``models/``.
"""

from __future__ import annotations

import csv
import json
import os
import sys
import time
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from ..core.errors import DecorasError
from ..core.fileio import atomic_path
from ..core.image import robust_rms
from ..sim.config import SimConfig
from ..sim.field import simulate_field
from .networks import CharacterizationNet, DetectionNet, NetConfig, msle_loss
from .registry import ModelCard, sha256_of, write_card

NETWORKS = ("detection", "characterization")

#: Seeds reserved for evaluation: training refuses them as data seeds.
EVALUATION_SEEDS = range(900_000, 1_000_000)


@dataclass
class TrainConfig:
    """Everything a training run depends on (read from a TOML file)."""

    name: str
    version: str = "1.0.0"
    description: str = ""
    instrument: str = "VLBA"
    band: str = "L (1.4 GHz)"
    sim: SimConfig = field(default_factory=SimConfig)
    detection: NetConfig = field(default_factory=NetConfig)
    characterization: NetConfig = field(default_factory=NetConfig)
    steps: int = 4000
    batch_size: int = 8
    crop: int = 128
    learning_rate: float = 2e-3
    weight_decay: float = 1e-4
    pos_weight: float = 2.0
    source_weight: float = 4.0  # extra MSLE weight on pixels inside sources (the mask)
    data_seed: int = 1
    torch_seed: int = 1
    threads: int = 2
    workers: int = 1
    log_every: int = 25
    checkpoint_every: int = 250
    threshold: float = 0.5
    # the fields the model is meant for, on which it is calibrated and evaluated (``[eval_sim]``;
    # default: the training fields) -- a fine-tuning run may train on another mix
    eval_sim: SimConfig | None = None
    init_from: str = ""  # a model (name or card path) to start from: fine-tuning
    train_networks: tuple[str, ...] = NETWORKS  # the others stay as initialised

    @classmethod
    def from_toml(cls, path: str | os.PathLike) -> "TrainConfig":
        path = Path(path)
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise DecorasError("no such training configuration", path) from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise DecorasError(f"not a valid TOML file ({exc})", path) from None
        return cls.from_dict(raw, path)

    @classmethod
    def from_dict(cls, raw: dict, path: str | os.PathLike | None = None) -> "TrainConfig":
        raw = dict(raw)
        try:
            sim = SimConfig.from_dict(raw.pop("sim", {}))
            eval_raw = raw.pop("eval_sim", None)
            eval_sim = SimConfig.from_dict(eval_raw) if eval_raw else None
            det = NetConfig.from_dict(raw.pop("detection", NetConfig().to_dict()))
            char = NetConfig.from_dict(raw.pop("characterization", NetConfig().to_dict()))
            known = {f.name for f in fields(cls)}
            unknown = set(raw) - known
            if unknown:
                raise DecorasError(f"unknown training settings: {', '.join(sorted(unknown))}", path)
            if "train_networks" in raw:
                raw["train_networks"] = tuple(raw["train_networks"])
            config = cls(sim=sim, eval_sim=eval_sim, detection=det, characterization=char, **raw)
        except TypeError as exc:
            raise DecorasError(f"bad training configuration ({exc})", path) from None
        unknown_nets = set(config.train_networks) - set(NETWORKS)
        if unknown_nets or not config.train_networks:
            raise DecorasError(f"train_networks must name some of {', '.join(NETWORKS)}", path)
        if len(config.train_networks) < len(NETWORKS) and not config.init_from:
            raise DecorasError("a network left untrained needs init_from (the model whose weights it keeps)", path)
        if config.data_seed in EVALUATION_SEEDS:
            raise DecorasError(f"data_seed {config.data_seed} is reserved for evaluation", path)
        if config.crop > config.sim.size or config.crop % (2 ** max(config.detection.depth, config.characterization.depth)):
            raise DecorasError("crop must fit in the simulated field and be a multiple of 2**depth", path)
        return config

    def to_dict(self) -> dict:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["sim"] = asdict(self.sim)
        out["eval_sim"] = asdict(self.eval_sim) if self.eval_sim else None
        out["detection"] = self.detection.to_dict()
        out["characterization"] = self.characterization.to_dict()
        return json.loads(json.dumps(out, default=list))


# --------------------------------------------------------------------------------- data


def training_sample(field_seed: tuple[int, int], sim: SimConfig, crop: int) -> tuple[np.ndarray, ...]:
    """One training example: (image in rms units, source mask, restored model in rms units)."""
    rng = np.random.default_rng(list(field_seed) + [7])
    f = simulate_field(field_seed, sim)
    rms = robust_rms(f.dirty)
    snr = f.dirty / rms
    restored = f.restored / rms
    mask = f.mask.astype(np.float32)
    y0, x0 = (rng.integers(0, sim.size - crop + 1, size=2) if crop < sim.size else (0, 0))
    views = [a[y0:y0 + crop, x0:x0 + crop] for a in (snr, mask, restored)]
    if rng.random() < 0.5:  # a mirrored field is another valid interferometric image
        views = [a[:, ::-1] for a in views]
    if rng.random() < 0.5:
        views = [a[::-1, :] for a in views]
    return tuple(np.ascontiguousarray(a, dtype=np.float32)[None] for a in views)


class SimulatedFields(IterableDataset):
    """An endless stream of training examples, partitioned across loader workers."""

    def __init__(self, config: TrainConfig, start_index: int = 0):
        self.config = config
        self.start_index = start_index

    def __iter__(self) -> Iterator[tuple[np.ndarray, ...]]:
        info = get_worker_info()
        worker, n_workers = (info.id, info.num_workers) if info else (0, 1)
        index = self.start_index + worker
        while True:
            yield training_sample((self.config.data_seed, index), self.config.sim, self.config.crop)
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
          resume: bool = True) -> TrainResult:
    """Train both networks; write ``<out_dir>/<name>.pt`` and ``<out_dir>/<name>.json``."""
    out_dir = Path(out_dir)
    run_dir = Path(run_dir) if run_dir else Path("runs") / config.name
    run_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(config.torch_seed)
    torch.set_num_threads(config.threads)
    det = DetectionNet(config.detection)
    char = CharacterizationNet(config.characterization)
    init_sha256 = _initialise_from(config, det, char) if config.init_from else ""
    nets = {"detection": det, "characterization": char}
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
        det.load_state_dict(state["detection"])
        char.load_state_dict(state["characterization"])
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        step, elapsed_before = int(state["step"]), float(state["elapsed"])
        if sched.total_steps != config.steps:  # the run was lengthened or shortened: re-plan the schedule
            if step >= config.steps:
                raise DecorasError(f"the checkpoint is already at step {step} of a {config.steps}-step run", checkpoint)
            sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=config.learning_rate, total_steps=config.steps,
                                                        pct_start=0.05, last_epoch=step - 1)
        log(f"resumed from {checkpoint} at step {step} of {config.steps}")
    loader = DataLoader(SimulatedFields(config, start_index=step * config.batch_size),
                        batch_size=config.batch_size, num_workers=config.workers,
                        persistent_workers=config.workers > 0, prefetch_factor=4 if config.workers else None)
    pos_weight = torch.tensor(config.pos_weight)
    for name, net in nets.items():
        net.train(name in config.train_networks)  # frozen networks keep their batch-norm statistics
    train_det, train_char = "detection" in config.train_networks, "characterization" in config.train_networks
    zero = torch.zeros(())
    start = time.perf_counter()
    running = {"bce": 0.0, "msle": 0.0}
    log_path = run_dir / "losses.csv"
    with open(log_path, "a", newline="") as log_file:
        writer = csv.writer(log_file)
        if log_file.tell() == 0:
            writer.writerow(["step", "seconds", "bce", "msle", "lr"])
        for snr, mask, restored in loader:
            if step >= config.steps:
                break
            bce = F.binary_cross_entropy_with_logits(det(snr), mask, pos_weight=pos_weight) if train_det else zero
            msle = msle_loss(char(snr), restored, 1.0 + config.source_weight * mask) if train_char else zero
            opt.zero_grad(set_to_none=True)
            (bce + msle).backward()
            torch.nn.utils.clip_grad_norm_(params, 5.0)
            opt.step()
            sched.step()
            step += 1
            running["bce"] += bce.item()
            running["msle"] += msle.item()
            if step % config.log_every == 0 or step == config.steps:
                n = config.log_every if step % config.log_every == 0 else step % config.log_every
                seconds = elapsed_before + time.perf_counter() - start
                avg = {k: v / n for k, v in running.items()}
                writer.writerow([step, f"{seconds:.1f}", f"{avg['bce']:.5f}", f"{avg['msle']:.5f}",
                                 f"{sched.get_last_lr()[0]:.2e}"])
                log_file.flush()
                log(f"step {step}/{config.steps}  bce {avg['bce']:.4f}  msle {avg['msle']:.4f}  "
                    f"{seconds / 60:.1f} min")
                final = avg
                running = {k: 0.0 for k in running}
            if step % config.checkpoint_every == 0 or step == config.steps:
                with atomic_path(checkpoint) as tmp:
                    torch.save({"detection": det.state_dict(), "characterization": char.state_dict(),
                                "optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
                                "step": torch.tensor(step),
                                "elapsed": torch.tensor(elapsed_before + time.perf_counter() - start)}, tmp)
    seconds = elapsed_before + time.perf_counter() - start
    weights, card = save_model(config, det, char, out_dir, seconds, final if step else {}, init_sha256)
    log(f"wrote {weights} and {card}")
    return TrainResult(weights, card, seconds, final if step else {})


def _initialise_from(config: TrainConfig, det: DetectionNet, char: CharacterizationNet) -> str:
    """Load the weights of ``config.init_from`` (checked against its card) into the networks;
    returns their sha256, which the new card records."""
    from .registry import load_model

    source = load_model(config.init_from)
    for name, net, cfg in (("detection", det, config.detection), ("characterization", char, config.characterization)):
        if getattr(source.card, name) != json.loads(json.dumps(cfg.to_dict())):
            raise DecorasError(f"init_from {config.init_from!r}: its {name} network is not the one configured here")
        net.load_state_dict(getattr(source, name).state_dict())
    return source.card.sha256


def save_model(config: TrainConfig, det: DetectionNet, char: CharacterizationNet, out_dir: Path,
               seconds: float, losses: dict, init_sha256: str = "") -> tuple[Path, Path]:
    """Write the weights (tensors only, loadable with weights_only=True) and the model card."""
    out_dir.mkdir(parents=True, exist_ok=True)
    weights = out_dir / f"{config.name}.pt"
    with atomic_path(weights) as tmp:
        torch.save({"detection": det.state_dict(), "characterization": char.state_dict()}, tmp)
    beam_minor_px = _typical_beam_minor_pixels(config.sim)
    card = ModelCard(
        name=config.name,
        version=config.version,
        description=config.description,
        instrument=config.instrument,
        band=config.band,
        weights=weights.name,
        sha256=sha256_of(weights),
        cell_mas=config.sim.cell_mas,
        pixels_per_beam_minor=beam_minor_px,
        detection=config.detection.to_dict(),
        characterization=config.characterization.to_dict(),
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


def _typical_beam_minor_pixels(sim: SimConfig) -> float:
    """Beam minor axis in pixels for the schedule at dec +30 (the model's sampling)."""
    f = simulate_field(0, replace(sim, dec_deg=30.0, noise=False, max_sources=0, empty_fraction=1.0,
                                  schedule="mjive20" if sim.schedule == "random" else sim.schedule))
    return round(float(f.beam.bmin / sim.cell_mas), 3)

