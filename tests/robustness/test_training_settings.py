"""Awkward training settings on the Train page: each either trains to a stored run or is explained before Start.

Real background jobs on scikit-learn's digits (1,437 training images), so each run takes seconds.
"""

from __future__ import annotations

import time

import pytest
from streamlit.testing.v1 import AppTest

from core.jobs.jobs import job_status, request_stop
from core.store.runs import load_record
from tests.app.harness import open_app, rerun
from tests.robustness.conftest import alerts, assert_clean, assert_says
from ui.train import state as train_state
from ui.train.settings import setting_key
from ui.train.state import JOB_ID

TRAIN = "pages/train.py"


def wait_until_ended(job_id: str, timeout: float = 240) -> str:
    deadline = time.monotonic() + timeout
    while job_status(job_id).active:
        assert time.monotonic() < deadline, "the job did not end in time"
        time.sleep(0.3)
    return job_status(job_id).state


def settings(app: AppTest, subset: int | None = None, batch: int | None = None, split: float | None = None,
             epochs: int | None = None) -> AppTest:
    if subset is not None:
        app.select_slider(key=setting_key("subset")).set_value(subset)
    if batch is not None:
        app.select_slider(key=setting_key("batch_size")).set_value(batch)
    if split is not None:
        app.slider(key=setting_key("validation_split")).set_value(split)
    if epochs is not None:
        app.slider(key=setting_key("epochs")).set_value(epochs)
    return rerun(app)


def start_and_finish(app: AppTest) -> str:
    """Presses Start, waits for the job, and returns the stored run's id (the app must show it)."""
    assert not app.button(key=train_state.START).disabled, alerts(app)
    app.button(key=train_state.START).click()
    rerun(app)
    job_id = app.session_state[JOB_ID]
    state = wait_until_ended(job_id)
    rerun(app)
    assert_clean(app)
    assert state == "finished", job_status(job_id).message
    run_id = job_status(job_id).run_id
    assert any(run_id in success.value for success in app.success)
    return run_id


CASES = {  # case → (settings, words a note before Start must contain, or None)
    "batch larger than the training set": ({"subset": 100, "batch": 1024, "epochs": 2}, "larger than the 90"),
    "a subset of 10 images": ({"subset": 10, "epochs": 2}, "Only 10 images"),
    "validation split 0": ({"split": 0.0, "epochs": 1}, None),
    "validation split 0.9": ({"split": 0.9, "epochs": 1}, None),
    "maximum epochs with a tiny subset": ({"subset": 10, "epochs": 50}, "Only 10 images"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_awkward_settings_train_to_a_stored_run(case):
    changes, note = CASES[case]
    app = settings(open_app(TRAIN), **changes)
    assert_clean(app)
    if note:
        assert_says(app, note)
    run_id = start_and_finish(app)
    record = load_record(run_id)
    assert record.epochs_trained == changes["epochs"]
    split = changes.get("split", 0.1)
    assert ("val_loss" in record.history) == (split > 0)
    assert record.metrics["test"]["images"] == 360


def test_a_validation_callback_with_split_zero_is_explained_before_start():
    app = settings(open_app(TRAIN), split=0.0)
    app.toggle(key=setting_key("early_stopping")).set_value(True)
    rerun(app)
    assert_clean(app)
    assert_says(app, "validation split is 0")
    assert app.button(key=train_state.START).disabled
    app.slider(key=setting_key("validation_split")).set_value(0.2)  # the fix makes Start work again
    rerun(app)
    assert not app.error and not app.button(key=train_state.START).disabled


def wait_for_running(app: AppTest, job_id: str) -> None:
    # Waiting in line shows Cancel; a worker's run shows Stop, enabled once it is running.
    deadline = time.monotonic() + 60
    while not [button for button in app.button if button.key == train_state.stop_key(job_id) and not button.disabled]:
        assert time.monotonic() < deadline
        time.sleep(0.2)
        rerun(app)


def test_stop_before_training_starts_and_stop_pressed_twice():
    app = settings(open_app(TRAIN), epochs=50)
    app.button(key=train_state.START).click()
    rerun(app)
    job_id = app.session_state[JOB_ID]
    wait_for_running(app, job_id)  # running, but still importing TensorFlow: no batch yet
    assert not any(event for event in app.get("plotly_chart") if '"train, per batch"' in event.proto.spec)
    app.button(key=train_state.stop_key(job_id)).click()
    rerun(app)
    assert_clean(app)
    if job_status(job_id).active:  # the second press, while the first is being honoured
        app.button(key=train_state.stop_key(job_id)).click()
        rerun(app)
        assert_clean(app)
    assert wait_until_ended(job_id) == "stopped"
    rerun(app)
    assert_clean(app)
    assert any("stopped by you" in warning.value for warning in app.warning)
    record = load_record(job_status(job_id).run_id)
    assert record.status == "stopped" and record.epochs_trained <= 1
    assert request_stop(job_id) is False  # pressing Stop on an ended run does nothing
    run_id = start_and_finish(settings(app, epochs=1))  # and the next run starts and finishes
    assert load_record(run_id).status == "finished"
