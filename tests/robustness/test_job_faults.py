"""Jobs that stop making progress, a full disk at Start, and runs a tab no longer shows.

Real worker processes: a paused worker (SIGSTOP) is what a hung or starved process looks like.
"""

from __future__ import annotations

import errno
import os
import signal
import time
from dataclasses import replace
from pathlib import Path

import pytest

from core.jobs.jobs import JOBS, active_jobs, cancel_job, job_status, read_events, submit_job
from core.store.hosting import Limits
from core.store.runs import STORE_ROOT, remove_partials
from tests.app.harness import open_app, rerun
from tests.robustness.conftest import assert_clean, assert_says
from tests.unit.test_jobs import config, wait_for
from ui.train import state as train_state
from ui.train.settings import setting_key
from ui.train.state import JOB_ID

TRAIN = "pages/train.py"


def _gone(pid: int) -> bool:
    """Whether the process has ended (a zombie not yet reaped counts as ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return True
    return state == "Z"


def test_a_paused_worker_is_reported_stalled_its_slot_freed_and_it_is_ended(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNLAB_STALL_SECONDS", "15")
    only_slot = Limits(workers=1)
    job_id = submit_job(config(epochs=500), "alice", root=tmp_path, limits=only_slot)
    wait_for(lambda: any(e["type"] == "batch" for e in read_events(job_id, 0, tmp_path)[0]))
    pid = job_status(job_id, tmp_path).pid
    os.kill(pid, signal.SIGSTOP)  # running, holding its lock, and making no progress
    assert job_status(job_id, tmp_path).state == "running"  # not yet: a pause shorter than the bound is fine
    status = wait_for(lambda: (s := job_status(job_id, tmp_path)).state == "failed" and s, 30)
    assert status.message.startswith("Stalled: the training process showed no progress for")
    assert "Nothing was saved" in status.message
    assert not active_jobs(tmp_path)  # the slot is free at once
    wait_for(lambda: (job_status(job_id, tmp_path), _gone(pid))[1], 15)  # and the worker was ended
    events = read_events(job_id, 0, tmp_path)[0]
    assert events[-1]["type"] == "end" and events[-1]["status"] == "failed"
    second = submit_job(config(), "bob", root=tmp_path, limits=only_slot)  # the replaced worker takes a new run
    assert wait_for(lambda: (s := job_status(second, tmp_path)).state == "finished" and s).run_id


def test_a_slow_phase_with_a_heartbeat_is_not_a_stall(tmp_path, monkeypatch):
    # Loading TensorFlow and the data, tracing and evaluating send no progress lines for seconds; the
    # heartbeat (every 2 s) covers them, so a bound far shorter than the default still holds.
    monkeypatch.setenv("CNNLAB_STALL_SECONDS", "15")
    job_id = submit_job(config(epochs=2), "alice", root=tmp_path)
    status = wait_for(lambda: (s := job_status(job_id, tmp_path)).state in ("finished", "failed") and s, 120)
    assert status.state == "finished", status.message


def test_the_train_page_says_a_run_stalled(monkeypatch):
    monkeypatch.setenv("CNNLAB_STALL_SECONDS", "15")
    app = open_app(TRAIN)
    app.slider(key=setting_key("epochs")).set_value(50)
    rerun(app)
    app.button(key=train_state.START).click()
    rerun(app)
    job_id = app.session_state[JOB_ID]
    wait_for(lambda: any(e["type"] == "batch" for e in read_events(job_id)[0]))
    pid = job_status(job_id).pid
    os.kill(pid, signal.SIGSTOP)
    wait_for(lambda: job_status(job_id).state == "failed", 30)
    rerun(app)
    assert_clean(app)
    assert_says(app, "Stalled", "no progress", "Nothing was saved")
    assert not app.button(key=train_state.START).disabled  # the user can start again


def test_start_on_a_full_disk_says_so_and_leaves_nothing_behind(monkeypatch):
    app = open_app(TRAIN)
    app.slider(key=setting_key("epochs")).set_value(1)
    rerun(app)
    jobs = STORE_ROOT / JOBS
    before = set(jobs.iterdir()) if jobs.is_dir() else set()

    def full(descriptor):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)  # the job's files are flushed with fsync: the disk refuses it
    app.button(key=train_state.START).click()
    rerun(app)
    monkeypatch.undo()
    assert_clean(app)
    assert_says(app, "could not start", "No space left on device", "Nothing was started")
    assert JOB_ID not in app.session_state
    after = set(jobs.iterdir()) if jobs.is_dir() else set()
    assert {path.name for path in after - before} <= {".start.lock", ".active"}  # no job folder, no partial file
    active = jobs / ".active"  # absent if this was the store's first Start (the test run alone)
    assert not active.is_dir() or not any(active.iterdir())  # and nothing in the index of active jobs
    app.button(key=train_state.START).click()  # space again: it starts
    rerun(app)
    job_id = app.session_state[JOB_ID]
    wait_for(lambda: not job_status(job_id).active, 120)


def test_partial_files_in_job_folders_are_cleaned_up(tmp_path):
    folder = tmp_path / JOBS / "20260101-000000-abcdef"
    folder.mkdir(parents=True)
    dead = folder / ".partial-config.json.abc123.999999999"  # a pid that cannot exist
    dead.write_text("{")
    live = folder / f".partial-status.json.abc123.{os.getpid()}"  # a writer still at work
    live.write_text("{")
    assert remove_partials(tmp_path) == 1
    assert not dead.exists() and live.exists()


@pytest.mark.parametrize("hosted", [False, True])
def test_a_new_tab_says_where_an_earlier_run_went(hosted, monkeypatch):
    if hosted:
        monkeypatch.setenv("CNNLAB_HOSTED", "1")
    # A long run inside a hosted server's caps (the queue refuses 500 epochs there now): 20 epochs at batch 1.
    job_id = submit_job(replace(config(epochs=20), batch_size=1), "another workspace")
    try:
        app = open_app(TRAIN)  # a new tab without that workspace's key
        assert_clean(app)
        text = " ".join([*(info.value for info in app.info), *(caption.value for caption in app.caption)])
        if hosted:  # another visitor's run is never named; the visitor is told how to find their own again
            assert "job test" not in text and "open your private link again" in text
        else:
            assert "from another workspace" in text and "job test" in text and "Models" in text
    finally:
        cancel_job(job_id)  # out of the queue, or stopped if a worker took it
        wait_for(lambda: not job_status(job_id).active, 60)
    time.sleep(0.1)
