"""The Celery side of the scale-out backend: the task a worker on any machine runs.

Start a worker where Redis is reachable (a second server, a lab PC, a cloud VM):

    CNNLAB_BROKER_URL=redis://host:6379/0 CNNLAB_DATA_DIR=/data \\
        celery -A core.jobs.celery_app worker --concurrency 1 --loglevel INFO

Each message says "train the oldest waiting run": messages are interchangeable, and the server tops
them up while runs wait (`core.jobs.remote`), so a worker that holds one and cannot start never
blocks a run. The task takes that run from the Redis queue, trains it, and sends back its progress,
its end, and the stored run as a zip.

What the run's state says is always the truth, because every change of it is a compare-and-set
(`wire.transition`) that names the attempt it belongs to:

- A worker ends a run only if the run is still its own attempt and still active, and the run's zip
  goes into Redis in the same transaction: a stored run is never reported failed, and a run that was
  given up on (or taken over) is never stored.
- If the process training a run dies, Celery sends its message again (`reject_on_worker_lost`); the
  next worker watches the run's heartbeat for a few seconds, and if it is silent takes the run over
  from the start. If no worker does, the server puts a run whose heartbeat has been silent for 30 s
  back in line (`remote.RemoteQueue`). A run lost a second time is reported failed.
- While Redis is away, training goes on: progress waits in memory (`Outbox`) and the end is
  delivered when Redis is back (for up to `CNNLAB_DELIVERY_SECONDS`, 600 s).
"""

from __future__ import annotations

import collections
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
from pathlib import Path

from celery import signals

from core.jobs.folder import (
    MAX_ATTEMPTS,
    JobStatus,
    failure_message,
    lost,
    measured_speed,
    requeue_note,
    retry_note,
    speed_key,
)
from core.jobs.pool import positive_setting
from core.jobs.wire import (
    BEAT_EXPIRES,
    BEAT_SECONDS,
    TASK,
    connect,
    decode_dataset,
    key,
    make_celery,
    status_from,
    transition,
)
from core.store.runs import RUNS

DELIVERY_ENV = "CNNLAB_DELIVERY_SECONDS"
DEFAULT_DELIVERY_SECONDS = 600.0  # how long a finished run waits for Redis to come back before it is given up
FLUSH_SECONDS = 0.2  # how often buffered progress goes to Redis
CHECK_SECONDS = 0.5  # how often the worker asks whether someone pressed Stop, or the run was taken from it
WORKER_LOST = "its worker process ended (killed, or out of memory)"


def _redis_errors() -> tuple[type[Exception], ...]:
    import redis

    return (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


def celery_app(url: str):
    """The workers' Celery app for a broker, with the task registered (`wire.make_celery` configures it)."""
    app = make_celery(url)
    if TASK not in app.tasks:
        app.task(name=TASK, bind=True)(_train_next)
    return app


def _train_next(task) -> str:
    """Trains the oldest waiting run, or, when this message comes again because its worker died, that run."""
    redis = connect(task.app.conf.broker_url)
    worker = task.request.hostname or socket.gethostname()
    try:
        job_id = redis.hget(key("claims"), task.request.id)
        if job_id is not None:
            status = take_over(redis, job_id.decode(), task.request.id)
        else:
            status = claim_oldest(redis, task.request.id)
        if status is None:
            return "nothing to train"  # another worker has it, or it was cancelled, or nothing waits
        if status.state == "failed":
            return "failed"  # lost too often: take_over said so
        return _train(redis, status, worker)
    finally:
        # Also when a message that came back finds its run taken over or ended: its claim would stay forever.
        with contextlib.suppress(*_redis_errors()):
            redis.hdel(key("claims"), task.request.id)


def _begin(status: JobStatus, message: str = "") -> JobStatus:
    status.state, status.pid, status.started = "running", os.getpid(), time.time()
    status.attempt += 1
    status.message = message
    return status


def claim_oldest(redis, task_id: str) -> JobStatus | None:
    """Takes the oldest waiting run for this task (compare-and-set: queued → running), or None if none waits."""
    while True:
        oldest = redis.zrange(key("waiting"), 0, 0)
        if not oldest:
            return None
        job_id = oldest[0].decode()

        def decide(current: JobStatus, pipe) -> JobStatus | None:
            if pipe.zscore(key("waiting"), current.job_id) is None or not current.queued:
                return None
            return _begin(current, retry_note(current.message) if current.attempt else "")

        def then(pipe, new: JobStatus) -> None:
            pipe.zrem(key("waiting"), new.job_id)
            pipe.hset(key("claims"), task_id, new.job_id)
            if new.attempt > 1:
                pipe.delete(key("events", new.job_id))  # the retry's chart starts afresh
            pipe.set(key("beat", new.job_id), f"{new.attempt}:{time.time()}", ex=BEAT_EXPIRES)

        claimed = transition(redis, job_id, decide, then, watch=(key("waiting"),))
        if claimed is not None:
            return claimed
        # Not claimable (cancelled, taken by another worker between our two reads, or its keys are gone):
        # drop a stale entry, so the line moves on.
        try:
            stale = not status_from(redis.get(key("job", job_id)), job_id).queued
        except KeyError:
            stale = True
        if stale:
            redis.zrem(key("waiting"), job_id)


def take_over(redis, job_id: str, task_id: str) -> JobStatus | None:
    """This message came back because the process that trained its run died: trains the run again from the
    start, unless its heartbeat shows it is still training elsewhere, or it has ended meanwhile."""
    try:
        status = status_from(redis.get(key("job", job_id)), job_id)
    except KeyError:
        return None
    if not status.training:
        return None  # ended, or the server already put it back in line (the oldest waiting run is taken next time)
    beat = redis.get(key("beat", job_id))
    deadline = time.monotonic() + 3 * BEAT_SECONDS + 1
    while beat is not None and time.monotonic() < deadline:  # a live worker beats every BEAT_SECONDS
        time.sleep(0.5)
        if redis.get(key("beat", job_id)) != beat:
            return None  # it is alive: the message came back for another reason (a lost connection)
    seen = status.attempt

    def decide(current: JobStatus, _pipe) -> JobStatus | None:
        if not current.training or current.attempt != seen:
            return None
        if current.attempt >= MAX_ATTEMPTS:
            return lost(current, WORKER_LOST)
        return _begin(current, retry_note(requeue_note(WORKER_LOST)))

    def then(pipe, new: JobStatus) -> None:
        if new.state == "failed":
            _close_keys(pipe, new)
            pipe.rpush(key("events", job_id), json.dumps({"type": "end", "status": "failed", "message": new.message}))
        else:
            pipe.hset(key("claims"), task_id, job_id)
            pipe.delete(key("events", job_id))
            pipe.set(key("beat", job_id), f"{new.attempt}:{time.time()}", ex=BEAT_EXPIRES)

    return transition(redis, job_id, decide, then)


class Outbox:
    """The run's side of the conversation with Redis, which never makes training wait.

    Progress events go into a buffer that a thread sends every FLUSH_SECONDS; while Redis is away they
    stay buffered and go when it is back. The same thread beats the heartbeat and reads whether the
    run should stop: someone pressed Stop, or the run is no longer this attempt's (the server put it
    back in line, or another worker took it over), so the work would be thrown away.
    """

    def __init__(self, redis, job_id: str, attempt: int, worker: str):
        self.redis, self.job_id, self.attempt, self.worker = redis, job_id, attempt, worker
        self.pending: collections.deque[str] = collections.deque()
        self.stop_requested = False
        self.superseded = False
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="cnnlab-outbox", daemon=True)
        self._thread.start()

    def __call__(self, event: dict) -> None:
        self.pending.append(json.dumps(event))

    def should_stop(self) -> bool:
        return self.stop_requested or self.superseded

    def _loop(self) -> None:
        last_beat = last_check = 0.0
        while not self._done.wait(FLUSH_SECONDS):
            now = time.monotonic()
            with contextlib.suppress(*_redis_errors()):
                self.flush()
                if now - last_beat >= BEAT_SECONDS:
                    self._beat()
                    last_beat = now
                if now - last_check >= CHECK_SECONDS:
                    self._check()
                    last_check = now

    def flush(self, pipe=None) -> None:
        """Sends what is buffered (into `pipe` if given, to go with the end in one transaction)."""
        lines = list(self.pending)
        if lines:
            (pipe or self.redis).rpush(key("events", self.job_id), *lines)
            if pipe is None:
                for _ in lines:
                    self.pending.popleft()

    def _beat(self) -> None:
        pipe = self.redis.pipeline(transaction=False)
        pipe.set(key("beat", self.job_id), f"{self.attempt}:{time.time()}", ex=BEAT_EXPIRES)
        pipe.zadd(key("workers"), {self.worker: time.time()})
        pipe.execute()

    def _check(self) -> None:
        stop, raw = self.redis.mget(key("stop", self.job_id), key("job", self.job_id))
        self.stop_requested = stop is not None
        try:
            current = status_from(raw, self.job_id)
        except KeyError:
            self.superseded = True
            return
        self.superseded = current.attempt != self.attempt or not current.training

    def close(self) -> None:
        self._done.set()
        self._thread.join(5)


def delivery_seconds() -> float:
    return positive_setting(DELIVERY_ENV, DEFAULT_DELIVERY_SECONDS)


def finish(redis, status: JobStatus, state: str, message: str, outbox: Outbox | None = None,
           archive: bytes | None = None) -> bool:
    """Ends this attempt of the run, with its remaining progress and its zip, in one transaction.

    Only if the run is still this attempt's and active: otherwise nothing is written (the run was taken
    over, or given up on, and this attempt's result is thrown away). While Redis is away it tries again
    every second for `delivery_seconds()`.

    Returns:
        Whether the end was recorded.
    """
    attempt = status.attempt

    def decide(current: JobStatus, _pipe) -> JobStatus | None:
        if current.attempt != attempt or not current.active:
            return None
        current.state, current.message, current.run_id, current.ended = state, message, status.run_id, time.time()
        return current

    def then(pipe, new: JobStatus) -> None:
        if outbox is not None:
            outbox.flush(pipe)
        if archive is not None:
            pipe.set(key("result", new.job_id), archive)
            pipe.sadd(key("finished"), new.job_id)
        _close_keys(pipe, new)

    deadline = time.monotonic() + delivery_seconds()
    while True:
        try:
            return transition(redis, status.job_id, decide, then) is not None
        except _redis_errors():
            if time.monotonic() > deadline:
                raise
            time.sleep(1.0)


def _close_keys(pipe, status: JobStatus) -> None:
    """What an ended run no longer needs in Redis."""
    pipe.srem(key("active"), status.job_id)
    pipe.zrem(key("waiting"), status.job_id)
    for name in ("data", "order", "stop", "beat"):
        pipe.delete(key(name, status.job_id))


def _train(redis, status: JobStatus, worker: str) -> str:
    outbox = Outbox(redis, status.job_id, status.attempt, worker)
    try:
        outbox({"type": "phase", "phase": "loading"})
        from core.data.datasets import load_dataset
        from core.store.hosting import enforced_caps
        from core.train.config import TrainConfig, check_run
        from core.train.engine import train_and_store  # TensorFlow loads here, once per worker process

        order = json.loads(redis.get(key("order", status.job_id)))
        config = TrainConfig.from_dict(order["config"])
        data = redis.get(key("data", status.job_id))
        dataset = decode_dataset(data, config.dataset) if data is not None else load_dataset(config.dataset)
        sent = order.get("caps") if isinstance(order.get("caps"), dict) else {}
        # This worker's own caps, from its environment; the message may only tighten them.
        sizes, time_limit = check_run(config, len(dataset.x_train), dataset.image_shape, dataset.num_classes,
                                      enforced_caps(sent))
        with tempfile.TemporaryDirectory(prefix="cnnlab-remote-") as folder:
            record = train_and_store(config, dataset, outbox, outbox.should_stop, root=Path(folder),
                                     owner=status.owner, time_limit=time_limit)
            if outbox.superseded:
                return "taken over"  # the run is another attempt's now: this one's model is thrown away
            archive = _zip_run(Path(folder) / RUNS / record.run_id)
        if speed := measured_speed(sizes.train, record.epochs_trained, record.training_seconds):
            with contextlib.suppress(*_redis_errors()):
                redis.hset(key("speeds"), speed_key(config), speed)
        status.run_id = record.run_id
        return record.status if finish(redis, status, record.status, record.stop_reason or status.message, outbox,
                                       archive) \
            else "taken over"
    except Exception as error:
        traceback.print_exc()
        message = failure_message(error)
        outbox({"type": "end", "status": "failed", "message": message})
        return "failed" if finish(redis, status, "failed", message, outbox) else "taken over"
    finally:
        outbox.close()
        import keras

        keras.backend.clear_session()  # the next run in this worker starts clean


def _zip_run(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:  # .keras files are compressed already
        for path in sorted(folder.iterdir()):
            archive.write(path, f"{folder.name}/{path.name}")
    shutil.rmtree(folder, ignore_errors=True)
    return buffer.getvalue()


@signals.worker_process_init.connect
def _warm(**_) -> None:
    """Each worker process imports TensorFlow when it starts, not at its first run: Starts begin warm.
    (`wire.PROC_ALIVE_SECONDS` gives it the time this takes on a busy machine.)"""
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
