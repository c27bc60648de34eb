"""The Train and Models pages under AppTest: build, start a real background job, watch it finish, stop one."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from urllib.parse import parse_qs

import pytest

from core.jobs.jobs import job_status
from core.store.runs import list_runs
from core.train.recipes import DEFAULT_RUNS, default_config
from tests.app.harness import open_app, rerun
from ui import dataset_picker, state
from ui.train import state as train_state
from ui.train.settings import setting_key
from ui.train.state import ADD_KIND, JOB_ID, LAST_CONFIG, PRESET, SPEC

TRAIN = "pages/train.py"


def wait_until_ended(job_id: str, timeout: float = 240) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = job_status(job_id)
        if not status.active:
            return status.state
        time.sleep(0.5)
    raise AssertionError("the job did not end in time")


def chart_points(app) -> int:
    charts = [json.loads(chart.proto.spec) for chart in app.get("plotly_chart")]
    return sum(len(trace.get("x", [])) for chart in charts for trace in chart["data"])


def test_summary_table_and_builder_edits():
    app = open_app(TRAIN)
    app.selectbox(key=state.DATASET).select("mnist")
    rerun(app)
    app.selectbox(key=PRESET).select("two_conv_blocks")
    rerun(app)
    table = app.dataframe[0].value
    assert list(table["output shape"]) == ["(None, 28, 28, 1)", "(None, 26, 26, 64)", "(None, 13, 13, 64)",
                                           "(None, 11, 11, 64)", "(None, 5, 5, 64)", "(None, 1600)", "(None, 128)",
                                           "(None, 10)"]
    assert table["trainable"].sum() == 243_786
    # Move Flatten above the second conv: the conv now sees a vector, and the error names it.
    ids = app.session_state[train_state.SPEC_IDS]
    flatten = ids[[layer["kind"] for layer in app.session_state[SPEC]].index("Flatten")]
    for _ in range(2):
        app.button(key=f"up_{flatten}").click()
        rerun(app)
    assert "Layer 5 (Conv2D 64@3×3 valid relu) needs an image-shaped" in app.error[0].value
    assert app.button(key=train_state.START).disabled
    app.selectbox(key=ADD_KIND).select("Dropout")
    app.button[[b.label for b in app.button].index("Add layer")].click()
    rerun(app)
    assert app.session_state[PRESET] == "custom"


def test_pooling_below_one_pixel_is_explained():
    app = open_app(TRAIN)  # digits: 8×8 images, two stride-2 convs leave 2×2
    app.selectbox(key=ADD_KIND).select("Pooling2D")
    app.button[[b.label for b in app.button].index("Add layer")].click()
    rerun(app)
    kinds = [layer["kind"] for layer in app.session_state[SPEC]]
    assert kinds.index("Pooling2D") == kinds.index("Flatten") - 1  # added where image layers go
    pool = app.session_state[train_state.SPEC_IDS][kinds.index("Pooling2D")]
    app.selectbox(key=f"layer_{pool}_size").select(4)
    rerun(app)
    expected = "This model cannot be built: Layer 5 (MaxPooling2D 4×4) gets a 2×2 input"
    assert any(error.value.startswith(expected) and "below 1×1" in error.value for error in app.error), \
        [error.value for error in app.error]


def test_a_one_epoch_job_on_2000_images_trains_in_the_background_and_is_stored():
    before = {run.run_id for run in list_runs()}
    app = open_app(TRAIN)
    app.selectbox(key=state.DATASET).select("mnist")
    rerun(app)
    app.slider(key=setting_key("epochs")).set_value(1)
    app.select_slider(key=setting_key("subset")).set_value(2000)
    app.text_input(key=train_state.RUN_NAME).set_value("apptest run")
    rerun(app)
    assert "1,800 training and 200 validation images" in " ".join(c.value for c in app.caption)
    app.button(key=train_state.START).click()
    rerun(app)
    job_id = app.session_state[JOB_ID]
    assert wait_until_ended(job_id) == "finished"
    rerun(app)
    assert chart_points(app) > 3
    assert any("finished after" in s.value for s in app.success)
    new = [run for run in list_runs() if run.run_id not in before]
    # The finished run opens on Evaluate and on Predict, by real links.
    links = {element.proto.page: parse_qs(element.proto.query_string) for element in app.get("page_link")}
    assert links["evaluate"]["run"] == links["predict"]["run"] == [new[0].run_id]
    assert len(new) == 1 and new[0].name == "apptest run" and new[0].dataset == "mnist"
    assert new[0].hyperparameters["subset"] == 2000 and new[0].metrics["test"]["images"] == 10_000
    metrics = next(frame.value for frame in app.dataframe if "split" in frame.value)  # train / validation / test
    curves = next(frame.value for frame in app.dataframe if "epoch" in frame.value)  # the charts' text alternative
    assert list(curves["epoch"]) == [1] and {"loss", "accuracy"} <= set(curves)
    assert any(caption.value.startswith("Loss: ") and "Accuracy: " in caption.value for caption in app.caption)
    assert list(metrics["split"]) == ["train", "validation", "test"]

    models = open_app("pages/models.py")
    assert "apptest run" in list(models.dataframe[0].value["name"])


def test_stop_on_a_longer_job_keeps_and_stores_the_model():
    app = open_app(TRAIN)
    app.selectbox(key=state.DATASET).select("mnist")  # 50 MNIST epochs: minutes, so Stop comes first
    rerun(app)
    app.slider(key=setting_key("epochs")).set_value(50)
    rerun(app)
    app.button(key=train_state.START).click()
    rerun(app)
    job_id = app.session_state[JOB_ID]
    deadline = time.monotonic() + 120
    while job_status(job_id).state != "running" or not app.get("plotly_chart") or chart_points(app) < 2:
        assert time.monotonic() < deadline
        time.sleep(0.5)
        rerun(app)
    assert app.button(key=train_state.START).disabled  # one run per session
    app.button(key=train_state.stop_key(job_id)).click()
    rerun(app)
    assert wait_until_ended(job_id, 60) == "stopped"
    rerun(app)
    assert any("stopped by you" in w.value for w in app.warning)
    assert app.get("progress")[0].proto.value < 100  # stopped early: the bar shows where, not a full bar
    run = next(run for run in list_runs() if run.run_id == job_status(job_id).run_id)
    assert run.status == "stopped" and len(run.history.get("loss", [])) < 50


def test_categorical_loss_shows_the_first_labels_one_hot():
    app = open_app(TRAIN)  # digits
    app.radio(key=setting_key("loss")).set_value("categorical")
    rerun(app)
    table = next(frame.value for frame in app.dataframe if str(frame.value.index[0]).startswith("image 1"))
    # the first four training labels, duplicates included (digits has label 3 twice among them)
    assert table.shape == (4, 10) and (table.sum(axis=1) == 1).all()
    for name, row in table.iterrows():
        label = int(str(name).split("label ")[1].split(" ")[0])
        assert row.iloc[label] == 1


def test_recommended_puts_back_the_datasets_default_settings():
    app = open_app(TRAIN)
    app.selectbox(key=state.DATASET).select("mnist")
    rerun(app)
    app.slider(key=setting_key("epochs")).set_value(17)
    app.radio(key=setting_key("precision")).set_value("float32")
    rerun(app)
    app.button[[b.label for b in app.button].index("Tuned settings")].click()
    rerun(app)
    assert app.slider(key=setting_key("epochs")).value == DEFAULT_RUNS["mnist"].epochs
    assert app.radio(key=setting_key("precision")).value == DEFAULT_RUNS["mnist"].precision == "mixed_bfloat16"
    app.selectbox(key=state.DATASET).select("digits")
    rerun(app)
    app.button[[b.label for b in app.button].index("Tuned settings")].click()
    rerun(app)
    assert app.slider(key=setting_key("epochs")).value == DEFAULT_RUNS["digits"].epochs
    assert app.radio(key=setting_key("precision")).value == DEFAULT_RUNS["digits"].precision == "float32"


def _comparable(config):
    # The page names a run after its model and dataset when the name box is empty; all else must match.
    return replace(config, name="")


def _press(app, label: str):
    app.button[[b.label for b in app.button].index(label)].click()
    return rerun(app)


def _upload_zip(app) -> str:
    from tests.app.test_app import _zip_of_classes

    app.file_uploader(key=dataset_picker.UPLOADER).set_value(("shapes.zip", _zip_of_classes(["a", "b", "c"], 30),
                                                            "application/zip"))
    app.button(key=dataset_picker.LOAD).click()
    rerun(app)
    return app.session_state[state.DATASET]


@pytest.mark.parametrize("dataset", ["digits", "mnist", "fashion_mnist", "cifar10", "upload"])
def test_the_page_starts_from_and_recommended_restores_default_config(dataset, data_dir):
    app = open_app(TRAIN)
    if dataset == "upload":
        dataset = _upload_zip(app)
        assert dataset.startswith("folder:")
    else:
        app.selectbox(key=state.DATASET).select(dataset)
        rerun(app)
    # Untouched since the first visit: the new dataset's own recommended model and settings.
    assert _comparable(app.session_state[LAST_CONFIG]) == _comparable(default_config(dataset))
    # Edit a slider, the model and a callback, then take the recommendation back in one click.
    app.slider(key=setting_key("epochs")).set_value(2)
    app.radio(key=setting_key("loss")).set_value("categorical")
    app.toggle(key=setting_key("early_stopping")).set_value(True)
    app.selectbox(key=PRESET).select("dense")
    rerun(app)
    assert _comparable(app.session_state[LAST_CONFIG]) != _comparable(default_config(dataset))
    _press(app, "Tuned settings")
    assert _comparable(app.session_state[LAST_CONFIG]) == _comparable(default_config(dataset))
    # Every slider shows the value it holds: nothing was snapped to another option.
    config = default_config(dataset)
    assert app.select_slider(key=setting_key("learning_rate")).value == config.learning_rate
    assert app.select_slider(key=setting_key("batch_size")).value == config.batch_size


def test_a_new_dataset_starts_from_its_own_recommendation_unless_the_user_edited():
    app = open_app(TRAIN)  # digits: fast_digits, 30 epochs, batch 64, 0.003
    app.selectbox(key=state.DATASET).select("mnist")
    rerun(app)
    assert _comparable(app.session_state[LAST_CONFIG]) == _comparable(default_config("mnist"))
    app.selectbox(key=state.DATASET).select("cifar10")
    rerun(app)
    assert app.session_state[PRESET] == "speed_cifar"
    assert _comparable(app.session_state[LAST_CONFIG]) == _comparable(default_config("cifar10"))
    # CIFAR-10's recipe smooths its one-hot labels; the slider shows it, and sparse labels turn it off.
    smoothing = app.select_slider(key=setting_key("label_smoothing"))
    assert smoothing.value == 0.2 and not smoothing.disabled
    assert app.session_state[LAST_CONFIG].loss == "categorical"
    app.radio(key=setting_key("loss")).set_value("sparse")
    rerun(app)
    assert app.select_slider(key=setting_key("label_smoothing")).disabled
    assert app.session_state[LAST_CONFIG].label_smoothing == 0.0 and not app.exception
    app.radio(key=setting_key("loss")).set_value("categorical")
    rerun(app)
    assert app.session_state[LAST_CONFIG].label_smoothing == 0.2
    # An edit is kept across a switch, and the new dataset's recommendation is one click away.
    app.slider(key=setting_key("epochs")).set_value(7)
    rerun(app)
    app.selectbox(key=state.DATASET).select("mnist")
    rerun(app)
    assert app.slider(key=setting_key("epochs")).value == 7 and app.session_state[PRESET] == "speed_cifar"
    labels = [b.label for b in app.button]
    offer = "Use the recommended model and settings for MNIST handwritten digits"
    assert offer in labels
    _press(app, offer)
    assert _comparable(app.session_state[LAST_CONFIG]) == _comparable(default_config("mnist"))
    assert offer not in [b.label for b in app.button]


def test_the_target_accuracy_control_moves_in_steps_a_keyboard_can_cross():
    app = open_app(TRAIN)
    app.toggle(key=setting_key("target_on")).set_value(True)
    rerun(app)
    target = app.select_slider(key=setting_key("target_accuracy"))
    options = list(target.options)  # as shown: percentages
    assert len(options) <= 20 and "90.0%" in options and "99.8%" in options  # 99.8% → 90% is a few presses, not 98
    assert app.session_state[LAST_CONFIG].target_accuracy == target.value


def test_an_unnamed_run_is_named_with_its_epochs_in_the_right_number():
    app = open_app(TRAIN)
    app.slider(key=setting_key("epochs")).set_value(1)
    rerun(app)
    assert app.session_state[LAST_CONFIG].name.endswith(", 1 epoch")
    app.slider(key=setting_key("epochs")).set_value(3)
    rerun(app)
    assert app.session_state[LAST_CONFIG].name.endswith(", 3 epochs")


def test_a_layer_setting_outside_the_usual_choices_shows_as_itself_and_survives_edits():
    """speed_cifar's 2×2 conv: the kernel picker offered 1, 3, 5, 7 and showed 1 for it."""
    app = open_app(TRAIN)
    app.selectbox(key=state.DATASET).select("cifar10")
    rerun(app)
    assert app.session_state[PRESET] == "speed_cifar"
    position = next(i for i, layer in enumerate(app.session_state[SPEC]) if layer["kind"] == "Conv2D")
    uid = app.session_state[train_state.SPEC_IDS][position]
    kernel = app.selectbox(key=train_state.layer_key(uid, "kernel"))
    assert kernel.value == 2 and "2" in kernel.options
    l2 = app.number_input(key=train_state.layer_key(next(
        uid for uid, layer in zip(app.session_state[train_state.SPEC_IDS], app.session_state[SPEC], strict=True)
        if layer["kind"] == "Conv2D" and layer["l2"]), "l2"))
    assert l2.value == pytest.approx(2.5e-4) and "%.5f" in l2.proto.format
    shift = app.number_input(key=train_state.layer_key(app.session_state[train_state.SPEC_IDS][1], "factor"))
    assert shift.value == 0.0625 and shift.proto.format == "%g"  # 2 pixels of 32, not "0.06"
    # Another edit elsewhere reruns the page: the 2×2 kernel stays, and so does the preset.
    app.slider(key=setting_key("epochs")).set_value(3)
    rerun(app)
    assert app.session_state[SPEC][position]["kernel"] == 2 and app.session_state[PRESET] == "speed_cifar"
    assert app.selectbox(key=train_state.layer_key(uid, "kernel")).value == 2


@pytest.mark.parametrize(("dataset", "preset"), [("cifar10", "cifar_dense"), ("mnist", "two_conv_blocks")])
def test_a_lesson_preset_trains_with_the_lessons_settings_and_tuned_ones_are_one_click_away(dataset, preset):
    # Picking a lesson's architecture kept the tuned recipe's settings (CIFAR-10: SGD 0.2, batch 512, label
    # smoothing 0.2; MNIST: 0.006, cosine, bfloat16), so the lesson's dense baseline reached 15% instead of 27%.
    app = open_app(TRAIN)
    app.selectbox(key=state.DATASET).select(dataset)
    rerun(app)
    app.selectbox(key=PRESET).select(preset)
    rerun(app)
    lesson = default_config(dataset, preset)  # what `python -m core.train --model <preset>` trains
    assert _comparable(app.session_state[LAST_CONFIG]) == _comparable(lesson)
    assert (lesson.optimizer, lesson.learning_rate, lesson.batch_size) == ("adam", 1e-3, 64)
    assert any("the lessons' settings" in caption.value for caption in app.caption)
    # Tuned settings: the recommended model with its recipe, in one click; and back to the lesson's in one.
    _press(app, "Tuned settings")
    assert _comparable(app.session_state[LAST_CONFIG]) == _comparable(default_config(dataset))
    assert any("the settings tuned for this dataset" in caption.value for caption in app.caption)
    app.selectbox(key=PRESET).select(preset)
    rerun(app)
    app.slider(key=setting_key("epochs")).set_value(3)
    rerun(app)
    assert any("your own settings" in caption.value for caption in app.caption)
    _press(app, "Lesson settings")
    assert _comparable(app.session_state[LAST_CONFIG]) == _comparable(lesson)


def test_the_recommended_preset_brings_the_tuned_settings():
    app = open_app(TRAIN)
    app.selectbox(key=state.DATASET).select("cifar10")
    rerun(app)
    app.selectbox(key=PRESET).select("cifar_dense")
    rerun(app)
    app.selectbox(key=PRESET).select(default_config("cifar10").model_key)
    rerun(app)
    assert _comparable(app.session_state[LAST_CONFIG]) == _comparable(default_config("cifar10"))


def test_a_preset_left_out_for_small_images_is_named_with_why():
    app = open_app(TRAIN)  # digits, 8×8
    left_out = next(caption.value for caption in app.caption if caption.value.startswith("Not offered for 8×8"))
    assert "**Two conv blocks**" in left_out and "below 1×1" in left_out


def test_preset_names_speak_to_a_learner_and_fit_every_dataset_they_default_for():
    from core.model.presets import PRESETS

    for preset in PRESETS.values():
        assert "(00" not in preset.title, preset.title  # lesson numbers mean nothing to a learner
    clothing = PRESETS[DEFAULT_RUNS["fashion_mnist"].preset]
    assert "digit" not in clothing.title.lower()  # Fashion-MNIST's default is no "CNN for digits"
    assert "Fashion-MNIST" in clothing.lesson
