"""What every task provides: the shape the CLI, training, evaluation and the GUI rely on.

A task is what a model is *for*: detection (a catalogue of sources) is the first; surface-
brightness restoration (a sky map) and deblending (components) fill the same shape. It bundles

* how to simulate a training pair (:meth:`Task.training_pair`),
* which networks a model of the task holds (:attr:`Task.networks`, built by
  :meth:`Task.build_network` from the configurations in its card),
* their losses (:meth:`Task.loss`, logged under :attr:`Task.loss_names`),
* the post-processing from an image to a result (:meth:`Task.run`, whose result is of
  :attr:`Task.result_kind`: what the GUI dispatches on to show it),
* the metrics on simulated test fields (:meth:`Task.evaluate`, :meth:`Task.format_report`),
  the classical baseline they are compared with (:meth:`Task.baseline`), and the calibration
  of the model's settings on validation fields (:meth:`Task.calibrate`).

Subclasses import torch, photutils and the simulator inside their methods, so that finding a
task by name (``decoras tasks``, reading a model card) stays cheap.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # only for annotations: importing these loads torch
    import os

    import numpy as np
    import torch
    from torch import nn

    from ...core.image import SkyImage
    from ...core.psf import DirtyBeam
    from ...sim.config import SimConfig
    from ..networks import NetConfig
    from ..registry import DecorasModel, ModelCard
    from ..train import TrainConfig

#: progress(fraction 0..1, message) while a task runs
StageProgress = Callable[[float, str], None]
#: cancel() -> True to stop; checked between steps
CancelFn = Callable[[], bool]


@dataclass
class RunOutput:
    """What :meth:`Task.run` gives: the result, things the user should know, the raw outputs."""

    result: Any  # of the task's result_kind: a Catalogue for "catalogue"
    notes: list[str] = field(default_factory=list)  # e.g. "resampled to the model's beam sampling"
    maps: Any = None  # the networks' outputs on the image grid (detect: ml.inference.NetworkMaps)


class Task(ABC):
    """One task: see the module docstring. Instances are registered in :mod:`decoras_gui.ml.tasks`."""

    #: registry key, and the ``task`` of the model cards made for it ("detect")
    name: str = ""
    #: human label ("source detection")
    label: str = ""
    #: what run() gives, for the GUI to choose how to show it: "catalogue", "sky-map", "components"
    result_kind: str = ""
    #: the networks a model holds, in the order they are built, trained and saved: the keys of
    #: the card's ``networks``, of the weights file and of the training configuration's tables
    networks: tuple[str, ...] = ()
    #: network -> the label its training loss is logged under ("bce")
    loss_names: Mapping[str, str] = {}
    #: what an AutoML study of the task maximises, and its constraints (for the study's summary)
    study_objective: str = ""

    def __repr__(self) -> str:
        return f"<Task {self.name}: {self.label} -> {self.result_kind}>"

    # ------------------------------------------------------------- configuration
    def sim_config(self, raw: Mapping[str, Any]) -> Any:
        """The simulator's configuration from a training configuration's ``[sim]`` (or
        ``[eval_sim]``) table: what :meth:`training_pair` is given (detection: a SimConfig)."""
        from ...sim.config import SimConfig

        return SimConfig.from_dict(dict(raw))

    def domain(self, config: TrainConfig) -> dict | None:
        """The model card's ``domain`` for a model trained with ``config``; None for the detection
        task's (:func:`decoras_gui.ml.train.model_domain`)."""
        return None

    # ------------------------------------------------------------------ AutoML
    def study_fields(self, settings: Any) -> list:
        """The fixed out-of-distribution validation fields an AutoML study scores its trials on
        (:class:`decoras_gui.ml.automl.StudySettings`; detection's by default)."""
        from ..automl import validation_fields

        return validation_fields(settings)

    def study_score(self, model: DecorasModel, fields: list, settings: Any) -> dict:
        """A trial's ``value`` (higher is better) and ``constraints`` (each <= 0 when met) on the
        study's fields, with whatever else it measured (detection's by default)."""
        from ..automl import score

        return score(model, fields, settings)

    def trial_sim(self, sim: Any, size: int) -> Any:
        """The simulator configuration of a trial's (smaller) training fields."""
        from dataclasses import replace

        return replace(sim, size=size, margin_pix=min(sim.margin_pix, size // 8))

    # ------------------------------------------------------------------ training
    @abstractmethod
    def build_network(self, name: str, config: NetConfig) -> nn.Module:
        """The untrained network ``name`` (one of :attr:`networks`) of shape ``config``."""

    @abstractmethod
    def training_pair(self, field_seed: tuple[int, int], sim: SimConfig, crop: int,
                      options: Mapping[str, float] | None = None) -> dict[str, np.ndarray]:
        """One training example from the simulated field ``field_seed``: named float32 arrays,
        each (1, crop, crop), that :meth:`loss` reads (batched) again. ``options``: the training
        configuration's augmentation settings (``augment``, ``psf_dropout``)."""

    def training_views(self, field_seed: tuple[int, int], sim: SimConfig, crop: int,
                       options: Mapping[str, float] | None = None, views: int = 1) -> list[dict[str, np.ndarray]]:
        """``views`` training examples cut from the one simulated field ``field_seed`` (a task
        whose fields cost more to simulate than a training step overrides this to simulate once)."""
        if views != 1:
            from ...core.errors import DecorasError

            raise DecorasError(f"the {self.name} task makes one training example per field (views_per_field = 1)")
        return [self.training_pair(field_seed, sim, crop, options)]

    @abstractmethod
    def loss(self, name: str, net: nn.Module, batch: Mapping[str, torch.Tensor], config: TrainConfig) -> torch.Tensor:
        """The training loss of network ``name`` on a batch of :meth:`training_pair` examples."""

    # --------------------------------------------------------------- inference
    @abstractmethod
    def run(self, image: SkyImage, model: DecorasModel, *, device: str = "auto", threshold: float | None = None,
            progress: StageProgress | None = None, cancel: CancelFn | None = None,
            psf: DirtyBeam | str | os.PathLike | None = None) -> RunOutput:
        """The task's result for an opened image with a loaded model of this task. ``threshold``
        overrides the model's decision threshold (None: the card's); ``psf`` is the image's dirty
        beam (:func:`decoras_gui.core.psf.load_psf`, or its file), for the tasks that use it (None:
        the task says in its notes what it did without). Raises Cancelled when ``cancel()`` turns
        true, DecorasError for an image it cannot work on."""

    # -------------------------------------------------------------- evaluation
    @abstractmethod
    def baseline(self, image: SkyImage) -> Any:
        """The classical method's result for ``image`` (same kind as run's), to compare with."""

    @abstractmethod
    def evaluate(self, model: DecorasModel, seed: int, n_fields: int, *, sim: SimConfig | None = None,
                 device: str = "auto", progress: Callable[[int, int], None] | None = None,
                 with_psf: bool = True) -> dict:
        """Figures of ``model`` and of the baseline on ``n_fields`` fresh simulated test fields
        with seeds (seed, i) (default fields: those the model is meant for), JSON-ready; each
        field's dirty beam is given to the run unless ``with_psf`` is False."""

    @abstractmethod
    def format_report(self, result: dict) -> str:
        """:meth:`evaluate`'s figures as a text table."""

    @abstractmethod
    def calibrate(self, model: DecorasModel, card: ModelCard, data_seed: int, n_fields: int,
                  progress: Callable[[int, int], None] | None = None) -> str:
        """Choose the model's settings on validation fields of ``data_seed`` (never test seeds) and
        write them into ``card`` (the caller saves it); returns one line saying what was chosen."""


def crop_and_mirror(rng: np.random.Generator, maps: Mapping[str, np.ndarray], crop: int,
                    augment: float = 0.0) -> dict[str, np.ndarray]:
    """The training views of aligned ``maps`` (each size x size): one random ``crop`` x ``crop``
    window, mirrored in x and in y half the time each (a mirrored field is another valid
    interferometric image), transposed with probability ``augment`` (its beam mirrored about the
    diagonal with it); each returned as float32 (1, crop, crop). The random draws are made in
    this order whatever the task, so a task's pairs do not change when another's do."""
    import numpy as np

    size = next(iter(maps.values())).shape[0]
    y0, x0 = (rng.integers(0, size - crop + 1, size=2) if crop < size else (0, 0))
    views = {k: a[y0:y0 + crop, x0:x0 + crop] for k, a in maps.items()}
    if rng.random() < 0.5:
        views = {k: a[:, ::-1] for k, a in views.items()}
    if rng.random() < 0.5:
        views = {k: a[::-1, :] for k, a in views.items()}
    if rng.random() < float(augment):
        views = {k: a.T for k, a in views.items()}
    return {k: np.ascontiguousarray(a, dtype=np.float32)[None] for k, a in views.items()}

