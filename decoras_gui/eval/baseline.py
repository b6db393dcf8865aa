"""The classical baseline: rms-threshold segmentation of the dirty image (photutils).

Pixels above ``nsigma`` x the robust rms are segmented and deblended on the dirty image,
and each segment is measured on the dirty image with the same elliptical Gaussian fit
the networks' sources get: the same measuring code, only the finder differs.
"""

from __future__ import annotations

import numpy as np

from ..core.catalogue import Catalogue
from ..core.image import SkyImage
from ..ml.characterize import CharacterizeSettings, characterize
from ..ml.inference import NetworkMaps

BASELINE_NAME = "photutils-5sigma"


def photutils_baseline(image: SkyImage, nsigma: float = 5.0, rms_map: np.ndarray | None = None) -> Catalogue:
    """Sources above ``nsigma`` x rms in the dirty image, as a Catalogue."""
    data = np.asarray(image.data, dtype=np.float32)
    rms = image.rms
    above = np.where(np.isfinite(data), (data >= nsigma * rms).astype(np.float32), np.nan)
    maps = NetworkMaps(probability=above, restored=data, rms=rms, zoom=1.0, device="cpu")
    settings = CharacterizeSettings(threshold=0.5, min_area_beams=0.0, min_snr=0.0)  # its own 5-sigma cut
    return characterize(image, maps, model_name=BASELINE_NAME, settings=settings, rms_map=rms_map)
