"""Where a catalogue comes from, stamped into its metadata in one place.

:func:`stamp` writes the provenance keys of ``Catalogue.meta`` (see
:mod:`.catalogue`) for detections (``ml/characterize``), exports from the window and
``decoras export``; :func:`sky_frame` reads back the frame of the catalogue's ra/dec.

The rules of :func:`stamp`:

* **image** keys (:data:`IMAGE_KEYS`: image name and path, HDU, plane, BUNIT, beam,
  ``radesys``/``equinox`` of the image's celestial WCS) describe the image the positions
  were measured on. With an ``image`` they are all replaced by that image's, as a group:
  a key the image has no value for (no beam, no celestial WCS, the plane of a 2-D image)
  is removed, so a catalogue never carries values of another image. Without an image
  they are kept as they are (exporting a session whose image is gone).
* **model** keys (``model``, ``model_version``) name the model that found the sources:
  they are set from ``model``/``model_version`` only when the catalogue names no model
  yet, and never overwritten (a new Detect run makes a fresh catalogue).
* **creator** keys (``creator``, ``creator_version``) name the program writing the
  catalogue: always overwritten (unless ``creator=None``).

``radesys`` is the WCS's RADESYS in upper case (``ICRS`` when the WCS says none): ra/dec
stay in the image's own frame, since converting e.g. an AIPS "J2000" (formally FK5) VLBI
image to ICRS would move every source by tens of mas. ``equinox`` (Julian or Besselian
years, as FITS EQUINOX) is written only when it is not the frame's default (J2000 for
FK5, B1950 for FK4), as in FITS itself, where a missing EQUINOX means that default.
The keys are kept in a fixed order (:data:`KEY_ORDER`), other keys after them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, MutableMapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .catalogue import Catalogue
    from .image import SkyImage

__all__ = ["IMAGE_KEYS", "MODEL_KEYS", "CREATOR_KEYS", "KEY_ORDER", "image_provenance", "stamp", "sky_frame"]

IMAGE_KEYS: tuple[str, ...] = ("image", "image_path", "hdu", "plane", "bunit", "beam_maj", "beam_min", "beam_pa",
                               "radesys", "equinox")
MODEL_KEYS: tuple[str, ...] = ("model", "model_version")
CREATOR_KEYS: tuple[str, ...] = ("creator", "creator_version")
KEY_ORDER: tuple[str, ...] = ("image", "image_path", "hdu", "plane", "model", "model_version", "bunit", "beam_maj",
                              "beam_min", "beam_pa", "radesys", "equinox", "creator", "creator_version")

_DEFAULT_EQUINOX = {"FK5": 2000.0, "FK4": 1950.0, "FK4-NO-E": 1950.0}
# RADESYS (FITS) -> astropy frame name
_FRAME_NAMES = {"ICRS": "icrs", "FK5": "fk5", "FK4": "fk4", "FK4-NO-E": "fk4noeterms", "GALACTIC": "galactic"}


def image_provenance(image: SkyImage) -> dict[str, Any]:
    """The :data:`IMAGE_KEYS` values an image has (keys it has no value for are left out)."""
    meta: dict[str, Any] = {"image": image.name, "image_path": str(image.path), "hdu": image.hdu_index}
    if image.plane:
        meta["plane"] = [int(i) for i in image.plane]
    meta["bunit"] = image.unit.to_string()
    if image.beam is not None:
        meta.update(beam_maj=image.beam.major_arcsec, beam_min=image.beam.minor_arcsec, beam_pa=image.beam.pa)
    if image.wcs is not None:
        radesys = (image.wcs.wcs.radesys or "ICRS").strip().upper()
        meta["radesys"] = radesys
        equinox = float(image.wcs.wcs.equinox)
        if radesys in _DEFAULT_EQUINOX and math.isfinite(equinox) and equinox != _DEFAULT_EQUINOX[radesys]:
            meta["equinox"] = equinox
    return meta


def stamp(
    target: Catalogue | MutableMapping[str, Any],
    image: SkyImage | None = None,
    *,
    model: str | None = None,
    model_version: str | None = None,
    creator: str | None = "decoras",
) -> MutableMapping[str, Any]:
    """Stamp provenance into a catalogue's ``meta`` (or into a meta mapping), in place, by
    the rules of this module's docstring; returns the meta."""
    meta = target if isinstance(target, MutableMapping) else target.meta
    if image is not None:
        for key in IMAGE_KEYS:
            meta.pop(key, None)
        meta.update(image_provenance(image))
    if model is not None and not meta.get("model"):
        meta["model"] = model
        meta["model_version"] = model_version or ""
    if creator is not None:
        from .. import __version__

        meta["creator"] = creator
        meta["creator_version"] = __version__
    ordered = {key: meta[key] for key in KEY_ORDER if key in meta}
    ordered.update((key, value) for key, value in meta.items() if key not in ordered)
    meta.clear()
    meta.update(ordered)
    return meta


def sky_frame(meta: Mapping[str, Any] | None):
    """The astropy frame of a catalogue's ra/dec from its ``radesys``/``equinox`` (a name
    such as ``'icrs'``, or a frame object when an equinox is given); ICRS when unknown."""
    from astropy.coordinates import frame_transform_graph
    from astropy.time import Time

    meta = meta or {}
    radesys = str(meta.get("radesys") or "ICRS").strip().upper()
    name = _FRAME_NAMES.get(radesys, "icrs")
    equinox = meta.get("equinox")
    if name not in ("fk5", "fk4", "fk4noeterms") or equinox is None:
        return name
    prefix = "J" if name == "fk5" else "B"
    return frame_transform_graph.lookup_name(name)(equinox=Time(f"{prefix}{float(equinox)}"))
