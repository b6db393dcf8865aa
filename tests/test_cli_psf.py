"""`decoras detect` with a dirty beam: found beside each image, given with --psf, refused when it is
not one, and the likely sidelobes dropped with --drop-sidelobes (bundled model, simulated files)."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from decoras_gui.cli import main
from decoras_gui.core.catalogue import Catalogue
from tests.conftest import write_bright_point


@pytest.fixture(scope="module")
def bright(tmp_path_factory):
    """A 400-sigma point source at the centre of a 256 x 256 mjive20 field: the bundled model makes
    false detections on its sidelobes. NAME.fits with NAME_beam.fits beside it."""
    image, beam = write_bright_point(tmp_path_factory.mktemp("bright"))
    return image, beam


#: vlba-l-band 1.0.0 (kept for the refactoring guard): it has no dirty-beam channel, and takes the
#: bright point's sidelobes for sources, which is what the sidelobe test is there to catch
V1 = ["--model", str(Path(__file__).resolve().parent / "data" / "refactor" / "model" / "vlba-l-band.json")]


def test_the_bundled_model_reads_the_dirty_beam_and_finds_the_point_alone(bright, tmp_path, capsys):
    image, _ = bright
    with_psf, without = tmp_path / "with.ecsv", tmp_path / "without.ecsv"
    assert main(["detect", str(image), "--catalog", str(with_psf), "--device", "cpu"]) == 0
    assert "found beside the image" in capsys.readouterr().err
    alone = tmp_path / "alone.fits"  # the same image, its dirty beam not beside it
    shutil.copy(image, alone)
    assert main(["detect", str(alone), "--catalog", str(without), "--device", "cpu"]) == 0
    assert "no dirty beam was given" in capsys.readouterr().err
    assert len(Catalogue.read(with_psf)) == 1  # the 400-sigma point and none of its sidelobes
    assert len(Catalogue.read(without)) >= 1


def test_psf_found_beside_the_image(bright, tmp_path, capsys):
    image, _ = bright
    out = tmp_path / "cat.ecsv"
    assert main(["detect", str(image), "--catalog", str(out), "--device", "cpu", *V1]) == 0
    err = capsys.readouterr().err
    assert "bright.fits: note: dirty beam bright_beam.fits found beside the image" in err
    assert "sidelobe test with the dirty beam bright_beam.fits" in err and "no dirty beam" not in err
    cat = Catalogue.read(out)
    assert len(cat) >= 2 and all(0.0 <= s.p_sidelobe <= 1.0 for s in cat)
    flagged = [s for s in cat if s.p_sidelobe > 0.5]
    brightest = max(cat, key=lambda s: s.peak_flux)
    assert flagged and all(s.sidelobe_of == brightest.source_id for s in flagged)
    assert all(s.note == "likely a sidelobe of a brighter source" and s.status == "candidate" for s in flagged)
    assert cat.meta["psf"] == "bright_beam.fits"


def test_drop_sidelobes(bright, tmp_path, capsys):
    image, _ = bright
    kept, dropped = tmp_path / "kept.ecsv", tmp_path / "dropped.ecsv"
    reg = tmp_path / "dropped.reg"
    assert main(["detect", str(image), "--catalog", str(kept), "--device", "cpu", *V1]) == 0
    assert main(["detect", str(image), "--catalog", str(dropped), "--regions", str(reg), "--device", "cpu",
                 "--drop-sidelobes", *V1]) == 0
    n_flagged = sum(s.p_sidelobe > 0.5 for s in Catalogue.read(kept))
    assert n_flagged >= 1
    assert f"{n_flagged} likely sidelobes left out (--drop-sidelobes)" in capsys.readouterr().err
    left = Catalogue.read(dropped)
    assert len(left) == len(Catalogue.read(kept)) - n_flagged and all(s.p_sidelobe <= 0.5 for s in left)
    assert reg.read_text().count("ellipse(") == len(left)


def test_psf_option_and_batch_auto_find(bright, tmp_path, capsys):
    image, beam = bright
    alone = tmp_path / "alone.fits"  # no PSF beside it
    shutil.copy(image, alone)
    other = tmp_path / "elsewhere.fits"
    shutil.copy(beam, other)
    out = tmp_path / "one.ecsv"
    assert main(["detect", str(alone), "--catalog", str(out), "--psf", str(other), "--device", "cpu"]) == 0
    err = capsys.readouterr().err
    assert "sidelobe test with the dirty beam elsewhere.fits" in err and "found beside" not in err
    assert all(math.isfinite(s.p_sidelobe) for s in Catalogue.read(out))
    folder = tmp_path / "batch"
    assert main(["detect", str(image), str(alone), "--out-dir", str(folder), "--device", "cpu"]) == 0
    err = capsys.readouterr().err
    assert "bright.fits: note: dirty beam bright_beam.fits found beside the image" in err
    assert ("alone.fits: note: no dirty beam found beside alone.fits; sidelobe test skipped — give one with --psf "
            "or File > Open Dirty Beam…") in err
    assert all(math.isfinite(s.p_sidelobe) for s in Catalogue.read(folder / "bright.ecsv"))
    assert all(math.isnan(s.p_sidelobe) and s.sidelobe_of == -1 for s in Catalogue.read(folder / "alone.ecsv"))


def test_a_psf_that_is_not_one_is_refused(bright, tmp_path, capsys):
    image, _ = bright
    wrong = tmp_path / "wrong_psf.fits"
    data = np.random.default_rng(0).normal(size=(64, 64)).astype(np.float32)
    data[5, 5] = 50.0
    from astropy.io import fits

    fits.PrimaryHDU(data).writeto(wrong)
    assert main(["detect", str(image), "--catalog", str(tmp_path / "x.ecsv"), "--psf", str(wrong),
                 "--device", "cpu"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert any("wrong_psf.fits" in line and "not a dirty beam" in line for line in err)
    assert not any("Traceback" in line for line in err)
    assert main(["detect", str(image), "--catalog", str(tmp_path / "x.ecsv"), "--psf", str(tmp_path / "none.fits"),
                 "--device", "cpu"]) == 2
    assert "none.fits: no such file" in capsys.readouterr().err
