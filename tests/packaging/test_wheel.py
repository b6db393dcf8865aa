"""``pip install .`` ships a working decoras: a wheel built from the checkout, installed with its
dependencies into a fresh virtual environment, runs ``decoras info``, ``decoras detect`` and
``decoras-gui --self-test`` on the sample image it carries, from a folder outside the checkout
with a clean environment; and the wheel holds every package folder of decoras_gui/ and every
data file pyproject.toml's package-data names.

The wheel is built from a copy of the checkout's files (those git tracks or would track): a
build inside the checkout would leave build/ and *.egg-info there, and setuptools packs
whatever an earlier build left in build/lib into the wheel, which could hide a missing package.
torch is installed first from the local CPU wheel (as scripts/setup does), pinned to it by a
constraint so that pip can never fetch the multi-GB CUDA build; without one the test is skipped.
Everything else comes from the package index (pip's cache makes repeats cheap).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import tomllib
from astropy.table import Table
from regions import Regions

REPO = Path(__file__).resolve().parents[2]
SAMPLE = "sample_vlba_dirty.fits"
# hang detection only: the first install downloads a few hundred MB from the package index
BUILD_TIMEOUT_S = 600
INSTALL_TIMEOUT_S = 1800
RUN_TIMEOUT_S = 600


@dataclass
class Install:
    """The built wheel and the fresh virtual environment it is installed in."""

    wheel: Path
    venv: Path
    site_packages: Path
    modules: set[str]  # the checkout's modules under decoras_gui/ when the wheel was built
    work: Path  # empty folder outside the checkout: the working directory of every command
    env: dict[str, str]  # clean environment for the installed commands
    timings: dict[str, float] = field(default_factory=dict)

    def run(self, step: str, *args: str) -> subprocess.CompletedProcess:
        """Runs venv/bin/ARGS[0] with ARGS[1:] in the work folder, timing it as STEP."""
        return _timed(self.timings, step, [str(self.venv / "bin" / args[0]), *args[1:]],
                      cwd=self.work, env=self.env, timeout=RUN_TIMEOUT_S)


def _timed(timings: dict[str, float], step: str, cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    timings[step] = time.perf_counter() - t0
    print(f"\n[wheel] {step}: {timings[step]:.1f} s (exit {proc.returncode})", flush=True)
    return proc


def _output(proc: subprocess.CompletedProcess) -> str:
    return f"exit {proc.returncode}\n--- stdout\n{proc.stdout[-4000:]}\n--- stderr\n{proc.stderr[-8000:]}"


def _local_cpu_torch_wheel() -> Path | None:
    """The torch-*+cpu wheel for this Python in pip's find-links folders or /opt/wheels
    (where scripts/setup looks), or None."""
    tag = f"-cp{sys.version_info.major}{sys.version_info.minor}-"
    folders = [*os.environ.get("PIP_FIND_LINKS", "").split(), "/opt/wheels"]
    found = [whl for folder in folders for whl in sorted(Path(folder).glob("torch-*+cpu-cp3*.whl")) if tag in whl.name]
    return found[-1] if found else None


def _copy_sources(dest: Path) -> None:
    """Copies the files git tracks or would track (untracked but not ignored) to DEST."""
    proc = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                          cwd=REPO, capture_output=True, check=True, timeout=60)
    for name in filter(None, proc.stdout.decode().split("\0")):
        src = REPO / name
        if src.is_file():  # tracked files deleted in the working tree are not part of it
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)


def _modules(root: Path) -> set[str]:
    """The Python modules under ROOT/decoras_gui, as wheel paths ("decoras_gui/cli.py")."""
    return {str(path.relative_to(root)) for path in (root / "decoras_gui").rglob("*.py")
            if "__pycache__" not in path.parts}


def _pip_env() -> dict[str, str]:
    """The caller's environment (network, certificates, pip's cache) without what would point
    a Python at the checkout or at .venv."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


@pytest.fixture(scope="module")
def install(tmp_path_factory) -> Iterator[Install]:
    """Builds the wheel, creates the virtual environment and installs torch (CPU) and the wheel;
    removed afterwards (about 2 GB)."""
    torch_wheel = _local_cpu_torch_wheel()
    if torch_wheel is None:
        pytest.skip(f"no local CPU torch wheel (torch-*+cpu-cp{sys.version_info.major}{sys.version_info.minor}-*.whl) "
                    "in $PIP_FIND_LINKS or /opt/wheels: a plain `torch` requirement would download the CUDA build")
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("needs a git checkout (the wheel is built from the files git tracks)")
    tmp = tmp_path_factory.mktemp("wheel")
    timings: dict[str, float] = {}
    pip_env = _pip_env()

    t0 = time.perf_counter()
    _copy_sources(tmp / "src")
    timings["copy sources"] = time.perf_counter() - t0
    print(f"\n[wheel] copy sources: {timings['copy sources']:.1f} s", flush=True)
    proc = _timed(timings, "build wheel", [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(tmp / "dist"),
                                           str(tmp / "src")], cwd=tmp, env=pip_env, timeout=BUILD_TIMEOUT_S)
    assert proc.returncode == 0, _output(proc)
    (wheel,) = (tmp / "dist").glob("decoras_gui-*.whl")

    venv = tmp / "venv"
    proc = _timed(timings, "create venv", [sys.executable, "-m", "venv", str(venv)], cwd=tmp, env=pip_env,
                  timeout=BUILD_TIMEOUT_S)
    assert proc.returncode == 0, _output(proc)
    python = str(venv / "bin" / "python")
    # torch is pinned to the local CPU wheel for both installs: pip can never replace it
    constraints = tmp / "constraints.txt"
    constraints.write_text(f"torch=={torch_wheel.name.split('-')[1]}\n")
    # --no-compile: no byte-compiling of every installed file (torch's alone took 35 s); Python
    # compiles what the commands below import, as it would for a user
    pip = [python, "-m", "pip", "install", "--no-compile", "--find-links", str(torch_wheel.parent),
           "-c", str(constraints)]
    proc = _timed(timings, "install CPU torch", [*pip, str(torch_wheel)], cwd=tmp, env=pip_env,
                  timeout=INSTALL_TIMEOUT_S)
    assert proc.returncode == 0, _output(proc)
    proc = _timed(timings, "install wheel and dependencies", [*pip, str(wheel)], cwd=tmp, env=pip_env,
                  timeout=INSTALL_TIMEOUT_S)
    assert proc.returncode == 0, _output(proc)

    proc = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True, timeout=60)
    site_packages = Path(proc.stdout.strip())
    work = tmp / "work"
    work.mkdir()
    # like `env -i`: nothing of the checkout, of .venv or of the user's home
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(tmp / "home"), "LANG": "C.UTF-8",
           "TMPDIR": str(tmp), "QT_QPA_PLATFORM": "offscreen", "PYTHONNOUSERSITE": "1"}
    yield Install(wheel, venv, site_packages, _modules(tmp / "src"), work, env, timings)
    print("\n[wheel] " + ", ".join(f"{step} {seconds:.1f} s" for step, seconds in timings.items()), flush=True)
    shutil.rmtree(tmp, ignore_errors=True)


@pytest.mark.slow
def test_wheel_holds_every_package_folder_and_data_file(install):
    names = set(zipfile.ZipFile(install.wheel).namelist())
    # compared with the copy the wheel was built from: the checkout changes while others work
    assert {"decoras_gui/cli.py", "decoras_gui/commands/info.py", "decoras_gui/gui/app.py"} <= install.modules
    folders = {name.rsplit("/", 1)[0] for name in names if name.endswith(".py")}
    missing = sorted({name.rsplit("/", 1)[0] for name in install.modules} - folders)
    assert not missing, f"package folders of decoras_gui/ missing from the wheel: {missing}"
    assert not sorted(install.modules - names), f"modules missing from the wheel: {sorted(install.modules - names)}"
    # the data packages: what pyproject.toml's package-data names (packaging/decoras-gui.spec reads the same)
    setuptools = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    expected = {f"{package.replace('.', '/')}/{path.relative_to(REPO / folder)}"
                for package, folder in setuptools["package-dir"].items()
                for pattern in setuptools["package-data"][package]
                for path in (REPO / folder).glob(pattern) if path.is_file()}
    assert f"decoras_gui/resources/{SAMPLE}" in expected and "decoras_gui/models/vlba-l-band.pt" in expected
    assert not sorted(expected - names), f"data files missing from the wheel: {sorted(expected - names)}"


@pytest.mark.slow
def test_installed_package_is_the_wheel_not_the_checkout(install):
    proc = install.run("import check", "python", "-c",
                       "import decoras_gui, decoras_gui.commands.info\n"
                       "from decoras_gui.paths import models_dir, resources_dir\n"
                       "print(decoras_gui.__file__); print(resources_dir()); print(models_dir())")
    assert proc.returncode == 0, _output(proc)
    package, resources, models = (Path(line) for line in proc.stdout.split())
    for path in (package, resources, models):
        assert path.is_relative_to(install.site_packages), f"{path} is not in {install.site_packages}"
        assert not path.is_relative_to(REPO), f"{path} is the checkout's"
    assert (resources / SAMPLE).is_file() and (models / "vlba-l-band.pt").is_file()


@pytest.mark.slow
def test_installed_decoras_info_describes_the_bundled_sample(install):
    from decoras_gui.commands.info import describe
    from decoras_gui.core.image import load_fits

    sample = install.site_packages / "decoras_gui" / "resources" / SAMPLE
    proc = install.run("decoras info", "decoras", "info", str(sample))
    assert proc.returncode == 0, _output(proc)
    lines = proc.stdout.splitlines()
    assert lines[0].split() == ["file:", str(sample)]
    # the facts the checkout's own code finds in its copy of the sample
    facts = ("HDU:", "shape:", "pixel scale:", "beam:", "unit:")
    expected = [line for line in describe(load_fits(REPO / "resources" / SAMPLE)) if line.startswith(facts)]
    assert len(expected) == len(facts)
    assert [line for line in lines if line.startswith(facts)] == expected, proc.stdout


@pytest.mark.slow
def test_installed_decoras_detect_writes_a_catalogue_and_regions(install):
    sample = install.site_packages / "decoras_gui" / "resources" / SAMPLE
    proc = install.run("decoras detect", "decoras", "detect", str(sample), "--catalog", "out.ecsv",
                       "--regions", "out.reg")
    assert proc.returncode == 0, _output(proc)
    catalogue = Table.read(install.work / "out.ecsv", format="ascii.ecsv")
    assert len(catalogue) > 0, f"no sources in the catalogue\n{_output(proc)}"
    regions = Regions.read(install.work / "out.reg", format="ds9")
    assert len(regions) >= len(catalogue), f"{len(regions)} regions for {len(catalogue)} sources"


@pytest.mark.slow
def test_installed_gui_self_test_passes(install):
    proc = install.run("decoras-gui --self-test", "decoras-gui", "--self-test")
    assert proc.returncode == 0, _output(proc)
    assert "self-test passed" in proc.stdout and "vlba-l-band" in proc.stdout, _output(proc)
