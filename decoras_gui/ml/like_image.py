"""A training configuration for the image in hand (``decoras automl --like IMAGE``).

What the image is comes from its header (:mod:`decoras_gui.core.image_domain`): the telescope
names the instrument file (:mod:`decoras_gui.sim.instrument`; the VLA's configuration is the one
whose resolution at the image's frequency is nearest its beam), the frequency picks the band,
the beam's sampling sets the pixels per beam the model trains on (within 30 % of the image's),
and dirty or restored sets how the simulator images. The networks start from the bundled model
of the same image kind (``vlba-l-band`` for dirty images, ``vlbi-restored`` for restored ones):
the study searches how to fine-tune them for this domain, which a CPU can afford. With
``from_scratch`` the study draws the networks' shape as well, starting from nothing.
"""

from __future__ import annotations

import math
import re
from dataclasses import replace
from pathlib import Path

from ..core.errors import DecorasError
from ..core.image import SkyImage
from ..core.image_domain import ImageDomain, image_domain
from ..paths import models_dir
from ..sim.instrument import Instrument, available_instruments, get_instrument
from .train import TrainConfig

#: the bundled configuration each kind of image starts from
BASE_FOR_KIND = {"dirty": "vlba-l-band", "restored": "vlbi-restored"}
PPB_SPAN = 1.3  # the sampling trained on: the image's / 1.3 .. x 1.3
PPB_LIMITS = (2.5, 12.0)


def instrument_for(domain: ImageDomain, image: SkyImage, path: Path) -> Instrument:
    """The instrument file for the image's telescope (for the VLA, the configuration whose
    resolution at the image's frequency is nearest the image's beam)."""
    if not domain.instrument:
        raise DecorasError("the header names no telescope (TELESCOP): say which with --instrument", path)
    known = available_instruments()
    exact = [i for i in known if i.name.upper() == domain.instrument.upper()]
    if exact:
        return exact[0]
    family = [i for i in known if i.name.upper().startswith(domain.instrument.upper() + "-")]
    if not family:
        names = ", ".join(i.name for i in known)
        raise DecorasError(f"no instrument file for the telescope {domain.telescop!r} (known: {names}); "
                           "add one with 'decoras instruments add'", path)
    if image.beam is None or domain.freq_hz is None or len(family) == 1:
        return family[0]
    beam_mas = math.sqrt(image.beam.major_mas * image.beam.minor_mas)

    def mismatch(inst: Instrument) -> float:
        lam = 299_792_458.0 / domain.freq_hz
        return abs(math.log(math.degrees(lam / inst.longest_baseline_m) * 3.6e6 / beam_mas))

    return min(family, key=mismatch)


def config_like(image: SkyImage, *, instrument: str | None = None, kind: str | None = None,
                name: str | None = None, folder: str | Path | None = None,
                from_scratch: bool = False) -> tuple[TrainConfig, ImageDomain]:
    """The training configuration of a model for images like ``image``, and what the image is."""
    path = image.path
    domain = image_domain(image)
    if kind:
        domain = replace(domain, kind=kind, kind_evidence="--kind")
    if not domain.kind:
        raise DecorasError("the header does not say whether the image is dirty or CLEANed (restored): "
                           "say which with --kind", path)
    inst = get_instrument(instrument) if instrument else instrument_for(domain, image, path)
    if domain.freq_hz is None:
        raise DecorasError("the header gives no frequency (a FREQ axis or RESTFRQ)", path)
    band = inst.band_at(domain.freq_hz)
    if not band.range_hz[0] <= domain.freq_hz <= band.range_hz[1]:
        raise DecorasError(f"{domain.freq_hz / 1e9:.4g} GHz is in no band of {inst.name} "
                           f"({', '.join(b.name for b in inst.bands.values())})", path)
    if domain.pixels_per_beam_minor is None:
        raise DecorasError("the image has no beam (BMAJ/BMIN, or an AIPS CLEAN BMAJ history line)", path)
    ppb = domain.pixels_per_beam_minor
    lo, hi = max(PPB_LIMITS[0], ppb / PPB_SPAN), min(PPB_LIMITS[1], ppb * PPB_SPAN)
    if lo >= hi:
        raise DecorasError(f"the beam is sampled by {ppb:.1f} pixels: outside {PPB_LIMITS[0]}-{PPB_LIMITS[1]}", path)
    base = TrainConfig.from_toml(Path(folder or models_dir()) / f"{BASE_FOR_KIND[domain.kind]}.toml")
    stem = re.sub(r"[^a-z0-9]+", "-", path.name.lower().split(".fits")[0]).strip("-")[:40] or "image"
    sim = replace(base.sim, instrument=inst.name, instrument_mix=(), band=band.name, image_kind=domain.kind,
                  schedule="random",
                  ppb_range=(round(lo, 2), round(hi, 2)), variety="wide")
    config = replace(
        base, name=name or f"like-{stem}", version="1.0.0", init_from="" if from_scratch else base.name,
        image_kind=domain.kind,
        instrument=inst.name, band=f"{band.name} ({band.centre_hz / 1e9:.3g} GHz)", sim=sim,
        psf_dropout=1.0 if domain.kind == "restored" else base.psf_dropout,
        description=f"trained for images like {path.name}: {inst.name} {band.name} band, {domain.kind}, "
                    f"{lo:.1f}-{hi:.1f} pixels per beam (decoras automl --like)")
    return config, domain
