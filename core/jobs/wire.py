"""What the app server and the Celery workers say to each other through Redis: the keys and the formats.

Both sides import this module, and only this one, so neither imports the other (`core.jobs.remote` is
the server's side, `core.jobs.celery_app` the workers'). The keys are listed in `core.jobs.remote`.
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict
from functools import cache
from urllib.parse import urlsplit

import numpy as np

from core.data.datasets import Dataset
from core.jobs.folder import JobStatus

PREFIX = "cnnlab:"
TASK = "cnnlab.train_next"  # the one task: "train the oldest waiting run"
QUEUE = "cnnlab"
BEAT_SECONDS = 2.0  # how often a training worker says it lives…
BEAT_EXPIRES = 30  # …and after how long without a word it counts as lost
PROC_ALIVE_SECONDS = 300  # a pool process may take this long to import TensorFlow on a busy machine


def key(*parts: str) -> str:
    return PREFIX + ":".join(parts)


def redacted(url: str) -> str:
    """The broker's address without its password, for messages and logs."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}"


def connect(url: str):
    """A Redis client that fails fast (2 s) when Redis is down, instead of hanging a page."""
    import redis

    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)


_celery_lock = threading.Lock()


def make_celery(url: str):
    """The Celery app for a broker, configured the same on both sides: the server sends, workers run.

    Made once per broker, under a lock: Celery's package swaps itself for a lazy module while it is
    first imported, and a second session's thread importing it meanwhile got "cannot import name
    'Celery'" (ten sessions pressing Start at once on a fresh server did).
    """
    with _celery_lock:
        return _make_celery(url)


@cache
def _make_celery(url: str):
    from celery import Celery

    app = Celery("cnnlab", broker=url)
    app.conf.update(
        task_acks_late=True, task_reject_on_worker_lost=True,  # a lost worker's run goes back, never vanishes
        worker_prefetch_multiplier=1,  # a worker holds one message at a time: the rest wait for any worker
        worker_disable_prefetch=True,  # …and none at all beyond what its pool can run now
        task_default_queue=QUEUE, broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False, task_ignore_result=True,
        # Long runs: Redis re-sends an unacknowledged message only after this long (a lost worker's
        # run is re-sent at once through reject_on_worker_lost; this covers a lost machine).
        broker_transport_options={"visibility_timeout": 6 * 3600},
        # Each pool process imports TensorFlow before it reports ready (`celery_app._warm`): on a busy
        # machine that took longer than Celery's 4 s default, the process was killed and started again,
        # over and over, while its worker held a message. Give it time.
        worker_proc_alive_timeout=PROC_ALIVE_SECONDS,
        # A broker blip must not end a run that trains: it buffers its progress and reports when Redis is back.
        worker_cancel_long_running_tasks_on_connection_loss=False,
    )
    return app


def encode_dataset(dataset: Dataset) -> bytes:
    """An uploaded dataset as compressed npz bytes."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, x_train=dataset.x_train, y_train=dataset.y_train, x_test=dataset.x_test,
                        y_test=dataset.y_test, class_names=np.array(dataset.class_names))
    return buffer.getvalue()


def decode_dataset(data: bytes, name: str) -> Dataset:
    with np.load(io.BytesIO(data)) as arrays:
        return Dataset(name, name, "uploaded images", tuple(str(c) for c in arrays["class_names"]),
                       arrays["x_train"], arrays["y_train"], arrays["x_test"], arrays["y_test"], "upload")


def transition(redis, job_id: str, decide: Callable[[JobStatus, object], JobStatus | None],
               then: Callable[[object, JobStatus], None] | None = None, watch: Sequence[str] = ()) -> JobStatus | None:
    """Changes a job's status by compare-and-set: the one way either side changes a state in Redis.

    The status is read under WATCH (with the `watch` keys); `decide(current, pipe)` returns the new status,
    or None to leave it as it is; the new status and whatever `then(pipe, new)` queues are written in one
    MULTI/EXEC. If anyone wrote a watched key meanwhile, the whole thing starts again from the read, so a
    decision is never made on a state that has since changed (a worker's "finished" is never overwritten
    by a server that read "running" a moment earlier).

    Returns:
        The new status, or None if there was no change (or no such job).
    """
    import redis as redis_module

    name = key("job", job_id)
    with redis.pipeline() as pipe:
        while True:
            try:
                pipe.watch(name, *watch)
                raw = pipe.get(name)
                if raw is None:
                    return None
                new = decide(status_from(raw, job_id), pipe)
                if new is None:
                    pipe.unwatch()
                    return None
                pipe.multi()
                pipe.set(name, json.dumps(asdict(new)))
                if then is not None:
                    then(pipe, new)
                pipe.execute()
                return new
            except redis_module.WatchError:
                continue


def status_from(raw: bytes | None, job_id: str) -> JobStatus:
    """A status read from Redis; a missing one is an unknown job (KeyError), a damaged one a failed run."""
    if raw is None:
        raise KeyError(job_id)
    try:
        return JobStatus(**json.loads(raw))
    except (ValueError, TypeError):
        return JobStatus(job_id, "", "failed", message="The job's status in Redis is damaged.")


def line_score(status: JobStatus) -> float:
    """A waiting run's score in Redis's "waiting" sorted set: its `line_key` as one number (a client's first runs,
    oldest first, then everyone's second runs, and so on; 1e10 s is more than any time since the epoch)."""
    return status.share * 1e10 + status.created
