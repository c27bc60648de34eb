"""Five sessions press Start at once: the server's cap holds, the rest are told it is busy, and every
accepted run completes and is stored. Also the same rush from five processes, at the job layer."""

from __future__ import annotations

import multiprocessing
import time
from concurrent.futures import ThreadPoolExecutor

from core.jobs.jobs import JobLimitError, active_jobs, job_status, start_job
from core.model.layers import spec_to_dicts
from core.model.presets import PRESETS
from core.store.hosting import Limits
from core.store.runs import list_runs, load_record
from core.train.config import TrainConfig
from tests.app.harness import open_app, rerun
from tests.robustness.conftest import assert_clean, assert_says
from ui import state
from ui.train import state as train_state
from ui.train.settings import setting_key
from ui.train.state import JOB_ID

TRAIN = "pages/train.py"


def wait_until_ended(job_ids: list[str], timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while any(job_status(job_id).active for job_id in job_ids):
        assert time.monotonic() < deadline, "the jobs did not end in time"
        time.sleep(0.5)


def test_five_sessions_press_start_at_once_and_the_cap_of_two_holds(monkeypatch):
    monkeypatch.setenv("CNNLAB_MAX_JOBS", "2")
    apps = [open_app(TRAIN) for _ in range(5)]  # scikit-learn digits, the default
    for number, app in enumerate(apps):
        app.slider(key=setting_key("epochs")).set_value(2)
        app.text_input(key=train_state.RUN_NAME).set_value(f"rush {number}")
        rerun(app)
    assert len({app.session_state[state.OWNER] for app in apps}) == 5  # five distinct sessions

    def press(app):
        app.button(key=train_state.START).click()
        app.run()
        return app

    with ThreadPoolExecutor(5) as pool:
        list(pool.map(press, apps))
    for app in apps:
        assert_clean(app)
    accepted = [app for app in apps if JOB_ID in app.session_state]
    refused = [app for app in apps if JOB_ID not in app.session_state]
    assert len(accepted) == 2 and len(refused) == 3, [app.session_state[JOB_ID] for app in accepted]
    for app in refused:
        assert_says(app, "Busy: 2 of 2 training slots in use")
    job_ids = [app.session_state[JOB_ID] for app in accepted]
    assert len(active_jobs()) <= 2
    wait_until_ended(job_ids)
    for app, job_id in zip(accepted, job_ids, strict=True):
        status = job_status(job_id)
        assert status.state == "finished", status.message
        assert load_record(status.run_id).name == status.name
        rerun(app)
        assert_clean(app)
        assert any(status.run_id in success.value for success in app.success)
    late = refused[0]  # a slot is free again: a refused session can now start
    late.button(key=train_state.START).click()
    rerun(late)
    assert JOB_ID in late.session_state
    wait_until_ended([late.session_state[JOB_ID]])
    assert job_status(late.session_state[JOB_ID]).state == "finished"


def _start(owner: str, root: str, results) -> None:
    config = TrainConfig(dataset="digits", spec=spec_to_dicts(PRESETS["dense"].spec()), model_key="dense",
                         name=f"process {owner}", epochs=1, batch_size=32)
    try:
        results.put((owner, start_job(config, owner, root=__import__("pathlib").Path(root),
                                      limits=Limits(max_jobs=2))))
    except JobLimitError as error:
        results.put((owner, f"refused: {error}"))


def test_five_processes_racing_for_two_slots(tmp_path):
    """No shared memory, only the store's lock file: exactly two jobs start."""
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    processes = [context.Process(target=_start, args=(f"owner{n}", str(tmp_path), results)) for n in range(5)]
    for process in processes:
        process.start()
    outcomes = dict(results.get(timeout=120) for _ in processes)
    for process in processes:
        process.join(60)
    started = [value for value in outcomes.values() if not value.startswith("refused")]
    assert len(started) == 2, outcomes
    assert all("Busy: 2 of 2" in value for value in outcomes.values() if value.startswith("refused"))
    deadline = time.monotonic() + 240
    while any(job_status(job_id, tmp_path).active for job_id in started):
        assert time.monotonic() < deadline
        time.sleep(0.5)
    assert sorted(run.name for run in list_runs(tmp_path)) == sorted(
        job_status(job_id, tmp_path).name for job_id in started)
