"""Detection through the task registry gives the catalogues the code gave before ml/ became
task-generic (issue 14): tests/data/refactor/before_*.ecsv, see its README.

Each image is detected the way ``decoras detect`` does it (the task the model's card names,
found in the registry, then its ``run``), written as ECSV as the command writes it, read back,
and compared with the catalogue made before: the same sources in the same order, numbers equal
to rtol 1e-6 / atol 1e-9 (they are in fact bit-identical today), strings and flags equal, and
every metadata entry of before kept (new entries allowed; stamps of the program's version or of
the time exempt).

The before-catalogues were made on a CPU with native bfloat16, so the networks ran in bf16
(``ml.inference.pick_precision``); float32 networks give slightly different figures (positions
up to 0.3 pixel apart on these images), so the comparison is only meaningful, and only run,
where bf16 is what ``decoras detect`` uses on the CPU.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from astropy.table import Table

from decoras_gui.core.image import load_fits
from decoras_gui.ml.inference import pick_precision
from decoras_gui.ml.registry import DEFAULT_MODEL
from decoras_gui.ml.tasks import get_task
from decoras_gui.paths import resources_dir

BEFORE = Path(__file__).resolve().parent.parent / "data" / "refactor"
OWN = {"sample_vlba_dirty": resources_dir() / "sample_vlba_dirty.fits",
       "sim_field_0": BEFORE / "sim_field_0.fits", "sim_field_1": BEFORE / "sim_field_1.fits"}
REAL = ("atca_phoenix_deep_1.4GHz_sub", "evn_L_4C39.25_n05l1_ICLN", "nvas_vla_K_W51", "nvss_postage_stamp_aips",
        "vlba_X_NGC1052_2017-04-04_map")
RTOL, ATOL = 1e-6, 1e-9


def exempt(key: str) -> bool:
    """Metadata stamps that may change with the program: its name/version, dates and times."""
    key = key.lower()
    return (key.startswith("creator") or ("version" in key and key != "model_version")
            or any(word in key for word in ("date", "time")))


@pytest.fixture
def detect_model(bundled_model):
    """The bundled model (loaded once a session), where its networks run as they did before."""
    if pick_precision(torch.device("cpu")) != "bf16":
        pytest.skip("the before-catalogues were made with bf16 networks; this CPU (or DECORAS_PRECISION) "
                    "runs them in float32")
    assert bundled_model.card.name == DEFAULT_MODEL and bundled_model.card.task == "detect"
    return bundled_model


def detect_to_table(path: Path, model, out: Path) -> Table:
    task = get_task(model.card.task)
    output = task.run(load_fits(path), model, device="cpu")
    output.result.write(out)
    return Table.read(out)


def assert_same_catalogue(now: Table, before: Table, image: Path, name: str) -> None:
    assert len(before) > 0, f"{name}: the before-catalogue is empty: nothing would be compared"
    assert len(now) == len(before), f"{name}: {len(now)} sources now, {len(before)} before"
    assert set(before.colnames) <= set(now.colnames), f"{name}: columns lost"
    for col in before.colnames:
        a, b = np.asarray(now[col]), np.asarray(before[col])
        if b.dtype.kind == "f":
            np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL, equal_nan=True, err_msg=f"{name}: {col}")
        else:
            assert a.tolist() == b.tolist(), f"{name}: {col}"
        assert str(now[col].unit) == str(before[col].unit), f"{name}: unit of {col}"
    for key, value in before.meta.items():
        if exempt(key):
            continue
        assert key in now.meta, f"{name}: metadata {key!r} lost"
        if key == "image_path":  # as given on the command line (the before-files: relative to their folder)
            assert Path(now.meta[key]).resolve() == image.resolve() and Path(value).name == image.name
        else:
            assert now.meta[key] == value, f"{name}: metadata {key!r}"


@pytest.mark.parametrize("name", list(OWN))
def test_own_images_give_the_catalogues_of_before(name, detect_model, tmp_path):
    now = detect_to_table(OWN[name], detect_model, tmp_path / f"{name}.ecsv")
    assert_same_catalogue(now, Table.read(BEFORE / f"before_{name}.ecsv"), OWN[name], name)


@pytest.mark.parametrize("name", REAL)
def test_observed_images_give_the_catalogues_of_before(name, real_data, detect_model, tmp_path):
    image = real_data / f"{name}.fits"
    now = detect_to_table(image, detect_model, tmp_path / f"{name}.ecsv")
    assert_same_catalogue(now, Table.read(BEFORE / f"before_{name}.ecsv"), image, name)


def test_every_before_catalogue_is_compared():
    made = {p.name[len("before_"):-len(".ecsv")] for p in BEFORE.glob("before_*.ecsv")}
    assert made == set(OWN) | set(REAL)
