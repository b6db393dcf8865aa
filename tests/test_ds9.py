"""Region files read by the real SAOImage DS9 (Debian ``saods9`` + ``xpa-tools``) under Xvfb.

The fixture starts Xvfb on a free display and DS9 with a unique title and a private XPA
(``XPA_METHOD=local``, ``XPA_TMPDIR`` in the test's folder), waits for XPA with
``xpaaccess`` polling and stops both afterwards. DS9 loads the image and the region file
written by the app's export; the regions come back through ``xpaget`` and must have the
same number of ellipses, the same centres (1e-5 deg; image pixels 1e-3) and sizes (1 %).
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from decoras_gui.core.catalogue import Catalogue, Source
from decoras_gui.core.image import load_fits
from decoras_gui.core.measure import measure_ellipse
from decoras_gui.core.regions_io import write_regions

INSTALL_HINT = ("SAOImage DS9 and the XPA tools are needed: apt-get install saods9 xpa-tools xvfb "
                "(scripts/setup installs them)")


def _free_display() -> int:
    for n in range(77, 400):
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            return n
    raise RuntimeError("no free X display number")


def _stop(proc: subprocess.Popen | None) -> None:
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


class DS9:
    def __init__(self, name: str, env: dict):
        self.name, self.env = name, env

    def get(self, *args: str) -> str:
        r = subprocess.run(["xpaget", self.name, *args], check=False, env=self.env, capture_output=True, text=True,
                           timeout=60)
        if r.returncode != 0:
            raise AssertionError(f"xpaget {' '.join(args)} failed: {r.stderr.strip()}")
        return r.stdout

    def set(self, *args: str) -> None:
        r = subprocess.run(["xpaset", "-p", self.name, *args], check=False, env=self.env, capture_output=True,
                           text=True, timeout=60)
        if r.returncode != 0:
            raise AssertionError(f"xpaset {' '.join(args)} failed: {r.stderr.strip()}")


@contextlib.contextmanager
def start_ds9(tmp_path, args=(), env_extra=None):
    """DS9 on its own Xvfb display with a private XPA; ``args`` go to DS9, ``env_extra`` to its environment."""
    missing = [t for t in ("ds9", "xpaget", "xpaset", "xpaaccess", "Xvfb") if shutil.which(t) is None]
    if missing:
        pytest.fail(f"{', '.join(missing)} not found. {INSTALL_HINT}")
    # a short folder: XPA's local socket paths live in it and DS9 aborts ("buffer overflow
    # detected") when they grow long, as under pytest-xdist's deeper temporary folders
    home = Path(tempfile.mkdtemp(prefix="ds9-", dir="/tmp"))
    xvfb = ds9p = None
    for _ in range(5):  # another display may be taken between the check and the start
        display = _free_display()
        xvfb = subprocess.Popen(["Xvfb", f":{display}", "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        t0 = time.monotonic()
        while not Path(f"/tmp/.X11-unix/X{display}").exists() and xvfb.poll() is None \
                and time.monotonic() - t0 < 60:  # a hang detector, like the 60 s for DS9 below
            time.sleep(0.1)
        if xvfb.poll() is None and Path(f"/tmp/.X11-unix/X{display}").exists():
            break
        _stop(xvfb)
        xvfb = None
    if xvfb is None:
        pytest.fail("Xvfb did not start")
    name = f"decoras_{uuid.uuid4().hex[:10]}"
    env = dict(os.environ, DISPLAY=f":{display}", XPA_METHOD="local", XPA_TMPDIR=str(home), HOME=str(home),
               **(env_extra or {}))
    log = open(tmp_path / "ds9.log", "w")
    try:
        ds9p = subprocess.Popen(["ds9", "-title", name, *args], env=env, stdout=log, stderr=subprocess.STDOUT)
        t0 = time.monotonic()
        while True:
            r = subprocess.run(["xpaaccess", name], check=False, env=env, capture_output=True, text=True)
            if r.stdout.strip() == "yes":
                break
            if ds9p.poll() is not None or time.monotonic() - t0 > 60:
                log.flush()
                pytest.fail(f"DS9 did not answer on XPA: {(tmp_path / 'ds9.log').read_text()[-2000:]}")
            time.sleep(0.25)
        d = DS9(name, env)
        # enough digits for milli-arcsecond VLBA ellipses
        d.set("precision", "8", "10", "6", "5", "10", "10", "10", "8", "8")
        yield d
    finally:
        _stop(ds9p)
        _stop(xvfb)
        log.close()
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def ds9(tmp_path):
    with start_ds9(tmp_path) as d:
        yield d


_SHAPE = re.compile(r"^\s*(ellipse|circle|point)\(([^)]*)\)")


def _length_arcsec(text: str) -> float:
    text = text.strip()
    if text.endswith('"'):
        return float(text[:-1])
    if text.endswith("'"):
        return float(text[:-1]) * 60.0
    if text.endswith("d"):
        return float(text[:-1]) * 3600.0
    return float(text) * 3600.0  # degrees


def _ellipses(text: str, sky: bool) -> list[tuple[float, ...]]:
    out = []
    for line in text.splitlines():
        m = _SHAPE.match(line)
        if not m or m.group(1) != "ellipse":
            continue
        parts = [p.strip() for p in m.group(2).split(",")]
        x, y = float(parts[0]), float(parts[1])
        a = _length_arcsec(parts[2]) if sky else float(parts[2])
        b = _length_arcsec(parts[3]) if sky else float(parts[3])
        out.append((x, y, a, b, float(parts[4])))
    return out


@pytest.fixture(scope="module")
def vlba_image(tmp_path_factory):
    from decoras_gui.sim import run_simulate

    return run_simulate(1, 7, 256, tmp_path_factory.mktemp("ds9img"))[0]


def _catalogue(image) -> Catalogue:
    cat = Catalogue(meta={"image": image.name})
    spots = [(40.0, 50.0, 9.0, 5.0, 10.0), (128.3, 127.6, 6.0, 6.0, 0.0), (200.0, 60.0, 12.0, 4.0, -35.0),
             (70.0, 210.0, 7.5, 3.0, 80.0), (215.5, 190.2, 5.0, 2.5, 135.0)]
    for i, (x, y, a, b, t) in enumerate(spots):
        cat.add(Source(source_id=i + 1, status=("accepted", "candidate", "rejected")[i % 3],
                       **measure_ellipse(image, x, y, a, b, t)))
    return cat


@pytest.mark.parametrize("frame", ["fk5", "icrs"])
def test_ds9_reads_our_sky_regions(ds9, vlba_image, tmp_path, frame):
    image = load_fits(vlba_image)
    cat = _catalogue(image)
    reg = tmp_path / "sources.reg"
    assert write_regions(cat, reg, wcs=image.wcs, frame=frame) == frame
    ds9.set("fits", str(vlba_image))
    ds9.set("regions", "delete", "all")
    ds9.set("regions", "load", str(reg))
    text = ds9.get("regions", "-format", "ds9", "-system", "wcs", "-sky", frame, "-skyformat", "degrees")
    got = _ellipses(text, sky=True)
    assert len(got) == len(cat), text
    for s, (ra, dec, a, b, angle) in zip(cat, got):
        from astropy.coordinates import SkyCoord
        from astropy.wcs.utils import wcs_to_celestial_frame

        c = SkyCoord(s.ra, s.dec, unit="deg", frame=wcs_to_celestial_frame(image.wcs)).transform_to(frame)
        assert ra == pytest.approx(c.spherical.lon.deg, abs=1e-5)
        assert dec == pytest.approx(c.spherical.lat.deg, abs=1e-5)
        # DS9 ellipse radii are FWHM / 2
        assert 2 * a == pytest.approx(s.maj, rel=0.01) and 2 * b == pytest.approx(s.min, rel=0.01)
        d = (angle - (s.pa + 90.0)) % 180.0
        assert min(d, 180.0 - d) < 1.0 or math.isclose(s.maj, s.min, rel_tol=1e-6)


def test_ds9_reads_our_image_regions(ds9, vlba_image, tmp_path):
    image = load_fits(vlba_image)
    cat = _catalogue(image)
    # through the headless `decoras export` of a saved session, as a user would
    from decoras_gui.cli import main as decoras
    from decoras_gui.core.session import Session, file_sha256, save_session

    session = save_session(Session(cat, str(vlba_image), file_sha256(vlba_image)), tmp_path / "s.decoras")
    reg = tmp_path / "pixels.reg"
    assert decoras(["export", str(session), "--regions", str(reg), "--frame", "image"]) == 0
    ds9.set("fits", str(vlba_image))
    ds9.set("regions", "delete", "all")
    ds9.set("regions", "load", str(reg))
    text = ds9.get("regions", "-format", "ds9", "-system", "image")
    got = _ellipses(text, sky=False)
    assert len(got) == len(cat), text
    for s, (x, y, a, b, angle) in zip(cat, got):
        assert x == pytest.approx(s.x + 1.0, abs=1e-3) and y == pytest.approx(s.y + 1.0, abs=1e-3)  # 1-based
        assert 2 * a == pytest.approx(s.maj_img, rel=0.01) and 2 * b == pytest.approx(s.min_img, rel=0.01)
        # same sky positions when DS9 converts the pixels itself
    sky = _ellipses(ds9.get("regions", "-format", "ds9", "-system", "wcs", "-sky", "fk5", "-skyformat", "degrees"),
                    sky=True)
    assert len(sky) == len(cat)
    for s, (ra, dec, *_rest) in zip(cat, sky):
        w = image.wcs.pixel_to_world(s.x, s.y).fk5
        assert ra == pytest.approx(w.ra.deg, abs=1e-5) and dec == pytest.approx(w.dec.deg, abs=1e-5)
