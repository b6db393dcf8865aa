"""The one-folder desktop bundle (packaging/build, packaging/decoras-gui.spec) builds and its
``--self-test`` passes with a clean environment, from another folder: it needs nothing of ours
outside the folder (no .venv, no checkout, no PYTHONPATH)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BUILD_TIMEOUT_S = 900


def _size_mb(folder: Path) -> float:
    total = 0
    for root, _dirs, files in os.walk(folder):
        for name in files:
            total += os.lstat(os.path.join(root, name)).st_size
    return total / 1e6


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Iterator[tuple[Path, float]]:
    """Builds the bundle into a temporary dist path (a developer's dist/ is left alone), and
    removes it afterwards (with PyInstaller's work folder, about 1.2 GB)."""
    tmp = tmp_path_factory.mktemp("bundle")
    t0 = time.perf_counter()
    proc = subprocess.run(
        ["bash", str(REPO / "packaging" / "build"), "--distpath", str(tmp / "dist"), "--workpath", str(tmp / "work")],
        cwd=tmp, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
    build_s = time.perf_counter() - t0
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-8000:]
    yield tmp / "dist" / "decoras-gui", build_s
    shutil.rmtree(tmp, ignore_errors=True)


@pytest.mark.slow
def test_bundle_self_test_passes_in_a_clean_environment(bundle, tmp_path, record_property):
    folder, build_s = bundle
    exe = folder / "decoras-gui"
    assert exe.is_file() and os.access(exe, os.X_OK)
    home = tmp_path / "home"
    t0 = time.perf_counter()
    # like `env -i HOME=... QT_QPA_PLATFORM=offscreen decoras-gui --self-test`, run from /
    proc = subprocess.run([str(exe), "--self-test"], cwd="/", env={"HOME": str(home), "QT_QPA_PLATFORM": "offscreen"},
                          capture_output=True, text=True, timeout=300)
    self_test_s = time.perf_counter() - t0
    size = _size_mb(folder)
    figures = f"bundle {size:.0f} MB, built in {build_s:.0f} s, self-test {self_test_s:.1f} s"
    print(f"\n{figures}: {folder}")
    record_property("bundle_mb", round(size))
    record_property("build_s", round(build_s))
    record_property("self_test_s", round(self_test_s, 1))
    assert proc.returncode == 0, f"{figures}\n{proc.stdout}\n{proc.stderr[-8000:]}"
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1 and "self-test passed" in lines[0] and "vlba-l-band" in lines[0], proc.stdout
    assert "decoras-gui 0.0.0" not in lines[0], "the bundle lost the package metadata (version)"
    assert not home.exists(), "the self-test wrote into the user's home"
    assert size < 900, f"the bundle grew: {figures}"


@pytest.mark.slow
def test_bundle_holds_models_resources_and_guide_but_not_what_it_never_uses(bundle):
    folder, _ = bundle
    internal = folder / "_internal"
    package = internal / "decoras_gui"
    for rel in ("models/vlba-l-band.pt", "models/vlba-l-band.json", "models/vlba-l-band.toml",
                "resources/sample_vlba_dirty.fits", "resources/decoras-dark.qss", "resources/icons/decoras-gui.svg",
                "resources/icons/decoras-gui-256.png", "resources/io.github.decoras.DecorasGui.desktop",
                "docs/index.md", "docs/screenshot.png"):
        assert (package / rel).is_file(), f"{rel} is missing from the bundle"
    for unwanted in ("tkinter", "matplotlib", "PIL", "IPython", "pytest", "hypothesis", "atheris", "PyInstaller",
                     "sympy", "torch/include", "torch/test", "torch/_inductor", "torch/_dynamo", "torch/bin/test_api",
                     "PySide6/Qt/translations", "bdsf", "AegeanTools"):
        assert not (internal / unwanted).exists(), f"{unwanted} should not be in the bundle"
    assert not list(internal.glob("PySide6/Qt/lib/libQt6WebEngine*")), "QtWebEngine should not be in the bundle"
    assert not list(internal.glob("PySide6/Qt/lib/libQt6Quick*")), "QtQuick should not be in the bundle"


@pytest.mark.slow
def test_bundle_self_test_passes_on_x11(bundle, tmp_path):
    """The same check through the xcb platform plugin and the X11 libraries the bundle carries
    (Xvfb stands in for a desktop's X server)."""
    folder, _ = bundle
    xvfb_run = shutil.which("xvfb-run")
    assert xvfb_run, "xvfb-run is missing: scripts/setup installs it (xvfb)"
    env = {"HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin", "QT_QPA_PLATFORM": "xcb"}
    proc = subprocess.run([xvfb_run, "-a", str(folder / "decoras-gui"), "--self-test"], cwd="/", env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and "self-test passed" in proc.stdout, proc.stdout + proc.stderr[-8000:]
