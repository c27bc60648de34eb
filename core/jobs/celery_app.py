"""The Celery side of the scale-out backend: the task a worker on any machine runs.

Start a worker where Redis is reachable (a second server, a lab PC, a cloud VM):

    CNNLAB_BROKER_URL=redis://host:6379/0 CNNLAB_DATA_DIR=/data \\
        celery -A core.jobs.celery_app worker --concurrency 1 --loglevel INFO

Each message says "train the oldest waiting run". The task takes that run from the Redis queue
(`core.jobs.remote`), trains it, and sends back its progress, its end, and the stored run as a
zip. Messages are acknowledged only when the task ends (`acks_late`). If the process training a
run dies, the message goes back to the queue (`reject_on_worker_lost`), and the next worker takes
the same run again. A run lost a second time is reported as failed. Nothing is stored twice: the
server refuses a second copy of a run id.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import socket
import tempfile
import threading
import time
import traceback
import zipfile
from dataclasses import asdict
from pathlib import Path

from celery import signals

from core.jobs.folder import JobStatus, failure_message, measured_speed, speed_key
from core.jobs.wire import BEAT_EXPIRES, BEAT_SECONDS, TASK, connect, decode_dataset, key, make_celery, status_from
from core.store.runs import RUNS

MAX_ATTEMPTS = 2  # a run whose worker was lost is tried once more, then reported failed


def celery_app(url: str):
    """The workers' Celery app for a broker, with the task registered (`wire.make_celery` configures it)."""
    app = make_celery(url)
    if TASK not in app.tasks:
        app.task(name=TASK, bind=True)(_train_next)
    return app


def _train_next(task) -> str:
    """Takes the oldest waiting run (or, when this message was re-sent, the run it had taken) and trains it."""
    redis = connect(task.app.conf.broker_url)
    claim = key("claims")
    job_id = redis.hget(claim, task.request.id)
    if job_id is None:
        popped = redis.zpopmin(key("waiting"))
        if not popped:
            return "nothing waiting"  # its run was cancelled, or another message took it
        job_id = popped[0][0]
        redis.hset(claim, task.request.id, job_id)
    job_id = job_id.decode() if isinstance(job_id, bytes) else job_id
    try:
        return _train(redis, job_id, task.request.hostname or socket.gethostname())
    finally:
        redis.hdel(claim, task.request.id)


def _train(redis, job_id: str, worker: str) -> str:
    try:
        status = status_from(redis.get(key("job", job_id)), job_id)
    except KeyError:
        return "unknown"  # its keys were flushed: nothing to train
    if status.state in ("cancelled", "failed", "finished", "stopped"):
        return status.state  # cancelled while it waited, or already reported failed: never trained again
    attempt = redis.incr(key("attempts", job_id))
    if attempt > MAX_ATTEMPTS:
        return _end(redis, status, "failed", f"The worker training this run was lost {attempt - 1} times (killed, "
                                             "or out of memory). Nothing was saved; start it again.")
    if attempt > 1:
        redis.delete(key("events", job_id))  # the retry starts its progress afresh
    status.state, status.pid, status.started = "running", os.getpid(), time.time()
    status.message = f"Retrying on {socket.gethostname()}: its first worker was lost." if attempt > 1 else ""
    redis.set(key("job", job_id), json.dumps(asdict(status)))
    beating = threading.Event()
    threading.Thread(target=_beat, args=(redis, job_id, worker, beating), daemon=True).start()

    def sink(event: dict) -> None:
        redis.rpush(key("events", job_id), json.dumps(event))

    try:
        sink({"type": "phase", "phase": "loading"})
        from core.data.datasets import load_dataset
        from core.train.config import TrainConfig, check_config
        from core.train.engine import train_and_store  # TensorFlow loads here, once per worker process

        order = json.loads(redis.get(key("order", job_id)))
        config = TrainConfig.from_dict(order["config"])
        data = redis.get(key("data", job_id))
        dataset = decode_dataset(data, config.dataset) if data is not None else load_dataset(config.dataset)
        sizes = check_config(config, len(dataset.x_train), **order.get("caps", {}))
        with tempfile.TemporaryDirectory(prefix="cnnlab-remote-") as folder:
            record = train_and_store(config, dataset, sink, lambda: bool(redis.exists(key("stop", job_id))),
                                     root=Path(folder), owner=status.owner)
            archive = _zip_run(Path(folder) / RUNS / record.run_id)
        if speed := measured_speed(sizes.train, record.epochs_trained, record.training_seconds):
            redis.hset(key("speeds"), speed_key(config), speed)
        pipe = redis.pipeline()
        pipe.set(key("result", job_id), archive)
        pipe.sadd(key("finished"), job_id)
        pipe.execute()
        status.run_id = record.run_id
        return _end(redis, status, record.status, record.stop_reason)
    except Exception as error:
        traceback.print_exc()
        message = failure_message(error)
        sink({"type": "end", "status": "failed", "message": message})
        return _end(redis, status, "failed", message)
    finally:
        beating.set()
        import keras

        keras.backend.clear_session()  # the next run in this worker starts clean


def _end(redis, status: JobStatus, state: str, message: str) -> str:
    status.state, status.message = state, message
    pipe = redis.pipeline()
    pipe.set(key("job", status.job_id), json.dumps(asdict(status)))
    pipe.srem(key("active"), status.job_id)
    for name in ("data", "order", "stop", "beat", "attempts"):
        pipe.delete(key(name, status.job_id))
    pipe.execute()
    return state


def _beat(redis, job_id: str, worker: str, done: threading.Event) -> None:
    while not done.is_set():
        with contextlib.suppress(Exception):  # Redis away for a moment: the next beat tries again
            redis.set(key("beat", job_id), "1", ex=BEAT_EXPIRES)
            redis.zadd(key("workers"), {worker: time.time()})
        done.wait(BEAT_SECONDS)


def _zip_run(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:  # .keras files are compressed already
        for path in sorted(folder.iterdir()):
            archive.write(path, f"{folder.name}/{path.name}")
    shutil.rmtree(folder, ignore_errors=True)
    return buffer.getvalue()


@signals.worker_process_init.connect
def _warm(**_) -> None:
    """Each worker process imports TensorFlow when it starts, not at its first run: Starts begin warm."""
    import gc

    import keras  # noqa: F401

    gc.collect()
    gc.freeze()  # TensorFlow's ~350,000 objects out of every later collection's way


@signals.worker_ready.connect
def _announce(sender=None, **_) -> None:
    """A started worker counts for the ETAs at once, before its first run."""
    with contextlib.suppress(Exception):
        connect(sender.app.conf.broker_url).zadd(key("workers"), {sender.hostname: time.time()})


# `celery -A core.jobs.celery_app worker` looks for `app` here.
app = celery_app(os.environ.get("CNNLAB_BROKER_URL", "redis://127.0.0.1:6379/0"))
