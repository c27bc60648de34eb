"""The app under Streamlit's AppTest: every page opens, and every explorer widget works."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
from PIL import Image

from tests.app.harness import open_app, rendered, rerun
from ui import dataset_picker, state
from ui.explorer import state as explorer_state
from ui.navigation import HOME, PAGES

EXPLORER = "pages/dataset_explorer.py"
PLAYGROUND = "pages/convolution_playground.py"


def test_home_links_every_other_page():
    app = open_app()
    assert app.title[0].value == "CNN Lab"
    links = app.get("page_link")
    # page links carry the url path st.navigation derives from each file name
    expected = [spec.path.removeprefix("pages/").removesuffix(".py") for spec in PAGES if spec is not HOME]
    assert [link.proto.page for link in links] == expected


@pytest.mark.parametrize("spec", [spec for spec in PAGES if spec.path != EXPLORER], ids=lambda spec: spec.title)
def test_every_page_opens(spec):
    app = open_app(spec.path)
    assert app.title[0].value == ("CNN Lab" if spec is HOME else spec.title)


def test_explorer_default_is_digits_with_facts_and_class_balance():
    app = open_app(EXPLORER)
    assert app.session_state[state.DATASET] == "digits"
    metrics = {metric.label: metric.value for metric in app.metric}
    assert metrics["Training images"] == "1,437" and metrics["Test images"] == "360"
    assert metrics["Image shape (H, W, C)"] == "8 × 8 × 1" and metrics["Classes"] == "10"
    assert len(app.get("plotly_chart")) == 1


def test_explorer_every_section_and_widget_on_mnist(data_dir):
    app = open_app(EXPLORER)
    app.selectbox(key=state.DATASET).select("mnist")
    rerun(app)
    assert app.metric[0].value == "60,000"

    app.segmented_control(key=explorer_state.SECTION).set_value("Samples")
    rerun(app)
    assert len(app.image[0].captions) == 32
    app.multiselect(key=explorer_state.CLASSES).select(3)
    rerun(app)
    captions = app.image[0].captions
    assert len(captions) == 32 and all(caption.endswith("· 3") for caption in captions)
    app.toggle(key=explorer_state.SHUFFLE).set_value(False)
    rerun(app)
    first_page = app.image[0].captions
    assert first_page[0] == "#7 · 3"  # the first 3 in MNIST's training order is image 7
    page_input = next(w for w in app.number_input if w.key.startswith(explorer_state.GRID_PAGE))
    page_input.set_value(2)
    rerun(app)
    second_page = app.image[0].captions
    assert second_page != first_page and all(caption.endswith("· 3") for caption in second_page)
    picked = int(second_page[0].split(" ")[0][1:])
    app.selectbox(key=explorer_state.INSPECT).select(picked)
    rerun(app)
    app.button(key=explorer_state.INSPECT_GO).click()
    rerun(app)
    assert app.session_state[explorer_state.IMAGE_INDEX] == picked
    assert app.session_state[explorer_state.SECTION] == "Pixels & label"
    assert app.header[0].value == f"Train image #{picked}: 3"
    assert "one-hot vector `[0, 0, 0, 1, 0, 0, 0, 0, 0, 0]`" in app.markdown[0].value
    app.slider(key=f"{explorer_state.CROP_ROWS}28_False").set_value((5, 10))
    rerun(app)
    heatmap = app.get("plotly_chart")[0].proto.spec
    assert '"y":[5,6,7,8,9,10]' in heatmap.replace(" ", "")

    app.radio(key=explorer_state.SPLIT).set_value("test")
    app.number_input(key=explorer_state.IMAGE_INDEX).set_value(0)
    rerun(app)
    assert app.header[0].value == "Test image #0: 7"

    app.segmented_control(key=explorer_state.SECTION).set_value("Statistics")
    rerun(app)
    assert len(app.get("plotly_chart")) == 2
    app.toggle(key=explorer_state.LOG_SCALE).set_value(False)
    rerun(app)

    app.segmented_control(key=explorer_state.SECTION).set_value("Normalisation")
    rerun(app)
    text = " ".join(element.value for element in app.markdown)
    assert "mean 33.318" in text and "std 78.567" in text
    assert "[-0.424, 2.822]" in text  # (0 − 33.318) / 78.567 and (255 − 33.318) / 78.567

    app.segmented_control(key=explorer_state.SECTION).set_value("Augmentation")
    rerun(app)
    app.selectbox(key=explorer_state.augment_key("flip")).select("horizontal")
    app.slider(key=explorer_state.augment_key("count")).set_value(4)
    app.slider(key=explorer_state.augment_key("rotation")).set_value(0.25)
    rerun(app)
    assert app.image[0].captions == ["original", "variant 1", "variant 2", "variant 3", "variant 4"]
    assert 'RandomFlip("horizontal")' in app.code[0].value and "RandomRotation(0.25" in app.code[0].value


def test_explorer_colour_dataset_shows_rgb_channels(data_dir):
    app = open_app(EXPLORER)
    app.selectbox(key=state.DATASET).select("cifar10")
    app.segmented_control(key=explorer_state.SECTION).set_value("Pixels & label")
    rerun(app)
    titles = [chart.proto.spec for chart in app.get("plotly_chart")]
    assert len(titles) == 4 and all(f"{name} channel" in spec for name, spec in zip("RGB", titles[1:], strict=True))
    app.segmented_control(key=explorer_state.SECTION).set_value("Normalisation")
    rerun(app)
    app.toggle(key=explorer_state.PER_CHANNEL).set_value(True)
    rerun(app)
    assert any("R " in element.value and "B " in element.value for element in app.markdown)


def _zip_of_classes(names: list[str], per_class: int = 4) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for label, name in enumerate(names):
            for i in range(per_class):
                image = io.BytesIO()
                Image.fromarray(np.full((20, 20, 3), 60 * label, np.uint8)).save(image, "PNG")
                archive.writestr(f"{name}/{i}.png", image.getvalue())
    return buffer.getvalue()


def load_zip(app, name: str, data: bytes) -> None:
    """Chooses a zip in the sidebar's uploader and presses its load button, as a visitor does."""
    app.file_uploader(key=dataset_picker.UPLOADER).set_value((name, data, "application/zip"))
    rerun(app)
    app.button(key=dataset_picker.LOAD).click()
    rerun(app)


def test_explorer_upload_zip_becomes_the_dataset_and_bad_zip_gets_a_message():
    app = open_app(EXPLORER)
    load_zip(app, "shapes.zip", _zip_of_classes(["a", "b", "c"]))
    assert app.session_state[state.DATASET].startswith("folder:shapes:")
    metrics = {metric.label: metric.value for metric in app.metric}
    assert metrics["Classes"] == "3" and metrics["Image shape (H, W, C)"] == "32 × 32 × 3"
    assert not app.error

    evil = io.BytesIO()
    with zipfile.ZipFile(evil, "w") as archive:
        archive.writestr("../evil.png", b"x")
    load_zip(app, "evil.zip", evil.getvalue())
    assert "outside the archive" in app.error[0].value
    assert app.session_state[state.DATASET].startswith("folder:shapes:")  # the good upload is still chosen


def test_upload_with_an_empty_test_split_says_so():
    app = open_app(EXPLORER)
    load_zip(app, "tiny.zip", _zip_of_classes(["a", "b"], per_class=1))
    app.radio(key=explorer_state.SPLIT).set_value("test")
    rerun(app)
    assert "test split of this dataset is empty" in app.warning[0].value
    app.radio(key=explorer_state.SPLIT).set_value("train")
    rerun(app)
    assert not app.warning and app.metric[0].value == "2"


def test_missing_dataset_gets_a_message_not_a_traceback(monkeypatch, tmp_path):
    monkeypatch.setenv("CNNLAB_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    import core.data.datasets

    def offline(name):
        raise Exception("no network here")

    monkeypatch.setattr(core.data.datasets, "_download_with_keras", offline)
    app = open_app(EXPLORER)
    app.selectbox(key=state.DATASET).select("fashion_mnist")
    rerun(app)
    shown = app.error[0].value.replace("\\", "")  # Markdown escapes
    assert "Fashion-MNIST clothing is not available" in shown and "fashion-mnist/" in shown


@pytest.mark.parametrize("spec", PAGES, ids=lambda spec: spec.title)
def test_a_page_run_on_its_own_sets_the_state_it_reads(spec):
    # What a page sees when it runs without the router (`streamlit run pages/train.py`, or a first
    # visit that Streamlit ran in legacy folder mode): it must never depend on the router's state.
    from streamlit.testing.v1 import AppTest

    from tests.conftest import REPO_ROOT

    app = AppTest.from_file(str(REPO_ROOT / spec.path), default_timeout=120)
    app.run()
    # Links to other pages need the router's page list; nothing else may fail.
    problems = [e.value for e in app.exception if not e.value.startswith("Could not find page:")]
    assert not problems, problems
    assert app.title[0].value == ("CNN Lab" if spec is HOME else spec.title)


def test_a_hosted_explorer_says_where_the_data_came_from_without_the_servers_path(data_dir, monkeypatch):
    monkeypatch.setenv("CNNLAB_HOSTED", "1")
    app = open_app(EXPLORER)
    app.selectbox(key=state.DATASET).select("mnist")
    rerun(app)
    captions = "\n".join(caption.value for caption in app.caption)
    source = captions.split("Source:", 1)[1].split("\n", 1)[0]
    assert source.startswith(" data directory") and "/" not in source and str(data_dir) not in captions, source


@pytest.mark.parametrize("page", [EXPLORER, "pages/train.py", "pages/convolution_playground.py"])
def test_a_hosted_server_tells_a_visitor_a_dataset_is_missing_without_its_paths(monkeypatch, tmp_path, page):
    monkeypatch.setenv("CNNLAB_DATA_DIR", str(tmp_path / "secret-data-dir"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv("CNNLAB_HOSTED", "1")
    import core.data.datasets

    def offline(name):
        raise Exception("no network here")

    monkeypatch.setattr(core.data.datasets, "_download_with_keras", offline)
    app = open_app(page)
    picker = next(box for box in app.selectbox if box.label == "Dataset")
    picker.select("fashion_mnist")
    rerun(app)
    shown = "\n".join(error.value for error in app.error)
    assert "Fashion-MNIST clothing is not available on this server" in shown.replace("\\", "")
    assert "secret-data-dir" not in shown and str(tmp_path) not in shown and not app.exception


def test_class_names_and_file_names_of_an_upload_show_as_text():
    # Image captions rendered an uploaded dataset's class names as Markdown, and upload errors its file names.
    app = open_app(EXPLORER)
    names = ["**bold**", "[link](evil.example)"]
    load_zip(app, "hostile.zip", _zip_of_classes(names))
    app.segmented_control(key=explorer_state.SECTION).set_value("Samples")
    rerun(app)
    captions = [caption for image in app.image for caption in image.captions]
    assert captions and not any("**bold**" in caption or "](" in caption for caption in captions), captions
    assert any(rendered(caption).endswith("**bold**") for caption in captions)  # read as typed
    for section in ("Pixels & label", "Augmentation"):  # their headings name the image's class
        app.segmented_control(key=explorer_state.SECTION).set_value(section)
        rerun(app)
        headings = [heading.value for heading in app.header if "bold" in heading.value]
        assert headings and all("**bold**" not in heading and rendered(heading).endswith("**bold**")
                                for heading in headings), headings

    evil = io.BytesIO()
    with zipfile.ZipFile(evil, "w") as archive:
        archive.writestr("cats/![x](http:/evil.example/px.png).png", b"not a png")
        archive.writestr("dogs/fine.png", b"not a png either")
    load_zip(app, "evil.zip", evil.getvalue())
    shown = [alert.value for alert in (*app.get("error"), *app.get("warning"))]  # the sidebar's too
    assert any("evil" in text for text in shown) and all("](" not in text for text in shown), shown
