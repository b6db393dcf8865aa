"""Deblending: two blended galaxies of an optical survey cutout, each as an image of its own.

One network (``deblender``, :class:`~decoras_gui.ml.networks.DeblendNet`) reads a cutout of
:data:`CUTOUT` pixels in units of its noise rms and the PSF's FWHM in pixels, and gives the two
galaxies' noise-free images, which sum to the data minus the noise: first the galaxy at the
cutout's centre (the one the user pointed at, or the catalogue's position), then its neighbour. It is trained with a
L1 loss on the images and their fluxes (:func:`~decoras_gui.ml.networks.deblend_l1_loss`)
on GalSim blends of the training family (:mod:`decoras_gui.sim.blends`, ``variety = 'wide'``), and
judged on the validation family (``'ood'``: Sersic galaxies, a Kolmogorov PSF, correlated noise).

The result is a :class:`~decoras_gui.core.deblend.DeblendResult`: each galaxy's flux (the sum of
its image), magnitude (from the zero point), centroid, size and ellipticity (GalSim adaptive
moments of its image). A cutout whose pixels differ by more than 10 % from the model's is
resampled to them (flux kept) and the components resampled back. The classical baseline is
photutils' deblending with segmentation photometry (:mod:`decoras_gui.eval.deblend_baseline`).

``augment`` in the training configuration sets the noise-level jitter of the training views
(``10**U(-0.4 a, 0.4 a)`` times the survey's noise), ``source_weight`` the weight of the flux
term of the loss against the image term.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .base import CancelFn, RunOutput, StageProgress, Task, crop_and_mirror

if TYPE_CHECKING:

    import numpy as np
    import torch
    from torch import nn

    from ...core.deblend import DeblendedGalaxy, DeblendResult
    from ...core.image import SkyImage
    from ...eval.deblend_baseline import DeblendedObject
    from ...sim.blends import BlendConfig, BlendField
    from ..networks import NetConfig
    from ..registry import DecorasModel, ModelCard
    from ..train import TrainConfig

#: side of the cutout the network reads (pixels of the model's size)
CUTOUT = 64
#: a component counts as a galaxy when its flux is at least this many times its noise
MIN_SIGNIFICANCE = 5.0
#: blends run through the network at once
BATCH = 256


def background_and_noise(data: np.ndarray) -> tuple[float, float]:
    """The sigma-clipped median (the residual sky) and standard deviation (the noise per pixel) of
    a cutout: what its SNR units are, in training as at run time."""
    import warnings

    import numpy as np
    from astropy.stats import sigma_clipped_stats
    from astropy.utils.exceptions import AstropyUserWarning

    finite = np.asarray(data, float)[np.isfinite(data)]
    if finite.size < 16:
        return 0.0, 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AstropyUserWarning)
        _, median, std = sigma_clipped_stats(finite, sigma=3.0, maxiters=10)
    return float(median), float(std)


def training_views(field_seed: tuple[int, int], sim: BlendConfig, crop: int,
                   options: Mapping[str, float] | None = None, views: int = 1) -> list[dict[str, np.ndarray]]:
    """``views`` examples of one simulated blend, each with its own noise (white, the survey's rms
    jittered by ``options['augment']``), centre and mirrors: a ``crop`` window centred (within 1.5
    pixels) on one of the two galaxies, either with equal odds, so that the network learns "the
    galaxy at the centre" rather than "the brighter". Arrays: ``snr`` (the view in units of its own
    sigma-clipped noise, background subtracted), ``fwhm`` (the PSF's FWHM in pixels, a constant
    plane) and ``target`` (the centre galaxy and its neighbour, noise-free, same units, (2, crop, crop))."""
    from dataclasses import replace

    import numpy as np

    from ...core.errors import DecorasError
    from ...sim.blends import simulate_blend

    if sim.size < crop:
        raise DecorasError(f"blends of {sim.size} pixels cannot give {crop}-pixel training windows")
    options = options or {}
    rng = np.random.default_rng(list(field_seed) + [13])
    f = simulate_blend(field_seed, replace(sim, noise=False))
    jitter = 0.4 * float(options.get("augment", 0.5))
    total = f.components.sum(0)
    fwhm_pix = f.psf_fwhm_arcsec / f.camera.pixel_arcsec
    out = []
    for _ in range(views):
        k = int(rng.integers(2))
        g = f.galaxies[k]
        x0 = int(np.clip(round(g.x + rng.uniform(-1.5, 1.5)) - crop // 2, 0, sim.size - crop))
        y0 = int(np.clip(round(g.y + rng.uniform(-1.5, 1.5)) - crop // 2, 0, sim.size - crop))
        window = (slice(y0, y0 + crop), slice(x0, x0 + crop))
        sigma = f.camera.pixel_noise * 10 ** rng.uniform(-jitter, jitter)
        noisy = total[window] + rng.standard_normal((crop, crop)) * sigma
        v = crop_and_mirror(rng, {"image": noisy, "c0": f.components[k][window],
                                  "c1": f.components[1 - k][window]}, crop, 0.5)
        bg, s = background_and_noise(v["image"])
        s = s or sigma
        out.append({"snr": ((v["image"] - bg) / s).astype(np.float32),
                    "fwhm": np.full_like(v["image"], fwhm_pix),
                    "target": (np.concatenate([v["c0"], v["c1"]]) / s).astype(np.float32)})
    return out


def network_input(batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
    """(N, 2, H, W): the cutouts in noise units and the PSF FWHM plane."""
    import torch

    return torch.cat([batch["snr"], batch["fwhm"]], dim=1)


def model_pixel_arcsec(model: DecorasModel) -> float:
    """The pixel size (arcsec) of the images the model was trained on."""
    return float(model.card.domain.get("pixel_arcsec") or model.card.cell_mas / 1000.0)


def deblend_arrays(cutouts: Sequence[np.ndarray], fwhm_pix: Sequence[float], model: DecorasModel,
                   device: str = "auto", cancel: CancelFn | None = None,
                   progress: StageProgress | None = None) -> list[tuple[np.ndarray, float, float]]:
    """The network's two components of each background-free ``cutout`` (CUTOUT x CUTOUT, the
    model's pixels), in the cutout's units, with its background and noise: (components (2, n, n),
    background, sigma) per cutout, in batches of :data:`BATCH`."""
    import numpy as np
    import torch

    from ...core.errors import Cancelled
    from ..inference import pick_device

    dev = pick_device(device)
    net = model.networks["deblender"].to(dev).eval()
    stats = [background_and_noise(c) for c in cutouts]
    out: list[tuple[np.ndarray, float, float]] = []
    for start in range(0, len(cutouts), BATCH):
        if cancel is not None and cancel():
            raise Cancelled("deblending cancelled")
        chunk = range(start, min(start + BATCH, len(cutouts)))
        snr = np.stack([np.nan_to_num((cutouts[i] - stats[i][0]) / (stats[i][1] or 1.0)) for i in chunk])
        fwhm = np.stack([np.full(cutouts[i].shape, fwhm_pix[i]) for i in chunk])
        x = torch.from_numpy(np.stack([snr, fwhm], axis=1).astype(np.float32)).to(dev)
        with torch.inference_mode():
            comps = net(x).float().cpu().numpy()
        for j, i in enumerate(chunk):
            out.append((comps[j] * (stats[i][1] or 1.0), stats[i][0], stats[i][1]))
        if progress:
            progress(len(out) / len(cutouts), f"deblending: {len(out)} of {len(cutouts)} blends")
    return out


def flux_noise(component: np.ndarray, sigma: float) -> float:
    """The noise of a component's flux: ``sigma`` over its effective number of pixels,
    ``(sum c)^2 / sum c^2`` (the pixels a matched weighting spreads the noise over)."""
    import numpy as np

    c = np.clip(component, 0.0, None)
    power = float((c**2).sum())
    n_eff = float(c.sum()) ** 2 / power if power > 0 else 1.0
    return sigma * math.sqrt(max(n_eff, 1.0))


def objects_of(components: np.ndarray, sigma: float) -> list[DeblendedObject]:
    """The significant components (flux at least :data:`MIN_SIGNIFICANCE` times its noise) as
    the benchmark's objects (centroid: the adaptive moments', else the first moments), brightest first."""
    from ...eval.deblend_baseline import DeblendedObject

    out = []
    for comp in components:
        flux = float(comp.sum())
        if flux < MIN_SIGNIFICANCE * flux_noise(comp, sigma):
            continue
        x, y = centroid(comp)
        out.append(DeblendedObject(comp.astype("float32"), flux, x, y))
    return sorted(out, key=lambda o: -o.flux)


def centroid(image: np.ndarray) -> tuple[float, float]:
    """The flux-weighted centre (x, y) of a non-negative image, pixels 0-based."""
    import numpy as np

    w = np.clip(image, 0.0, None)
    total = float(w.sum()) or 1.0
    yy, xx = np.indices(w.shape)
    return float((w * xx).sum() / total), float((w * yy).sum() / total)


def deblend_blends(blends: Sequence[BlendField], model: DecorasModel, device: str = "auto") -> list[list]:
    """The network's objects for simulated blends (their cutouts are at the model's pixels)."""
    res = deblend_arrays([f.image for f in blends], [f.psf_fwhm_arcsec / f.camera.pixel_arcsec for f in blends],
                         model, device)
    return [objects_of(comps, sigma) for comps, _bg, sigma in res]


def psf_fwhm_of_image(psf: np.ndarray, pixel_arcsec: float) -> float:
    """The FWHM (arcsec) of a PSF image (GalSim's half-maximum radius about its centroid)."""
    import galsim
    import numpy as np

    img = galsim.Image(np.ascontiguousarray(psf, dtype=np.float64), scale=pixel_arcsec)
    return float(img.calculateFWHM())


def cutout_at(data: np.ndarray, x: float, y: float, side: int) -> tuple[np.ndarray, tuple[int, int], list[str]]:
    """The ``side`` x ``side`` window of ``data`` centred on pixel (x, y), NaN-padded where it
    leaves the image, its (y0, x0), and a note when it did."""
    import numpy as np

    ny, nx = data.shape
    x0, y0 = int(round(x)) - side // 2, int(round(y)) - side // 2
    out = np.full((side, side), np.nan, np.float32)
    ys, xs = max(0, y0), max(0, x0)
    ye, xe = min(ny, y0 + side), min(nx, x0 + side)
    if ye <= ys or xe <= xs:
        from ...core.errors import DecorasError

        raise DecorasError(f"the position ({x:.1f}, {y:.1f}) is outside the image")
    out[ys - y0:ye - y0, xs - x0:xe - x0] = np.asarray(data[ys:ye, xs:xe], np.float32)
    notes = [] if (ys, xs, ye, xe) == (y0, x0, y0 + side, x0 + side) else [
        "the cutout runs off the image's edge: the missing pixels count as empty sky"]
    return out, (y0, x0), notes


def nearest_peak(data: np.ndarray, x: float, y: float, fwhm_pix: float) -> tuple[float, float]:
    """The local maximum of ``data`` smoothed by the PSF that a climb from pixel (x, y) reaches
    (at most two FWHM away; the start itself when the climb finds nothing): where the network
    wants its cutout centred -- on a galaxy, not between two."""
    import numpy as np
    from scipy import ndimage

    r = int(math.ceil(3 * fwhm_pix)) + 2
    x0, y0 = int(round(x)), int(round(y))
    ny, nx = data.shape
    ys, ye, xs, xe = max(0, y0 - r), min(ny, y0 + r + 1), max(0, x0 - r), min(nx, x0 + r + 1)
    if ye - ys < 3 or xe - xs < 3:
        return x, y
    win = np.nan_to_num(np.asarray(data[ys:ye, xs:xe], float))
    smooth = ndimage.gaussian_filter(win, fwhm_pix / 2.3548, mode="nearest")
    cy, cx = y0 - ys, x0 - xs
    for _ in range(4 * r):
        ly, hy, lx, hx = max(0, cy - 1), min(smooth.shape[0], cy + 2), max(0, cx - 1), min(smooth.shape[1], cx + 2)
        patch = smooth[ly:hy, lx:hx]
        dy, dx = np.unravel_index(int(np.argmax(patch)), patch.shape)
        if (ly + dy, lx + dx) == (cy, cx):
            break
        cy, cx = ly + dy, lx + dx
    px, py = float(cx + xs), float(cy + ys)
    return (px, py) if math.hypot(px - x, py - y) <= 2 * fwhm_pix else (x, y)


def measure_galaxy(index: int, comp: np.ndarray, sigma: float, origin: tuple[int, int], wcs, pixel_arcsec: float,
                   zp: float | None) -> DeblendedGalaxy:
    """Photometry of one component (on the image's pixels): flux, magnitude, centroid, size, shape."""
    import numpy as np

    from ...core.deblend import DeblendedGalaxy
    from ...sim.blends import measure_shape

    flux = float(comp.sum())
    err = flux_noise(comp, sigma)
    cx, cy = centroid(comp)
    shape = measure_shape(comp, cx, cy) if flux > 0 else None
    if shape is not None:
        cx, cy = shape.x, shape.y
    x, y = cx + origin[1], cy + origin[0]
    ra = dec = math.nan
    if wcs is not None:
        ra, dec = (float(v) for v in wcs.pixel_to_world_values(x, y))
    mag = mag_err = math.nan
    if zp is not None and flux > 0:
        mag = zp - 2.5 * math.log10(flux)
        mag_err = 2.5 / math.log(10) * err / flux
    return DeblendedGalaxy(index, comp.astype(np.float32), flux, err, mag, mag_err, x, y, ra, dec,
                           shape.sigma * pixel_arcsec if shape else math.nan,
                           shape.e1 if shape else math.nan, shape.e2 if shape else math.nan,
                           flux >= MIN_SIGNIFICANCE * err)


def deblend_image(image: SkyImage, model: DecorasModel, positions: Sequence[tuple[float, float]], *,
                  psf_fwhm_arcsec: float | None = None, zero_point: float | None = None,
                  psf: np.ndarray | None = None, device: str = "auto", side: int | None = None,
                  progress: StageProgress | None = None, cancel: CancelFn | None = None) -> list[DeblendResult]:
    """Deblend the blends at pixel ``positions`` (x, y, 0-based) of ``image``: one result each.
    Each cutout is centred on the galaxy nearest its position (:func:`nearest_peak`): the network
    gives that galaxy first, and it was trained with a galaxy at the centre, not a point between two.

    ``psf_fwhm_arcsec`` (else the header's, see :mod:`decoras_gui.core.optical`, else the FWHM of
    the PSF image ``psf``) and ``zero_point`` (else the header's; None: no magnitudes).
    ``side``: the cutout's side in the image's pixels (default: :data:`CUTOUT` of the model's)."""
    import numpy as np
    from scipy import ndimage

    from ...core.deblend import DeblendResult
    from ...core.errors import DecorasError
    from ...core.optical import psf_fwhm_arcsec as header_fwhm
    from ...core.optical import zero_point as header_zp

    if not image.pixel_scale_deg:
        raise DecorasError("deblending needs the image's pixel size (a celestial WCS)", image.path)
    pixel = float(image.pixel_scale_deg) * 3600.0
    notes: list[str] = []
    found = header_fwhm(image.header, pixel)
    if psf_fwhm_arcsec is not None:
        fwhm, fwhm_source = float(psf_fwhm_arcsec), "given"
    elif found is not None:
        fwhm, fwhm_source = found.value, found.source
    elif psf is not None:
        fwhm, fwhm_source = psf_fwhm_of_image(psf, pixel), "the PSF image"
    else:
        raise DecorasError("deblending needs the PSF's FWHM: the header has no PSF_FWHM / SEEING / FWHM "
                           "keyword (give it, e.g. --psf-fwhm 0.8, or the PSF image)", image.path)
    if not (0.0 < fwhm < 60.0):
        raise DecorasError(f"a PSF FWHM of {fwhm:g} arcsec is not usable", image.path)
    zp_source = "given"
    if zero_point is None:
        found = header_zp(image.header, str(image.header.get("BUNIT", "")))
        zero_point, zp_source = (found.value, found.source) if found else (None, "none: no magnitudes")
    lo, hi = model.card.domain.get("psf_fwhm_range_arcsec", [fwhm, fwhm])
    if not (0.8 * lo <= fwhm <= 1.25 * hi):
        notes.append(f"the PSF's FWHM {fwhm:.2f}\" is outside the model's {lo:g}-{hi:g}\"")
    model_pixel = model_pixel_arcsec(model)
    zoom = pixel / model_pixel
    if abs(zoom - 1.0) <= 0.1:
        zoom = 1.0
    else:
        notes.append(f"resampled by {zoom:.3g} to the model's {model_pixel:g}\" pixels")
    n_img = int(side or round(CUTOUT / zoom))
    n_model = CUTOUT if side is None else max(32, int(math.ceil(n_img * zoom / 16.0)) * 16)
    data = image.data
    cut, origins, cut_notes = [], [], set()
    moved = 0
    for x, y in positions:
        px, py = nearest_peak(data, x, y, fwhm / pixel)
        moved += math.hypot(px - x, py - y) > 1.5
        c, origin, more = cutout_at(data, px, py, n_img)
        cut.append(c)
        origins.append(origin)
        cut_notes.update(more)
    notes += sorted(cut_notes)
    if moved:
        notes.append(f"{moved} of {len(positions)} cutout(s) centred on the galaxy nearest the position given "
                     "(the first component is that galaxy)")
    work = []
    for c in cut:
        filled = np.where(np.isfinite(c), c, np.nanmedian(c)).astype(np.float32)
        if n_model != n_img:
            filled = ndimage.zoom(filled, n_model / n_img, order=1, prefilter=False) * (n_img / n_model) ** 2
        work.append(filled)
    fwhm_model = fwhm / model_pixel
    raw = deblend_arrays(work, [fwhm_model] * len(work), model, device, cancel, progress)
    results = []
    for c, origin, (comps, bg, sigma) in zip(cut, origins, raw):
        if n_model != n_img:
            comps = np.stack([ndimage.zoom(k, n_img / n_model, order=1, prefilter=False) * (n_model / n_img) ** 2
                              for k in comps])
            sigma = background_and_noise(c)[1]
        comps = comps[np.argsort([-k.sum() for k in comps])]
        cutout_wcs = None
        if image.wcs is not None:
            cutout_wcs = image.wcs.deepcopy()
            cutout_wcs.wcs.crpix = cutout_wcs.wcs.crpix - np.array([origin[1], origin[0]], float)
        galaxies = [measure_galaxy(k + 1, comp, sigma, origin, image.wcs, pixel, zero_point)
                    for k, comp in enumerate(comps)]
        results.append(DeblendResult(np.nan_to_num(c - bg).astype(np.float32), origin, galaxies, sigma, bg, fwhm,
                                     fwhm_source, zero_point, zp_source, pixel, cutout_wcs, str(image.path),
                                     model.label, str(image.header.get("BUNIT", "")), list(notes)))
    blank = sum(not r.noise_sigma > 0 for r in results)
    if blank:
        raise DecorasError(f"{blank} cutout(s) have no measurable noise (blank or constant)", image.path)
    return results


class DeblendTask(Task):
    """Deblending two galaxies: optical cutout -> DeblendResult."""

    name = "deblend"
    label = "deblending two galaxies"
    result_kind = "components"
    networks = ("deblender",)
    loss_names = {"deblender": "l1"}
    study_objective = ("split fraction x (1 - flux MAPE) of the OOD blends separated by 1 PSF FWHM or more; "
                       "constraints: split fraction >= 0.9, flux MAPE <= 0.15 there")

    def sim_config(self, raw: Mapping[str, Any]) -> BlendConfig:
        from ...sim.blends import BlendConfig

        return BlendConfig.from_dict(dict(raw))

    def domain(self, config: TrainConfig) -> dict:
        from ...sim.camera import get_camera

        cam = get_camera(config.sim.camera)
        lo, hi = cam.psf_fwhm_range
        return {"instrument": config.instrument, "band": config.band, "image_kind": "optical",
                "camera": cam.name, "pixel_arcsec": cam.pixel_arcsec, "cell_mas": round(cam.pixel_arcsec * 1000, 1),
                "pixels_per_beam_minor": round(math.sqrt(lo * hi) / cam.pixel_arcsec, 3),
                "psf_fwhm_range_arcsec": [lo, hi], "psf_profile": f"Moffat beta {cam.moffat_beta_range[0]:g}-"
                                                                 f"{cam.moffat_beta_range[1]:g}",
                "depth_mag": cam.depth_mag, "zero_point": cam.zero_point,
                "mag_range": list(config.sim.mag_range), "separation_fwhm": list(config.sim.separation_fwhm),
                "flux_ratio": list(config.sim.flux_ratio), "cutout_pixels": CUTOUT}

    def study_fields(self, settings: Any) -> list:
        """``settings.val_fields`` OOD blends of the base's camera (seeds (VALIDATION_SEED, i))."""
        from dataclasses import replace

        from ...sim.blends import simulate_blend
        from ..automl import VALIDATION_SEED

        cfg = replace(settings.base.sim, size=CUTOUT, variety="ood")
        return [simulate_blend((VALIDATION_SEED, i), cfg) for i in range(settings.val_fields)]

    def study_score(self, model: DecorasModel, fields: list, settings: Any) -> dict:
        from ...eval.deblend_metrics import score_blend, summarise

        s = summarise([score_blend(o, f) for o, f in zip(deblend_blends(fields, model, "cpu"), fields)])
        wide = s["at_least_1_fwhm"]
        split = wide["split_fraction"] if math.isfinite(wide["split_fraction"]) else 0.0
        mape = min(1.0, wide["flux_mape"]) if math.isfinite(wide["flux_mape"]) else 1.0
        return {"value": split * (1.0 - mape), "split_ge_1fwhm": split, "flux_mape_ge_1fwhm": mape,
                "split_all": s["split_fraction"], "flux_mape_all": s["flux_mape"],
                "constraints": [0.9 - split, mape - 0.15]}

    def trial_sim(self, sim: BlendConfig, size: int) -> BlendConfig:
        return sim  # blends are small already: a trial trains on the base's

    def build_network(self, name: str, config: NetConfig) -> nn.Module:
        from ..networks import DeblendNet

        return DeblendNet(config)

    def training_pair(self, field_seed: tuple[int, int], sim: BlendConfig, crop: int,
                      options: Mapping[str, float] | None = None) -> dict[str, np.ndarray]:
        return training_views(field_seed, sim, crop, options, 1)[0]

    def training_views(self, field_seed: tuple[int, int], sim: BlendConfig, crop: int,
                       options: Mapping[str, float] | None = None, views: int = 1) -> list[dict[str, np.ndarray]]:
        return training_views(field_seed, sim, crop, options, views)

    def loss(self, name: str, net: nn.Module, batch: Mapping[str, torch.Tensor], config: TrainConfig) -> torch.Tensor:
        from ..networks import deblend_l1_loss

        return deblend_l1_loss(net(network_input(batch)), batch["target"], config.source_weight)

    def run(self, image: SkyImage, model: DecorasModel, *, device: str = "auto", threshold: float | None = None,
            progress: StageProgress | None = None, cancel: CancelFn | None = None,
            psf: Any = None, at: tuple[float, float] | None = None, psf_fwhm_arcsec: float | None = None,
            zero_point: float | None = None) -> RunOutput:
        """The blend at pixel ``at`` (x, y; default the image's centre); ``psf``: the PSF image
        (an array or its FITS file) when the header gives no FWHM."""
        import numpy as np

        if psf is not None and not isinstance(psf, np.ndarray):  # a PSF object or its file
            from astropy.io import fits

            psf = np.asarray(psf.data if hasattr(psf, "data") else fits.getdata(psf), float).squeeze()
        ny, nx = image.shape
        pos = at if at is not None else ((nx - 1) / 2.0, (ny - 1) / 2.0)
        (result,) = deblend_image(image, model, [pos], psf_fwhm_arcsec=psf_fwhm_arcsec, zero_point=zero_point,
                                  psf=psf, device=device, progress=progress, cancel=cancel)
        return RunOutput(result, list(result.notes))

    def baseline(self, image: SkyImage) -> list:
        """photutils' objects in the image (its noise from the sigma-clipped statistics)."""
        import numpy as np

        from ...core.optical import psf_fwhm_arcsec as header_fwhm
        from ...eval.deblend_baseline import photutils_deblend

        pixel = float(image.pixel_scale_deg) * 3600.0
        found = header_fwhm(image.header, pixel)
        data = np.nan_to_num(np.asarray(image.data, np.float32))
        bg, sigma = background_and_noise(data)
        return photutils_deblend(data - bg, (found.value if found else 0.8) / pixel, sigma)

    def evaluate(self, model: DecorasModel, seed: int, n_fields: int, *, sim: BlendConfig | None = None,
                 device: str = "auto", progress: Callable[[int, int], None] | None = None,
                 with_psf: bool = True) -> dict:
        """The network's and photutils' figures on ``n_fields`` fresh blends (default the OOD family)."""
        from dataclasses import replace

        from ...eval.deblend_baseline import photutils_deblend
        from ...eval.deblend_metrics import score_blend, summarise
        from ...sim.blends import BlendConfig, simulate_blend

        cfg = replace(sim or replace(BlendConfig.from_dict(model.card.training.get("config", {}).get("sim", {})),
                                     variety="ood"), size=CUTOUT)
        blends = [simulate_blend((seed, i), cfg) for i in range(n_fields)]
        t0 = time.perf_counter()
        ours = deblend_blends(blends, model, device)
        per = (time.perf_counter() - t0) / max(1, n_fields)
        net = [score_blend(o, f, per) for o, f in zip(ours, blends)]
        base = []
        for i, f in enumerate(blends):
            t0 = time.perf_counter()
            objects = photutils_deblend(f.image, f.psf_fwhm_arcsec / f.camera.pixel_arcsec, f.noise_sigma)
            base.append(score_blend(objects, f, time.perf_counter() - t0))
            if progress:
                progress(i + 1, n_fields)
        return {"model": model.label, "seed": seed, "n_fields": n_fields, "family": cfg.variety,
                "methods": {model.card.name: summarise(net), "photutils": summarise(base)}}

    def format_report(self, result: dict) -> str:
        from ...eval.deblend_metrics import format_report

        return format_report(result["methods"], f"evaluation of {result['model']} on {result['n_fields']} "
                                                f"{result.get('family', '')} blends, seed {result['seed']}")

    def calibrate(self, model: DecorasModel, card: ModelCard, data_seed: int, n_fields: int,
                  progress: Callable[[int, int], None] | None = None) -> str:
        """Measure (nothing to choose: the components are the answer) the split fraction and flux
        MAPE on validation blends of both families, seeds (data_seed + 1, i), into the card."""
        from dataclasses import replace

        from ...eval.deblend_metrics import score_blend, summarise
        from ...sim.blends import BlendConfig, simulate_blend

        base = replace(BlendConfig.from_dict(card.training.get("config", {}).get("sim", {})), size=CUTOUT)
        figures = {}
        for k, variety in enumerate(("wide", "ood")):
            blends = [simulate_blend((data_seed + 1, i), replace(base, variety=variety)) for i in range(n_fields)]
            s = summarise([score_blend(o, f) for o, f in zip(deblend_blends(blends, model), blends)])
            figures[variety] = {k2: s["at_least_1_fwhm"][k2] for k2 in ("split_fraction", "flux_mape")}
            if progress:
                progress(k + 1, 2)
        card.min_snr = MIN_SIGNIFICANCE
        card.training["calibration"] = {"fields": n_fields, "data_seed": data_seed + 1, "at_least_1_fwhm": figures,
                                        "min_significance": MIN_SIGNIFICANCE}
        w, o = figures["wide"], figures["ood"]
        return (f"validation at >= 1 FWHM: split {w['split_fraction']:.3f} / {o['split_fraction']:.3f}, flux MAPE "
                f"{w['flux_mape']:.3f} / {o['flux_mape']:.3f} (training family / OOD, {n_fields} blends each)")
