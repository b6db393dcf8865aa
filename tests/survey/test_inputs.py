"""The inputs of a survey run: folders expanded to their images, unique output names."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from decoras_gui.core.errors import DecorasError
from decoras_gui.survey.inputs import expand, folder_images, stem_of, unique_stems


def _fits(path: Path) -> Path:
    fits.PrimaryHDU(np.zeros((8, 8), np.float32)).writeto(path)
    return path


def test_stem_drops_every_fits_extension():
    assert stem_of("a/field_0001.fits.gz") == "field_0001"
    assert stem_of("x.fits.fz") == "x" and stem_of("y.FITS") == "y" and stem_of("z.fz") == "z"


def test_folder_images_leave_out_beams_truth_and_other_files(tmp_path):
    for name in ("b.fits", "a.fits", "a_beam.fits", "a-psf.fits", "b_truth.fits", "c.fits.gz"):
        _fits(tmp_path / name)
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "sub").mkdir()
    _fits(tmp_path / "sub" / "d.fits")
    assert [p.name for p in folder_images(tmp_path)] == ["a.fits", "b.fits", "c.fits.gz"]


def test_an_empty_folder_is_a_clear_error(tmp_path):
    with pytest.raises(DecorasError, match="no FITS images") as err:
        folder_images(tmp_path)
    assert str(tmp_path) in str(err.value)


def test_expand_keeps_order_and_each_file_once(tmp_path):
    a, b = _fits(tmp_path / "a.fits"), _fits(tmp_path / "b.fits")
    got = expand([str(b), str(tmp_path), str(a)])
    assert got == [b.absolute(), a.absolute()]


def test_unique_stems_disambiguate_same_names_in_other_folders(tmp_path):
    paths = [tmp_path / "n1" / "img.fits", tmp_path / "n2" / "img.fits", tmp_path / "other.fits"]
    names = unique_stems(paths)
    assert names[paths[2]] == "other"
    assert {names[paths[0]], names[paths[1]]} == {"n1_img", "n2_img"}
    # a resumed run keeps the names its manifest gave, and a newcomer gets another
    later = unique_stems(paths + [tmp_path / "n3" / "other.fits"], taken=names)
    assert {k: later[k] for k in paths} == names
    assert later[tmp_path / "n3" / "other.fits"] == "n3_other"


def test_local_workers_may_use_twice_their_share_of_the_cores():
    from decoras_gui.survey.engine import local_torch_threads

    assert [local_torch_threads(w, cores=2) for w in (1, 2, 3, 4)] == [2, 2, 1, 1]
    assert local_torch_threads(16, cores=16) == 2 and local_torch_threads(1, cores=16) == 16
