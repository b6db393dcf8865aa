"""The DECORAS encoder-decoder networks (Rezaei et al. 2022, MNRAS 510, 5891).

Two small convolutional encoder-decoders with skip connections read a dirty image in
units of its robust rms (signal-to-noise, not Jy):

* :class:`DetectionNet` gives a per-pixel source logit (trained with binary cross-entropy);
* :class:`CharacterizationNet` gives the noise-free brightness restored with the clean
  beam, free of dirty-beam sidelobes, in rms units (trained with mean squared
  logarithmic error).

Both are fully convolutional, so they run on any image whose sides are multiples of
``2**depth``; inference tiles large images.

The input tensor is (N, C, H, W): channel 0 the image in rms units; a network with
``psf_channel`` also reads channel 1, the bright sources' sidelobes predicted from the dirty
beam (:mod:`.sidelobe_map`), and channel 2, 1 where a dirty beam was given (a one-channel
input means no dirty beam).  ``block`` 'residual' adds identity shortcuts to the conv blocks,
``attention`` a squeeze-and-excitation gate per block: shapes the AutoML search chooses among.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F


@dataclass(frozen=True)
class NetConfig:
    """Shape of one encoder-decoder."""

    widths: tuple[int, ...] = (16, 32, 64)
    convs_per_level: int = 2
    stem_stride: int = 1  # 2: work at half resolution (the maps are beam-smooth), upsample at the end
    block: str = "plain"  # or "residual"
    attention: bool = False  # squeeze-and-excitation after each block
    # the squeeze's extent in input pixels (0: the whole input). A global squeeze makes every
    # output depend on the whole tile, so tiled inference would depend on where the tiles fall;
    # a local one over the training crop's extent sees at inference what it saw in training.
    attention_window: int = 0
    psf_channel: bool = False  # reads the predicted-sidelobe channel and the has-a-PSF flag

    @property
    def depth(self) -> int:
        """Number of 2x downsamplings, the stem's included."""
        return len(self.widths) - 1 + (self.stem_stride == 2)

    def to_dict(self) -> dict:
        """Plain data; the options added after version 1 only when not at their default (so the
        cards of older models read and compare as they were written)."""
        out = {"widths": list(self.widths), "convs_per_level": self.convs_per_level, "stem_stride": self.stem_stride}
        for key, default in (("block", "plain"), ("attention", False), ("psf_channel", False),
                             ("attention_window", 0)):
            if getattr(self, key) != default:
                out[key] = getattr(self, key)
        return out

    @classmethod
    def from_dict(cls, d: dict) -> "NetConfig":
        block = str(d.get("block", "plain"))
        if block not in ("plain", "residual"):
            raise ValueError(f"unknown block {block!r} (plain, residual)")
        return cls(widths=tuple(int(w) for w in d["widths"]), convs_per_level=int(d.get("convs_per_level", 2)),
                   stem_stride=int(d.get("stem_stride", 1)), block=block, attention=bool(d.get("attention", False)),
                   psf_channel=bool(d.get("psf_channel", False)),
                   attention_window=int(d.get("attention_window", 0)))

    @property
    def in_channels(self) -> int:
        return IN_CHANNELS + (2 if self.psf_channel else 0)


def input_features(x: torch.Tensor, psf_channel: bool = False) -> torch.Tensor:
    """Network input channels from an image in rms units, (N, C, H, W) -> (N, 2 or 4, H, W).

    One channel keeps the faint regime linear (clipped at +/-10 sigma), the other
    compresses the bright regime logarithmically (asinh), so a 3-sigma source and a
    1000-sigma source are both seen.  With ``psf_channel``: the predicted sidelobes (asinh)
    and the has-a-PSF flag, zeros when ``x`` has one channel only.
    """
    x = torch.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0)
    snr = x[:, :1]
    feats = [snr.clamp(-10.0, 10.0) / 5.0, torch.asinh(snr) / 3.0]
    if psf_channel:
        if x.shape[1] >= 3:
            feats += [torch.asinh(x[:, 1:2]) / 3.0, x[:, 2:3]]
        else:
            feats += [torch.zeros_like(snr), torch.zeros_like(snr)]
    return torch.cat(feats, dim=1)


IN_CHANNELS = 2  # channels made from the image itself


class _Block(nn.Sequential):
    def __init__(self, c_in: int, c_out: int, n: int):
        layers: list[nn.Module] = []
        for i in range(n):
            layers += [nn.Conv2d(c_in if i == 0 else c_out, c_out, 3, padding=1, bias=False),
                       nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]
        super().__init__(*layers)


class _SqueezeExcite(nn.Module):
    """Channel attention: a gate per channel from the block's average, over the whole input
    (``window`` 0) or over a ``window`` x ``window`` neighbourhood of each pixel (a separable box
    mean, the image edges not counted), so that the gate is local and tiles agree."""

    def __init__(self, c: int, reduction: int = 4, window: int = 0):
        super().__init__()
        self.fc = nn.Sequential(nn.Linear(c, max(4, c // reduction)), nn.ReLU(inplace=True),
                                nn.Linear(max(4, c // reduction), c), nn.Sigmoid())
        self.half = max(0, int(window) // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.half:
            return x * self.fc(x.mean(dim=(2, 3)))[:, :, None, None]
        h = self.half
        k = 2 * h + 1
        m = F.avg_pool2d(x, (1, k), stride=1, padding=(0, h), count_include_pad=False)
        m = F.avg_pool2d(m, (k, 1), stride=1, padding=(h, 0), count_include_pad=False)
        return x * self.fc(m.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class _ResBlock(nn.Module):
    """Conv block with an identity (or 1x1) shortcut, optionally gated by channel attention."""

    def __init__(self, c_in: int, c_out: int, n: int, residual: bool, attention: bool, window: int = 0):
        super().__init__()
        self.body = _Block(c_in, c_out, n)
        self.gate = _SqueezeExcite(c_out, window=window) if attention else nn.Identity()
        self.short = ((nn.Identity() if c_in == c_out else nn.Conv2d(c_in, c_out, 1, bias=False))
                      if residual else None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.gate(self.body(x))
        return y if self.short is None else y + self.short(x)


def _block(c_in: int, c_out: int, config: NetConfig, stride: int = 1) -> nn.Module:
    """The plain block of version 1 (same parameter names), or the residual / attention one
    (``stride``: input pixels per pixel of the block's features, for the attention window)."""
    if config.block == "plain" and not config.attention:
        return _Block(c_in, c_out, config.convs_per_level)
    window = max(1, config.attention_window // stride) if config.attention_window else 0
    return _ResBlock(c_in, c_out, config.convs_per_level, config.block == "residual", config.attention, window)


class EncoderDecoder(nn.Module):
    """A compact U-Net: conv blocks, max-pool down, bilinear up, skip concatenation."""

    def __init__(self, config: NetConfig, out_channels: int = 1):
        super().__init__()
        self.config = config
        w = config.widths
        if config.stem_stride not in (1, 2):
            raise ValueError("stem_stride must be 1 or 2")
        # kernel 4, stride 2, padding 1: half-resolution pixel i is centred on input 2i + 0.5,
        # exactly where the final bilinear upsampling (align_corners=False) puts it back.
        c_in = self.feature_channels(config)
        self.stem = (nn.Sequential(nn.Conv2d(c_in, w[0], 4, stride=2, padding=1, bias=False),
                                   nn.BatchNorm2d(w[0]), nn.ReLU(inplace=True))
                     if config.stem_stride == 2 else nn.Identity())
        first_in = w[0] if config.stem_stride == 2 else c_in
        s0 = config.stem_stride
        self.down = nn.ModuleList([_block(first_in if i == 0 else w[i - 1], w[i], config, s0 * 2**i)
                                   for i in range(len(w))])
        self.up = nn.ModuleList([_block(w[i + 1] + w[i], w[i], config, s0 * 2**i)
                                 for i in reversed(range(len(w) - 1))])
        self.head = nn.Conv2d(w[0], out_channels, 1)

    @staticmethod
    def feature_channels(config: NetConfig) -> int:
        """Channels :meth:`features` makes (what the first convolution reads)."""
        return config.in_channels

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The first convolution's input from the network's input tensor."""
        return input_features(x, self.config.psf_channel)

    def forward(self, snr: torch.Tensor) -> torch.Tensor:
        x = self.stem(self.features(snr))
        skips = []
        for i, block in enumerate(self.down):
            if i:
                x = F.max_pool2d(x, 2)
            x = block(x)
            skips.append(x)
        for block, skip in zip(self.up, reversed(skips[:-1])):
            x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            x = block(torch.cat([x, skip], dim=1))
        x = self.head(x)
        if self.config.stem_stride == 2:
            x = F.interpolate(x, size=snr.shape[-2:], mode="bilinear", align_corners=False)
        return x


class DetectionNet(EncoderDecoder):
    """Per-pixel logit that the pixel belongs to a source (apply sigmoid for probability)."""


class CharacterizationNet(EncoderDecoder):
    """Noise-free restored brightness in rms units (non-negative).

    Residual form: the dirty image's main lobe already approximates the restored source,
    so the network learns the correction (sidelobes and noise to remove) on top of it:
    ``softplus(correction + gain * dirty)`` with a learned scalar ``gain``.
    """

    def __init__(self, config: NetConfig, out_channels: int = 1):
        super().__init__(config, out_channels)
        self.skip_gain = nn.Parameter(torch.ones(1))

    def forward(self, snr: torch.Tensor) -> torch.Tensor:
        dirty = torch.nan_to_num(snr[:, :1], nan=0.0, posinf=0.0, neginf=0.0)
        return F.softplus(super().forward(snr) + self.skip_gain * dirty)


class DeblendNet(EncoderDecoder):
    """Two galaxies' noise-free images from a blend, in units of the cutout's noise rms.

    Input (N, 2, H, W): channel 0 the cutout in noise units, channel 1 the PSF's FWHM in pixels
    (a constant plane; read only with ``psf_channel``). The first convolution also sees each pixel's
    offset from the cutout's centre (two coordinate planes): the first component is the galaxy at
    the centre -- the one the user pointed at -- and the second its neighbour. The head gives the
    blend's total noise-free light ``M = softplus(h0 + gain * snr)`` (residual form, as the
    characterization network's) and the share ``s = sigmoid(h1)`` of it that is the centre galaxy's:
    the components ``M s`` and ``M (1 - s)`` are non-negative and sum to the data minus the noise by
    construction.
    """

    def __init__(self, config: NetConfig, out_channels: int = 2):
        super().__init__(config, 2)
        self.skip_gain = nn.Parameter(torch.ones(1))

    @staticmethod
    def feature_channels(config: NetConfig) -> int:
        return 4 + bool(config.psf_channel)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0)
        snr = x[:, :1]
        n, _, h, w = snr.shape
        yy = (torch.arange(h, dtype=snr.dtype, device=snr.device) - (h - 1) / 2.0) / 32.0
        xx = (torch.arange(w, dtype=snr.dtype, device=snr.device) - (w - 1) / 2.0) / 32.0
        feats = [snr.clamp(-10.0, 10.0) / 5.0, torch.asinh(snr) / 3.0,
                 xx.view(1, 1, 1, w).expand(n, 1, h, w), yy.view(1, 1, h, 1).expand(n, 1, h, w)]
        if self.config.psf_channel:
            fwhm = x[:, 1:2] if x.shape[1] > 1 else torch.full_like(snr, 3.7)
            feats.append(fwhm - 3.7)  # about 0 for the VST's median seeing on its pixels
        return torch.cat(feats, dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        snr = torch.nan_to_num(x[:, :1], nan=0.0, posinf=0.0, neginf=0.0)
        h = super().forward(x)
        total = F.softplus(h[:, :1] + self.skip_gain * snr)
        share = torch.sigmoid(h[:, 1:2])
        return torch.cat([total * share, total * (1.0 - share)], dim=1)


def deblend_l1_loss(pred: torch.Tensor, target: torch.Tensor, flux_weight: float = 1.0) -> torch.Tensor:
    """Loss of two predicted components (N, 2, H, W) against the true two (the centre galaxy
    first): per blend, the sum over the galaxies of the L1 image error and ``flux_weight`` times
    the absolute flux error, both as fractions of the galaxy's flux."""
    flux = target.sum(dim=(2, 3)).clamp_min(1e-3)  # (N, 2)
    image = (pred - target).abs().sum(dim=(2, 3)) / flux
    total = (pred.sum(dim=(2, 3)) - target.sum(dim=(2, 3))).abs() / flux
    return (image + flux_weight * total).sum(dim=1).mean()


def msle_loss(pred: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None = None) -> torch.Tensor:
    """Mean squared logarithmic error for non-negative maps, optionally pixel-weighted."""
    err = (torch.log1p(pred) - torch.log1p(target.clamp_min(0.0))) ** 2
    if weight is None:
        return torch.mean(err)
    return torch.sum(err * weight) / torch.sum(weight)
