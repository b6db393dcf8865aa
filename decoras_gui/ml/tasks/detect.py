"""Detection: find and measure the sources of a dirty image; the result is a Catalogue.

Two networks (Rezaei et al. 2022): ``detection`` gives each pixel a source logit (binary
cross-entropy against the simulator's source mask), ``characterization`` the sky restored with
the clean beam (mean squared logarithmic error against the simulator's restored map, weighted
towards the sources). :func:`decoras_gui.ml.pipeline.detect` turns their maps into sources;
the metrics are :mod:`decoras_gui.eval.evaluate`'s, the baseline a photutils 5-sigma
segmentation (:mod:`decoras_gui.eval.baseline`), the calibration chooses the threshold and SNR
floor (:mod:`decoras_gui.eval.calibrate`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from .base import CancelFn, RunOutput, StageProgress, Task, crop_and_mirror

if TYPE_CHECKING:
    import os

    import numpy as np
    import torch
    from torch import nn

    from ...core.catalogue import Catalogue
    from ...core.image import SkyImage
    from ...core.psf import DirtyBeam
    from ...sim.config import SimConfig
    from ..networks import NetConfig
    from ..registry import DecorasModel, ModelCard
    from ..train import TrainConfig


#: components fainter than this (restored peak over the dirty image's measured robust rms) are left
#: out of the detection target: under a bright source's sidelobes they cannot be told from noise
DETECTABLE_SNR = 2.0


def training_pair(field_seed: tuple[int, int], sim: SimConfig, crop: int,
                  options: Mapping[str, float] | None = None) -> dict[str, np.ndarray]:
    """One training example: the dirty image in rms units (``snr``), the source ``mask`` and the
    restored model in rms units (``restored``), cropped at random and mirrored half the time;
    ``sidelobes`` (the bright sources' sidelobes predicted from the field's dirty beam,
    :mod:`..sidelobe_map`) and ``has_psf`` (1, or 0 with probability ``options['psf_dropout']``,
    when the sidelobe channel is zeroed: the model must work without a dirty beam too).
    With probability ``options['augment']`` the crop is also transposed (a valid image of the
    sky mirrored about a diagonal, with its beam mirrored the same way)."""
    import numpy as np

    from ...core.image import robust_rms
    from ...sim.field import simulate_field
    from ...sim.imaging import restored_components
    from ..sidelobe_map import predicted_sidelobes

    options = options or {}
    rng = np.random.default_rng(list(field_seed) + [7])
    f = simulate_field(field_seed, sim)
    rms = robust_rms(f.dirty)
    snr = f.dirty / rms
    restored = f.restored / rms
    faint = f.peaks < DETECTABLE_SNR * rms
    if faint.any():
        keep = ~faint
        sky, cfg = f.sky, f.config
        mask = restored_components(cfg.size, cfg.cell_mas, f.beam, sky.x[keep], sky.y[keep], sky.flux[keep],
                                   sky.maj[keep], sky.min[keep], sky.pa[keep], cfg.mask_level)[1]
    else:
        mask = f.mask
    mask = mask.astype(np.float32)
    has_psf = float(rng.random() >= float(options.get("psf_dropout", 0.0)))
    sidelobes = predicted_sidelobes(snr, f.beam_image) if has_psf else np.zeros_like(snr)
    out = crop_and_mirror(rng, {"snr": snr, "mask": mask, "restored": restored, "sidelobes": sidelobes}, crop,
                          float(options.get("augment", 0.0)))
    out["has_psf"] = np.full_like(out["snr"], has_psf)
    return out


def network_input(batch: Mapping[str, torch.Tensor], net: nn.Module) -> torch.Tensor:
    """What ``net`` reads from a batch: the image, plus the sidelobe and PSF-flag channels when its
    configuration asks for them."""
    import torch

    if getattr(net.config, "psf_channel", False):
        return torch.cat([batch["snr"], batch["sidelobes"], batch["has_psf"]], dim=1)
    return batch["snr"]


class DetectTask(Task):
    """Source detection and characterization: image -> Catalogue."""

    name = "detect"
    label = "source detection"
    result_kind = "catalogue"
    networks = ("detection", "characterization")
    loss_names = {"detection": "bce", "characterization": "msle"}
    study_objective = ("OOD completeness x purity at SNR 5-7.5; constraints: purity of SNR >= 5 detections "
                       ">= 0.97, peak within 20 %")

    def build_network(self, name: str, config: NetConfig) -> nn.Module:
        from ..networks import CharacterizationNet, DetectionNet

        return {"detection": DetectionNet, "characterization": CharacterizationNet}[name](config)

    def training_pair(self, field_seed: tuple[int, int], sim: SimConfig, crop: int,
                      options: Mapping[str, float] | None = None) -> dict[str, np.ndarray]:
        return training_pair(field_seed, sim, crop, options)

    def loss(self, name: str, net: nn.Module, batch: Mapping[str, torch.Tensor], config: TrainConfig) -> torch.Tensor:
        import torch
        from torch.nn import functional as F

        from ..networks import msle_loss

        x, mask = network_input(batch, net), batch["mask"]
        if name == "detection":
            return F.binary_cross_entropy_with_logits(net(x), mask, pos_weight=torch.tensor(config.pos_weight))
        return config.msle_weight * msle_loss(net(x), batch["restored"], 1.0 + config.source_weight * mask)

    def run(self, image: SkyImage, model: DecorasModel, *, device: str = "auto", threshold: float | None = None,
            progress: StageProgress | None = None, cancel: CancelFn | None = None,
            psf: DirtyBeam | str | os.PathLike | None = None) -> RunOutput:
        """The sources of ``image`` (:func:`decoras_gui.ml.pipeline.detect`); ``result`` is the Catalogue.
        With ``psf`` every detection gets the sidelobe test (:mod:`decoras_gui.core.sidelobes`)."""
        from ..pipeline import detect

        catalogue, maps = detect(image, model, device=device, threshold=threshold, progress=progress, cancel=cancel,
                                 psf=psf)
        return RunOutput(catalogue, list(maps.notes), maps)

    @property
    def baseline_name(self) -> str:
        from ...eval.baseline import BASELINE_NAME

        return BASELINE_NAME

    def baseline(self, image: SkyImage, rms_map: np.ndarray | None = None) -> Catalogue:
        from ...eval.baseline import photutils_baseline

        return photutils_baseline(image, rms_map=rms_map)

    def evaluate(self, model: DecorasModel, seed: int, n_fields: int, *, sim: SimConfig | None = None,
                 device: str = "auto", progress: Callable[[int, int], None] | None = None,
                 with_psf: bool = True) -> dict:
        from ...eval.evaluate import evaluate

        return evaluate(model, seed, n_fields, sim=sim, device=device, progress=progress, with_psf=with_psf)

    def format_report(self, result: dict) -> str:
        from ...eval.evaluate import format_report

        return format_report(result)

    def calibrate(self, model: DecorasModel, card: ModelCard, data_seed: int, n_fields: int,
                  progress: Callable[[int, int], None] | None = None) -> str:
        """The detection threshold, SNR floor and peak cap (card ``threshold``, ``min_snr``,
        ``peak_cap``; the sweep behind them in ``training.calibration``)."""
        from ...eval.calibrate import calibrate_threshold

        def say(c: dict) -> str:
            return (f"detection threshold {c['threshold']:.2f}, SNR floor {c['min_snr']:.1f}, "
                    f"peak cap {c['peak_cap']:.1f}")

        if card.reads_psf:  # first the runs without the dirty beam, then (their progress) with it
            alone = calibrate_threshold(model, data_seed, n_fields, progress=progress, with_psf=False)
            card.without_psf = {k: alone[k] for k in ("threshold", "min_snr", "peak_cap")}
            card.training["calibration_without_psf"] = alone
        choice = calibrate_threshold(model, data_seed, n_fields, progress=progress)
        card.threshold, card.min_snr, card.peak_cap = choice["threshold"], choice["min_snr"], choice["peak_cap"]
        card.training["calibration"] = choice
        line = f"{say(choice)} (from {n_fields} validation fields)"
        return line + (f"; without the dirty beam: {say(alone)}" if card.reads_psf else "")
