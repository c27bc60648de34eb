"""Five sessions press Start at once: every Start is accepted, no more runs train at once than there are
workers, and every run completes and is stored exactly once. Also the same rush from five processes, at the job
layer."""

from __future__ import annotations

import multiprocessing
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from core.jobs.jobs import active_jobs, job_status, queue_wait, submit_job
from core.jobs.pool import ensure_pool, pool_settings
from core.model.layers import spec_to_dicts
from core.model.presets import PRESETS
from core.store.hosting import Limits
from core.store.runs import list_runs, load_record
from core.train.config import TrainConfig
from tests.app.harness import open_app, rerun
from tests.robustness.conftest import assert_clean
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


def test_five_sessions_press_start_at_once_all_are_queued_and_two_workers_train_them(monkeypatch):
    monkeypatch.setenv("CNNLAB_WORKERS", "2")
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
    job_ids = [app.session_state.get(JOB_ID) for app in apps]
    assert all(job_ids) and len(set(job_ids)) == 5  # every Start was accepted
    most_at_once, done = 0, threading.Event()

    def watch():
        nonlocal most_at_once
        while not done.is_set():
            most_at_once = max(most_at_once, sum(job.training for job in active_jobs()))
            time.sleep(0.1)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        wait_until_ended(job_ids)
    finally:
        done.set()
        watcher.join()
    assert 1 <= most_at_once <= 2
    for app, job_id in zip(apps, job_ids, strict=True):
        status = job_status(job_id)
        assert status.state == "finished", status.message
        assert load_record(status.run_id).name == status.name
        rerun(app)
        assert_clean(app)
        assert any(status.run_id in success.value for success in app.success)
    stored = [run.name for run in list_runs() if run.name.startswith("rush ")]
    assert sorted(stored) == [f"rush {number}" for number in range(5)]  # each exactly once


def _submit(owner: str, root: str, results) -> None:
    config = TrainConfig(dataset="digits", spec=spec_to_dicts(PRESETS["dense"].spec()), model_key="dense",
                         name=f"process {owner}", epochs=1, batch_size=32)
    results.put((owner, submit_job(config, owner, root=Path(root), limits=Limits(workers=2), start_workers=False)))


def test_five_processes_submitting_at_once_each_get_one_place_in_line(tmp_path):
    """No shared memory, only the store's lock file: five runs queue, in five distinct places."""
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    processes = [context.Process(target=_submit, args=(f"owner{n}", str(tmp_path), results)) for n in range(5)]
    for process in processes:
        process.start()
    outcomes = dict(results.get(timeout=120) for _ in processes)
    for process in processes:
        process.join(60)
    assert len(set(outcomes.values())) == 5
    assert sorted(queue_wait(job_id, tmp_path, workers=1).position for job_id in outcomes.values()) == [1, 2, 3, 4, 5]
    ensure_pool(tmp_path, pool_settings(2))
    deadline = time.monotonic() + 300
    while any(job_status(job_id, tmp_path).active for job_id in outcomes.values()):
        assert time.monotonic() < deadline
        time.sleep(0.5)
    assert sorted(run.name for run in list_runs(tmp_path)) == sorted(f"process {owner}" for owner in outcomes)
