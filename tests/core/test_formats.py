"""One table of catalogue formats, region frames and FITS image names: every user of it agrees."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest
from astropy.io import fits

from decoras_gui.cli import build_parser, main
from decoras_gui.core import regions_io
from decoras_gui.core.catalogue import Catalogue, Source, infer_format
from decoras_gui.core.errors import DecorasError
from decoras_gui.core.formats import (
    CATALOGUE_FORMAT_KEYS,
    CATALOGUE_FORMATS,
    FITS_IMAGE_EXTENSIONS,
    REGION_FRAMES,
    catalogue_file_filters,
    catalogue_format,
    catalogue_format_for_filter,
    catalogue_format_for_path,
    fits_image_filter,
    fits_mime_globs,
    region_frame_choices,
    with_catalogue_extension,
)
from decoras_gui.core.session import Session, save_session
from decoras_gui.paths import resources_dir
from tests.conftest import sky_header


def _catalogue() -> Catalogue:
    cat = Catalogue(meta={"image": "img.fits", "radesys": "FK5"})
    for i in range(3):
        cat.add(Source(x=10.0 + i, y=20.0, ra=150.0 + 1e-6 * i, dec=40.0, maj=0.004, min=0.002, pa=30.0,
                       peak_flux=1e-3 * (i + 1), maj_img=4.0, min_img=2.0, theta_img=30.0, note=f"n{i}"))
    return cat


@pytest.mark.parametrize("fmt", CATALOGUE_FORMATS, ids=lambda f: f.key)
def test_every_name_and_extension_of_a_format_reads_and_writes_it(tmp_path, fmt):
    cat = _catalogue()
    for ext in fmt.extensions:  # the extension alone says the format
        path = cat.write(tmp_path / f"by_ext{ext.upper() if ext == fmt.extension else ext}")
        assert catalogue_format_for_path(path) is fmt
        assert [s.note for s in Catalogue.read(path)] == ["n0", "n1", "n2"]
    for name in fmt.names:  # any name, any case, overrides a foreign extension
        path = cat.write(tmp_path / f"by_name_{name}.dat", format=name.upper())
        assert infer_format(path, name) == fmt.astropy
        assert len(Catalogue.read(path, format=name)) == 3


def test_unknown_formats_are_user_errors_naming_the_file(tmp_path):
    with pytest.raises(DecorasError, match="unknown catalogue format 'xls'") as err:
        _catalogue().write(tmp_path / "c.ecsv", format="xls")
    assert "c.ecsv" in str(err.value) and "votable (or vot, xml)" in str(err.value)
    with pytest.raises(DecorasError, match="cannot tell the catalogue format") as err:
        catalogue_format_for_path(tmp_path / "c.txt")
    assert "c.txt" in str(err.value)


def test_file_dialog_filters_map_back_to_their_format():
    filters = catalogue_file_filters()
    assert filters[0] == "ECSV (*.ecsv)" and "VOTable (*.vot *.votable *.xml)" in filters
    assert [catalogue_format_for_filter(f) for f in filters] == list(CATALOGUE_FORMATS)
    assert catalogue_format_for_filter("All files (*)") is None
    assert with_catalogue_extension("out/cat.fits.gz", "vot").as_posix() == "out/cat.vot"
    assert with_catalogue_extension("cat.v2", catalogue_format("csv")).name == "cat.v2.csv"
    assert region_frame_choices() == [(f.label, f.key) for f in REGION_FRAMES]


def test_region_frames_are_the_ones_regions_io_writes(tmp_path):
    assert regions_io.FRAMES == tuple(f.key for f in REGION_FRAMES)
    assert regions_io.SKY_FRAMES == tuple(f.key for f in REGION_FRAMES if f.is_sky)
    for frame in REGION_FRAMES:
        path = tmp_path / f"{frame.key}.reg"
        assert regions_io.write_regions(_catalogue(), path, frame=frame.key) == frame.key
        assert frame.key in path.read_text().splitlines()


def test_fits_image_names_for_dialogs_and_the_desktop_mime_type():
    text = fits_image_filter()
    assert text.startswith("FITS images (") and "*.FITS" in text
    assert all(f"*{ext}" in text for ext in FITS_IMAGE_EXTENSIONS)
    assert fits_image_filter(all_files=True) == text + ";;All files (*)"
    ns = "{http://www.freedesktop.org/standards/shared-mime-info}"
    mime = ET.parse(resources_dir() / "decoras-fits.xml").getroot()
    assert [g.get("pattern") for g in mime.iter(f"{ns}glob")] == fits_mime_globs()


@pytest.mark.parametrize("command", ["detect", "export"])
def test_both_commands_accept_every_name_and_store_the_canonical_key(command):
    parser = build_parser()
    target = ["img.fits"] if command == "detect" else ["s.decoras"]
    for fmt in CATALOGUE_FORMATS:
        for name in fmt.names:
            args = parser.parse_args([command, *target, "--format", name.upper(), "--frame", "ICRS"])
            assert args.format == fmt.key and args.frame == "icrs"
    with pytest.raises(SystemExit) as exit_:
        parser.parse_args([command, *target, "--format", "xls"])
    assert exit_.value.code == 2
    assert set(CATALOGUE_FORMAT_KEYS) == {"ecsv", "csv", "fits", "votable"}


def test_export_with_a_format_alias_writes_that_format(tmp_path):
    image = tmp_path / "img.fits"
    fits.PrimaryHDU(np.zeros((64, 64), np.float32), sky_header(64, 64)).writeto(image)
    session = save_session(Session(_catalogue(), str(image)), tmp_path / "s.decoras")
    out = tmp_path / "out.cat"
    assert main(["export", str(session), "--catalog", str(out), "--format", "vot"]) == 0
    assert out.read_text().lstrip().startswith("<?xml") and len(Catalogue.read(out, format="votable")) == 3
