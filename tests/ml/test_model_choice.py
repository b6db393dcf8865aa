"""The app chooses the model: card domains against what an image's header says."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from decoras_gui.core.image import load_fits
from decoras_gui.core.image_domain import ImageDomain, image_domain
from decoras_gui.ml.model_choice import check, choose_model, domain_text
from decoras_gui.ml.registry import available_models, read_card
from decoras_gui.paths import models_dir, resources_dir  # noqa: F401

REAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "real"
SAMPLE = resources_dir() / "sample_vlba_dirty.fits"


def _vlba():
    return read_card(models_dir() / "vlba-l-band.json")


def test_the_bundled_model_covers_the_sample_and_says_why():
    choice = choose_model(available_models(task="detect"), image_domain(load_fits(SAMPLE)))
    assert choice.card.name == "vlba-l-band" and choice.covered and choice.warning() is None
    assert "instrument VLBA" in choice.summary() and "dirty image" in choice.summary()


def test_each_mismatch_is_named():
    card = _vlba()
    far = ImageDomain("EVN", "EVN", 5.0e9, "restored", "NITER = 300", 12.0)
    c = check(card, far)
    assert not c.covers and len(c.mismatches) == 3
    assert any("EVN" in m for m in c.mismatches) and any("5 GHz" in m for m in c.mismatches)
    assert any("restored" in m and "NITER" in m for m in c.mismatches)
    blank = ImageDomain("", "", None, "", "the header does not say", None)
    c = check(card, blank)
    assert c.covers and len(c.unknowns) == 3  # nothing says no: noted, not excluded
    assert "VLBA" in domain_text(card) and "dirty" in domain_text(card)


def test_the_bundled_models_are_chosen_for_the_real_images_they_cover():
    """The real EVN and VLBA images (CLEANed) pick vlbi-restored; the dirty sample picks
    vlba-l-band; the VLA K-band image is outside every domain and says why."""
    evn, vlba = REAL / "evn_L_4C39.25_n05l1_ICLN.fits", REAL / "vlba_X_NGC1052_2017-04-04_map.fits"
    if not evn.is_file():
        pytest.skip("the observed images are not here")
    cards = available_models(task="detect")
    assert {"vlba-l-band", "vlbi-restored", "evn-l-band"} <= {c.name for c in cards}
    for path in (evn, vlba):
        choice = choose_model(cards, image_domain(load_fits(path)))
        assert choice.card.name == "vlbi-restored" and choice.covered, path.name
        assert "restored image" in choice.summary()
    assert choose_model(cards, image_domain(load_fits(SAMPLE))).card.name == "vlba-l-band"
    with pytest.warns(Warning):  # its header carries a BLANK keyword on float data
        w51 = image_domain(load_fits(REAL / "nvas_vla_K_W51.fits"))
    outside = choose_model(cards, w51)
    assert not outside.covered and "outside the domain of every installed model" in outside.warning()
    assert "instrument VLA" in outside.warning() and "22.5 GHz" in outside.warning()


def test_a_dirty_evn_image_picks_evn_l_band(tmp_path):
    """No observed dirty EVN image is among ../shared/data/real: the real EVN image's own header
    and pixels, written as AIPS IMAGR writes a dirty image (NITER = 0), pick evn-l-band, and the
    same file CLEANed (as observed) keeps vlbi-restored."""
    from astropy.io import fits

    evn = REAL / "evn_L_4C39.25_n05l1_ICLN.fits"
    if not evn.is_file():
        pytest.skip("the observed images are not here")
    dirty = tmp_path / "evn_L_4C39.25_IBM001.fits"
    with fits.open(evn) as hdus:
        hdus[0].header["NITER"] = 0
        hdus.writeto(dirty)
    cards = available_models(task="detect")
    choice = choose_model(cards, image_domain(load_fits(dirty)))
    assert choice.card.name == "evn-l-band" and choice.covered
    assert "instrument EVN" in choice.summary() and "dirty image" in choice.summary()
    assert choose_model(cards, image_domain(load_fits(evn))).card.name == "vlbi-restored"


def _decoras(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "decoras_gui", *args], capture_output=True, text=True)


def test_decoras_detect_says_which_model_and_warns_outside_every_domain(tmp_path):
    ok = _decoras("detect", str(SAMPLE), "--catalog", str(tmp_path / "s.ecsv"))
    assert ok.returncode == 0, ok.stderr
    assert "model vlba-l-band" in ok.stderr and "covers this image" in ok.stderr and "warning" not in ok.stderr
    evn, w51 = REAL / "evn_L_4C39.25_n05l1_ICLN.fits", REAL / "nvas_vla_K_W51.fits"
    if not evn.is_file():
        pytest.skip("the observed images are not here")
    out = _decoras("detect", str(evn), "--catalog", str(tmp_path / "e.ecsv"))
    assert out.returncode == 0, out.stderr
    assert "model vlbi-restored" in out.stderr and "covers this image" in out.stderr and "warning" not in out.stderr
    assert "vlbi-restored" in (tmp_path / "e.ecsv").read_text()  # the catalogue names the model that made it
    out = _decoras("detect", str(w51), "--catalog", str(tmp_path / "w.ecsv"))
    assert out.returncode == 0, out.stderr
    assert "warning: This image (VLA" in out.stderr and "outside the domain of every installed model" in out.stderr


def test_decoras_models_lists_domains_figures_and_studies_and_explains_a_choice():
    listed = _decoras("models")
    assert listed.returncode == 0, listed.stderr
    assert "domain: VLBA" in listed.stdout and "AutoML study" in listed.stdout and "purity" in listed.stdout
    why = _decoras("models", "--for", str(SAMPLE))
    assert why.returncode == 0 and "covers it" in why.stdout

