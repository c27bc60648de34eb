"""Hostile and awkward zips of class folders, uploaded in the Dataset Explorer's sidebar.

Refused zips name the problem and leave the chosen dataset as it was; a good zip loads afterwards.
Zips that can be used (non-image files mixed in, 10,000 tiny files) load, with a note of what was skipped.
"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.harness import open_app
from tests.robustness import bad_files
from tests.robustness.conftest import alerts, assert_clean, assert_says
from ui import dataset_picker, state

EXPLORER = "pages/dataset_explorer.py"
REFUSED = {  # case → (zip factory, words the message must contain)
    "zip slip (../ paths)": (bad_files.zip_slip, "outside"),
    "zip bomb": (bad_files.zip_bomb, "uncompressed"),
    "no class folders": (bad_files.no_class_folders, "class folder"),
    "one class only": (bad_files.one_class_only, "at least two"),
    "deep nesting": (bad_files.deep_nesting, "deep"),
    "not a zip": (bad_files.text_as_png, "not a zip"),
    "empty file": (lambda: b"", "empty"),
}


def load_zip(app: AppTest, name: str, data: bytes) -> AppTest:
    app.file_uploader(key=dataset_picker.UPLOADER).set_value((name, data, "application/zip"))
    app.run()
    app.button(key=dataset_picker.LOAD).click()
    app.run(timeout=300)
    return app


@pytest.mark.parametrize("case", list(REFUSED))
def test_a_refused_zip_names_the_problem_and_the_next_upload_works(case):
    make, words = REFUSED[case]
    app = open_app(EXPLORER)
    before = app.session_state[state.DATASET]
    load_zip(app, "upload.zip", make())
    assert_clean(app)
    assert_says(app, words)
    assert app.session_state[state.DATASET] == before and not app.session_state[state.UPLOADED_DATASETS]
    load_zip(app, "pets.zip", bad_files.class_zip())
    assert_clean(app)
    assert app.session_state[state.DATASET].startswith("folder:pets:")
    assert not app.error


def test_non_image_files_are_skipped_with_a_note():
    app = load_zip(open_app(EXPLORER), "mixed.zip", bad_files.mixed_non_images())
    assert_clean(app)
    dataset = next(iter(app.session_state[state.UPLOADED_DATASETS].values()))
    assert len(dataset.x_train) + len(dataset.x_test) == 20 and dataset.class_names == ("cats", "dogs")
    notes = " ".join(dataset.notes)
    assert "Skipped 2 files that are not images" in notes and "cats/fake.png" in notes
    assert "cats/fake.png" in "\n".join(alert for alert in alerts(app))  # and the page says so


def test_ten_thousand_tiny_files_load():
    app = load_zip(open_app(EXPLORER), "many.zip", bad_files.many_tiny_files())
    assert_clean(app)
    assert not app.error
    dataset = next(iter(app.session_state[state.UPLOADED_DATASETS].values()))
    assert len(dataset.x_train) + len(dataset.x_test) == 10_000 and dataset.class_names == ("dark", "light")
