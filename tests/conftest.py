"""Shared fixtures: real FITS files written with astropy, and the observed images."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parent.parent
REAL_DATA = Path(os.environ.get("DECORAS_REAL_DATA", REPO.parent / "shared" / "data" / "real"))


def sky_header(nx: int = 64, ny: int = 64, naxis: int = 2, scale_deg: float = 2.7777778e-7) -> fits.Header:
    """An AIPS-like header: RA---SIN/DEC--SIN, 1 mas pixels by default, optional FREQ/STOKES."""
    h = fits.Header()
    h["CTYPE1"], h["CRVAL1"], h["CDELT1"], h["CRPIX1"] = "RA---SIN", 150.0, -scale_deg, nx / 2 + 1
    h["CTYPE2"], h["CRVAL2"], h["CDELT2"], h["CRPIX2"] = "DEC--SIN", 40.0, scale_deg, ny / 2 + 1
    if naxis >= 3:
        h["CTYPE3"], h["CRVAL3"], h["CDELT3"], h["CRPIX3"] = "FREQ", 1.4e9, 3.2e7, 1.0
    if naxis >= 4:
        h["CTYPE4"], h["CRVAL4"], h["CDELT4"], h["CRPIX4"] = "STOKES", 1.0, 1.0, 1.0
    h["EQUINOX"] = 2000.0
    h["BUNIT"] = "JY/BEAM"
    return h


@pytest.fixture
def noise_image() -> np.ndarray:
    rng = np.random.default_rng(1)
    return rng.normal(0.0, 1e-3, size=(64, 64)).astype(np.float32)


@pytest.fixture
def real_data() -> Path:
    if not REAL_DATA.is_dir():
        pytest.skip(f"observed images not found at {REAL_DATA} (set DECORAS_REAL_DATA)")
    return REAL_DATA


@pytest.fixture(scope="session")
def bundled_model():
    """The bundled model, loaded once (ML, evaluation and CLI tests)."""
    from decoras_gui.ml.registry import load_model

    return load_model()


def write_bright_point(folder: Path, snr: float = 400.0) -> tuple[Path, Path]:
    """A point source of ``snr`` x the thermal rms at the centre of a 256 x 256 mJIVE-20 field at dec
    +41 (its sidelobes are what the sidelobe test and the dirty-beam channel are for): NAME.fits
    and NAME_beam.fits written into ``folder`` as bright.fits, bright_beam.fits."""
    from decoras_gui.sim import SimConfig, SkyModel, simulate_sky, write_field
    from decoras_gui.sim.array import get_schedule
    from decoras_gui.sim.field import cached_coverage

    rms = cached_coverage(get_schedule("mjive20"), 41.0, 256, 1.0, 2, "natural", 0.0).rms
    sky = SkyModel(x=np.array([128.0]), y=np.array([128.0]), flux=np.array([snr * rms]), maj=np.zeros(1),
                   min=np.zeros(1), pa=np.zeros(1), kind=np.array(["point"]), group=np.zeros(1, int),
                   separable=np.ones(1, bool))
    image, beam, _ = write_field(simulate_sky(sky, 1, SimConfig(size=256), dec_deg=41.0), folder, "bright")
    return image, beam


@pytest.fixture(autouse=True)
def user_folders(tmp_path_factory, monkeypatch):
    """The user's models and instruments are never this machine's: empty folders of the test's own
    (a test that adds one sets its own)."""
    base = tmp_path_factory.mktemp("user-data")
    monkeypatch.setenv("DECORAS_MODELS", str(base / "models"))
    monkeypatch.setenv("DECORAS_INSTRUMENTS", str(base / "instruments"))
    return base
