"""Hosted mode (CNNLAB_HOSTED=1) under AppTest: caps in the widgets, private runs, quotas, upload size."""

from __future__ import annotations

import time

import pytest

from core.jobs.jobs import job_status
from core.store.runs import list_runs
from tests.app.harness import open_app, rerun
from tests.robustness.bad_files import digit_png
from tests.robustness.conftest import alerts, assert_clean, assert_says
from ui import state
from ui.evaluate import views as eval_views
from ui.playground import state as pg
from ui.train import state as train_state
from ui.train.settings import setting_key
from ui.train.state import JOB_ID


@pytest.fixture
def hosted(monkeypatch):
    monkeypatch.setenv("CNNLAB_HOSTED", "1")
    monkeypatch.setenv("CNNLAB_WORKERS", "2")


def train_one(app) -> str:
    app.slider(key=setting_key("epochs")).set_value(1)
    rerun(app)
    assert not app.button(key=train_state.START).disabled, alerts(app)
    app.button(key=train_state.START).click()
    rerun(app)
    job_id = app.session_state[JOB_ID]
    deadline = time.monotonic() + 240
    while job_status(job_id).active:
        assert time.monotonic() < deadline
        time.sleep(0.3)
    assert job_status(job_id).state == "finished", job_status(job_id).message
    return job_status(job_id).run_id


def test_caps_show_in_the_widgets_and_the_sidebar(hosted, data_dir):
    app = open_app("pages/train.py")
    assert any("Shared server" in caption.value for caption in app.sidebar.caption)
    limits = " ".join(element.value for element in app.sidebar.markdown)
    assert "- epochs per run: 20" in limits and "- parameters per model: 20,000,000" in limits
    assert app.slider(key=setting_key("epochs")).max == 20
    # The recommended digits run (30 epochs) arrives within the cap: no correction greets the student.
    assert app.slider(key=setting_key("epochs")).value == 20
    assert not any("more than this server allows" in info.value for info in app.info)
    assert any("tuned for this dataset" in caption.value and "· 20 epochs ·" in caption.value
               for caption in app.caption)  # and its caption says what will train
    app.selectbox(key=state.DATASET).select("mnist")
    rerun(app)
    assert app.select_slider(key=setting_key("subset")).options[-1] == "20,000"  # not MNIST's 60,000
    assert "18,000 training and 2,000 validation images" in " ".join(c.value for c in app.caption)


def test_a_visitors_runs_are_private_and_the_quota_holds(hosted, monkeypatch):
    monkeypatch.setenv("CNNLAB_RUNS_PER_WORKSPACE", "1")
    alice, bob = open_app("pages/train.py"), open_app("pages/train.py")
    run_id = train_one(alice)
    assert next(run for run in list_runs() if run.run_id == run_id).owner == alice.session_state[state.OWNER]
    # Alice sees and can download her run; Bob sees no trace of it anywhere.
    alice_models = open_app("pages/models.py", query={"ws": alice.session_state[state.WORKSPACE_KEY]})
    assert run_id in list(alice_models.dataframe[0].value["id"])
    bob_models = open_app("pages/models.py", query={"ws": bob.session_state[state.WORKSPACE_KEY]})
    assert not bob_models.dataframe or run_id not in list(bob_models.dataframe[0].value["id"])
    bob_evaluate = open_app("pages/evaluate.py", query={"run": run_id})  # a link to Alice's run
    assert_clean(bob_evaluate)
    assert bob_evaluate.session_state[state.OWNER] != alice.session_state[state.OWNER]
    if eval_views.RUN in bob_evaluate.session_state:
        assert bob_evaluate.session_state[eval_views.RUN] != run_id
    # Alice's quota of one stored run is used: Start explains, nothing starts.
    rerun(alice)
    alice.button(key=train_state.START).click()
    rerun(alice)
    assert_clean(alice)
    assert_says(alice, "1 stored runs", "Delete one on the Models page")
    assert alice.session_state[JOB_ID] != "" and job_status(alice.session_state[JOB_ID]).run_id == run_id


def test_an_upload_over_the_size_cap_is_refused_with_the_limit(hosted, monkeypatch):
    monkeypatch.setenv("CNNLAB_MAX_UPLOAD_MB", "1")
    app = open_app("pages/convolution_playground.py")
    app.segmented_control(key=pg.SOURCE).set_value("upload")
    rerun(app)
    big = digit_png() + b"\x00" * (2 * 2**20)  # a valid PNG with 2 MB of trailing bytes
    app.file_uploader(key=pg.UPLOAD).set_value(("big.png", big, "image/png"))
    app.run()
    assert_clean(app)
    assert_says(app, "up to 1 MB")
    app.file_uploader(key=pg.UPLOAD).set_value(("small.png", digit_png(), "image/png"))
    app.run()
    assert_clean(app)
    assert not app.error and app.get("plotly_chart")
