"""The scale-out backend: the queue in Redis, trained by Celery workers on any machine that reaches it.

Nothing is shared but Redis. The server puts a run's order (and an uploaded dataset, as compressed
arrays) in Redis, and one Celery message per run. A worker (`core.jobs.celery_app`) takes the
oldest waiting run, trains it against its own data directory, and sends its progress back as a
Redis list. It checks a stop key after every batch, and returns the finished run as a zip. The
server's collector thread writes that zip into the store: atomically, and exactly once.

Keys, all under `cnnlab:`:

    job:<id>       the JobStatus as JSON            order:<id>     {"config", "caps"} as JSON
    data:<id>      an uploaded dataset (npz bytes)  events:<id>    progress events, a list of JSON lines
    stop:<id>      set when someone presses Stop    beat:<id>      the training worker's heartbeat (expires)
    result:<id>    the finished run, a zip          attempts:<id>  how often a worker took it
    waiting        sorted set: job id → place       active         set: every job waiting or training
    finished       set: results to collect          claims         hash: Celery task id → job id
    speeds         hash: speed key → images/s       workers        sorted set: worker → last seen
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import shutil
import tempfile
import threading
import time
import zipfile
from dataclasses import asdict
from pathlib import Path

from core.data.datasets import BUILTIN_DATASETS, Dataset
from core.jobs.eta import Wait, run_seconds
from core.jobs.folder import JobStatus, speed_key
from core.jobs.jobs import JobError, JobLimitError, QueueUnavailable, admit, planned_images, wait_in_line
from core.jobs.wire import BEAT_EXPIRES, TASK, connect, encode_dataset, key, make_celery, redacted, status_from
from core.store.hosting import Limits, current_limits
from core.store.ids import new_id
from core.store.runs import RUNS, STORE_ROOT
from core.train.config import TrainConfig

MAX_DATA_ENV = "CNNLAB_MAX_REMOTE_DATA_MB"
DEFAULT_MAX_DATA_MB = 64  # an uploaded dataset travels through Redis: this much, compressed, at most
WORKER_SEEN_SECONDS = 60.0  # a worker seen this recently counts for the ETA
_log = logging.getLogger(__name__)


def status_of(raw: bytes | None, job_id: str) -> JobStatus:
    try:
        return status_from(raw, job_id)
    except KeyError:
        raise JobError(f"There is no job {job_id[:40]!r}.") from None


def max_data_bytes() -> int:
    try:
        value = float(os.environ.get(MAX_DATA_ENV, "") or DEFAULT_MAX_DATA_MB)
    except ValueError:
        value = DEFAULT_MAX_DATA_MB
    return int((value if value > 0 else DEFAULT_MAX_DATA_MB) * 2**20)


class RemoteQueue:
    """The training queue on Redis + Celery (see the module docstring).

    Args:
        url: The broker, `redis://[:password@]host:port/db`.
        root: The store the finished runs are written into.
    """

    name = "celery"

    def __init__(self, url: str, root: Path = STORE_ROOT):
        self.url, self.root = url, Path(root)
        self.redis = connect(url)
        self._closed = threading.Event()
        self._collector = threading.Thread(target=self._collect_forever, name="cnnlab-collector", daemon=True)
        self._collector.start()

    # Every call goes through here, so that Redis being down is one clear sentence, never a traceback.
    @contextlib.contextmanager
    def _reach(self):
        import redis

        try:
            yield
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError):
            raise QueueUnavailable(f"Training is unavailable: the job queue (Redis at {redacted(self.url)}) cannot be "
                           "reached. Everything else works; try again in a while.") from None

    def _status(self, job_id: str) -> JobStatus:
        return status_of(self.redis.get(key("job", job_id)), job_id)

    def _write_status(self, status: JobStatus, pipe=None) -> None:
        (pipe or self.redis).set(key("job", status.job_id), json.dumps(asdict(status)))

    def _statuses(self, ids) -> list[JobStatus]:
        ids = [i.decode() if isinstance(i, bytes) else i for i in ids]
        raws = self.redis.mget([key("job", i) for i in ids]) if ids else []
        return [status_of(raw, i) for i, raw in zip(ids, raws, strict=True) if raw is not None]

    def active(self) -> list[JobStatus]:
        with self._reach():
            found = [self._checked(status) for status in self._statuses(self.redis.smembers(key("active")))]
        return sorted((status for status in found if status.active), key=lambda status: status.created)

    def _checked(self, status: JobStatus) -> JobStatus:
        """A training run whose worker stopped answering is reported as failed (its message may still be retried)."""
        if status.training and status.started and not self.redis.exists(key("beat", status.job_id)) \
                and time.time() - status.started > BEAT_EXPIRES:
            status.state = "failed"
            status.message = ("The worker training this run stopped answering (its machine went away, or it was "
                              "killed), and no other worker took it over. Nothing was saved; start it again.")
            self._write_status(status)
            self.redis.srem(key("active"), status.job_id)
        return status

    def status(self, job_id: str) -> JobStatus:
        with self._reach():
            return self._checked(self._status(job_id))

    def submit(self, config: TrainConfig, owner: str, dataset: Dataset | None = None,
               limits: Limits | None = None) -> str:
        limits = limits or current_limits()
        if config.dataset not in BUILTIN_DATASETS and dataset is None:
            raise JobError(f"The dataset {config.dataset!r} must be handed to the job.")
        data = encode_dataset(dataset) if config.dataset not in BUILTIN_DATASETS else None
        if data is not None and len(data) > max_data_bytes():
            raise JobLimitError(f"Your images take {len(data) / 2**20:.0f} MB compressed; runs on other machines "
                                f"take datasets up to {max_data_bytes() // 2**20} MB. Use fewer or smaller images.")
        images = planned_images(config, dataset)
        with self._reach(), self.redis.lock(key("lock"), timeout=30, blocking_timeout=30):
            waiting = admit(owner, self.active(), limits, self.root)
            job_id = new_id()
            speed = self.redis.hget(key("speeds"), speed_key(config))
            status = JobStatus(job_id, owner, "queued", config.name, config.dataset,
                               created=waiting.created if waiting else time.time(),
                               estimate=run_seconds(images, config.epochs, float(speed) if speed else None))
            caps = {"max_epochs": limits.max_epochs, "max_train_images": limits.max_train_images}
            pipe = self.redis.pipeline()
            pipe.set(key("order", job_id), json.dumps({"config": asdict(config), "caps": caps}))
            if data is not None:
                pipe.set(key("data", job_id), data)
            self._write_status(status, pipe)
            pipe.zadd(key("waiting"), {job_id: status.created})
            pipe.sadd(key("active"), job_id)
            if waiting is not None:
                self._cancel_waiting(waiting, "Replaced by a newer Start, which took its place.", pipe)
            pipe.execute()
        make_celery(self.url).send_task(TASK, task_id=job_id)  # one message per run
        return job_id

    def _cancel_waiting(self, status: JobStatus, message: str, pipe) -> None:
        status.state, status.message = "cancelled", message
        self._write_status(status, pipe)
        pipe.zrem(key("waiting"), status.job_id)
        pipe.srem(key("active"), status.job_id)
        pipe.delete(key("data", status.job_id))
        pipe.rpush(key("events", status.job_id), json.dumps({"type": "end", "status": "cancelled",
                                                               "message": message}))

    def cancel(self, job_id: str, owner: str | None = None) -> str:
        with self._reach(), self.redis.lock(key("lock"), timeout=30, blocking_timeout=30):
            status = self._status(job_id)
            if owner is not None and status.owner != owner:
                raise JobError("That run belongs to another workspace.")
            if self.redis.zscore(key("waiting"), job_id) is not None and status.queued:
                pipe = self.redis.pipeline()
                self._cancel_waiting(status, "Cancelled before it started.", pipe)
                pipe.execute()
                return "cancelled"
            if status.active:
                self.redis.set(key("stop", job_id), "1", ex=86_400)
                return "stopping"
        return "ended"

    def events(self, job_id: str, offset: int = 0) -> tuple[list[dict], int]:
        with self._reach():
            length = self.redis.llen(key("events", job_id))
            reset = offset > length  # a worker retried the run and started its events again
            lines = self.redis.lrange(key("events", job_id), 0 if reset else offset, -1)
        events = [{"type": "reset"}] if reset else []
        for line in lines:
            with contextlib.suppress(ValueError):
                events.append(json.loads(line))
        return events, (0 if reset else offset) + len(lines)

    def workers(self) -> int:
        """Workers seen in the last minute (at least 1, so an ETA can be given)."""
        with self._reach():
            return max(1, self.redis.zcount(key("workers"), time.time() - WORKER_SEEN_SECONDS, "+inf"))

    def wait(self, job_id: str) -> Wait | None:
        return wait_in_line(job_id, self.active(), self.workers())

    def warm(self) -> None:
        """Celery workers are started by hand on their machines; nothing to do here."""

    # The collector: finished runs come back as zips, and go into this store exactly once.
    def collect(self) -> int:
        """Writes every finished run waiting in Redis into the store; returns how many were new."""
        added = 0
        for raw in self.redis.smembers(key("finished")):
            job_id = raw.decode()
            data = self.redis.get(key("result", job_id))
            if data is not None and self._import_run(data):
                added += 1
            pipe = self.redis.pipeline()
            pipe.delete(key("result", job_id))
            pipe.srem(key("finished"), job_id)
            pipe.execute()
        return added

    def _import_run(self, data: bytes) -> bool:
        """Unpacks a run's zip into the store by an atomic rename: a second copy of the same run is refused."""
        runs = self.root / RUNS
        runs.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            run_id = names[0].split("/")[0] if names else ""
            if not run_id or not run_id.replace("-", "").isalnum() or (runs / run_id).exists():
                return False
            staging = Path(tempfile.mkdtemp(prefix=f".partial-{run_id}.", dir=runs))
            try:
                for name in names:
                    parts = Path(name).parts
                    if len(parts) != 2 or parts[0] != run_id or parts[1].startswith("."):
                        continue  # only the run's own files, never a path out of the folder
                    (staging / parts[1]).write_bytes(archive.read(name))
                os.rename(staging, runs / run_id)  # fails if another server collected it first
            except OSError:
                shutil.rmtree(staging, ignore_errors=True)
                return False
        return True

    def _collect_forever(self) -> None:
        while not self._closed.is_set():
            try:
                self.collect()
            except Exception as error:  # Redis down, a damaged zip: try again later, never crash the server
                _log.debug("collecting finished runs failed: %s", error)
            self._closed.wait(1.0)

    def close(self) -> None:
        """Stops collecting (tests; a server collects for as long as it runs)."""
        self._closed.set()
        self._collector.join(5)
