"""The Predict canvas: empty, a single dot, and a full white square. No guess without ink; never a traceback."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from tests.app.harness import open_app, rerun
from tests.robustness.conftest import assert_clean, assert_says
from tests.unit.test_preprocessing import CASES
from ui import canvas
from ui.predict import state as predict_state

PREDICT = "pages/predict.py"


def drawing(fill=None) -> np.ndarray:
    rgba = np.zeros((280, 280, 4), dtype=np.uint8)  # (H, W, RGBA), transparent like a fresh canvas
    if fill is not None:
        fill(rgba)
    return rgba


def reading(app) -> str:
    return "\n".join(m.value for m in app.markdown
                     if "It reads" in m.value or "Not sure" in m.value or "Not a digit" in m.value)


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
    assert verdict.startswith(":orange[**Not a digit?**]")  # a filled square is unlike any digit, and it says so
    assert not app.error

    draw(app, CASES["centred seven"])  # the next drawing is read as usual
    assert_clean(app)
    assert "It reads **7**" in reading(app)


@pytest.mark.parametrize("value", [
    None, 42, "", "data:image/png;base64,", "data:image/png;base64,not base64!",
    "data:image/jpeg;base64," + base64.b64encode(b"\xff\xd8\xff").decode(),
    "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n garbage").decode(),
    "data:image/png;base64," + "A" * 3_000_000,
])
def test_a_forged_canvas_value_is_an_empty_canvas_not_a_traceback(value):
    """The canvas's value comes from the browser: anything but a PNG of the canvas's size counts as nothing."""
    assert canvas.decode(value) is None


def test_a_png_of_another_size_is_refused_and_the_real_size_is_read():
    def data_url(side):
        buffer = io.BytesIO()
        Image.new("RGBA", (side, side), (255, 255, 255, 255)).save(buffer, "PNG")
        return canvas.PNG_PREFIX + base64.b64encode(buffer.getvalue()).decode()

    assert canvas.decode(data_url(1_000)) is None
    header = bytearray(base64.b64decode(data_url(1)[len(canvas.PNG_PREFIX):]))
    header[16:24] = (100_000).to_bytes(4, "big") * 2  # IHDR claims 100,000 × 100,000: a decompression bomb
    assert canvas.decode(canvas.PNG_PREFIX + base64.b64encode(bytes(header)).decode()) is None
    decoded = canvas.decode(data_url(canvas.SIDE))
    assert decoded.shape == (280, 280, 4) and decoded.dtype == np.uint8 and decoded.min() == 255
