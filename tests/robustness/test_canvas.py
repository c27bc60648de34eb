"""The Predict canvas: empty, a single dot, and a full white square. No guess without ink; never a traceback."""

from __future__ import annotations

import numpy as np

from tests.app.harness import open_app, rerun
from tests.robustness.conftest import assert_clean, assert_says
from tests.unit.test_preprocessing import CASES
from ui.predict import state as predict_state

PREDICT = "pages/predict.py"


def drawing(fill=None) -> np.ndarray:
    rgba = np.zeros((280, 280, 4), dtype=np.uint8)  # (H, W, RGBA), transparent like a fresh canvas
    if fill is not None:
        fill(rgba)
    return rgba


def reading(app) -> str:
    return "\n".join(m.value for m in app.markdown if "It reads" in m.value or "Not sure" in m.value)


def draw(app, rgba):
    app.session_state[predict_state.INJECTED] = rgba
    return rerun(app)


def test_empty_dot_and_full_square(mnist_default):
    app = open_app(PREDICT)
    draw(app, drawing())
    assert_clean(app)
    assert_says(app, "canvas is empty")
    assert not reading(app)

    def dot(rgba):
        rgba[140:142, 140:142] = 255  # a 2×2 dot: below the 0.05% ink threshold

    draw(app, drawing(dot))
    assert_clean(app)
    assert_says(app, "canvas is empty")
    assert not reading(app)

    def square(rgba):
        rgba[:, :] = 255  # everything white: the whole canvas is ink

    draw(app, drawing(square))
    assert_clean(app)
    verdict = reading(app)
    assert verdict.startswith("Not sure")  # an answer that admits it: a filled square is unlike any digit
    assert not app.error

    draw(app, CASES["centred seven"])  # the next drawing is read as usual
    assert_clean(app)
    assert "It reads **7**" in reading(app)
