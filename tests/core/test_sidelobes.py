"""core.sidelobes on real simulated VLBA files: a bright point source's dirty-beam sidelobes are
called sidelobes, real sources (faint and quiet, or bright on a sidelobe) are not; a deconvolved
image contradicts the prediction; the two columns are written in every catalogue format; the
detect pipeline runs the test with a PSF and says so without one."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table
from scipy import ndimage

from decoras_gui.core.catalogue import COLUMN_BY_NAME, Catalogue, Source
from decoras_gui.core.image import load_fits
from decoras_gui.core.psf import find_psf, load_psf
from decoras_gui.core.sidelobes import FLAG_NOTE, sidelobe_test
from decoras_gui.sim import SimConfig, SkyModel, simulate_sky, write_field
from decoras_gui.sim.array import get_schedule
from decoras_gui.sim.field import cached_coverage

SIZE, DEC = 256, 41.0
BRIGHT = (110, 120)  # x, y of the bright point source


def _sidelobe_offsets(beam: np.ndarray, n: int) -> list[tuple[int, int]]:
    """(dx, dy) of the n highest local maxima of a beam outside its main lobe, within 60 pixels."""
    c = SIZE // 2
    labels, _ = ndimage.label(beam >= 0.5)
    peaks = (ndimage.maximum_filter(beam, 3) == beam) & (labels != labels[c, c])
    yy, xx = np.nonzero(peaks)
    keep = (np.abs(yy - c) < 60) & (np.abs(xx - c) < 60)
    yy, xx = yy[keep], xx[keep]
    order = np.argsort(-beam[yy, xx])
    out = []
    for k in order:
        d = (int(xx[k] - c), int(yy[k] - c))
        if (-d[0], -d[1]) not in out:  # the beam is point-symmetric: one of each pair
            out.append(d)
        if len(out) == n:
            break
    return out


def _quiet_position(beam: np.ndarray) -> tuple[int, int]:
    """A position at least 40 pixels from the bright source where its sidelobes are ~0."""
    c, bx, by = SIZE // 2, *BRIGHT
    best = None
    for y in range(30, SIZE - 30, 3):
        for x in range(30, SIZE - 30, 3):
            if math.hypot(x - bx, y - by) >= 40 and abs(x - bx) < c and abs(y - by) < c:
                v = abs(float(beam[c + y - by, c + x - bx]))
                best = min(best or (v, x, y), (v, x, y))
    return best[1], best[2]


@pytest.fixture(scope="module")
def field(tmp_path_factory):
    """A 150-sigma point source; a real 12-sigma point where its sidelobes vanish; a real
    40-sigma point on one of its strongest sidelobes; written as NAME.fits + NAME_beam.fits."""
    cov = cached_coverage(get_schedule("mjive20"), DEC, SIZE, 1.0, 2, "natural", 0.0)
    rms = cov.rms
    (sx, sy), *others = _sidelobe_offsets(cov.beam_image, 4)
    quiet = _quiet_position(cov.beam_image)
    on_lobe = (BRIGHT[0] - sx, BRIGHT[1] - sy)  # the mirror position of the fake sidelobe detection
    xs = np.array([BRIGHT[0], quiet[0], on_lobe[0]], float)
    ys = np.array([BRIGHT[1], quiet[1], on_lobe[1]], float)
    sky = SkyModel(x=xs, y=ys, flux=np.array([150.0, 12.0, 40.0]) * rms, maj=np.zeros(3), min=np.zeros(3),
                   pa=np.zeros(3), kind=np.array(["point"] * 3), group=np.arange(3), separable=np.ones(3, bool))
    sim = simulate_sky(sky, 1, SimConfig(size=SIZE), dec_deg=DEC)
    folder = tmp_path_factory.mktemp("sidelobes")
    image_path, beam_path, _ = write_field(sim, folder, "bright")
    return {"sim": sim, "image": image_path, "beam": beam_path, "fake": (BRIGHT[0] + sx, BRIGHT[1] + sy),
            "quiet": quiet, "on_lobe": on_lobe, "others": [(BRIGHT[0] + dx, BRIGHT[1] + dy) for dx, dy in others],
            "folder": folder}


def _catalogue(image, positions) -> Catalogue:
    rms_map = image.rms_map()
    return Catalogue([Source(x=float(x), y=float(y), local_rms=float(rms_map[y, x])) for x, y in positions])


def test_sidelobe_flagged_real_sources_not(field):
    image = load_fits(field["image"])
    beam = load_psf(find_psf(field["image"]), image)
    cat = _catalogue(image, [BRIGHT, field["fake"], field["quiet"], field["on_lobe"]])
    result = sidelobe_test(cat, image, beam)
    bright, fake, quiet, on_lobe = result.catalogue
    assert (bright.p_sidelobe, bright.sidelobe_of) == (0.0, -1)  # nothing brighter
    assert fake.p_sidelobe > 0.8 and fake.sidelobe_of == bright.source_id and fake.note == FLAG_NOTE
    assert quiet.p_sidelobe < 0.05 and quiet.sidelobe_of == -1 and quiet.note == ""
    # on a sidelobe of ~40 % (about 58 sigma) but 40 sigma brighter than it: real
    assert on_lobe.p_sidelobe < 0.05 and on_lobe.sidelobe_of == bright.source_id and on_lobe.note == ""
    assert (result.tested, result.flagged, result.contradicted) == (4, 1, 0)
    assert result.catalogue.meta["psf"] == "bright_beam.fits"
    assert any("bright_beam.fits: 1 of 4 detections are likely sidelobes" in n for n in result.notes)
    assert [s.source_id for s in result.catalogue] == cat.ids  # same rows, same order
    assert math.isnan(cat[1].p_sidelobe)  # the input is left as it was


def test_a_sidelobe_of_a_sidelobe_is_not_double_counted(field):
    """A fake detection on a sidelobe does not itself make sidelobes: the bright source is the
    one each is the sidelobe of."""
    image = load_fits(field["image"])
    beam = load_psf(field["beam"], image)
    cat = _catalogue(image, [BRIGHT, field["fake"], *field["others"]])
    out = sidelobe_test(cat, image, beam).catalogue
    assert all(s.p_sidelobe > 0.5 and s.sidelobe_of == out[0].source_id for s in list(out)[1:])


def test_deconvolved_image_contradicts_the_prediction(field):
    """The same sky restored (no sidelobes) plus noise: detections placed on the sidelobe positions
    are not called sidelobes, and the notes say the image does not follow the dirty beam."""
    sim = field["sim"]
    rng = np.random.default_rng(2)
    clean = sim.restored + rng.normal(0.0, sim.rms_predicted, sim.restored.shape)
    path = field["folder"] / "clean.fits"
    fits.PrimaryHDU(clean.astype(np.float32).reshape(1, 1, SIZE, SIZE), sim.header).writeto(path, overwrite=True)
    image = load_fits(path)
    beam = load_psf(field["beam"], image)
    result = sidelobe_test(_catalogue(image, [BRIGHT, field["fake"], *field["others"]]), image, beam)
    assert all(s.p_sidelobe == 0.0 for s in result.catalogue)
    assert result.contradicted == 4 and result.flagged == 0
    assert any("looks deconvolved" in n for n in result.notes)


def test_without_brighter_sources(field):
    image = load_fits(field["image"])
    beam = load_psf(field["beam"], image)
    lone = sidelobe_test(Catalogue([Source(x=5.0, y=5.0, local_rms=1e-3)]), image, beam).catalogue[0]
    assert (lone.p_sidelobe, lone.sidelobe_of) == (0.0, -1)
    empty = sidelobe_test(Catalogue(), image, beam)
    assert len(empty.catalogue) == 0 and "no detections" in empty.notes[-1]


@pytest.mark.parametrize("ext", [".ecsv", ".csv", ".fits", ".vot"])
def test_columns_written_and_read_back(field, tmp_path, ext):
    image = load_fits(field["image"])
    beam = load_psf(field["beam"], image)
    cat = sidelobe_test(_catalogue(image, [BRIGHT, field["fake"], field["quiet"]]), image, beam).catalogue
    path = cat.write(tmp_path / f"cat{ext}")
    back = Catalogue.read(path)
    assert list(back) == list(cat)
    assert back[1].sidelobe_of == cat[0].source_id and back[1].p_sidelobe > 0.8
    table = Table.read(path) if ext != ".vot" else None
    if table is not None and ext != ".csv":
        names = table.colnames
        assert names.index("sidelobe_of") == names.index("det_prob") + 1
        assert names.index("p_sidelobe") == names.index("det_prob") + 2
    spec = COLUMN_BY_NAME["p_sidelobe"]
    assert spec.ucd.startswith("stat.probability") and COLUMN_BY_NAME["sidelobe_of"].ucd == "meta.id.assoc"


def test_older_files_read_with_defaults(tmp_path):
    path = tmp_path / "old.ecsv"
    Table({"source_id": [1, 2], "x": [3.0, 4.0], "y": [5.0, 6.0], "det_prob": [0.9, 0.8]}).write(path)
    for s in Catalogue.read(path):
        assert s.sidelobe_of == -1 and math.isnan(s.p_sidelobe)


def test_detect_pipeline_with_and_without_psf(field):
    """The sidelobe test after the networks: the same detections, flagged. With vlba-l-band 1.0.0,
    whose networks do not read the dirty beam (kept for the refactoring guard)."""
    from decoras_gui.ml.registry import load_model
    from decoras_gui.ml.tasks import get_task

    v1 = load_model("vlba-l-band", Path(__file__).resolve().parents[1] / "data" / "refactor" / "model")
    image = load_fits(field["image"])
    task = get_task("detect")
    without = task.run(image, v1, device="cpu")
    assert any("no dirty beam found beside bright.fits; sidelobe test skipped" in n for n in without.notes)
    assert len(without.result) and all(math.isnan(s.p_sidelobe) for s in without.result)
    with_psf = task.run(image, v1, device="cpu", psf=field["beam"])  # a path is loaded
    assert not any("no dirty beam" in n for n in with_psf.notes)
    assert any("sidelobe test with the dirty beam bright_beam.fits" in n for n in with_psf.notes)
    # the same detections; their centres refit on the image less the predicted sidelobes move a little
    assert len(with_psf.result) == len(without.result)
    for a, b in zip(with_psf.result, without.result):
        assert math.hypot(a.x - b.x, a.y - b.y) < 0.5
    assert all(0.0 <= s.p_sidelobe <= 1.0 for s in with_psf.result)
    brightest = max(with_psf.result, key=lambda s: s.peak_flux)
    assert math.hypot(brightest.x - BRIGHT[0], brightest.y - BRIGHT[1]) < 2 and brightest.p_sidelobe == 0.0
