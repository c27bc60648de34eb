"""Bad and awkward image uploads on the two pages that take one: the Convolution Playground and Predict.

Bad files get a message naming the problem; awkward but valid ones (16-bit, CMYK, palette, alpha,
animated) simply work. After each, a good upload must work, so the page is still usable.
"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.harness import open_app, rendered, rerun
from tests.robustness.bad_files import (
    AWKWARD_IMAGES,
    BAD_IMAGES,
    digit_png,
    one_by_100000_png,
    one_by_one_png,
    png_16bit_alpha,
    polyglot_png_zip,
)
from tests.robustness.conftest import assert_clean, assert_says
from ui import dataset_picker, state
from ui.playground import state as pg
from ui.predict import state as predict_state

PLAYGROUND, PREDICT = "pages/convolution_playground.py", "pages/predict.py"


def playground_upload() -> AppTest:
    app = open_app(PLAYGROUND)
    app.segmented_control(key=pg.SOURCE).set_value("upload")
    return rerun(app)


def upload(app: AppTest, key: str, name: str, data: bytes) -> AppTest:
    app.file_uploader(key=key).set_value((name, data, "application/octet-stream"))
    app.run()
    return app


def playground_shows(app: AppTest, name: str) -> bool:
    shown = any(f"your upload {name}" in rendered(caption.value) for caption in app.caption)
    return shown and bool(app.get("plotly_chart"))


@pytest.mark.parametrize("case", list(BAD_IMAGES))
def test_playground_bad_image(case):
    name, make, words = BAD_IMAGES[case]
    app = upload(playground_upload(), pg.UPLOAD, name, make())
    assert_clean(app)
    assert_says(app, words)
    assert not playground_shows(app, name)
    upload(app, pg.UPLOAD, "good.png", digit_png())  # the next action works
    assert_clean(app)
    assert playground_shows(app, "good.png")


@pytest.mark.parametrize("case", list(AWKWARD_IMAGES))
def test_playground_awkward_image_simply_works(case):
    name, make = AWKWARD_IMAGES[case]
    app = upload(playground_upload(), pg.UPLOAD, name, make())
    assert_clean(app)
    assert not app.error
    assert playground_shows(app, name)


def predict_upload(run_id: str) -> AppTest:
    app = open_app(PREDICT)
    assert app.selectbox(key=predict_state.RUN).value == run_id
    app.segmented_control(key=predict_state.SOURCE).set_value("Upload")
    return rerun(app)


def reading(app: AppTest) -> str:
    return "\n".join(m.value for m in app.markdown if "It reads" in m.value or "Not sure" in m.value)


@pytest.mark.parametrize("case", list(BAD_IMAGES))
def test_predict_bad_image(case, mnist_default):
    name, make, words = BAD_IMAGES[case]
    app = upload(predict_upload(mnist_default), predict_state.UPLOAD, name, make())
    assert_clean(app)
    assert_says(app, words)
    assert not reading(app)
    upload(app, predict_state.UPLOAD, "seven.png", digit_png(dark_on_light=True))
    assert_clean(app)
    assert "It reads **7**" in reading(app)


@pytest.mark.parametrize("case", list(AWKWARD_IMAGES))
def test_predict_awkward_image_simply_works(case, mnist_default):
    name, make = AWKWARD_IMAGES[case]
    app = upload(predict_upload(mnist_default), predict_state.UPLOAD, name, make())
    assert_clean(app)
    assert not app.error
    assert "It reads **7**" in reading(app), [m.value for m in app.markdown][:5]


# Uploads the first probe did not try. Predict refuses what cannot hold a digit, with the reason; the
# Playground takes any image it can convolve (its maths works on a 1×1 grid) and explains a kernel
# that does not fit.
ODD_IMAGES = {  # case → (file name, bytes factory, Predict: words or None for "reads a 7", Playground: words or None)
    "1×1": ("dot.png", one_by_one_png, "1×1 pixels: too small", "does not fit in 1 pixel with"),
    "1×100000": ("strip.png", one_by_100000_png, "100000×1 pixels: a thin strip", "does not fit in 1 pixel with"),
    "16-bit with alpha": ("deep-alpha.png", png_16bit_alpha, None, None),
    "PNG that is also a zip": ("polyglot.png", polyglot_png_zip, None, None),
}


@pytest.mark.parametrize("case", list(ODD_IMAGES))
def test_predict_odd_image(case, mnist_default):
    name, make, words, _ = ODD_IMAGES[case]
    app = upload(predict_upload(mnist_default), predict_state.UPLOAD, name, make())
    assert_clean(app)
    if words is None:
        assert "It reads **7**" in reading(app), [m.value for m in app.markdown][:5]
    else:
        assert_says(app, words)
        assert not reading(app)
        upload(app, predict_state.UPLOAD, "seven.png", digit_png(dark_on_light=True))
        assert "It reads **7**" in reading(app)


@pytest.mark.parametrize("case", list(ODD_IMAGES))
def test_playground_odd_image(case):
    name, make, _, words = ODD_IMAGES[case]
    app = upload(playground_upload(), pg.UPLOAD, name, make())
    assert_clean(app)
    if words is None:
        assert playground_shows(app, name) and not app.error
    else:
        assert_says(app, words)


def test_a_png_that_is_also_a_zip_is_refused_as_a_dataset_by_its_first_bytes():
    # The archive is told by its first bytes (a PNG's here), not by a zip directory found at the end.
    app = open_app("pages/dataset_explorer.py")
    app.file_uploader(key=dataset_picker.UPLOADER).set_value(("polyglot.zip", polyglot_png_zip(), "application/zip"))
    app.button(key=dataset_picker.LOAD).click()
    rerun(app)
    assert_clean(app)
    assert_says(app, "not a zip", "first bytes are not an archive")
    assert app.session_state[state.DATASET] == "digits"  # unchanged
