"""Background jobs: the queue's order, fairness, position and ETA, cancel and restart (no workers), then real
warm workers that train and store, stop, die, and make way for fresh ones."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from core.jobs import folder as files
from core.jobs.eta import JOB_OVERHEAD_SECONDS, parse_events, run_seconds, time_left, waits
from core.jobs.jobs import (
    JobError,
    JobLimitError,
    active_jobs,
    cancel_job,
    claim_next,
    job_status,
    list_jobs,
    queue_wait,
    read_events,
    request_stop,
    submit_job,
)
from core.jobs.pool import ensure_pool
from core.model.layers import spec_to_dicts
from core.model.presets import PRESETS
from core.store.hosting import Limits
from core.store.runs import list_runs, load_record
from core.train.config import TrainConfig
from tests.conftest import REPO_ROOT


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


def queue(tmp_path, owner: str, **changes) -> str:
    """Queues a run without starting any worker: the queue's own rules, tested alone."""
    return submit_job(config(**changes), owner, root=tmp_path, limits=Limits(workers=1), start_workers=False)


# The queue alone: no worker takes anything unless the test claims it.

def test_every_start_is_accepted_and_waits_in_first_in_first_out_order(tmp_path):
    ids = [queue(tmp_path, owner) for owner in ("ann", "ben", "cat")]
    assert [job_status(job_id, tmp_path).state for job_id in ids] == ["queued"] * 3
    assert [queue_wait(job_id, tmp_path, workers=1).position for job_id in ids] == [1, 2, 3]
    _, status, lock = claim_next(tmp_path, worker_pid=os.getpid())
    try:
        assert status.job_id == ids[0] and job_status(ids[0], tmp_path).state == "starting"
        assert queue_wait(ids[0], tmp_path) is None  # no longer waiting
        # The run in the worker is first in line now; the others are one place further back.
        assert [queue_wait(job_id, tmp_path, workers=1).position for job_id in ids[1:]] == [2, 3]
    finally:
        os.close(lock)
    # Its lock is free and nobody trains it: its worker died, so it goes back to its old place, once.
    again = job_status(ids[0], tmp_path)
    assert again.state == "queued" and "died" in again.message and "retried" in again.message
    assert queue_wait(ids[0], tmp_path, workers=1).position == 1
    _, status, lock = claim_next(tmp_path, worker_pid=os.getpid())
    assert status.job_id == ids[0] and status.attempt == 2 and status.message.startswith("Second attempt")
    os.close(lock)
    lost = job_status(ids[0], tmp_path)  # lost a second time: failed, with the reason
    assert lost.state == "failed" and "lost 2 times" in lost.message and lost.ended > 0


def test_one_run_per_person_a_second_start_replaces_the_waiting_one_in_its_place(tmp_path):
    first = queue(tmp_path, "ann")
    ben = queue(tmp_path, "ben")
    again = queue(tmp_path, "ann", epochs=3)  # changed her mind while waiting
    assert job_status(first, tmp_path).state == "cancelled"
    assert "Replaced by a newer Start" in job_status(first, tmp_path).message
    assert queue_wait(again, tmp_path, workers=1).position == 1 and queue_wait(ben, tmp_path, workers=1).position == 2
    assert [job.job_id for job in active_jobs(tmp_path)].count(again) == 1 and len(active_jobs(tmp_path)) == 2
    _, status, lock = claim_next(tmp_path, worker_pid=os.getpid())
    try:
        assert status.job_id == again
        with pytest.raises(JobLimitError, match="is training"):
            queue(tmp_path, "ann")
    finally:
        os.close(lock)


def test_cancel_takes_a_waiting_run_out_and_only_its_owner_may(tmp_path):
    ann, ben = queue(tmp_path, "ann"), queue(tmp_path, "ben")
    with pytest.raises(JobError, match="another workspace"):
        cancel_job(ann, "ben", tmp_path)
    assert cancel_job(ann, "ann", tmp_path) == "cancelled"
    assert job_status(ann, tmp_path).state == "cancelled" and not job_status(ann, tmp_path).active
    assert cancel_job(ann, "ann", tmp_path) == "ended"
    assert queue_wait(ben, tmp_path, workers=1).position == 1
    assert claim_next(tmp_path, worker_pid=os.getpid())[1].job_id == ben  # a cancelled run is never claimed
    events, _ = read_events(ann, 0, tmp_path)
    assert events[-1] == {"type": "end", "status": "cancelled", "message": "Cancelled before it started."}


def test_thirty_waiting_runs_are_thirty_small_folders_and_no_process(tmp_path):
    before = len(os.listdir("/proc"))
    ids = [queue(tmp_path, f"student {number}") for number in range(30)]
    assert [queue_wait(job_id, tmp_path, workers=1).position for job_id in ids] == list(range(1, 31))
    size = sum(path.stat().st_size for path in (tmp_path / "jobs").rglob("*") if path.is_file())
    assert size < 30 * 4096 and len(os.listdir("/proc")) <= before + 2  # no worker, no pool


def test_the_queue_survives_a_restart(tmp_path):
    training = queue(tmp_path, "zoe")
    _, _, lock = claim_next(tmp_path, worker_pid=os.getpid())
    ids = [queue(tmp_path, owner) for owner in ("ann", "ben")]
    os.close(lock)  # the server and its worker went down with the run half-way
    # Another process, as a restarted server would be, reads the same queue from disk.
    script = (f"import sys; sys.path.insert(0, {str(REPO_ROOT)!r}); from pathlib import Path; "
              "from core.jobs.jobs import queue_wait, job_status; "
              f"root = Path({str(tmp_path)!r}); "
              f"print([(job_status(i, root).state, queue_wait(i, root, 1).position) for i in {ids!r}])")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    # Still waiting, in the same order, behind the run that was training: it is retried first, from the start.
    assert out.strip() == "[('queued', 2), ('queued', 3)]"
    status = job_status(training, tmp_path)
    assert status.state == "queued" and "retried from the start" in status.message
    assert queue_wait(training, tmp_path, workers=1).position == 1


def test_the_queue_is_bounded(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNLAB_MAX_QUEUE", "2")
    queue(tmp_path, "ann"), queue(tmp_path, "ben")
    with pytest.raises(JobLimitError, match="queue is full"):
        queue(tmp_path, "cat")
    assert queue(tmp_path, "ann")  # replacing one's own waiting run is always allowed


def test_eta_follows_the_runs_ahead_and_the_workers():
    # One worker busy for 10 more seconds, then runs of 5 and 7 seconds.
    assert [(w.position, w.starts_in, w.ends_in) for w in waits([10], [5, 7], 1)] == [(2, 10, 15), (3, 15, 22)]
    # Two workers: the second is free now.
    assert [(w.starts_in, w.ends_in) for w in waits([10], [5, 7, 1], 2)] == [(0, 5), (5, 12), (10, 11)]
    assert run_seconds(6000, 2, 1000) == pytest.approx(12 + JOB_OVERHEAD_SECONDS)
    with pytest.raises(ValueError, match="at least 1 worker"):
        waits([], [1], 0)


def test_the_eta_uses_the_measured_speed_of_that_kind_of_run(tmp_path):
    files.record_speed(tmp_path, config(), 500.0)
    job_id = queue(tmp_path, "ann", epochs=4)
    train_images = int(1437 * 0.9)  # digits' training split, less the validation share
    assert job_status(job_id, tmp_path).estimate == pytest.approx(run_seconds(train_images, 4, 500.0), rel=0.05)
    assert queue_wait(job_id, tmp_path, workers=1).starts_in == 0


def test_the_eta_of_a_run_behind_a_training_one_follows_that_runs_own_progress(tmp_path):
    # The run ahead was never timed, so its estimate is a guess; once it trains, its own speed says when it ends
    # (a learner saw "starts in about 2:10" for a run that started after 39 s).
    ahead = queue(tmp_path, "ann", epochs=3)
    behind = queue(tmp_path, "ben")
    folder, status, _ = claim_next(tmp_path, os.getpid())
    assert status.job_id == ahead
    guessed = queue_wait(behind, tmp_path, workers=1).starts_in
    assert guessed == pytest.approx(status.estimate, abs=2)  # nothing trained yet: the estimate stands
    with files.open_progress(folder) as log:
        files.append_event(log, {"type": "phase", "phase": "loading"})
        files.append_event(log, {"type": "start", "epochs": 3, "steps_per_epoch": 10, "train_size": 1000,
                                 "validation_size": 0, "batch_size": 100})
        for step in range(1, 16):
            files.append_event(log, {"type": "batch", "epoch": (step - 1) // 10, "step": (step - 1) % 10 + 1,
                                     "seen": step * 100, "loss": 1.0, "accuracy": 0.5, "elapsed": step,
                                     "images_per_second": 100.0})
    # 1,500 of 3,000 images at 100 images/s: 15 s of training left, then the test and the save.
    assert queue_wait(behind, tmp_path, workers=1).starts_in == pytest.approx(15 + JOB_OVERHEAD_SECONDS, abs=0.5)
    with files.open_progress(folder) as log:
        files.append_event(log, {"type": "phase", "phase": "evaluating"})
    assert queue_wait(behind, tmp_path, workers=1).starts_in == pytest.approx(JOB_OVERHEAD_SECONDS, abs=0.5)


def test_time_left_says_nothing_before_the_first_batch_and_skips_damaged_lines():
    start = {"type": "start", "epochs": 2, "train_size": 100}
    assert time_left(None, []) is None and time_left(start, [{"type": "phase", "phase": "loading"}]) is None
    assert time_left(start, [{"type": "batch", "seen": 50, "images_per_second": 0}]) is None
    assert parse_events([b'{"type": "end"}', b"{cut", b"5", b"[1]"]) == [{"type": "end"}]
    assert time_left(start, parse_events([b'{"type": "end"}'])) == 0.0


# Real warm workers.

def test_a_job_trains_in_a_warm_worker_and_lands_in_the_store(tmp_path):
    job_id = submit_job(config(), "alice", root=tmp_path, limits=Limits(workers=1))
    assert job_status(job_id, tmp_path).active
    status = wait_for(lambda: (s := job_status(job_id, tmp_path)).state == "finished" and s)
    assert status.pid and status.pid != os.getpid() and status.started >= status.created
    events, offset = read_events(job_id, 0, tmp_path)
    assert [e["type"] for e in events if e["type"] in ("start", "end")] == ["start", "end"]
    assert any(e["type"] == "batch" for e in events) and offset > 0
    assert read_events(job_id, offset, tmp_path) == ([], offset)
    runs = list_runs(tmp_path)
    assert [run.run_id for run in runs] == [status.run_id]
    assert runs[0].name == "job test" and runs[0].metrics["test"]["accuracy"] > 0.5
    assert files.read_speeds(tmp_path)  # its speed is measured for the next ETA
    # The same worker takes the next run, already warm: no new process.
    second = submit_job(config(), "bob", root=tmp_path, limits=Limits(workers=1))
    assert wait_for(lambda: (s := job_status(second, tmp_path)).state == "finished" and s).pid == status.pid


def test_runs_wait_for_the_one_worker_and_stop_and_cancel_work(tmp_path):
    limits = Limits(workers=1)
    first = submit_job(config(epochs=500), "alice", root=tmp_path, limits=limits)
    wait_for(lambda: any(e["type"] == "batch" for e in read_events(first, 0, tmp_path)[0]))
    second = submit_job(config(), "bob", root=tmp_path, limits=limits)
    third = submit_job(config(), "carol", root=tmp_path, limits=limits)
    assert job_status(second, tmp_path).queued and queue_wait(second, tmp_path).position == 2  # behind the first
    with pytest.raises(JobError, match="another workspace"):
        request_stop(first, "bob", tmp_path)
    assert cancel_job(third, "carol", tmp_path) == "cancelled"
    assert cancel_job(first, "alice", tmp_path) == "stopping"  # Stop, while it trains
    status = wait_for(lambda: (s := job_status(first, tmp_path)).state in ("stopped", "failed") and s, 60)
    assert status.state == "stopped", status.message
    record = load_record(status.run_id, tmp_path)
    assert record.status == "stopped" and len(record.history.get("loss", [])) < 500
    assert not request_stop(first, "alice", tmp_path)  # stopping twice is harmless
    assert wait_for(lambda: job_status(second, tmp_path).state == "finished")
    assert job_status(third, tmp_path).state == "cancelled" and len(list_runs(tmp_path)) == 2


def _kill_when_training(job_id: str, root, attempt: int) -> int:
    status = wait_for(lambda: (s := job_status(job_id, root)).attempt == attempt and s.state == "running"
                      and any(e["type"] == "batch" for e in read_events(job_id, 0, root)[0]) and s)
    os.kill(status.pid, signal.SIGKILL)
    return status.pid


def test_a_killed_worker_is_replaced_and_its_run_retried_once_then_stored_once(tmp_path):
    job_id = submit_job(config(epochs=40), "alice", root=tmp_path, limits=Limits(workers=1))
    killed = _kill_when_training(job_id, tmp_path, attempt=1)
    finished = wait_for(lambda: (s := job_status(job_id, tmp_path)).state in ("finished", "failed") and s, 180)
    assert finished.state == "finished" and finished.attempt == 2 and finished.pid != killed, finished.message
    assert finished.message == "Second attempt, from the start: in the first, its worker process died (killed, or " \
                               "out of memory)."
    assert [run.run_id for run in list_runs(tmp_path)] == [finished.run_id]  # stored once
    events, _ = read_events(job_id, 0, tmp_path)
    assert events[-1]["type"] == "end" and sum(event["type"] == "start" for event in events) == 1  # afresh
    assert ensure_pool(tmp_path, None).replaced >= 1


def test_a_run_whose_worker_is_killed_twice_fails_with_the_reason_and_saves_nothing(tmp_path):
    job_id = submit_job(config(epochs=500), "alice", root=tmp_path, limits=Limits(workers=1))
    _kill_when_training(job_id, tmp_path, attempt=1)
    _kill_when_training(job_id, tmp_path, attempt=2)
    status = wait_for(lambda: (s := job_status(job_id, tmp_path)).state == "failed" and s, 30)
    assert "lost 2 times" in status.message and "died" in status.message
    assert list_runs(tmp_path) == [] and not active_jobs(tmp_path)
    again = submit_job(config(), "alice", root=tmp_path, limits=Limits(workers=1))  # her place is free again
    assert wait_for(lambda: (s := job_status(again, tmp_path)).state == "finished" and s)


@pytest.mark.parametrize("bound", ["CNNLAB_WORKER_JOBS", "CNNLAB_WORKER_MAX_MB"])
def test_a_worker_makes_way_for_a_fresh_one_after_its_quota_of_jobs_or_past_its_memory_bound(bound, tmp_path,
                                                                                            monkeypatch):
    monkeypatch.setenv(bound, "1")  # one job, or 1 MB: every worker is past it after its first run
    first = submit_job(config(), "alice", root=tmp_path, limits=Limits(workers=1))
    second = submit_job(config(), "bob", root=tmp_path, limits=Limits(workers=1))
    pids = [wait_for(lambda job_id=job_id: (s := job_status(job_id, tmp_path)).state == "finished" and s).pid
            for job_id in (first, second)]
    assert pids[0] != pids[1] and len(list_runs(tmp_path)) == 2


def test_speeds_file_damage_is_survived(tmp_path):
    (tmp_path / "jobs").mkdir()
    for content in ("[", "[1, 2]", json.dumps({"a": "fast", "b": -1, "c": True})):
        (tmp_path / "jobs" / files.SPEEDS).write_text(content)
        assert files.read_speeds(tmp_path) == {}
    assert queue(tmp_path, "ann")


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


def test_the_wait_reads_as_a_place_in_line():
    from core.jobs.eta import Wait, ordinal, wait_line

    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st", "111th"]
    assert wait_line(Wait(2, 40, 70)) == "2nd in line · starts in about 0:40 · done in about 1:10"
    assert wait_line(Wait(1, 0, 12)).startswith("1st in line · starts as soon as a worker is free")


def test_the_queue_reads_only_the_active_jobs_not_a_days_worth_of_ended_ones(tmp_path, monkeypatch):
    # The live panels ask for the queue twice a second each, and idle workers ten times a second.
    for number in range(50):
        folder = tmp_path / "jobs" / f"20260101-000000-{number:06x}"
        folder.mkdir(parents=True)
        files.write_status(folder, files.JobStatus(folder.name, "old", "finished"))
    waiting = queue(tmp_path, "ann")
    reads = []
    real = files.read_status
    monkeypatch.setattr(files, "read_status", lambda folder, job_id: (reads.append(job_id), real(folder, job_id))[1])
    assert [job.job_id for job in active_jobs(tmp_path)] == [waiting]
    assert reads == [waiting]
    assert cancel_job(waiting, "ann", tmp_path) == "cancelled"
    reads.clear()
    assert active_jobs(tmp_path) == [] and active_jobs(tmp_path) == [] and len(reads) == 1  # its entry is dropped


def test_a_live_panel_polls_less_often_when_the_server_falls_behind_and_catches_up_again():
    from ui.polling import SLOWEST, Pace, next_interval

    base = 0.5
    pace = Pace(base)
    assert next_interval(pace, base, None, 0.01) == base  # the first poll: nothing to judge by
    assert next_interval(pace, base, 0.52, 0.01) == base  # on time and cheap: stays
    assert next_interval(pace, base, 1.5, 0.01) == 1.0  # came three intervals late: the server is behind
    assert next_interval(pace, base, 0.5, 0.2) == 1.0  # took 40% of its interval: too costly at this pace
    slow = Pace(SLOWEST)
    assert next_interval(slow, base, 30.0, 0.01) == SLOWEST  # never slower than SLOWEST: late, not never
    assert next_interval(slow, base, SLOWEST * 1.1, 0.01) == SLOWEST / 2  # served on time again: back towards base
    assert next_interval(Pace(1.0), base, 1.1, 0.01) == base
    assert next_interval(Pace(1.0), base, 1.5, 0.01) == 1.0  # a little late: holds


def test_the_charts_draw_at_most_a_few_hundred_points_whatever_the_run_s_length():
    from ui.train.live import MAX_POINTS, thinned

    points = [(step / 100, 1.0 / (step + 1)) for step in range(10_000)]
    drawn = thinned(points)
    assert len(drawn) == MAX_POINTS and drawn[0] == points[0] and drawn[-1] == points[-1]
    assert drawn == sorted(drawn)  # in order, evenly spread
    assert thinned(points[:50]) == points[:50]
