"""Desktop integration files in resources/: the .desktop entry, the AppStream metainfo, the FITS
MIME type, the icon at every size (packaging/render_icons.py), packaging/install-desktop, and
that a wheel carries them all. desktop-file-validate, appstreamcli and update-mime-database
come with scripts/setup (desktop-file-utils, appstream, shared-mime-info)."""

from __future__ import annotations

import configparser
import importlib.util
import shutil
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import numpy as np
import pytest

from decoras_gui import __version__
from decoras_gui.gui.app import DESKTOP_ID

REPO = Path(__file__).resolve().parents[2]
RESOURCES = REPO / "resources"
DESKTOP = RESOURCES / f"{DESKTOP_ID}.desktop"
METAINFO = RESOURCES / f"{DESKTOP_ID}.metainfo.xml"
MIME_XML = RESOURCES / "decoras-fits.xml"
SIZES = (16, 32, 48, 64, 128, 256, 512)
FITS_TYPES = {"application/fits", "image/fits"}
MIME_NS = "{http://www.freedesktop.org/standards/shared-mime-info}"


def _tool(name: str) -> str:
    path = shutil.which(name)
    assert path, f"{name} is missing: scripts/setup installs it (APT_PACKAGES)"
    return path


def _desktop_entry(path: Path = DESKTOP) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # keys are case-sensitive in .desktop files
    parser.read(path, encoding="utf-8")
    return dict(parser["Desktop Entry"])


def test_desktop_entry_has_the_required_keys_and_opens_fits():
    entry = _desktop_entry()
    assert entry["Type"] == "Application"
    assert entry["Name"] and entry["Comment"]
    assert entry["Exec"] == "decoras-gui %f"
    assert entry["Icon"] == DESKTOP_ID
    assert entry["Terminal"] == "false"
    mime = set(entry["MimeType"].rstrip(";").split(";"))
    assert FITS_TYPES <= mime
    assert {"Science", "Astronomy", "Education"} <= set(entry["Categories"].rstrip(";").split(";"))


def test_desktop_entry_validates():
    proc = subprocess.run([_tool("desktop-file-validate"), str(DESKTOP)], capture_output=True, text=True)
    problems = [line for line in proc.stdout.splitlines() if ": hint: " not in line]  # hints are advice
    assert proc.returncode == 0 and not problems, proc.stdout + proc.stderr


def test_metainfo_validates_and_matches_the_desktop_entry():
    proc = subprocess.run([_tool("appstreamcli"), "validate", "--no-net", str(METAINFO)], capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    root = ET.parse(METAINFO).getroot()
    assert root.get("type") == "desktop-application"
    assert root.findtext("id") == DESKTOP_ID
    assert root.findtext("launchable") == DESKTOP.name
    assert root.find("content_rating") is not None
    assert "decoras-gui" in [b.text for b in root.iterfind("provides/binary")]
    releases = [r.get("version") for r in root.iterfind("releases/release")]
    assert releases and releases[0] == __version__, "the newest release should be the package's version"
    shots = [img.text for img in root.iterfind("screenshots/screenshot/image")]
    assert shots and all(s.startswith("https://") for s in shots)
    for shot in shots:  # each names a screenshot the repository has
        assert (REPO / "docs" / shot.rsplit("/docs/", 1)[-1]).is_file(), shot


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


def test_icons_exist_at_every_size():
    assert (RESOURCES / "icons" / "decoras-gui.svg").is_file()
    for size in SIZES:
        assert _png_size(RESOURCES / "icons" / f"decoras-gui-{size}.png") == (size, size)


def test_icons_are_what_render_icons_draws(qapp):
    spec = importlib.util.spec_from_file_location("render_icons", REPO / "packaging" / "render_icons.py")
    render_icons = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(render_icons)
    from PySide6.QtGui import QImage

    assert render_icons.SIZES == SIZES

    def pixels(image: QImage) -> np.ndarray:
        image = image.convertToFormat(QImage.Format.Format_RGBA8888)
        return np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())[
            :, :image.width() * 4].astype(int)

    for size in (16, 64, 512):
        committed = pixels(QImage(str(RESOURCES / "icons" / f"decoras-gui-{size}.png")))
        rendered = pixels(render_icons.render(render_icons.SVG, size))
        diff = np.abs(committed - rendered)
        # the same drawing; other Qt versions may antialias an edge pixel a little differently
        assert diff.mean() < 1.0 and diff.max() < 96, f"{size} px: run packaging/render_icons.py again"


def test_fits_mime_type_definition():
    root = ET.parse(MIME_XML).getroot()
    assert root.tag == f"{MIME_NS}mime-info"
    (mime,) = root.findall(f"{MIME_NS}mime-type")
    assert mime.get("type") == "application/fits"
    globs = {g.get("pattern") for g in mime.iter(f"{MIME_NS}glob")}
    assert {"*.fits", "*.fit", "*.fts", "*.fits.gz", "*.fits.fz"} <= globs
    assert {a.get("type") for a in mime.iter(f"{MIME_NS}alias")} >= {"image/fits"}
    (match,) = mime.iter(f"{MIME_NS}match")
    assert match.get("type") == "string" and match.get("value") == "SIMPLE  =" and match.get("offset") == "0"


def test_install_desktop_installs_into_a_prefix_and_uninstalls(tmp_path):
    _tool("update-mime-database")
    script = REPO / "packaging" / "install-desktop"
    exe = tmp_path / "my apps" / "decoras-gui"
    proc = subprocess.run(["bash", str(script), "--prefix", str(tmp_path), "--exec", str(exe)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    share = tmp_path / "share"
    entry_path = share / "applications" / DESKTOP.name
    entry = _desktop_entry(entry_path)
    assert entry["Exec"] == f'"{exe}" %f' and entry["TryExec"] == str(exe)
    proc = subprocess.run([_tool("desktop-file-validate"), str(entry_path)], capture_output=True, text=True)
    assert proc.returncode == 0 and ": error: " not in proc.stdout, proc.stdout
    assert (share / "metainfo" / METAINFO.name).is_file()
    for size in SIZES:
        assert _png_size(share / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{DESKTOP_ID}.png") == (size, size)
    assert (share / "icons" / "hicolor" / "scalable" / "apps" / f"{DESKTOP_ID}.svg").is_file()
    globs = (share / "mime" / "globs2").read_text()  # written by update-mime-database
    for pattern in ("*.fits", "*.fit", "*.fts", "*.fits.gz", "*.fits.fz"):
        assert f"application/fits:{pattern}\n" in globs
    proc = subprocess.run(["bash", str(script), "--prefix", str(tmp_path), "--uninstall"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not entry_path.exists() and not (share / "mime" / "packages" / MIME_XML.name).exists()
    assert not list(share.glob(f"icons/hicolor/*/apps/{DESKTOP_ID}.*"))


@pytest.mark.slow
def test_wheel_carries_the_desktop_files(tmp_path):
    """Build a wheel from a copy of the sources (the checkout's build/ stays untouched)."""
    pytest.importorskip("setuptools")
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy2(REPO / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("decoras_gui", "resources", "models", "docs"):
        shutil.copytree(REPO / name, src / name, ignore=ignore)
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                           "--disable-pip-version-check", "-w", str(tmp_path / "wheel"), str(src)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (wheel,) = (tmp_path / "wheel").glob("decoras_gui-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = [f"decoras_gui/resources/{p.name}" for p in (DESKTOP, METAINFO, MIME_XML)]
    expected += [f"decoras_gui/resources/icons/decoras-gui-{size}.png" for size in SIZES]
    expected += ["decoras_gui/resources/icons/decoras-gui.svg", "decoras_gui/docs/screenshot.png",
                 "decoras_gui/models/vlba-l-band.pt"]
    missing = [name for name in expected if name not in names]
    assert not missing, f"not in the wheel: {missing}"
