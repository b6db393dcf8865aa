"""The bundled model, loaded once for the ML tests."""

import pytest

from decoras_gui.ml.registry import load_model


@pytest.fixture(scope="session")
def bundled_model():
    return load_model()
