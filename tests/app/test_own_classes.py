"""My classes under AppTest: a learner builds 3 drawn classes and a photo, trains on them through the real queue,
and the new model reads a new drawing; the set survives a reload, and a teacher shares one with the class.

The canvas and the camera have no AppTest frontend: drawings go in through `ui.own_classes.state.INJECTED` (as the
Predict tests do) and a camera photo through `INJECTED_PHOTO`.
"""

from __future__ import annotations

import io
import time

import numpy as np
from PIL import Image

from core.data import own_classes
from core.jobs.queue import training_queue
from core.predict.sketches import as_rgba, drawn_shape
from core.store.runs import STORE_ROOT
from core.train.recipes import default_config
from tests.app.harness import open_app, rendered, rerun
from ui import state
from ui.evaluate import state as evaluate_state
from ui.own_classes import state as own_state
from ui.predict import state as predict_state
from ui.train import state as train_state

PAGE = "pages/my_classes.py"


def label(class_set: own_classes.ClassSet) -> str:
    """How the dataset picker names a set (AppTest lists a selectbox's options by their labels)."""
    return own_classes.describe_key(class_set.key, STORE_ROOT)
SHAPES = ("circle", "triangle", "star")


def texts(app) -> str:
    parts = [element.value for kind in ("markdown", "caption", "info", "success", "warning", "error", "subheader")
             for element in app.get(kind)]
    return rendered(" ".join(str(part) for part in parts))


def create(app, names: str) -> own_classes.ClassSet:
    app.text_area(key=own_state.NAMES).set_value(names)
    app.button(key=own_state.CREATE).click()
    rerun(app)
    sets = own_classes.sets_of(app.session_state[state.OWNER], STORE_ROOT)
    assert len(sets) == 1
    return sets[0]


def draw_examples(app, per_class: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    for index, shape in enumerate(SHAPES):
        app.radio(key=own_state.CLASS).set_value(index)
        rerun(app)
        for _ in range(per_class):
            app.session_state[own_state.INJECTED] = as_rgba(drawn_shape(shape, rng))
            app.button(key=own_state.ADD_DRAWING).click()
            rerun(app)


def photo_bytes(width: int = 120, height: int = 90, colour=(200, 40, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, format="JPEG")
    return buffer.getvalue()


def wait_until_ended(job_id: str, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not training_queue().status(job_id).active:
            return
        time.sleep(0.5)
    raise AssertionError("the run did not end in time")


def test_three_drawn_classes_and_a_photo_train_and_read_a_new_drawing():
    app = open_app(PAGE)
    class_set = create(app, "circle\ntriangle\nstar")
    assert class_set.names == list(SHAPES) and class_set.side == 32
    draw_examples(app, 15)
    class_set = own_classes.read_set(class_set.set_id, STORE_ROOT)
    assert class_set.counts == [15, 15, 15]
    assert "Ready to train: 45 examples in 3 classes" in texts(app)
    # Each class's grid: a count, and a delete button under each shown example.
    assert "star · 15 examples" in texts(app)
    deletes = [button for button in app.button if str(button.key).startswith("own_delete_")]
    assert len(deletes) == 45

    # A camera photo, cropped to its middle square and shrunk to 32×32 grey, joins the chosen class.
    app.radio(key=own_state.CLASS).set_value(0)
    app.segmented_control(key=own_state.WAY).set_value("Camera")
    rerun(app)
    app.session_state[own_state.INJECTED_PHOTO] = photo_bytes()
    rerun(app)
    class_set = own_classes.read_set(class_set.set_id, STORE_ROOT)
    assert class_set.counts == [16, 15, 15]
    assert app.session_state[own_state.CAMERA_COUNT] == 1  # a fresh camera for the next photo, no extra click
    images, labels, _ = own_classes.load_examples(class_set, STORE_ROOT)
    photo = images[labels == 0][-1]
    # The red's grey level: L = 0.299·200 + 0.587·40 + 0.114·40 = 88.
    assert photo.shape == (32, 32, 1) and abs(int(photo.mean()) - 88) <= 2
    # That photo is not one the test needs: delete it with its button (the newest is shown first).
    app.button(key=f"own_delete_{class_set.examples[0][-1]}").click()
    rerun(app)
    assert own_classes.read_set(class_set.set_id, STORE_ROOT).counts == [15, 15, 15]

    # Train: the set is a dataset in the picker, with its own suggested model.
    app.switch_page("pages/train.py")
    rerun(app)
    app.selectbox(key=state.DATASET).select(class_set.key)
    rerun(app)
    assert app.session_state[train_state.PRESET] == "own_classes"
    config = default_config(class_set.key)
    assert (config.epochs, config.batch_size) == (20, 4)
    app.button(key=train_state.START).click()
    rerun(app)
    job_id = app.session_state[train_state.JOB_ID]
    wait_until_ended(job_id)
    run_id = training_queue().status(job_id).run_id
    assert run_id

    # Evaluate: its confusion matrix and mistakes, from the set's own test split (every fifth example).
    app.switch_page("pages/evaluate.py")
    rerun(app)
    app.selectbox(key=evaluate_state.RUN).select(run_id)
    rerun(app)
    per_class, confusion = (frame.value for frame in app.dataframe[:2])
    assert per_class["class"].tolist() == list(SHAPES) and per_class["support"].tolist() == [3, 3, 3]
    assert confusion.columns.tolist() == ["true class", *(f"read as {shape}" for shape in SHAPES)]
    assert int(confusion.iloc[:, 1:].to_numpy().sum()) == 9  # the set's 9 test images: every fifth of 15 a class

    # Predict: the new run reads a new star, drawn with another seed.
    app.switch_page("pages/predict.py")
    rerun(app)
    app.selectbox(key=predict_state.RUN).select(run_id)
    rerun(app)
    right = 0
    rng = np.random.default_rng(99)
    for shape in SHAPES:
        for _ in range(3):
            app.session_state[predict_state.INJECTED] = as_rgba(drawn_shape(shape, rng))
            rerun(app)
            right += f"It reads **{shape}**" in "\n".join(element.value for element in app.markdown)
    assert right >= 8, right  # 9 new drawings; the bench reads 93–100% of 30
    # A camera photo goes through the builder's own preparation: its middle square, 32×32 grey.
    app.segmented_control(key=predict_state.SOURCE).set_value("Camera")
    rerun(app)
    app.session_state[predict_state.INJECTED_PHOTO] = photo_bytes(160, 90, (250, 250, 250))
    rerun(app)
    assert "Cropped to the middle square and resized to 32×32" in " ".join(caption.value for caption in app.caption)
    verdict = "\n".join(element.value for element in app.markdown)
    assert "It reads **" in verdict or "Not sure: **" in verdict, verdict  # a blank photo: any answer, no error


def test_the_set_survives_a_reload_and_is_in_the_explorer():
    app = open_app(PAGE)
    class_set = create(app, "circle\ntriangle\nstar")
    draw_examples(app, 10, seed=3)
    again = open_app(PAGE, query={"ws": app.session_state[state.WORKSPACE_KEY]})  # a reload: a new session
    assert "Ready to train: 30 examples in 3 classes" in texts(again)
    again.switch_page("pages/dataset_explorer.py")
    rerun(again)
    again.selectbox(key=state.DATASET).select(class_set.key)
    rerun(again)
    assert not again.exception
    assert "circle, triangle, star" in texts(again)


def test_too_few_examples_say_which_class_needs_more():
    app = open_app(PAGE)
    create(app, "thumbs up\nfist")
    assert "Add at least 10 examples to each class: “thumbs up” has 0, “fist” has 0." in texts(app)
    app.button(key=own_state.ADD_DRAWING).click()  # an empty canvas
    rerun(app)
    assert "The canvas is empty" in texts(app)


def test_a_teacher_shares_a_set_and_every_student_trains_on_the_same_examples():
    from tests.app.test_classroom import create_class_page, join

    teacher, room, code = create_class_page("Shapes 7B")
    teacher.switch_page(PAGE)
    rerun(teacher)
    class_set = create(teacher, "circle\ntriangle\nstar")
    rng = np.random.default_rng(5)
    for index, shape in enumerate(SHAPES):
        drawings = np.stack([own_classes.prepare_drawing_example(drawn_shape(shape, rng), 32, "grayscale")
                             for _ in range(10)])
        own_classes.add_examples(class_set.set_id, class_set.owner, index, drawings, STORE_ROOT)
    rerun(teacher)
    teacher.toggle(key=own_state.SHARE).set_value(True)
    rerun(teacher)
    assert own_classes.read_set(class_set.set_id, STORE_ROOT).shared_class == room.class_id

    student = join(code, "Robin")
    student.switch_page("pages/train.py")
    rerun(student)
    assert label(class_set) in student.selectbox(key=state.DATASET).options
    student.switch_page(PAGE)
    rerun(student)
    shared = "Your teacher shared a set of classes with your class: circle, triangle, star (30 examples)"
    assert shared in texts(student)
    assert not [button for button in student.button if str(button.key).startswith("own_delete_")]  # not theirs
    outsider = open_app("pages/train.py")
    assert label(class_set) not in outsider.selectbox(key=state.DATASET).options

    teacher.toggle(key=own_state.SHARE).set_value(False)
    rerun(teacher)
    student.switch_page("pages/train.py")
    rerun(student)
    assert label(class_set) not in student.selectbox(key=state.DATASET).options


def test_the_downloaded_zip_makes_the_same_classes_in_another_workspace():
    app = open_app(PAGE)
    class_set = create(app, "circle\ntriangle\nstar")
    draw_examples(app, 4, seed=8)
    class_set = own_classes.read_set(class_set.set_id, STORE_ROOT)
    assert [button for button in app.get("download_button") if button.proto.label.startswith("Download as a zip")]
    data = own_classes.export_zip(class_set, STORE_ROOT)  # the bytes that button serves
    other = open_app(PAGE)
    other.file_uploader(key=f"{own_state.ZIP}0").set_value(("my-classes.zip", data, "application/zip"))
    rerun(other)
    other.button(key="own_zip_go").click()
    rerun(other)
    assert "Made your classes from the zip: 12 examples." in texts(other)
    copy = own_classes.sets_of(other.session_state[state.OWNER], STORE_ROOT)[0]
    # Class folders are read in sorted order, as Keras' image_dataset_from_directory reads them.
    assert copy.names == sorted(SHAPES) and copy.counts == [4, 4, 4]


def test_a_set_counts_against_the_servers_disk(tmp_path):
    from core.store.hosting import store_bytes

    before = store_bytes(tmp_path)
    class_set = own_classes.create_set("c" * 32, ["a", "b"], 64, "rgb", tmp_path)
    noise = np.random.default_rng(0).integers(0, 256, (20, 64, 64, 3), dtype=np.uint8)
    own_classes.add_examples(class_set.set_id, class_set.owner, 0, noise, tmp_path)
    assert store_bytes(tmp_path) - before > 20 * 64 * 64 * 3 * 0.9  # noise does not compress
