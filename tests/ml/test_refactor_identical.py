"""Detection through the task registry gives the catalogues the code gave before ml/ became
task-generic (issue 14): tests/data/refactor/before_*.ecsv, see its README.

Each image is detected the way ``decoras detect`` does it (the task the model's card names,
found in the registry, then its ``run``), written as ECSV as the command writes it, read back,
and compared with the catalogue made before: the same sources in the same order, numbers equal
to rtol 1e-6 / atol 1e-9 (they are in fact bit-identical today), strings and flags equal, and
every metadata entry of before kept (new entries allowed; stamps of the program's version or of
the time exempt).

The networks run in bf16 on a CPU with native bfloat16 and in float32 elsewhere (or with
``DECORAS_PRECISION=fp32``; ``ml.inference.pick_precision``), and the two give slightly different
figures (positions up to 0.3 pixel apart on these images), so there is one set of before-catalogues
for each: ``before_NAME.ecsv`` (bf16) and ``before_fp32_NAME.ecsv`` (float32, made by the same old
commit with ``DECORAS_PRECISION=fp32``). Both are compared here; bf16 only on a CPU that has it.
The bf16 kernels themselves differ between CPU generations (oneDNN's AMX kernels on a CPU with
AMX, its AVX-512 BF16 ones on one without: the last bits of their sums, which fits carry on to
1e-3 of a position angle), so bf16 figures are compared to ``RTOL_BF16`` and positions to
``BF16_PIXELS`` of a pixel; float32 ones to ``RTOL``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from astropy.table import Table

from decoras_gui.core.image import load_fits
from decoras_gui.ml.inference import pick_precision
from decoras_gui.ml.registry import DEFAULT_MODEL, load_model
from decoras_gui.ml.tasks import get_task
from decoras_gui.paths import resources_dir

BEFORE = Path(__file__).resolve().parent.parent / "data" / "refactor"
OWN = {"sample_vlba_dirty": resources_dir() / "sample_vlba_dirty.fits",
       "sim_field_0": BEFORE / "sim_field_0.fits", "sim_field_1": BEFORE / "sim_field_1.fits"}
REAL = ("atca_phoenix_deep_1.4GHz_sub", "evn_L_4C39.25_n05l1_ICLN", "nvas_vla_K_W51", "nvss_postage_stamp_aips",
        "vlba_X_NGC1052_2017-04-04_map")
RTOL, ATOL = 1e-6, 1e-9
RTOL_BF16, BF16_PIXELS = 5e-3, 0.01


def exempt(key: str) -> bool:
    """Metadata stamps that may change with the program: its name/version, dates and times."""
    key = key.lower()
    return (key.startswith("creator") or ("version" in key and key != "model_version")
            or any(word in key for word in ("date", "time")))


PRECISIONS = {"bf16": "before_", "fp32": "before_fp32_"}


def cpu_dependent(prefix: str) -> bool:
    """True for the before-catalogues with ``prefix`` whose figures depend on the CPU (bf16's)."""
    return prefix == PRECISIONS["bf16"]


def pixel_deg(image: Path) -> float:
    """The smaller pixel side of ``image``, degrees."""
    from astropy.wcs.utils import proj_plane_pixel_scales

    return float(proj_plane_pixel_scales(load_fits(image).wcs).min())


@pytest.fixture(params=list(PRECISIONS))
def precision(request, monkeypatch) -> str:
    """The networks' precision of this run, and the prefix of its before-catalogues."""
    if request.param == "fp32":
        monkeypatch.setenv("DECORAS_PRECISION", "fp32")
    else:
        monkeypatch.delenv("DECORAS_PRECISION", raising=False)
    if pick_precision(torch.device("cpu")) != request.param:
        pytest.skip("this CPU has no native bfloat16: its networks run in float32 (compared in the fp32 case)")
    return PRECISIONS[request.param]


@pytest.fixture(scope="module")
def detect_model():
    """The model the stored catalogues were made with: vlba-l-band 1.0.0, kept beside them
    (tests/data/refactor/model) since the bundled model moved on to 2.0.0."""
    model = load_model(DEFAULT_MODEL, BEFORE / "model")
    assert model.card.version == "1.0.0" and model.card.task == "detect"
    return model


def detect_to_table(path: Path, model, out: Path) -> Table:
    task = get_task(model.card.task)
    output = task.run(load_fits(path), model, device="cpu")
    output.result.write(out)
    return Table.read(out)


def assert_same_catalogue(now: Table, before: Table, image: Path, name: str, bf16: bool = False) -> None:
    assert len(before) > 0, f"{name}: the before-catalogue is empty: nothing would be compared"
    assert len(now) == len(before), f"{name}: {len(now)} sources now, {len(before)} before"
    assert set(before.colnames) <= set(now.colnames), f"{name}: columns lost"
    for col in before.colnames:
        # a per-component file (issue 15.5) keeps the row's own id in component_id; source_id names its source
        now_col = "component_id" if col == "source_id" and "component_id" in now.colnames else col
        a, b = np.asarray(now[now_col]), np.asarray(before[col])
        if b.dtype.kind == "f" and bf16 and col in ("x", "y", "ra", "dec"):
            atol = BF16_PIXELS * (pixel_deg(image) if col in ("ra", "dec") else 1.0)
            np.testing.assert_allclose(a, b, rtol=0, atol=atol, equal_nan=True, err_msg=f"{name}: {col}")
        elif b.dtype.kind == "f":
            np.testing.assert_allclose(a, b, rtol=RTOL_BF16 if bf16 else RTOL, atol=ATOL, equal_nan=True,
                                       err_msg=f"{name}: {col}")
        else:
            assert a.tolist() == b.tolist(), f"{name}: {col}"
        assert str(now[now_col].unit) == str(before[col].unit), f"{name}: unit of {col}"
    for key, value in before.meta.items():
        if exempt(key):
            continue
        assert key in now.meta, f"{name}: metadata {key!r} lost"
        if key == "image_path":  # as given on the command line (the before-files: relative to their folder)
            assert Path(now.meta[key]).resolve() == image.resolve() and Path(value).name == image.name
        else:
            assert now.meta[key] == value, f"{name}: metadata {key!r}"


@pytest.mark.parametrize("name", list(OWN))
def test_own_images_give_the_catalogues_of_before(name, precision, detect_model, tmp_path):
    now = detect_to_table(OWN[name], detect_model, tmp_path / f"{name}.ecsv")
    before = Table.read(BEFORE / f"{precision}{name}.ecsv")
    assert_same_catalogue(now, before, OWN[name], name, cpu_dependent(precision))


@pytest.mark.parametrize("name", REAL)
def test_observed_images_give_the_catalogues_of_before(name, precision, real_data, detect_model, tmp_path):
    image = real_data / f"{name}.fits"
    now = detect_to_table(image, detect_model, tmp_path / f"{name}.ecsv")
    assert_same_catalogue(now, Table.read(BEFORE / f"{precision}{name}.ecsv"), image, name, cpu_dependent(precision))


@pytest.mark.parametrize("prefix", list(PRECISIONS.values()))
def test_every_before_catalogue_is_compared(prefix):
    made = {p.name[len(prefix):-len(".ecsv")] for p in BEFORE.glob(f"{prefix}*.ecsv")
            if not p.name.startswith("before_fp32_") or prefix == "before_fp32_"}
    assert made == set(OWN) | set(REAL)
