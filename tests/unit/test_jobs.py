"""Background jobs: a real worker process trains and stores; the caps hold; Stop and a killed worker behave."""

from __future__ import annotations

import os
import signal
import time

import pytest

from core.jobs.jobs import (
    JobError,
    JobLimitError,
    active_jobs,
    job_status,
    list_jobs,
    read_events,
    request_stop,
    start_job,
)
from core.model.layers import spec_to_dicts
from core.model.presets import PRESETS
from core.store.hosting import Limits
from core.store.runs import list_runs, load_record
from core.train.config import TrainConfig


def config(epochs: int = 1, **changes) -> TrainConfig:
    return TrainConfig(dataset="digits", spec=spec_to_dicts(PRESETS["dense"].spec()), model_key="dense",
                       name="job test", epochs=epochs, batch_size=16, **changes)


def wait_for(predicate, timeout: float = 120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out")


def test_a_job_trains_in_a_worker_process_and_lands_in_the_store(tmp_path):
    job_id = start_job(config(), "alice", root=tmp_path)
    assert job_status(job_id, tmp_path).active
    status = wait_for(lambda: (s := job_status(job_id, tmp_path)).state == "finished" and s)
    assert status.pid and status.pid != os.getpid()
    events, offset = read_events(job_id, 0, tmp_path)
    assert [e["type"] for e in events if e["type"] in ("start", "end")] == ["start", "end"]
    assert any(e["type"] == "batch" for e in events) and offset > 0
    assert read_events(job_id, offset, tmp_path) == ([], offset)
    runs = list_runs(tmp_path)
    assert [run.run_id for run in runs] == [status.run_id]
    assert runs[0].name == "job test" and runs[0].metrics["test"]["accuracy"] > 0.5


def test_one_job_per_owner_and_a_global_cap(tmp_path):
    first = start_job(config(epochs=200), "alice", root=tmp_path, limits=Limits(max_jobs=2))
    try:
        with pytest.raises(JobLimitError, match="1 run per session"):
            start_job(config(), "alice", root=tmp_path, limits=Limits(max_jobs=2))
        with pytest.raises(JobLimitError, match="Busy: 1 of 1 training slot"):
            start_job(config(), "bob", root=tmp_path, limits=Limits(max_jobs=1))
        assert [job.job_id for job in active_jobs(tmp_path)] == [first]
        with pytest.raises(JobError, match="another session"):
            request_stop(first, "bob", tmp_path)
    finally:
        request_stop(first, "alice", tmp_path)
    wait_for(lambda: not job_status(first, tmp_path).active)


def test_stop_ends_the_run_soon_and_keeps_the_model(tmp_path):
    job_id = start_job(config(epochs=500), "alice", root=tmp_path)
    wait_for(lambda: any(e["type"] == "batch" for e in read_events(job_id, 0, tmp_path)[0]))
    assert request_stop(job_id, "alice", tmp_path)
    status = wait_for(lambda: (s := job_status(job_id, tmp_path)).state in ("stopped", "failed") and s, 60)
    assert status.state == "stopped", status.message
    record = load_record(status.run_id, tmp_path)
    assert record.status == "stopped" and len(record.history.get("loss", [])) < 500
    assert not request_stop(job_id, "alice", tmp_path)  # stopping twice is harmless


def test_a_killed_worker_is_reported_failed_and_leaves_no_run(tmp_path):
    job_id = start_job(config(epochs=500), "alice", root=tmp_path)
    wait_for(lambda: any(e["type"] == "batch" for e in read_events(job_id, 0, tmp_path)[0]))
    os.kill(job_status(job_id, tmp_path).pid, signal.SIGKILL)
    status = wait_for(lambda: (s := job_status(job_id, tmp_path)).state == "failed" and s, 30)
    assert "ended unexpectedly" in status.message
    assert list_runs(tmp_path) == [] and not active_jobs(tmp_path)
    assert start_job(config(), "alice", root=tmp_path)  # the slot is free again
    wait_for(lambda: not active_jobs(tmp_path))


def test_unknown_and_malicious_job_ids(tmp_path):
    for job_id in ("nope", "../../etc", ""):
        with pytest.raises(JobError):
            job_status(job_id, tmp_path)
    assert list_jobs(tmp_path) == []


def test_the_batch_curve_does_not_restart_at_each_epoch():
    from core.train.progress import ProgressView, fold

    # Per-batch losses fall steadily across two epochs of 4 batches; Keras logs running means per epoch.
    losses = [2.0, 1.8, 1.6, 1.4, 1.2, 1.0, 0.8, 0.6]
    events = [{"type": "start", "epochs": 2, "steps_per_epoch": 4, "train_size": 400}]
    for index, _ in enumerate(losses):
        epoch, step = divmod(index, 4)
        window = losses[epoch * 4: index + 1]
        events.append({"type": "batch", "epoch": epoch, "step": step + 1, "seen": (index + 1) * 100,
                       "loss": sum(window) / len(window), "accuracy": 0.5, "elapsed": index, "images_per_second": 1})
    view = fold(ProgressView(), events)
    plotted = [point[1] for point in view.batch_points]
    assert plotted == pytest.approx(losses)  # the running mean restarted at 2.0 → 1.7 → 1.2 in epoch 2
    # With throttled events (every other batch), each point is the mean of the batches since the last one.
    sparse = fold(ProgressView(), [events[0], *events[2::2]])
    assert [point[1] for point in sparse.batch_points] == pytest.approx([1.9, 1.5, 1.1, 0.7])


def test_an_empty_live_chart_has_axes_a_metric_can_take():
    from core.train.progress import ProgressView
    from ui.train.live import curves_figure

    empty = ProgressView(epochs=3)
    assert tuple(curves_figure(empty, "accuracy").layout.yaxis.range) == (0, 1.02)
    assert tuple(curves_figure(empty, "loss").layout.yaxis.range) == (0, 1)
    assert tuple(curves_figure(empty, "loss").layout.xaxis.range) == (0, 3.05)


def test_damaged_progress_lines_and_status_files_are_survived(tmp_path):
    from core.train.progress import ProgressView, fold

    view = fold(ProgressView(), [{"type": "start", "epochs": "x"}, {"type": "batch"}, {"type": "epoch", "epoch": None},
                                 "not a dict", {"type": "phase", "phase": "evaluating"}])
    assert view.phase == "evaluating" and not view.batch_points and not view.epoch_rows
    folder = tmp_path / "jobs" / "20260101-000000-abcdef"
    folder.mkdir(parents=True)
    for content in ('{"job_id": 1, "owner": [], "state": "running"}', "[", '{"job_id": "x"}', '{"unknown": 1}'):
        (folder / "status.json").write_text(content)
        status = job_status(folder.name, tmp_path)
        assert status.state == "failed" and "status file" in status.message
