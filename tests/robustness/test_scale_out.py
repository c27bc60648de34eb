"""The scale-out backend with real parts: a real redis-server and two real Celery worker processes on loopback.

Ten sessions submit at once and every run is stored exactly once; Stop goes through Redis; a
worker killed mid-run (also on a busy machine) has its run taken over, never lost and never
doubled; Redis stopped for a minute mid-training loses nothing; ten Starts in one second leave
every view agreeing with the store; with Redis down, training says so in one sentence and every
other page still works. "Every view" is the queue's status, the Train page, the teacher's table
of students and the leaderboard.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from core.classroom.board import leaderboard
from core.classroom.classes import create_class, join_class, load_class
from core.classroom.live import STATE_WORDS, student_states
from core.jobs.celery_app import WORKER_LOST
from core.jobs.jobs import JobError, JobLimitError, QueueUnavailable
from core.jobs.queue import training_queue
from core.jobs.remote import LOST_AFTER, SILENT, RemoteQueue
from core.jobs.wire import QUEUE, connect, key
from core.model.layers import spec_to_dicts
from core.model.presets import PRESETS
from core.store.hosting import Limits
from core.store.runs import list_runs, load_record
from core.store.workspaces import create_workspace, read_workspace, record_job
from core.train.config import TrainConfig
from tests.app.harness import open_app, rerun
from tests.conftest import REPO_ROOT
from tests.robustness.conftest import assert_clean, assert_says
from tests.unit.test_jobs import wait_for
from ui.train import state as train_state
from ui.train.settings import setting_key

REDIS = shutil.which("redis-server")
pytestmark = pytest.mark.skipif(REDIS is None and os.environ.get("CI") != "true",
                                reason="no redis-server (apt-get install redis-server)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Redis:
    """A throwaway redis-server on a free loopback port; with `folder`, an append-only file there, so that it
    can be stopped and started again with its data, as the README's `--appendonly yes` does."""

    def __init__(self, folder: Path | None = None) -> None:
        self.port, self.folder = free_port(), folder
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.start()

    def start(self) -> None:
        durable = ["--dir", str(self.folder), "--appendonly", "yes", "--appendfsync", "always"] if self.folder \
            else ["--appendonly", "no"]
        self.process = subprocess.Popen([REDIS or "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                                         "--save", "", *durable], stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.1)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def start_worker(url: str, name: str, log: Path) -> subprocess.Popen:
    """`celery -A core.jobs.celery_app worker --concurrency 1`, as the README says, on loopback."""
    environment = {**os.environ, "CNNLAB_BROKER_URL": url, "PYTHONPATH": str(REPO_ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"}
    return subprocess.Popen([sys.executable, "-m", "celery", "-A", "core.jobs.celery_app", "worker",
                             "--concurrency", "1", "--loglevel", "INFO", "-n", f"{name}@%h"],
                            cwd=REPO_ROOT, env=environment, stdout=open(log, "w"), stderr=subprocess.STDOUT,
                            start_new_session=True)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """Redis and two Celery workers, shared by this module's tests."""
    folder = tmp_path_factory.mktemp("cluster")
    redis = Redis(folder)
    workers = [start_worker(redis.url, f"w{number}", folder / f"worker{number}.log") for number in (1, 2)]
    yield redis, workers, folder
    for worker in workers:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(worker.pid, signal.SIGKILL)
    redis.stop()


@pytest.fixture
def queue(cluster, tmp_path):
    redis, _, _ = cluster
    # Emptied before the queue's collector starts: an earlier test's run that ended after that test stopped
    # looking would otherwise be collected into this test's store (a failed test's left-over did in CI).
    connect(redis.url).flushdb()
    remote = RemoteQueue(redis.url, tmp_path)
    yield remote
    remote.close()


def config(name: str, epochs: int = 1, batch_size: int = 16) -> TrainConfig:
    return TrainConfig(dataset="digits", spec=spec_to_dicts(PRESETS["dense"].spec()), model_key="dense",
                       name=name, epochs=epochs, batch_size=batch_size)


HALF_A_MINUTE = {"epochs": 80, "batch_size": 8}  # the dense model on the 8×8 digits: about 30–45 s here


def ended(queue: RemoteQueue, job_id: str) -> bool:
    return not queue.status(job_id).active


def test_ten_sessions_submit_at_once_and_every_run_is_stored_exactly_once(queue, tmp_path):
    with ThreadPoolExecutor(10) as pool:
        job_ids = list(pool.map(lambda n: queue.submit(config(f"class run {n}"), f"student {n}",
                                                         limits=Limits(workers=2)), range(10)))
    assert len(set(job_ids)) == 10  # every Start accepted
    positions = sorted(wait.position for job_id in job_ids if (wait := queue.wait(job_id)))
    assert positions == list(range(11 - len(positions), 11))  # behind whichever runs already train
    wait_for(lambda: all(ended(queue, job_id) for job_id in job_ids), 300)
    statuses = [queue.status(job_id) for job_id in job_ids]
    assert [status.state for status in statuses] == ["finished"] * 10, [s.message for s in statuses]
    wait_for(lambda: len(list_runs(tmp_path)) == 10, 30)  # the collector has written each into the store
    time.sleep(2)  # a second collection pass would store a copy, if it could
    runs = list_runs(tmp_path)
    assert sorted(run.name for run in runs) == sorted(f"class run {n}" for n in range(10))
    assert {run.run_id for run in runs} == {status.run_id for status in statuses}
    assert {run.owner for run in runs} == {f"student {n}" for n in range(10)}
    assert not queue.redis.smembers(key("finished")) and not queue.redis.keys(key("result", "*"))
    events, _ = queue.events(job_ids[0])
    assert events[-1]["type"] == "end" and events[-1]["status"] == "finished"


def test_stop_through_redis_ends_the_run_and_keeps_the_model(queue, tmp_path):
    job_id = queue.submit(config("long", epochs=500), "ann", limits=Limits(workers=2))
    wait_for(lambda: any(event["type"] == "batch" for event in queue.events(job_id)[0]), 120)
    assert queue.cancel(job_id, "ann") == "stopping"
    status = wait_for(lambda: (s := queue.status(job_id)).state in ("stopped", "failed") and s, 120)
    assert status.state == "stopped", status.message
    record = wait_for(lambda: list_runs(tmp_path) and load_record(status.run_id, tmp_path), 30)
    assert record.status == "stopped" and record.epochs_trained < 500


def test_a_waiting_run_can_be_cancelled_and_is_never_trained(queue, tmp_path):
    busy = [queue.submit(config(f"busy {n}", epochs=200), f"busy {n}", limits=Limits(workers=2)) for n in range(2)]
    waiting = queue.submit(config("never"), "ben", limits=Limits(workers=2))
    assert queue.status(waiting).queued and queue.wait(waiting).position == 3
    assert queue.cancel(waiting, "ben") == "cancelled"
    for job_id in busy:
        queue.cancel(job_id)
    wait_for(lambda: all(ended(queue, job_id) for job_id in busy), 300)
    time.sleep(2)
    assert queue.status(waiting).state == "cancelled"
    assert "never" not in [run.name for run in list_runs(tmp_path)]


def test_a_run_that_ends_while_the_server_looks_at_its_heartbeat_stays_finished(queue, monkeypatch):
    # The server read "running", then the worker ended the run (and dropped its heartbeat), then the server
    # looked for the heartbeat: it must not write "failed" over the worker's "finished".
    monkeypatch.setattr("core.jobs.remote.LOST_AFTER", 0.0, raising=False)  # no grace: decide at once
    job_id = "20261205-000000-abcdef"
    running = {"job_id": job_id, "owner": "ann", "state": "running", "name": "race", "dataset": "digits",
               "created": time.time() - 100, "started": time.time() - 100, "pid": 1}
    queue.redis.set(key("job", job_id), json.dumps(running))
    queue.redis.sadd(key("active"), job_id)
    looked = queue.redis.exists

    def worker_ends_first(*names):
        if queue.redis.sismember(key("active"), job_id):  # what a worker's end writes, in one transaction
            pipe = queue.redis.pipeline()
            pipe.set(key("job", job_id), json.dumps({**running, "state": "finished", "run_id": "20261205-000001-aaa"}))
            pipe.srem(key("active"), job_id)
            pipe.delete(key("beat", job_id))
            pipe.execute()
        return looked(*names)

    monkeypatch.setattr(queue.redis, "exists", worker_ends_first)
    queue.status(job_id)
    assert json.loads(queue.redis.get(key("job", job_id)))["state"] == "finished"
    assert queue.status(job_id).state == "finished"


def test_a_message_that_comes_back_after_its_run_was_taken_over_leaves_no_claim(queue):
    # The server put a silent run back in line and another worker trained it; then the dead process's message
    # came back (its worker had been frozen). It must train nothing, and forget its claim.
    from types import SimpleNamespace

    from core.jobs.celery_app import _train_next, celery_app

    job_id = "20261206-000000-abcdef"
    done = {"job_id": job_id, "owner": "ann", "state": "finished", "name": "taken", "dataset": "digits",
            "created": time.time() - 100, "started": time.time() - 90, "ended": time.time() - 5, "pid": 1,
            "attempt": 2, "run_id": "20261206-000100-aaaaaa"}
    queue.redis.set(key("job", job_id), json.dumps(done))
    queue.redis.hset(key("claims"), "task-of-the-dead-process", job_id)
    task = SimpleNamespace(app=celery_app(queue.url), request=SimpleNamespace(id="task-of-the-dead-process",
                                                                               hostname="w9@test"))
    assert _train_next(task) == "nothing to train"
    assert not queue.redis.hlen(key("claims"))
    assert json.loads(queue.redis.get(key("job", job_id)))["state"] == "finished"


class Hog:
    """Two processes that spin, one per core: a busy machine, where TensorFlow takes long to import."""

    def __init__(self) -> None:
        self.processes = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]

    def stop(self) -> None:
        for process in self.processes:
            process.kill()
            process.wait()


def training(queue: RemoteQueue, job_id: str, attempt: int = 1) -> bool:
    status = queue.status(job_id)
    return status.state == "running" and getattr(status, "attempt", attempt) == attempt and \
        any(event["type"] == "batch" for event in queue.events(job_id)[0])


def settled(queue: RemoteQueue, timeout: float = 300) -> None:
    """No message waits in the broker, and no worker holds one (with late acknowledgement a message stays in
    kombu's `unacked` hash until its task returns)."""
    wait_for(lambda: not queue.redis.llen(QUEUE) and not queue.redis.hlen("unacked")
             and not queue.redis.hlen(key("claims")), timeout)


def stored_once(root: Path, statuses) -> None:
    """Every finished run is in the store exactly once, and nothing else is."""
    wait_for(lambda: len(list_runs(root)) >= len(statuses), 60)
    time.sleep(2)  # a second collection would store a copy, if it could
    runs = list_runs(root)
    assert sorted(run.run_id for run in runs) == sorted(status.run_id for status in statuses)
    assert len({run.name for run in runs}) == len(runs)


def test_a_training_process_killed_on_a_busy_machine_is_retried_and_stored_once(queue, tmp_path):
    limits = Limits(workers=2)
    victim = queue.submit(config("victim", **HALF_A_MINUTE), "ada", limits=limits)
    healthy = queue.submit(config("healthy", **HALF_A_MINUTE), "bea", limits=limits)
    wait_for(lambda: training(queue, victim) and training(queue, healthy), 180)
    hog = Hog()  # the replacement pool process imports TensorFlow on a machine with no core to spare
    try:
        killed = queue.status(victim).pid
        os.kill(killed, signal.SIGKILL)
        # Taken over from the start (or, on a queue that cannot retry, ended).
        wait_for(lambda: getattr(s := queue.status(victim), "attempt", 2) == 2 or not s.active, 240)
    finally:
        hog.stop()
    ends = [wait_for(lambda job_id=job_id: not (s := queue.status(job_id)).active and s, 300)
            for job_id in (victim, healthy)]
    assert [status.state for status in ends] == ["finished", "finished"], [status.message for status in ends]
    assert ends[0].pid != killed and ends[0].attempt == 2
    # Taken over by either path, and told truly which: Celery sends the message again and the next pool process
    # takes the run over; or, when that process takes longer to import TensorFlow than the server waits for a
    # silent heartbeat (30 s; it did in CI), the server puts the run back in line for any worker.
    cause = ends[0].message.removeprefix("Second attempt, from the start: in the first, ").removesuffix(".")
    assert cause in (WORKER_LOST, SILENT.format(seconds=LOST_AFTER)), ends[0].message
    assert ends[1].attempt == 1  # the run on the other worker was never disturbed
    settled(queue)  # the message Celery sent again has been handled too: a second training would show now
    stored_once(tmp_path, ends)
    events, _ = queue.events(victim)
    assert sum(event["type"] == "start" for event in events) == 1 and events[-1]["status"] == "finished"


def test_redis_stopped_for_a_minute_mid_training_loses_nothing_and_every_view_ends_true(cluster, queue, tmp_path):
    redis, _, _ = cluster
    limits = Limits(workers=2)
    _, teacher = create_workspace(tmp_path)
    room = create_class("Faults", teacher, tmp_path)
    students = []
    for nickname in ("Ada", "Bea", "Cy"):
        _, student = create_workspace(tmp_path)
        join_class(room.join_code, nickname, student, tmp_path)
        students.append(student.workspace_id)
    jobs = {}
    for owner, name in zip(students, ("ada", "bea", "cy"), strict=True):
        jobs[owner] = queue.submit(config(name, **HALF_A_MINUTE), owner, limits=limits)
        record_job(owner, jobs[owner], tmp_path)
    ada, bea, cy = (jobs[owner] for owner in students)
    wait_for(lambda: training(queue, ada) and training(queue, bea), 180)
    assert queue.wait(cy).position == 3
    redis.stop()
    with pytest.raises(QueueUnavailable):
        queue.status(ada)
    time.sleep(60)  # both runs go on training, and end, with nobody to tell
    redis.start()
    ends = [wait_for(lambda job_id=job_id: not (s := queue.status(job_id)).active and s, 400)
            for job_id in (ada, bea, cy)]
    assert [status.state for status in ends] == ["finished"] * 3, [status.message for status in ends]
    assert [status.attempt for status in ends] == [1, 1, 1]  # nothing was retried: nothing was lost
    assert ends[2].started >= min(ends[0].ended, ends[1].ended) - 1  # the waiting run kept its place, behind them
    stored_once(tmp_path, ends)
    every_view_agrees(queue, tmp_path, room)


def every_view_agrees(queue: RemoteQueue, root: Path, room) -> None:
    """The teacher's table, the leaderboard and each student's Train page say what the queue and the store say."""
    room = load_class(room.class_id, root)
    stored = {run.run_id: run for run in list_runs(root)}
    rows = {row.nickname: row for row in student_states(room, queue, root)}
    board = {row.run_id for row in leaderboard(room, list(stored.values()))}
    for member, nickname in room.members.items():
        status = queue.status(read_workspace(member, root).last_job)
        assert rows[nickname].state == STATE_WORDS[status.state], (nickname, rows[nickname], status)
        assert (status.run_id in stored) == (status.state in ("finished", "stopped")), (nickname, status)
        if status.state == "finished":
            assert status.run_id in board and "test accuracy" in rows[nickname].detail
    owned = {run.owner for run in stored.values()}
    assert owned <= set(room.members)


def forget_page_queues() -> None:
    """Closes the queues pages made (`training_queue()` caches one per store): their collectors would otherwise
    take finished runs into the test store of the pages while later tests wait for them in their own."""
    from core.jobs import queue as queues

    with queues._guard:
        made = list(queues._queues.values())
        queues._queues.clear()
    for made_queue in made:
        if isinstance(made_queue, RemoteQueue):
            made_queue.close()


def test_ten_starts_in_one_second_from_one_workspace_leave_every_view_agreeing_with_the_store(queue, tmp_path,
                                                                                              cluster, monkeypatch):
    limits = Limits(workers=2)
    _, teacher = create_workspace(tmp_path)
    room = create_class("Rush", teacher, tmp_path)
    _, student = create_workspace(tmp_path)
    join_class(room.join_code, "Dee", student, tmp_path)
    owner = student.workspace_id
    accepted, refused = [], []

    def press(number: int) -> None:
        time.sleep(number * 0.1)  # ten presses within one second, as the page's callback makes them
        try:
            job_id = queue.submit(config(f"press {number}", epochs=20), owner, limits=limits)
        except (JobError, JobLimitError) as error:
            refused.append(str(error))
            return
        accepted.append(job_id)
        record_job(owner, job_id, tmp_path)

    with ThreadPoolExecutor(10) as pool:
        list(pool.map(press, range(10)))
    assert len(accepted) + len(refused) == 10 and accepted
    ends = [wait_for(lambda job_id=job_id: not (s := queue.status(job_id)).active and s, 300) for job_id in accepted]
    assert {status.state for status in ends} <= {"finished", "cancelled"}, [status.message for status in ends]
    finished = [status for status in ends if status.state == "finished"]
    assert finished and all(status.message == "" for status in finished)
    assert all(status.message.startswith("Replaced by a newer Start") for status in ends if status.state == "cancelled")
    stored_once(tmp_path, finished)  # a replaced run was never trained, so never stored
    every_view_agrees(queue, tmp_path, room)
    monkeypatch.setenv("CNNLAB_BROKER_URL", cluster[0].url)
    try:
        app = open_app("pages/train.py")  # the student's page, showing their last run
        app.session_state[train_state.JOB_ID] = read_workspace(owner, tmp_path).last_job
        rerun(app)
    finally:
        forget_page_queues()
    assert_clean(app)
    last = queue.status(read_workspace(owner, tmp_path).last_job)
    assert last.state == "finished" and any(last.run_id in success.value for success in app.success)


def test_runs_of_half_a_minute_without_a_fault_are_finished_on_every_view(queue, tmp_path):
    _, teacher = create_workspace(tmp_path)
    room = create_class("Calm", teacher, tmp_path)
    jobs = []
    for nickname in ("Eve", "Fay"):
        _, student = create_workspace(tmp_path)
        join_class(room.join_code, nickname, student, tmp_path)
        jobs.append(queue.submit(config(nickname, **HALF_A_MINUTE), student.workspace_id, limits=Limits(workers=2)))
        record_job(student.workspace_id, jobs[-1], tmp_path)
    ends = [wait_for(lambda job_id=job_id: not (s := queue.status(job_id)).active and s, 300) for job_id in jobs]
    assert [status.state for status in ends] == ["finished", "finished"], [status.message for status in ends]
    stored_once(tmp_path, ends)
    every_view_agrees(queue, tmp_path, room)


def test_with_redis_down_training_says_so_and_every_other_page_works(cluster, monkeypatch, data_dir):
    gone = Redis()
    gone.stop()  # an address where Redis was, and is no more
    monkeypatch.setenv("CNNLAB_BROKER_URL", gone.url)
    queue = RemoteQueue(gone.url, Path(os.environ["CNNLAB_STORE_DIR"]))
    try:
        with pytest.raises(JobError, match=r"Training is unavailable: the job queue \(Redis at redis://127.0.0.1:\d+\)"):
            queue.submit(config("nowhere"), "dan")
    finally:
        queue.close()  # its collector would knock on that port for the rest of the session
    train = open_app("pages/train.py")
    assert_clean(train)
    assert_says(train, "Training is unavailable", "cannot be reached")
    assert train.button(key=train_state.START).disabled
    train.session_state[train_state.JOB_ID] = "20260101-000000-abcdef"  # a run started before Redis went away
    rerun(train)
    assert_clean(train)
    assert train.session_state[train_state.JOB_ID] == "20260101-000000-abcdef"  # not forgotten meanwhile
    for page in ("pages/home.py", "pages/models.py", "pages/dataset_explorer.py", "pages/convolution_playground.py",
                 "pages/evaluate.py", "pages/predict.py"):
        assert_clean(open_app(page))


def test_the_train_page_trains_through_celery_as_it_does_locally(cluster, monkeypatch):
    # The same page, the same calls: only CNNLAB_BROKER_URL differs.
    redis, _, _ = cluster
    monkeypatch.setenv("CNNLAB_BROKER_URL", redis.url)
    app = open_app("pages/train.py")
    app.slider(key=setting_key("epochs")).set_value(2)
    app.text_input(key=train_state.RUN_NAME).set_value("through celery")
    rerun(app)
    app.button(key=train_state.START).click()
    rerun(app)
    job_id = app.session_state[train_state.JOB_ID]
    queue = training_queue()
    assert queue.name == "celery"
    wait_for(lambda: not queue.status(job_id).active, 300)
    status = queue.status(job_id)
    assert status.state == "finished", status.message
    wait_for(lambda: any(run.run_id == status.run_id for run in list_runs()), 30)
    rerun(app)
    forget_page_queues()
    assert_clean(app)
    assert any(status.run_id in success.value for success in app.success)
    models = open_app("pages/models.py")
    assert "through celery" in models.dataframe[0].value["name"].tolist()


def test_both_backends_offer_the_same_interface():
    from core.jobs.queue import LocalQueue, TrainingQueue

    wanted = {name for name in vars(TrainingQueue) if not name.startswith("_")}
    for backend in (LocalQueue, RemoteQueue):
        assert wanted <= set(dir(backend)), backend
