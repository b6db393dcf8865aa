"""Header-value fuzzing: one card of a valid image written by astropy is patched in the raw
header bytes (so astropy's writer cannot refuse the value), then load_fits must either
return a sane SkyImage or raise a DecorasError naming the file and the card -- never hang,
never crash, never load nonsense quietly.

The explicit nonsense values of issue 14 must be refused naming the card; the few values of
that list that are legitimate for a card (CRPIX1 = -1, CDELT1 = -1, BSCALE = -1e30...) must
load. A per-case alarm (30 s, generous: a case takes milliseconds) catches a hang; the
slowest case is printed.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from astropy.io import fits
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from decoras_gui.core.errors import DecorasError
from decoras_gui.core.image import image_hdus, load_fits
from tests.conftest import sky_header
from tests.core.header_patch import NASTY, base_bytes, names_card, patch_card, write_case
from tests.core.test_fuzz_inputs import CaseTimeout, time_limit

CASE_TIMEOUT_S = 30
ALL = frozenset(NASTY)
NUMBERS = frozenset({"0", "-1", "1e30", "-1e30", "999999999", "2**63"})
NONE: frozenset[str] = frozenset()

#: (base image, card) -> the values of NASTY that are legitimate there and must load;
#: every other value must be refused with a message naming the card
CASES: dict[tuple[str, str], frozenset[str]] = {
    **{("2d", key): NONE for key in ("NAXIS", "NAXIS1", "NAXIS2", "BITPIX", "CUNIT1", "CUNIT2")},
    ("2d", "CTYPE1"): frozenset({"huge string"}),  # an unknown linear axis: pixel coordinates only
    ("2d", "CTYPE2"): frozenset({"huge string"}),
    ("2d", "CRPIX1"): frozenset({"0", "-1"}),
    ("2d", "CRPIX2"): frozenset({"0", "-1"}),
    ("2d", "CRVAL1"): frozenset({"0", "-1"}),
    ("2d", "CRVAL2"): frozenset({"0", "-1"}),
    ("2d", "CDELT1"): frozenset({"-1"}),  # 1-degree pixels
    ("2d", "CDELT2"): frozenset({"-1"}),
    ("2d", "CROTA2"): frozenset({"0", "-1"}),
    ("2d", "LONPOLE"): frozenset({"0", "-1"}),
    ("2d", "EQUINOX"): frozenset({"huge string"}),  # a quoted EQUINOX is ignored by wcslib
    ("2d", "BMAJ"): frozenset({"0"}),  # BMAJ = 0: no beam
    ("2d", "BMIN"): frozenset({"0"}),
    ("2d", "BPA"): frozenset({"0", "-1"}),
    ("int", "BITPIX"): NONE,
    ("int", "BSCALE"): NUMBERS - {"0"},
    ("int", "BZERO"): NUMBERS,
    ("int", "BLANK"): frozenset({"0", "-1", "999999999", "2**63"}),
    ("cd", "CD1_1"): frozenset({"-1"}),
    ("cd", "CD2_2"): frozenset({"-1"}),
    ("cd", "CD1_2"): frozenset({"0", "-1"}),
    ("cd", "CD2_1"): frozenset({"0", "-1"}),
    ("pc", "PC1_1"): frozenset({"-1"}),
    ("pc", "PC2_2"): frozenset({"-1"}),
    ("pc", "PC1_2"): frozenset({"0", "-1"}),
    ("pc", "PC2_1"): frozenset({"0", "-1"}),
    **{("4d", key): NONE for key in ("NAXIS", "NAXIS3", "NAXIS4")},
    ("4d", "CTYPE3"): frozenset({"huge string"}),
    ("4d", "CTYPE4"): frozenset({"huge string"}),
    ("4d", "CRPIX3"): frozenset({"0", "-1", "999999999"}),
    ("4d", "CRPIX4"): frozenset({"0", "-1", "999999999"}),
    ("4d", "CRVAL3"): NUMBERS,
    ("4d", "CRVAL4"): NUMBERS,
    ("4d", "CDELT3"): NUMBERS - {"0"},
    ("4d", "CDELT4"): NUMBERS - {"0"},
    **{("fz", key): NONE for key in ("ZNAXIS", "ZNAXIS1", "ZNAXIS2", "ZBITPIX", "ZTILE1", "NAXIS2")},
    ("fz", "CDELT1"): frozenset({"-1"}),
}

SLOWEST: dict[str, tuple[float, str]] = {}


@pytest.fixture(scope="module", autouse=True)
def report_slowest(request):
    """Prints the slowest case of each group once the module's tests have run."""
    yield
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        for group, (seconds, case) in sorted(SLOWEST.items()):
            print(f"\nslowest {group} case: {seconds * 1000:.0f} ms ({case})")


def _record(group: str, seconds: float, case: str) -> None:
    if seconds > SLOWEST.get(group, (0.0, ""))[0]:
        SLOWEST[group] = (seconds, case)


def assert_sane(image) -> None:
    """What every later step relies on: a 2-D plane, and finite sky geometry when present."""
    ny, nx = image.shape
    assert image.data.ndim == 2 and ny >= 2 and nx >= 2
    if image.wcs is not None:
        sky = image.world_at((nx - 1) / 2.0, (ny - 1) / 2.0)
        assert np.isfinite(sky.spherical.lon.deg) and np.isfinite(sky.spherical.lat.deg)
        assert 0 < image.pixel_scale_deg <= 180
    if image.beam is not None:
        assert 0 < image.beam.minor <= image.beam.major <= 180 and math.isfinite(image.beam.pa)
    assert math.isnan(image.rms) or (math.isfinite(image.rms) and image.rms >= 0)
    for axis in image.extra_axes:
        assert axis.value is None or math.isfinite(axis.value)


def load_case(path, key: str, group: str = "load_fits") -> tuple[object | None, str | None]:
    """(image, None) or (None, message); fails on a hang, on anything but DecorasError and on a
    message that does not name the file and the card."""
    start = time.perf_counter()
    outcome = "refused"
    try:
        with time_limit(CASE_TIMEOUT_S):
            image = load_fits(path)
            image.rms  # noqa: B018 - the noise estimate every later step needs
            outcome = "loaded, with its rms"
            assert_sane(image)
            return image, None
    except CaseTimeout:
        pytest.fail(f"{path.name}: load_fits hung (> {CASE_TIMEOUT_S} s)")
    except DecorasError as exc:
        message = str(exc)
        assert path.name in message, f"the message does not name the file: {message}"
        assert names_card(message, key), f"the message does not name {key}: {message}"
        assert "\n" not in message
        return None, message
    finally:
        _record(f"{group} {outcome}", time.perf_counter() - start, path.name)


@pytest.mark.parametrize("kind, key", sorted(CASES), ids=[f"{k}-{c}" for k, c in sorted(CASES)])
def test_nasty_values(tmp_path, kind, key):
    legit = CASES[kind, key]
    wrong = []
    for label, value in NASTY.items():
        image, message = load_case(write_case(tmp_path, kind, key, value), key)
        if label in legit and image is None:
            wrong.append(f"{key} = {label} is legitimate but was refused: {message}")
        elif label not in legit and image is not None:
            wrong.append(f"{key} = {label} is nonsense but loaded (warnings {image.warnings})")
    assert not wrong, "\n".join(wrong)


def test_the_issue_case_is_refused_at_once(tmp_path):
    """The measured hang: NAXIS = 999999999 on an otherwise valid 2-D image (also through
    gzip), refused with the message the issue asks for, from the header alone."""
    for gz in (False, True):
        path = write_case(tmp_path, "2d", "NAXIS", "999999999", gz=gz)
        with time_limit(CASE_TIMEOUT_S), pytest.raises(DecorasError) as err:
            load_fits(path)
        assert str(err.value) == f"{path}: NAXIS = 999999999 is not a valid axis count (FITS allows 0..999)"
        with pytest.raises(DecorasError, match="NAXIS = 999999999"):
            image_hdus(path)


@pytest.mark.parametrize("key, value", [("NAXIS1", "1000000000"), ("BITPIX", "64"), ("NAXIS", "1"),
                                        ("BSCALE", "0"), ("CDELT1", "NAN")])
def test_gzip_headers_are_checked(tmp_path, key, value):
    kind = "int" if key == "BSCALE" else "2d"
    _, message = load_case(write_case(tmp_path, kind, key, value, gz=True), key)
    assert message is not None


def test_card_in_a_later_extension_is_checked(real_data, tmp_path):
    """A nonsense NAXIS2 in the AIPS CC table after an observed VLBA image: astropy would
    walk into it when opening the file, so it is refused naming the HDU and the card."""
    raw = (real_data / "vlba_X_NGC1052_2017-04-04_map.fits").read_bytes()
    path = tmp_path / "vlba_bad_cc.fits"
    path.write_bytes(patch_card(raw, "NAXIS2", "999999999", hdu=1))
    _, message = load_case(path, "NAXIS2")
    assert message is not None and "HDU 1: " in message


def test_observed_cutout_with_far_reference_pixel_keeps_its_wcs(real_data, tmp_path):
    """The ATCA cutout's CRPIX (-253, 937 on 100 x 100 pixels, 0.49 deg from its centre) is
    legitimate and keeps its WCS; the same card at 1e30 is refused naming it."""
    source = real_data / "atca_phoenix_deep_1.4GHz_sub.fits"
    image = load_fits(source)
    assert image.wcs is not None and image.header["CRPIX1"] == -253 and image.header["CRPIX2"] == 937
    path = tmp_path / "atca_crpix.fits"
    path.write_bytes(patch_card(source.read_bytes(), "CRPIX1", "1E30"))
    _, message = load_case(path, "CRPIX1")
    assert message is not None


def test_header_without_end_is_bounded(tmp_path, monkeypatch):
    """A primary header whose END is blanked: refused naming END, whether the file ends
    inside the header or goes on with more cards than the bound allows (lowered here from
    10,000 blocks to 20, so the test writes 100 kB instead of 30 MB)."""
    from decoras_gui.core import fits_header

    raw = bytearray(base_bytes("2d"))
    at = raw.index(b"END" + b" " * 77)
    raw[at:at + 80] = b" " * 80
    header = bytes(raw[:2880])
    cut = tmp_path / "no_end_cut.fits"
    cut.write_bytes(header)
    _, message = load_case(cut, "END")
    assert "the file ends inside it" in message
    monkeypatch.setattr(fits_header, "MAX_HEADER_BLOCKS", 20)
    endless = tmp_path / "no_end_endless.fits"
    endless.write_bytes(header + b"HISTORY filler".ljust(80) * 36 * 40)
    _, message = load_case(endless, "END")
    assert "no END card in the first 20 header blocks" in message


# -------------------------------------------------------------------- hypothesis-drawn values

FUZZ_CARDS = sorted(CASES)


def _fits_float(x: float) -> str:
    return repr(x).upper()  # NAN and INF are no FITS values: astropy cannot parse them


PRINTABLE = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=60)
VALUES = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(_fits_float),
    st.floats(-1e-3, 1e-3).map(_fits_float),  # near the scales real headers use
    st.sampled_from(["T", "F", "''", "'RA---TAN'", "'DEC--TAN'", "'GLON-CAR'", "'FREQ'", "'deg'", "'J2000'",
                     "1.0D300", "(1.0, 2.0)", "-0", "+7"]),
    PRINTABLE.map(lambda s: "'" + s.replace("'", "''")[:66] + "'"),  # a quoted string
    PRINTABLE,  # raw text: junk, comments, stray quotes
)


@settings(max_examples=500, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(case=st.sampled_from(FUZZ_CARDS), value=VALUES)
def test_drawn_values_load_sanely_or_name_the_card(tmp_path, case, value):
    kind, key = case
    load_case(write_case(tmp_path, kind, key, value), key, group="load_fits (hypothesis)")


def test_a_structural_card_given_twice_is_refused_naming_it(tmp_path):
    """An image extension with a second NAXIS2 card (-32) made astropy re-read the HDUs without
    end (found by tests/core/test_fuzz_inputs.py once its alarm could no longer be swallowed)."""
    path = tmp_path / "twice.fits"
    ext = fits.ImageHDU(np.zeros((16, 16), np.float32), sky_header(16, 16))
    ext.header["COMMENT"] = "placeholder"
    fits.HDUList([fits.PrimaryHDU(), ext]).writeto(path)
    raw = path.read_bytes()
    at = raw.index(b"COMMENT placeholder")
    path.write_bytes(raw[:at] + b"NAXIS2  =                  -32".ljust(80) + raw[at + 80:])
    with pytest.raises(DecorasError, match=r"twice\.fits.*NAXIS2 is given twice"):
        load_fits(path)
