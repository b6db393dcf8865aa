"""Restoration: the surface brightness of the sky from a LOFAR image; the result is a SkyMap.

One network (``restoration``), an encoder-decoder trained with mean squared logarithmic error as
in DECORAS, reads the image (dirty, or CLEAN-restored) in units of its robust rms and gives the sky
at :data:`RESOLUTION_BEAMS` of the restoring beam, in rms per restoring beam; :meth:`RestoreTask.run`
turns that into Jy/pixel on the image's grid (:class:`decoras_gui.core.sky_map.SkyMap`). Training
pairs come from :mod:`decoras_gui.sim.surface` (LOFAR HBA fields of extended emission). The
classical baseline is a Hogbom CLEAN of the image with its dirty beam (or, for a restored image,
its restoring beam) whose components are convolved to the same resolution; the metrics are
:mod:`decoras_gui.eval.restore_metrics`'s. Calibration chooses the floor (rms per beam) below which
the map is set to zero, so that no emission is invented where there is none.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...core.geometry import gaussian_area
from .base import CancelFn, RunOutput, StageProgress, Task, crop_and_mirror

if TYPE_CHECKING:
    import os

    import numpy as np
    import torch
    from torch import nn

    from ...core.image import SkyImage
    from ...core.psf import DirtyBeam
    from ...core.sky_map import SkyMap
    from ...sim.surface import SurfaceConfig
    from ..networks import NetConfig
    from ..registry import DecorasModel, ModelCard
    from ..train import TrainConfig

#: the map's resolution: this fraction of the restoring beam (FWHM, same shape and orientation)
RESOLUTION_BEAMS = 0.5
#: floors (rms per beam) the calibration tries
FLOORS = (0.0, 0.25, 0.5, 1.0, 1.5, 2.0)


def resolution_of(beam: tuple[float, float, float]) -> tuple[float, float, float]:
    """The map's resolution for a restoring beam (FWHM major, minor, PA): the same shape, scaled."""
    return (beam[0] * RESOLUTION_BEAMS, beam[1] * RESOLUTION_BEAMS, beam[2])


def sky_at_resolution(truth: np.ndarray, beam_pix: tuple[float, float, float]) -> np.ndarray:
    """The true sky (Jy/pixel) convolved to the map's resolution for ``beam_pix``: Jy/pixel."""
    from ...core.sky_map import convolve_gaussian, gaussian_kernel_cov

    return convolve_gaussian(truth, gaussian_kernel_cov(*resolution_of(beam_pix)))


def field_beam_pix(f) -> tuple[float, float, float]:
    """A restore field's restoring beam in pixels (FWHM major, minor) and degrees (PA)."""
    cell = f.cell_arcsec * 1000.0
    return (f.beam.bmaj / cell, f.beam.bmin / cell, f.beam.bpa)


def training_pair(field_seed: tuple[int, int], sim: SurfaceConfig, crop: int,
                  options: Mapping[str, float] | None = None) -> dict[str, np.ndarray]:
    """One example: the image in rms units (``snr``), the sky at the map's resolution in rms per
    beam (``target``), the sources' footprints (``mask``), and, as for detection, the bright
    emission's sidelobes predicted from the field's dirty beam (``sidelobes``) with ``has_psf``
    (0 with probability ``options['psf_dropout']``, the sidelobes then zero); cropped at random
    and mirrored, with probability ``options['augment']`` also transposed."""
    return training_views(field_seed, sim, crop, options, 1)[0]


def training_views(field_seed: tuple[int, int], sim: SurfaceConfig, crop: int,
                   options: Mapping[str, float] | None = None, views: int = 1) -> list[dict[str, np.ndarray]]:
    """``views`` examples as :func:`training_pair`'s, each its own random window (and mirrors)
    of one simulated field: the field's imaging costs several times the network's step."""
    import numpy as np

    from ...core.image import robust_rms
    from ...sim.surface import simulate_surface_field
    from ..sidelobe_map import predicted_sidelobes

    options = options or {}
    rng = np.random.default_rng(list(field_seed) + [11])
    f = simulate_surface_field(field_seed, sim)
    rms = robust_rms(f.image)
    beam = field_beam_pix(f)
    area = gaussian_area(beam[0], beam[1])
    target = np.clip(sky_at_resolution(f.truth, beam), 0.0, None) * (area / rms)  # no FFT ringing below 0
    snr = f.image / rms
    has_psf = float(rng.random() >= float(options.get("psf_dropout", 0.0)))
    sidelobes = predicted_sidelobes(snr, f.psf) if has_psf else np.zeros_like(snr)
    maps = {"snr": snr, "target": target, "mask": (f.sky.labels > 0).astype(np.float32), "sidelobes": sidelobes}
    out = []
    for _ in range(views):
        view = crop_and_mirror(rng, maps, crop, float(options.get("augment", 0.0)))
        view["has_psf"] = np.full_like(view["snr"], has_psf)
        out.append(view)
    return out


def beam_of(image: SkyImage) -> tuple[float, float, float]:
    """The image's restoring beam (FWHM major, minor in arcsec, PA deg); a DecorasError without one."""
    from ...core.errors import DecorasError

    if image.beam is None:
        raise DecorasError("recovering the surface brightness needs the image's restoring beam "
                           "(BMAJ/BMIN/BPA in its header, or AIPS CLEAN BMAJ HISTORY)", image.path)
    b = image.beam
    return (float(b.major_arcsec), float(b.minor_arcsec), float(b.pa))


def beam_from_psf(psf: np.ndarray, pixel_arcsec: float) -> tuple[float, float, float]:
    """The restoring beam (FWHM major, minor in arcsec, PA deg) of a dirty beam on the image's grid
    (peak 1 at its centre), fitted as the training fields' are (:func:`decoras_gui.sim.beam_fit.fit_beam`).

    For a dirty image this, not the header's beam, is what the network's units and resolution are
    defined by: imaging programs fit the main lobe their own way (WSClean 3.1's fit of an elongated
    LOFAR beam can be a quarter larger and 90 deg off), and the map's flux scales with the beam's area."""
    from ..sidelobe_map import fit_main_lobe, psf_centre

    fitted = fit_main_lobe(psf, psf_centre(psf), pixel_arcsec * 1000.0)
    return (fitted.bmaj / 1000.0, fitted.bmin / 1000.0, fitted.bpa)


def restore(image: SkyImage, model: DecorasModel, *, device: str = "auto", floor: float | None = None,
            progress: StageProgress | None = None, cancel: CancelFn | None = None,
            psf: np.ndarray | None = None) -> SkyMap:
    """The SkyMap of ``image`` by the restoration network of ``model`` (``floor``: rms per beam
    below which the map is zero; None: the card's). ``psf``: the image's dirty beam on its grid
    (peak 1), for a model that reads it (the predicted-sidelobe channel); without it that channel
    says "no PSF"."""
    import numpy as np
    import torch
    from scipy import ndimage

    from ...core.errors import DecorasError
    from ...core.sky_map import SkyMap
    from ..inference import pick_device, pick_precision, with_psf_channels, zoom_factor
    from ..tiling import run_tiled

    scale = image.pixel_scale_deg
    if not scale:
        raise DecorasError("recovering the surface brightness needs the image's pixel size (a celestial WCS)",
                           image.path)
    pixel_arcsec = float(scale) * 3600.0
    notes = []
    if psf is not None and model.card.image_kind == "dirty":
        beam = beam_from_psf(psf, pixel_arcsec)
        if image.beam is not None:
            header = beam_of(image)
            notes.append(f"restoring beam fitted to the dirty beam's main lobe: {beam[0]:.3g}\" x {beam[1]:.3g}\" "
                         f"at {beam[2]:.0f} deg (the header's: {header[0]:.3g}\" x {header[1]:.3g}\" at "
                         f"{header[2]:.0f} deg)")
    else:
        beam = beam_of(image)
    beam_pix = (beam[0] / pixel_arcsec, beam[1] / pixel_arcsec, beam[2])
    rms = float(image.rms)
    if not (rms > 0 and math.isfinite(rms)):
        raise DecorasError("the image has no usable noise level (rms is 0 or undefined)", image.path)
    zoom = zoom_factor(model, beam_pix[1])
    data = np.array(image.data, dtype=np.float32)
    blank = ~np.isfinite(data)
    data[blank] = 0.0
    work = data / np.float32(rms)
    if zoom != 1.0:
        work = ndimage.zoom(work, zoom, order=1, prefilter=False)
    dev = pick_device(device)
    net = model.networks["restoration"].to(dev)
    precision = pick_precision(dev)
    net.to(memory_format=torch.channels_last if precision == "bf16" else torch.contiguous_format)

    def tiles(done: int, total: int) -> None:
        if progress:
            progress(done / max(total, 1), f"recovering the surface brightness: tile {done} of {total}")

    reads = model.card.reads_psf
    channels = with_psf_channels(work, psf if reads else None, zoom) if model.card.uses_psf else work[None]
    (out,) = run_tiled(channels, [net], 2 ** net.config.depth, device=dev, precision=precision,
                       progress=tiles, cancel=cancel, what="the surface-brightness recovery")
    floor = model.card.min_snr if floor is None else floor
    if floor and floor > 0:
        out = np.where(out >= floor, out, 0.0).astype(np.float32)
    if zoom != 1.0:  # back to the image's grid, keeping the flux (a model pixel is 1/zoom^2 of one)
        out = ndimage.zoom(out, (data.shape[0] / out.shape[0], data.shape[1] / out.shape[1]), order=1,
                           prefilter=False)
    area = gaussian_area(beam_pix[0], beam_pix[1])
    sky = (out * (rms / area)).astype(np.float32)
    sky[blank] = np.nan
    if zoom != 1.0:
        notes.append(f"resampled by {zoom:.3g} to the model's beam sampling")
    if reads and psf is None:
        notes.append("no dirty beam was given: the network ran without its sidelobe channel")
    resolution = resolution_of(beam)
    return SkyMap(sky, image.wcs, pixel_arcsec, resolution, beam, str(image.path), model.label,
                  model.card.image_kind, notes)


class RestoreTask(Task):
    """Surface-brightness restoration: image -> SkyMap."""

    name = "restore"
    label = "surface-brightness restoration"
    result_kind = "sky-map"
    networks = ("restoration",)
    loss_names = {"restoration": "msle"}
    study_objective = ("median OOD SSIM of the maps against the truth; constraints: surface-brightness error "
                       "<= 0.5, median flux off the sources within 1 sigma")

    def sim_config(self, raw: Mapping[str, Any]) -> SurfaceConfig:
        from ...sim.surface import SurfaceConfig

        return SurfaceConfig.from_dict(dict(raw))

    def domain(self, config: TrainConfig) -> dict:
        from ...sim.instrument import get_instrument
        from ...sim.surface import _cached_observation

        inst = get_instrument(config.sim.instrument)
        lo, hi = config.sim.ppb_range
        spans = [b.range_hz for b in inst.bands.values()]
        sim = config.sim  # the cell of one typical observation (each field's follows from its beam)
        _obs, cov = _cached_observation(sim.variety, (0, 0, 1), sim.size, sim.pad, tuple(sim.ppb_range),
                                        tuple(sim.dec_range), sim.instrument)
        return {"instrument": config.instrument, "band": config.band, "image_kind": config.image_kind,
                "cell_mas": round(float(cov.cell_mas), 1),
                "freq_range_hz": [min(a for a, _ in spans), max(b for _, b in spans)],
                "pixels_per_beam_minor": round(float(math.sqrt(lo * hi)), 3),
                "pixels_per_beam_range": [float(lo), float(hi)]}

    def study_fields(self, settings: Any) -> list:
        """The study's validation fields: its base's sky, observed by the validation families (OOD)."""
        from dataclasses import replace

        from ...sim.surface import simulate_surface_field
        from ..automl import VALIDATION_SEED

        cfg = replace(settings.base.sim, size=settings.val_size, variety="ood", empty_fraction=0.0)
        return [simulate_surface_field((VALIDATION_SEED, i), cfg) for i in range(settings.val_fields)]

    def study_score(self, model: DecorasModel, fields: list, settings: Any) -> dict:
        """The median SSIM of the trial's maps (no floor) against the truth; constraints: the median
        surface-brightness error at most 0.5, and no flux invented off the sources (median within
        one sigma)."""
        import numpy as np

        from ...eval.restore_metrics import score_map, summarise

        scores = []
        for f in fields:
            beam = field_beam_pix(f)
            psf = f.psf if f.config.image_kind == "dirty" else None
            sky = restore(field_image(f), model, device="cpu", floor=0.0, psf=psf)
            scores.append(score_map(sky.data, sky_at_resolution(f.truth, beam), f.sky.labels, f.sky.sources,
                                    f.rms, beam, resolution_of(beam)))
        s = summarise(scores)
        value = s["ssim"] if np.isfinite(s["ssim"]) else 0.0
        sb = s["sb_error"] if np.isfinite(s["sb_error"]) else 1.0
        invented = s["invented_sigma_median"] if np.isfinite(s["invented_sigma_median"]) else 10.0
        return {"value": float(value), "sb_error": float(sb), "invented_sigma_median": float(invented),
                "constraints": [sb - 0.5, abs(invented) - 1.0]}

    def trial_sim(self, sim: SurfaceConfig, size: int) -> SurfaceConfig:
        from dataclasses import replace

        return replace(sim, size=size)

    def build_network(self, name: str, config: NetConfig) -> nn.Module:
        from ..networks import CharacterizationNet

        return CharacterizationNet(config)

    def training_pair(self, field_seed: tuple[int, int], sim: SurfaceConfig, crop: int,
                      options: Mapping[str, float] | None = None) -> dict[str, np.ndarray]:
        return training_pair(field_seed, sim, crop, options)

    def training_views(self, field_seed: tuple[int, int], sim: SurfaceConfig, crop: int,
                       options: Mapping[str, float] | None = None, views: int = 1) -> list[dict[str, np.ndarray]]:
        return training_views(field_seed, sim, crop, options, views)

    def loss(self, name: str, net: nn.Module, batch: Mapping[str, torch.Tensor], config: TrainConfig) -> torch.Tensor:
        from ..networks import msle_loss
        from .detect import network_input

        return config.msle_weight * msle_loss(net(network_input(batch, net)), batch["target"],
                                              1.0 + config.source_weight * batch["mask"])

    def run(self, image: SkyImage, model: DecorasModel, *, device: str = "auto", threshold: float | None = None,
            progress: StageProgress | None = None, cancel: CancelFn | None = None,
            psf: DirtyBeam | str | os.PathLike | None = None) -> RunOutput:
        """The SkyMap of ``image``; ``threshold`` overrides the card's floor (rms per beam); ``psf``
        (a DirtyBeam or its file) feeds the sidelobe channel of a model that reads it."""
        beam = None
        if psf is not None:
            from ...core.psf import load_psf

            beam = psf if hasattr(psf, "data") else load_psf(psf, image)
        sky = restore(image, model, device=device, floor=threshold, progress=progress, cancel=cancel,
                      psf=None if beam is None else beam.data)
        return RunOutput(sky, list(sky.notes))

    def baseline(self, image: SkyImage, psf: np.ndarray | None = None) -> SkyMap:
        """Hogbom CLEAN of the image to 1 sigma (with its dirty beam ``psf``, or the restoring beam
        for a restored image), its components convolved to the map's resolution."""
        import numpy as np

        from ...core.sky_map import SkyMap

        beam = beam_of(image)
        pixel_arcsec = float(image.pixel_scale_deg) * 3600.0
        beam_pix = (beam[0] / pixel_arcsec, beam[1] / pixel_arcsec, beam[2])
        data = np.nan_to_num(np.asarray(image.data, np.float32))
        components = hogbom_components(data, psf, beam_pix, float(image.rms))
        sky = sky_at_resolution(components, beam_pix)
        return SkyMap(sky, image.wcs, pixel_arcsec, resolution_of(beam), beam, str(image.path), "Hogbom CLEAN",
                      "dirty" if psf is not None else "restored")

    def evaluate(self, model: DecorasModel, seed: int, n_fields: int, *, sim: SurfaceConfig | None = None,
                 device: str = "auto", progress: Callable[[int, int], None] | None = None,
                 with_psf: bool = True) -> dict:
        return evaluate_restore(model, seed, n_fields, sim=sim, device=device, progress=progress)

    def format_report(self, result: dict) -> str:
        from ...eval.restore_metrics import format_table

        return format_table(result["methods"], f"evaluation of {result['model']} on {result['n_fields']} fields, "
                                               f"seed {result['seed']} ({result.get('family', '')})")

    def calibrate(self, model: DecorasModel, card: ModelCard, data_seed: int, n_fields: int,
                  progress: Callable[[int, int], None] | None = None) -> str:
        """The floor: the smallest of :data:`FLOORS` whose maps invent no flux off the sources
        (median within 0.5 sigma), else the one that invents least; stored as the card's min_snr."""
        rows = calibration_sweep(model, data_seed, n_fields, progress=progress)
        ok = [r for r in rows if abs(r["invented_sigma_median"]) <= 0.5]
        best = min(ok, key=lambda r: (r["sb_error"], r["floor"])) if ok else min(
            rows, key=lambda r: abs(r["invented_sigma_median"]))
        card.min_snr = float(best["floor"])
        card.training["calibration"] = {"floors": rows, "floor": best["floor"], "fields": n_fields,
                                        "data_seed": data_seed}
        return (f"map floor {best['floor']:.2f} rms per beam: surface-brightness error {best['sb_error']:.3f}, "
                f"flux off sources {best['invented_sigma_median']:+.2f} sigma (from {n_fields} validation fields)")


def hogbom_components(data: np.ndarray, psf: np.ndarray | None, beam_pix: tuple[float, float, float],
                      rms: float, gain: float = 0.1, niter: int = 20000) -> np.ndarray:
    """Hogbom CLEAN components (Jy/pixel) of ``data`` to 1 ``rms``: with the dirty beam ``psf``, or
    with the restoring beam itself (peak 1) for an image already CLEANed and restored."""
    import numpy as np

    from ...core.sky_map import convolve_gaussian, gaussian_kernel_cov
    from ...sim.clean import hogbom

    if psf is None:
        n = data.shape[0]
        point = np.zeros((n, n), np.float32)
        point[n // 2, n // 2] = 1.0
        psf = convolve_gaussian(point, gaussian_kernel_cov(*beam_pix), peak_normalised=True)
    _residual, components, _n = hogbom(data, psf, rms, gain, niter)
    return components


def evaluate_restore(model: DecorasModel, seed: int, n_fields: int, *, sim: SurfaceConfig | None = None,
                     device: str = "auto", progress: Callable[[int, int], None] | None = None,
                     floor: float | None = None) -> dict:
    """The model's and the Hogbom baseline's figures on fresh fields ``(seed, i)`` of ``sim``
    (default: the model's validation family, 'ood')."""
    from dataclasses import replace

    from ...eval.restore_metrics import score_map, summarise
    from ...sim.surface import SurfaceConfig, simulate_surface_field

    cfg = sim or replace(SurfaceConfig.from_dict(model.card.training.get("config", {}).get("sim", {})),
                         variety="ood")
    ours, hog = [], []
    for i in range(n_fields):
        f = simulate_surface_field((seed, i), cfg)
        image = field_image(f)
        beam = field_beam_pix(f)
        truth = sky_at_resolution(f.truth, beam)
        res = resolution_of(beam)
        t0 = time.perf_counter()
        psf = f.psf if cfg.image_kind == "dirty" else None
        sky = restore(image, model, device=device, floor=floor, psf=psf)
        ours.append(score_map(sky.data, truth, f.sky.labels, f.sky.sources, f.rms, beam, res,
                              time.perf_counter() - t0))
        t0 = time.perf_counter()
        base = hogbom_components(f.image, psf, beam, float(image.rms))
        hog.append(score_map(sky_at_resolution(base, beam), truth, f.sky.labels, f.sky.sources, f.rms, beam, res,
                             time.perf_counter() - t0))
        if progress:
            progress(i + 1, n_fields)
    return {"model": model.label, "seed": seed, "n_fields": n_fields, "family": cfg.variety,
            "image_kind": cfg.image_kind, "methods": {model.card.name: summarise(ours), "hogbom": summarise(hog)}}


def calibration_sweep(model: DecorasModel, data_seed: int, n_fields: int,
                      progress: Callable[[int, int], None] | None = None) -> list[dict]:
    """The model's figures on validation fields ``(data_seed, i)`` at each floor of :data:`FLOORS`."""
    from dataclasses import replace

    import numpy as np

    from ...eval.restore_metrics import score_map, summarise
    from ...sim.surface import SurfaceConfig, simulate_surface_field

    cfg = replace(SurfaceConfig.from_dict(model.card.training.get("config", {}).get("sim", {})), variety="ood")
    scores = {floor: [] for floor in FLOORS}
    for i in range(n_fields):
        f = simulate_surface_field((data_seed, i), cfg)
        image = field_image(f)
        beam = field_beam_pix(f)
        truth = sky_at_resolution(f.truth, beam)
        raw = restore(image, model, floor=0.0, psf=f.psf if cfg.image_kind == "dirty" else None)
        area = gaussian_area(beam[0], beam[1])
        in_rms = raw.data * area / float(image.rms)
        for floor in FLOORS:
            m = np.where(in_rms >= floor, raw.data, 0.0)
            scores[floor].append(score_map(m, truth, f.sky.labels, f.sky.sources, f.rms, beam, resolution_of(beam)))
        if progress:
            progress(i + 1, n_fields)
    return [{"floor": floor, **summarise(s)} for floor, s in scores.items()]


def field_image(f) -> SkyImage:
    """A restore field as the SkyImage ``load_fits`` would give of its FITS file."""
    import astropy.units as u
    from astropy.wcs import WCS

    from ...core.beam import Beam
    from ...core.image import SkyImage

    n = f.image.shape[0]
    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---SIN", "DEC--SIN"]
    w.wcs.crval = [f.observation.ra_deg, f.observation.dec_deg]
    w.wcs.crpix = [n // 2 + 1, n // 2 + 1]
    w.wcs.cdelt = [-f.cell_arcsec / 3600.0, f.cell_arcsec / 3600.0]
    beam = Beam(f.beam.bmaj / 3.6e6, f.beam.bmin / 3.6e6, f.beam.bpa)  # mas -> deg
    return SkyImage(path=Path(f"restore-field-{f.observation.family}.fits"), data=f.image,
                    header=w.to_header(), wcs=w, beam=beam, unit=u.Jy / u.beam, hdu_index=0, hdu_name="PRIMARY")
