"""Configuration of one simulated field (a frozen, hashable dataclass)."""

from __future__ import annotations

from dataclasses import dataclass

from ..core.errors import DecorasError

GRIDDERS = ("nearest", "kernel")
IMAGE_KINDS = ("dirty", "restored")
VARIETIES = ("none", "wide", "ood")


def config_from_dict(cls, d: dict):
    """An instance of the frozen configuration dataclass ``cls`` from a plain mapping (TOML, a
    model card's JSON): keys it has no field for are ignored, lists become tuples."""
    known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in known.items()})


@dataclass(frozen=True)
class SimConfig:
    """Everything but the seed that determines a simulated field.

    Geometry: ``size`` pixels of ``cell_mas`` (pixels per beam minor axis ~ 5 at the
    defaults; the networks depend on it), gridding ``pad`` factor.
    Array: ``instrument`` (:mod:`.instrument`: a bundled or added instrument's name, or a .toml
    file), ``band`` (one of its bands; empty: its first, or the named schedule's; 'any': with a
    ``variety``, each field draws one of its instrument's bands), ``instrument_mix`` (with a
    ``variety``: each field draws its instrument from these).
    Observation: ``schedule`` (one of the instrument's schedules -- the VLBA's 'mjive20' and
    'full-track' -- or 'random'); ``dec_deg`` fixed or
    None to draw it from ``dec_range`` per field, rounded to ``dec_step_deg`` for preset
    schedules so their uv coverage and beam can be cached (0: no rounding, no cache).
    Sky: 0..``max_sources`` sources per field (``empty_fraction`` of fields empty), kinds
    drawn with ``kind_probs`` (point, gaussian, double, core-jet), peak SNR log-uniform in
    ``snr_range`` relative to the predicted image rms, Gaussian major axes log-uniform in
    ``size_range_beams`` x the geometric-mean beam FWHM, pair separations uniform in
    ``sep_range_beams`` x the beam FWHM along the pair's direction.
    Corruptions: ``noise``; antenna gain errors (``gain_amp_sigma`` fractional,
    ``gain_phase_deg`` rms per antenna and scan).
    Imaging: ``weighting`` (natural, uniform, robust with ``robust``), a Gaussian uv ``taper``
    (0.5 at that fraction of the longest baseline; 0: none), ``gridder`` ('nearest': cell-centre
    gridding, :mod:`.imaging`; 'kernel': Kaiser-Bessel convolutional gridding, :mod:`.kernel_imaging`),
    ``image_kind`` 'dirty' (as imaged) or 'restored' (CLEANed and restored, :mod:`.clean`, each
    field's depth, gain and windows drawn).
    Variety (:mod:`.observations`): ``variety`` 'none' observes as configured; 'wide' draws each
    field's schedule, channels, smearing, stations, sensitivities, weighting, gains and beam
    sampling (``ppb_range`` pixels per beam minor axis, which then sets the cell size) from the
    training families; 'ood' from the validation families training never samples.  With
    ``crowded_fraction`` of fields holding up to ``crowded_max_sources``; groups at least
    ``min_sep_beams`` x BMAJ apart.
    """

    size: int = 256
    cell_mas: float = 1.0
    instrument: str = "VLBA"
    band: str = ""
    instrument_mix: tuple[str, ...] = ()
    pad: int = 2
    schedule: str = "mjive20"
    dec_deg: float | None = None
    dec_range: tuple[float, float] = (-10.0, 70.0)
    dec_step_deg: float = 1.0
    weighting: str = "natural"
    robust: float = 0.0
    max_sources: int = 5
    empty_fraction: float = 0.1
    kind_probs: tuple[float, float, float, float] = (0.4, 0.3, 0.15, 0.15)
    snr_range: tuple[float, float] = (3.0, 200.0)
    size_range_beams: tuple[float, float] = (0.3, 3.0)
    sep_range_beams: tuple[float, float] = (0.8, 4.0)
    separable_beams: float = 1.2
    margin_pix: int = 16
    noise: bool = True
    gain_amp_sigma: float = 0.0
    gain_phase_deg: float = 0.0
    mask_level: float = 0.5
    taper: float = 0.0
    gridder: str = "nearest"
    image_kind: str = "dirty"
    variety: str = "none"
    ppb_range: tuple[float, float] = (3.0, 8.0)
    crowded_fraction: float = 0.0
    crowded_max_sources: int = 25
    min_sep_beams: float = 3.0

    def __post_init__(self) -> None:
        from .array import schedule_names
        from .instrument import get_instrument

        inst = get_instrument(self.instrument)
        if self.schedule not in schedule_names(inst):
            raise DecorasError(f"unknown {inst.name} schedule {self.schedule!r}; choose one of "
                               f"{', '.join(schedule_names(inst))}")
        if self.band and self.band != "any":
            inst.band(self.band)  # an unknown band is refused here
        for name in self.instrument_mix:
            get_instrument(name)
        if self.size < 32 or self.size % 2:
            raise DecorasError(f"image size must be an even number >= 32, not {self.size}")
        if self.cell_mas <= 0 or self.pad < 1:
            raise DecorasError("cell size must be positive and pad >= 1")
        if self.max_sources < 0 or not 0.0 <= self.empty_fraction <= 1.0:
            raise DecorasError("max_sources must be >= 0 and empty_fraction within 0..1")
        if 2 * self.margin_pix >= self.size:
            raise DecorasError("margin_pix leaves no room for sources")
        if self.gridder not in GRIDDERS:
            raise DecorasError(f"unknown gridder {self.gridder!r}; choose one of {', '.join(GRIDDERS)}")
        if self.image_kind not in IMAGE_KINDS:
            raise DecorasError(f"unknown image kind {self.image_kind!r}; choose one of {', '.join(IMAGE_KINDS)}")
        if self.variety not in VARIETIES:
            raise DecorasError(f"unknown variety {self.variety!r}; choose one of {', '.join(VARIETIES)}")
        if not 0 < self.ppb_range[0] <= self.ppb_range[1]:
            raise DecorasError("ppb_range must be (low, high) pixels per beam, 0 < low <= high")

    @classmethod
    def from_dict(cls, d: dict) -> "SimConfig":
        """From a plain mapping (TOML, a model card's JSON): lists become tuples."""
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})
