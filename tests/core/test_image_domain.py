"""What an image is, from its header: the five observed images, the simulator's, and the
keywords imaging programs write."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from decoras_gui.core.image import load_fits
from decoras_gui.core.image_domain import header_domain, image_domain
from decoras_gui.paths import resources_dir

REAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "real"

#: file -> (instrument, GHz, kind) as their headers and the data README say
OBSERVED = {
    "evn_L_4C39.25_n05l1_ICLN.fits": ("EVN", 1.653, "restored"),
    "vlba_X_NGC1052_2017-04-04_map.fits": ("VLBA", 8.416, "restored"),
    "nvss_postage_stamp_aips.fits": ("VLA", 1.4, "restored"),
    "atca_phoenix_deep_1.4GHz_sub.fits": ("ATCA", 1.4, "restored"),
    "nvas_vla_K_W51.fits": ("VLA", 22.46, "restored"),
}


@pytest.mark.parametrize("name", sorted(OBSERVED))
def test_the_observed_images_say_what_they_are(name):
    path = REAL / name
    if not path.is_file():
        pytest.skip(f"{path} is not here")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # two of them carry a BLANK keyword on float data (astropy says so)
        dom = image_domain(load_fits(path))
    instrument, ghz, kind = OBSERVED[name]
    assert dom.instrument == instrument
    assert dom.freq_hz / 1e9 == pytest.approx(ghz, rel=1e-3)
    assert dom.kind == kind and dom.kind_evidence
    assert 2.0 < dom.pixels_per_beam_minor < 20.0
    # the header alone (what decoras detect chooses a model by, before reading the image) agrees
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        quick = header_domain(fits.getheader(path), path.name)
    assert (quick.instrument, quick.freq_hz, quick.kind) == (dom.instrument, dom.freq_hz, dom.kind)


def test_the_simulated_sample_is_a_dirty_vlba_image():
    dom = image_domain(load_fits(resources_dir() / "sample_vlba_dirty.fits"))
    assert (dom.instrument, dom.kind) == ("VLBA", "dirty")
    assert "simulator" in dom.kind_evidence
    assert dom.freq_hz == pytest.approx(1.4e9, rel=0.05)


def _image(tmp_path, name: str, **cards) -> Path:
    h = fits.Header()
    h["CTYPE1"], h["CTYPE2"], h["CDELT1"], h["CDELT2"] = "RA---SIN", "DEC--SIN", -1e-6, 1e-6
    h["CRVAL1"], h["CRVAL2"], h["CRPIX1"], h["CRPIX2"] = 10.0, 20.0, 16.0, 16.0
    history = cards.pop("HISTORY", [])
    for key, value in cards.items():
        h[key] = value
    for line in history:
        h.add_history(line)
    path = tmp_path / name
    fits.PrimaryHDU(np.random.default_rng(0).normal(size=(32, 32)).astype(np.float32), h).writeto(path)
    return path


def test_keywords_and_history_of_imaging_programs(tmp_path):
    cases = [
        ("a.fits", {"TELESCOP": "MeerKAT", "WSCNITER": 5000}, ("MEERKAT", "restored")),
        ("b.fits", {"TELESCOP": "LOFAR", "WSCNITER": 0}, ("LOFAR-HBA", "dirty")),
        ("c.fits", {"TELESCOP": "ATCA", "HISTORY": ["RESTOR: Miriad restor: Revision 1.7"]}, ("ATCA", "restored")),
        ("d.fits", {"TELESCOP": "EVLA", "HISTORY": ["tclean(vis='x.ms', niter=1000)"]}, ("VLA", "restored")),
        ("e.fits", {"TELESCOP": "VLA", "HISTORY": ["AIPS   CLEAN NITER=        0 PRODUCT=1"]}, ("VLA", "dirty")),
        ("field-dirty.fits", {"TELESCOP": "LOFAR"}, ("LOFAR-HBA", "dirty")),
        ("f.fits", {}, ("", "")),
    ]
    for name, cards, (instrument, kind) in cases:
        dom = image_domain(load_fits(_image(tmp_path, name, **cards)))
        assert (dom.instrument, dom.kind) == (instrument, kind), name
    unknown = image_domain(load_fits(tmp_path / "f.fits"))
    assert "not stated" in unknown.describe() and unknown.freq_hz is None
