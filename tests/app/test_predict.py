"""The Predict page under AppTest, with the shipped MNIST default copied into the tests' store.

The canvas has no AppTest element, so drawings are injected through session_state (ui.predict.state.INJECTED).
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from core.store.runs import DEFAULTS, STORE_ROOT
from core.train.recipes import SHIPPED_RUN_IDS
from tests.app.harness import open_app, rendered, rerun
from tests.conftest import REPO_ROOT
from tests.unit.test_preprocessing import CASES, canvas
from ui.predict import state as predict_state

PREDICT = "pages/predict.py"
MNIST_DEFAULT = SHIPPED_RUN_IDS["mnist"]


@pytest.fixture(scope="module")
def shipped():
    source = REPO_ROOT / "models" / DEFAULTS / MNIST_DEFAULT
    target = STORE_ROOT / DEFAULTS / MNIST_DEFAULT
    shutil.copytree(source, target, dirs_exist_ok=True)
    yield MNIST_DEFAULT
    shutil.rmtree(target, ignore_errors=True)


def markdown(app) -> str:
    return "\n".join(element.value for element in app.markdown)


def test_an_injected_drawing_is_read_and_charted(shipped):
    app = open_app(PREDICT)
    assert app.selectbox(key=predict_state.RUN).value == shipped  # the shipped default comes first
    assert "empty" in app.info[0].value  # nothing drawn: no answer
    app.session_state[predict_state.INJECTED] = CASES["centred seven"]
    rerun(app)
    assert "It reads **7**" in markdown(app) and "Not a digit" not in markdown(app)
    charts = [chart.proto.spec for chart in app.get("plotly_chart")]
    assert len(charts) >= 4  # probabilities, pixels, X-ray, feature maps
    assert '"5. centred' in "".join(charts)
    # The input chart's title is short enough not to be cut; its note is a caption, for mouse and finger alike.
    import json

    titles = [json.loads(spec)["layout"].get("title", {}).get("text", "") for spec in charts]
    assert "What the model receives" in titles and all(len(title) <= 40 for title in titles), titles
    captions = " ".join(caption.value for caption in app.caption)
    assert "rescales them to 0–1" in captions and "mouse or your finger" in captions


def test_a_small_digit_in_a_corner_is_read_but_the_naive_resize_misses_it(shipped):
    app = open_app(PREDICT)
    app.session_state[predict_state.INJECTED] = canvas([[(200, 200), (260, 200), (226, 262)]], width=6)
    rerun(app)
    assert "It reads **7**" in markdown(app)
    app.toggle(key=predict_state.NAIVE).set_value(True)
    rerun(app)
    assert "It reads **7**" not in markdown(app)


def test_a_near_empty_canvas_gets_no_answer(shipped):
    app = open_app(PREDICT)
    app.session_state[predict_state.INJECTED] = canvas([[(100, 100), (101, 100)]], width=2)
    rerun(app)
    assert "empty" in app.info[0].value and "It reads" not in markdown(app)


def test_a_test_image_shows_expected_and_guess_and_saliency(shipped):
    app = open_app(PREDICT)
    app.segmented_control(key=predict_state.SOURCE).set_value("Test image")
    rerun(app)
    app.number_input(key=predict_state.INDEX).set_value(0)  # MNIST's first test image is a 7
    rerun(app)
    assert "Expected **7**, guessed **7**" in markdown(app)
    app.segmented_control(key=predict_state.VIEW).set_value("Saliency")
    rerun(app)
    assert any("HiResCAM on" in caption.value and "(7×7)" in caption.value for caption in app.caption)
    assert not app.info or all("says little" not in info.value for info in app.info)  # a 7 read rightly: a clear map
    app.selectbox(key=predict_state.SALIENCY_CLASS).set_value(3)
    rerun(app)
    assert any("score of 3" in caption.value for caption in app.caption)


def test_feature_maps_follow_the_chosen_layer(shipped):
    app = open_app(PREDICT)
    app.session_state[predict_state.INJECTED] = CASES["a zero"]
    rerun(app)
    layers = app.selectbox(key=predict_state.LAYER).options
    assert len(layers) == 2 and "14×14×32" in layers[0] and "7×7×64" in layers[1]
    app.selectbox(key=predict_state.LAYER).set_value(1)
    rerun(app)
    assert app.slider(key=predict_state.FILTER).max == 63
    assert any("64 maps of 7×7" in caption.value for caption in app.caption)


def test_clear_empties_the_canvas(shipped):
    app = open_app(PREDICT)
    app.session_state[predict_state.INJECTED] = CASES["a zero"]
    rerun(app)
    app.button(key=predict_state.CLEAR).click()
    rerun(app)
    assert predict_state.INJECTED not in app.session_state
    assert "empty" in app.info[0].value
    assert np.all(np.asarray(CASES["a zero"]).shape == (280, 280, 4))


def test_undo_takes_back_the_last_stroke_and_leaves_the_same_answer_as_without_it(shipped):
    """Injected as the browser's canvas would hold it after each stroke: a 7, then a stray stroke across it."""
    seven = [[(80, 60), (200, 60), (120, 230)]]
    stray = [[(30, 250), (250, 250)], [(250, 30), (30, 250)]]
    alone = open_app(PREDICT)
    alone.session_state[predict_state.INJECTED] = canvas(seven)
    rerun(alone)
    answer = markdown(alone)
    assert "It reads **7**" in answer
    app = open_app(PREDICT)
    app.session_state[predict_state.INJECTED] = [canvas(seven), canvas(seven + stray)]
    rerun(app)
    assert markdown(app) != answer  # the stray stroke changed the answer
    app.button(key=predict_state.UNDO).click()
    rerun(app)
    assert markdown(app) == answer
    app.button(key=predict_state.UNDO).click()
    rerun(app)
    assert "empty" in app.info[0].value and "It reads" not in markdown(app)


def test_a_dash_is_called_not_a_digit_and_the_switch_shows_the_raw_guess(shipped):
    app = open_app(PREDICT)
    app.session_state[predict_state.INJECTED] = canvas([[(70, 140), (210, 140)]])
    rerun(app)
    assert "Not a digit?" in markdown(app) and "does not look like any digit" in markdown(app)
    assert "It reads" not in markdown(app)
    captions = " ".join(caption.value for caption in app.caption)
    assert "of being something else" in captions and "raw guess" in captions
    assert any('"type":"bar"' in chart.proto.spec.replace(" ", "")
               for chart in app.get("plotly_chart"))  # the probabilities are still shown
    # The X-ray draws each image's edge: the dash cropped to its ink is all ink, white on the white page.
    specs = [chart.proto.spec for chart in app.get("plotly_chart")]
    xray = json.loads(next(spec for spec in specs if "cropped to the ink" in spec))
    panels = [trace for trace in xray["data"] if trace["type"] == "heatmap"]
    assert len(xray["layout"]["shapes"]) == len(panels) >= 5
    app.toggle(key=predict_state.CHECK).set_value(False)
    rerun(app)
    assert "It reads" in markdown(app) and "Not a digit" not in markdown(app)


def test_an_uploaded_photo_of_a_letter_is_checked_too(shipped):
    from io import BytesIO

    from PIL import Image

    buffer = BytesIO()
    Image.fromarray(canvas([[(80, 230), (140, 50), (200, 230)], [(105, 160), (175, 160)]])).save(buffer, "PNG")
    app = open_app(PREDICT)
    app.segmented_control(key=predict_state.SOURCE).set_value("Upload")
    rerun(app)
    app.file_uploader(key=predict_state.UPLOAD).set_value(("letter-a.png", buffer.getvalue(), "image/png"))
    rerun(app)
    assert "Not a digit?" in markdown(app)


def test_a_camera_photo_of_a_digit_on_paper_is_prepared_as_an_upload_and_read(shipped):
    from io import BytesIO

    from PIL import Image

    from core.predict import sketches, styles

    rng = np.random.default_rng(5)
    five = sketches.render([[(190, 55), (100, 55), (95, 130), (160, 120), (195, 170), (160, 225), (90, 215)]], 16)
    buffer = BytesIO()
    Image.fromarray(styles.photographed(five, rng)).save(buffer, "JPEG", quality=85)  # dark ink on lit paper
    app = open_app(PREDICT)
    app.segmented_control(key=predict_state.SOURCE).set_value("Camera")
    rerun(app)
    assert "Take a photo: the model reads it at once" in " ".join(caption.value for caption in app.caption)
    app.session_state[predict_state.INJECTED_PHOTO] = buffer.getvalue()
    rerun(app)
    assert "It reads **5**" in markdown(app)
    assert "inverted to light on dark" in " ".join(caption.value for caption in app.caption)


def test_a_model_of_clothes_gets_no_digit_check(shipped):
    fashion = SHIPPED_RUN_IDS["fashion_mnist"]
    target = STORE_ROOT / DEFAULTS / fashion
    shutil.copytree(REPO_ROOT / "models" / DEFAULTS / fashion, target, dirs_exist_ok=True)
    try:
        app = open_app(PREDICT)
        app.selectbox(key=predict_state.RUN).set_value(fashion)
        rerun(app)
        app.session_state[predict_state.INJECTED] = canvas([[(70, 140), (210, 140)]])
        rerun(app)
        assert not [toggle for toggle in app.toggle if toggle.key == predict_state.CHECK]
        assert ("Not a digit" not in markdown(app) and "It reads" in markdown(app)) or "Not sure" in markdown(app)
    finally:
        shutil.rmtree(target, ignore_errors=True)


def test_without_the_digit_checks_files_predict_still_answers_and_says_so(shipped, tmp_path, monkeypatch):
    from core.predict import rejection
    from ui.model_cache import load_digit_check

    monkeypatch.setattr(rejection, "CHECK_FOLDER", tmp_path / "nowhere")
    load_digit_check.clear()
    try:
        app = open_app(PREDICT)
        app.session_state[predict_state.INJECTED] = canvas([[(70, 140), (210, 140)]])
        rerun(app)
        assert any("digit check is not available" in caption.value for caption in app.caption)
        assert "It reads" in markdown(app) or "Not sure" in markdown(app)
    finally:
        load_digit_check.clear()


def test_a_link_opens_a_test_image_with_its_heat_map(shipped):
    # Evaluate's galleries, Models and a finished run on Train link here with ?run=…&test=…&look=…
    app = open_app(PREDICT, query={"run": shipped, "test": "8", "look": "saliency"})
    assert app.session_state[predict_state.SOURCE] == "Test image"
    assert app.number_input(key=predict_state.INDEX).value == 8
    assert any("HiResCAM on" in caption.value for caption in app.caption)  # the heat map is on show
    assert app.query_params.get("run") == [shipped] or app.query_params.get("run") == shipped
    assert "test" not in app.query_params and "look" not in app.query_params  # applied once; the pickers rule now
    assert not app.error


@pytest.mark.parametrize(("query", "says"), [
    ({"test": "abc"}, "'abc' is not an image number"),
    ({"test": "1" * 12}, "is not an image number"),
    ({"look": "<b>x</b>"}, "Predict shows saliency or maps"),
    ({"run": "20990101-000000-zzzzzz"}, "Pick a model below"),
])
def test_a_bad_link_says_what_is_wrong_and_opens_the_page(shipped, query, says):
    app = open_app(PREDICT, query=query)
    assert any(says in rendered(error.value) for error in app.error), [error.value for error in app.error]
    assert app.selectbox(key=predict_state.RUN).value == shipped
    assert not app.exception


def test_a_linked_test_image_beyond_the_test_set_says_so(shipped):
    app = open_app(PREDICT, query={"run": shipped, "test": "12345"})
    assert any("There is no test image #12,345 here" in warning.value for warning in app.warning)
    assert app.number_input(key=predict_state.INDEX).value == 0
