"""The scale-out backend with real parts: a real redis-server and two real Celery worker processes on loopback.

Ten sessions submit at once and every run is stored exactly once; Stop goes through Redis; a
worker killed mid-run has its run taken over, never lost and never doubled; with Redis down,
training says so in one sentence and every other page still works.
"""

from __future__ import annotations

import contextlib
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

from core.jobs.jobs import JobError
from core.jobs.queue import training_queue
from core.jobs.remote import RemoteQueue
from core.jobs.wire import key
from core.model.layers import spec_to_dicts
from core.model.presets import PRESETS
from core.store.hosting import Limits
from core.store.runs import list_runs, load_record
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
    """A throwaway redis-server on a free loopback port, nothing written to disk."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = subprocess.Popen([REDIS or "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                                         "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL)
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
    redis = Redis()
    workers = [start_worker(redis.url, f"w{number}", folder / f"worker{number}.log") for number in (1, 2)]
    yield redis, workers, folder
    for worker in workers:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(worker.pid, signal.SIGKILL)
    redis.stop()


@pytest.fixture
def queue(cluster, tmp_path):
    redis, _, _ = cluster
    remote = RemoteQueue(redis.url, tmp_path)
    remote.redis.flushdb()
    yield remote
    remote.close()


def config(name: str, epochs: int = 1) -> TrainConfig:
    return TrainConfig(dataset="digits", spec=spec_to_dicts(PRESETS["dense"].spec()), model_key="dense",
                       name=name, epochs=epochs, batch_size=16)


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


def test_a_worker_killed_mid_run_has_its_run_taken_over_never_lost_never_doubled(queue, tmp_path, cluster):
    job_id = queue.submit(config("survivor", epochs=150), "cat", limits=Limits(workers=2))
    wait_for(lambda: any(event["type"] == "batch" for event in queue.events(job_id)[0]), 120)
    child = queue.status(job_id).pid  # the Celery pool process that trains it
    os.kill(child, signal.SIGKILL)
    status = wait_for(lambda: (s := queue.status(job_id)).state in ("finished", "failed") and s, 400)
    if status.state == "finished":  # taken over by a worker (the other one, or the same one's new process)
        assert status.pid != child
        runs = wait_for(lambda: list_runs(tmp_path), 30)
        time.sleep(2)
        assert [run.name for run in list_runs(tmp_path)] == ["survivor"] == [run.name for run in runs]
    else:  # or reported failed, with the reason, and nothing stored
        assert "lost" in status.message and list_runs(tmp_path) == []


def test_with_redis_down_training_says_so_and_every_other_page_works(cluster, monkeypatch, data_dir):
    gone = Redis()
    gone.stop()  # an address where Redis was, and is no more
    monkeypatch.setenv("CNNLAB_BROKER_URL", gone.url)
    queue = RemoteQueue(gone.url, Path(os.environ["CNNLAB_STORE_DIR"]))
    with pytest.raises(JobError, match=r"Training is unavailable: the job queue \(Redis at redis://127.0.0.1:\d+\)"):
        queue.submit(config("nowhere"), "dan")
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
    assert_clean(app)
    assert any(status.run_id in success.value for success in app.success)
    models = open_app("pages/models.py")
    assert "through celery" in models.dataframe[0].value["name"].tolist()


def test_both_backends_offer_the_same_interface():
    from core.jobs.queue import LocalQueue, TrainingQueue

    wanted = {name for name in vars(TrainingQueue) if not name.startswith("_")}
    for backend in (LocalQueue, RemoteQueue):
        assert wanted <= set(dir(backend)), backend
