"""My classes against bad input: one class, an empty class, a 1×1 photo, a broken photo, 10,000 tiny examples, too
many files at once, hostile class names, and another workspace's set."""

from __future__ import annotations

import io
import re
import time
import zipfile

import numpy as np
from PIL import Image

from core.data import own_classes
from core.store.runs import STORE_ROOT
from core.store.workspaces import remember_settings
from tests.app.harness import open_app, rerun
from tests.robustness.conftest import assert_clean, assert_says, page_text
from ui import state
from ui.own_classes import state as own_state

PAGE = "pages/my_classes.py"


def label(class_set: own_classes.ClassSet) -> str:
    """How the dataset picker names a set (AppTest lists a selectbox's options by their labels)."""
    return own_classes.describe_key(class_set.key, STORE_ROOT)


def created(names: str):
    app = open_app(PAGE)
    app.text_area(key=own_state.NAMES).set_value(names)
    app.button(key=own_state.CREATE).click()
    rerun(app)
    assert_clean(app)
    return app


def png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (90, 90, 90)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_one_class_is_refused_with_a_reason():
    app = created("just me")
    assert_says(app, "Name at least 2 classes", "you named 1")
    assert own_classes.sets_of(app.session_state[state.OWNER], STORE_ROOT) == []


def test_an_empty_class_says_it_needs_examples_and_is_not_offered_to_train():
    app = created("circle\nstar")
    assert_says(app, "Add at least 10 examples to each class", "“circle” has 0")
    class_set = own_classes.sets_of(app.session_state[state.OWNER], STORE_ROOT)[0]
    app.switch_page("pages/train.py")
    rerun(app)
    assert label(class_set) not in app.selectbox(key=state.DATASET).options


def test_a_one_pixel_photo_and_a_broken_photo_get_a_sentence():
    app = created("circle\nstar")
    app.segmented_control(key=own_state.WAY).set_value("Camera")
    rerun(app)
    app.session_state[own_state.INJECTED_PHOTO] = png(1, 1)
    rerun(app)
    assert_clean(app)
    assert_says(app, "1×1 pixels", "too small")
    app.session_state[own_state.INJECTED_PHOTO] = b"\x89PNG not really"
    rerun(app)
    assert_clean(app)
    assert own_classes.sets_of(app.session_state[state.OWNER], STORE_ROOT)[0].total == 0


def test_ten_thousand_tiny_examples_in_a_zip_are_refused_quickly_and_nothing_is_kept():
    buffer = io.BytesIO()
    tiny = png(2, 2)
    with zipfile.ZipFile(buffer, "w") as archive:
        for index in range(10_000):
            archive.writestr(f"{'ab'[index % 2]}/{index}.png", tiny)
    app = open_app(PAGE)
    app.file_uploader(key=f"{own_state.ZIP}0").set_value(("many.zip", buffer.getvalue(), "application/zip"))
    rerun(app)
    app.button(key="own_zip_go").click()
    started = time.monotonic()
    rerun(app)
    seconds = time.monotonic() - started
    assert_clean(app)
    assert_says(app, "Too many files", "2,000")  # the set's cap, from the zip's listing before any image is decoded
    assert own_classes.sets_of(app.session_state[state.OWNER], STORE_ROOT) == []
    assert seconds < 60  # a generous bound on a refusal from headers, not a timing test: decoding would take minutes


def test_too_many_files_at_once_are_refused():
    app = created("circle\nstar")
    app.segmented_control(key=own_state.WAY).set_value("Upload")
    rerun(app)
    files = [(f"{index}.png", png(16, 16), "image/png") for index in range(101)]
    app.file_uploader(key=f"{own_state.FILES}0").set_value(files)
    rerun(app)
    app.button(key=own_state.ADD_FILES).click()
    rerun(app)
    assert_clean(app)
    assert_says(app, "at most 100 images at once", "101")
    assert own_classes.sets_of(app.session_state[state.OWNER], STORE_ROOT)[0].total == 0


def test_uploaded_images_are_added_and_broken_ones_named():
    app = created("circle\nstar")
    app.segmented_control(key=own_state.WAY).set_value("Upload")
    rerun(app)
    files = [("a.png", png(40, 30), "image/png"), ("b.png", png(30, 40), "image/png"),
             ("broken.png", b"nope", "image/png"), ("dot.png", png(1, 1), "image/png")]
    app.file_uploader(key=f"{own_state.FILES}0").set_value(files)
    rerun(app)
    app.button(key=own_state.ADD_FILES).click()
    rerun(app)
    assert_clean(app)
    assert_says(app, "2 files left out")
    assert own_classes.sets_of(app.session_state[state.OWNER], STORE_ROOT)[0].counts == [2, 0]


HOSTILE = ["<img src=x onerror=alert(1)>", "**bold** [link](http://example.com)", ":red[x] $x^2$ <b>b</b>"]


def test_hostile_class_names_are_escaped_wherever_they_are_shown():
    app = created("\n".join(HOSTILE))
    assert_clean(app)
    markdown_sources = [element.value for kind in ("subheader", "markdown") for element in app.get(kind)]
    # Headings and labels carry the names escaped (`ui.text.plain`): no raw tag or Markdown link reaches a renderer.
    raw = re.compile(r"(?<!\\)<img|(?<!\\)\]\(http|(?<!\\)\*\*bold")
    assert not [source for source in markdown_sources if raw.search(source)], markdown_sources
    labels = app.radio(key=own_state.CLASS).options
    assert not [label for label in labels if raw.search(label)], labels
    assert any(source.startswith("\\<img") for source in markdown_sources)  # the check would see a raw one
    assert "<img src=x onerror=alert(1)>" in page_text(app)  # still shown, as typed


def test_another_workspaces_set_cannot_be_opened_or_changed():
    owner = created("circle\nstar")
    class_set = own_classes.sets_of(owner.session_state[state.OWNER], STORE_ROOT)[0]
    stranger = open_app("pages/train.py")
    assert label(class_set) not in stranger.selectbox(key=state.DATASET).options
    # The set's key among the stranger's remembered settings (a forged record): a new session drops it.
    remember_settings(stranger.session_state[state.OWNER], {state.DATASET: class_set.key}, STORE_ROOT)
    again = open_app("pages/train.py", query={"ws": stranger.session_state[state.WORKSPACE_KEY]})
    assert_clean(again)
    assert again.session_state[state.DATASET] != class_set.key
    images = np.zeros((1, 32, 32, 1), dtype=np.uint8)
    try:
        own_classes.add_examples(class_set.set_id, stranger.session_state[state.OWNER], 0, images, STORE_ROOT)
    except own_classes.ClassSetError as error:
        assert "not yours" in str(error)
    else:
        raise AssertionError("a stranger added an example")
