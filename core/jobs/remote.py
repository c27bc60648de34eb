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
    result:<id>    the finished run, a zip          waiting        sorted set: job id → place
    active         set: every job waiting or training
    finished       set: results to collect          claims         hash: Celery task id → job id
    speeds         hash: speed key → images/s       workers        sorted set: worker → last seen

Every change of a job's state is a compare-and-set (`wire.transition`); see `core.jobs.celery_app` for
what that guarantees. The server's part: a training run whose heartbeat this server has seen silent
for `LOST_AFTER` seconds, with Redis reachable all that time, goes back in line at its old place to be
retried from the start (or fails, if it was lost before). An outage of Redis resets that clock, since
a worker cannot beat while Redis is away: its run is not lost, only unheard.
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
from dataclasses import asdict, replace
from pathlib import Path

from core.data.datasets import BUILTIN_DATASETS, Dataset
from core.jobs.eta import Wait, parse_events, run_seconds, time_left
from core.jobs.folder import JobStatus, lost, speed_key
from core.jobs.jobs import (
    JobError,
    JobLimitError,
    QueueUnavailable,
    admit,
    check_order,
    client_share,
    planned_images,
    wait_in_line,
)
from core.jobs.wire import (
    BEAT_EXPIRES,
    QUEUE,
    TASK,
    connect,
    encode_dataset,
    key,
    line_score,
    make_celery,
    redacted,
    status_from,
    transition,
)
from core.model.upload_check import ModelFileError, inspect_keras_file
from core.store.hosting import Limits, current_limits, run_caps
from core.store.ids import new_id
from core.store.records import record_from_dict
from core.store.runs import META_FILE, MODEL_FILE, RUNS, STORE_ROOT
from core.train.config import TrainConfig

MAX_DATA_ENV = "CNNLAB_MAX_REMOTE_DATA_MB"
DEFAULT_MAX_DATA_MB = 64  # an uploaded dataset travels through Redis: this much, compressed, at most
WORKER_SEEN_SECONDS = 60.0  # a worker seen this recently counts for the ETA
LOST_AFTER = float(BEAT_EXPIRES)  # seconds of a silent heartbeat, seen with Redis reachable, before a run is retried
SILENT = ("its worker has not been heard from for {seconds:.0f} s (its process ended, its machine went away, or "
          "it cannot reach the job queue)")
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
        self._silent_since: dict[str, float] = {}  # job id → when this server first saw its heartbeat missing
        self._silent_guard = threading.Lock()
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
            with self._silent_guard:
                self._silent_since.clear()  # no worker could beat meanwhile: silence is counted afresh
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
        """A training run whose heartbeat has been silent for LOST_AFTER seconds goes back in line to be retried,
        or fails if it was lost before; the change is a compare-and-set, so a run that ended meanwhile keeps its
        end."""
        if not status.training:
            return status
        now = time.monotonic()
        if self.redis.exists(key("beat", status.job_id)):
            with self._silent_guard:
                self._silent_since.pop(status.job_id, None)
            return status
        with self._silent_guard:
            first = self._silent_since.setdefault(status.job_id, now)
        if now - first < LOST_AFTER:
            return status
        seen = status.attempt
        silence = SILENT.format(seconds=LOST_AFTER)

        def decide(current: JobStatus, pipe) -> JobStatus | None:
            if not current.training or current.attempt != seen or pipe.exists(key("beat", current.job_id)):
                return None
            return lost(current, silence)

        def then(pipe, new: JobStatus) -> None:
            if new.state == "failed":
                pipe.srem(key("active"), new.job_id)
                for name in ("data", "order", "stop"):
                    pipe.delete(key(name, new.job_id))
                pipe.rpush(key("events", new.job_id), json.dumps({"type": "end", "status": "failed",
                                                                   "message": new.message}))
            else:
                pipe.zadd(key("waiting"), {new.job_id: line_score(new)})  # its old place in line

        changed = transition(self.redis, status.job_id, decide, then, watch=(key("beat", status.job_id),))
        with self._silent_guard:
            self._silent_since.pop(status.job_id, None)
        if changed is None:
            return self._status(status.job_id)
        if changed.queued:
            self._send_messages(1)
        return changed

    def status(self, job_id: str) -> JobStatus:
        with self._reach():
            return self._checked(self._status(job_id))

    def submit(self, config: TrainConfig, owner: str, dataset: Dataset | None = None,
               limits: Limits | None = None, client: str = "") -> str:
        limits = limits or current_limits()
        if config.dataset not in BUILTIN_DATASETS and dataset is None:
            raise JobError(f"The dataset {config.dataset!r} must be handed to the job.")
        data = encode_dataset(dataset) if config.dataset not in BUILTIN_DATASETS else None
        if data is not None and len(data) > max_data_bytes():
            raise JobLimitError(f"Your images take {len(data) / 2**20:.0f} MB compressed; runs on other machines "
                                f"take datasets up to {max_data_bytes() // 2**20} MB. Use fewer or smaller images.")
        check_order(config, dataset, limits)
        images = planned_images(config, dataset)
        with self._reach(), self.redis.lock(key("lock"), timeout=30, blocking_timeout=30):
            while True:
                active = self.active()
                waiting = admit(owner, active, limits, self.root, client)
                job_id = new_id()
                speed = self.redis.hget(key("speeds"), speed_key(config))
                status = JobStatus(job_id, owner, "queued", config.name, config.dataset,
                                   created=waiting.created if waiting else time.time(),
                                   estimate=run_seconds(images, config.epochs, float(speed) if speed else None),
                                   client=client, share=client_share(active, client, waiting))
                caps = run_caps(limits)

                def write(pipe, _replaced=None, status=status, caps=caps) -> None:
                    pipe.set(key("order", status.job_id), json.dumps({"config": asdict(config), "caps": caps}))
                    if data is not None:
                        pipe.set(key("data", status.job_id), data)
                    self._write_status(status, pipe)
                    pipe.zadd(key("waiting"), {status.job_id: line_score(status)})
                    pipe.sadd(key("active"), status.job_id)

                if waiting is None:
                    pipe = self.redis.pipeline()
                    write(pipe)
                    pipe.execute()
                    break
                # The new run takes the waiting one's place only if it is still waiting: a worker may have
                # taken it since we looked, and then it trains and this Start is refused (admit, again).
                if self._cancel_waiting(waiting.job_id, "Replaced by a newer Start, which took its place.",
                                        also=write) is not None:
                    break
        self._send_messages(1)  # one message per run
        return job_id

    def _send_messages(self, count: int) -> None:
        celery = make_celery(self.url)
        for _ in range(count):
            celery.send_task(TASK)

    def top_up(self) -> int:
        """Sends a message for every waiting run that has none in the broker's queue; returns how many.

        Messages are interchangeable ("train the oldest waiting run"). One held by a worker that cannot
        start, or lost with a worker, would otherwise leave a run waiting while another worker sits idle.
        A spare message costs a worker one look at an empty line.
        """
        missing = self.redis.zcard(key("waiting")) - self.redis.llen(QUEUE)
        if missing > 0:
            self._send_messages(missing)
        return max(0, missing)

    def _cancel_waiting(self, job_id: str, message: str, also=None) -> JobStatus | None:
        """Cancels a run if it is still waiting (compare-and-set); `also(pipe)` goes in the same transaction."""
        def decide(current: JobStatus, pipe) -> JobStatus | None:
            if not current.queued:
                return None
            current.state, current.message, current.ended = "cancelled", message, time.time()
            return current

        def then(pipe, new: JobStatus) -> None:
            pipe.zrem(key("waiting"), new.job_id)
            pipe.srem(key("active"), new.job_id)
            for name in ("data", "order"):
                pipe.delete(key(name, new.job_id))
            pipe.rpush(key("events", new.job_id), json.dumps({"type": "end", "status": "cancelled",
                                                              "message": message}))
            if also is not None:
                also(pipe)

        return transition(self.redis, job_id, decide, then)

    def cancel(self, job_id: str, owner: str | None = None) -> str:
        with self._reach():
            status = self._status(job_id)
            if owner is not None and status.owner != owner:
                raise JobError("That run belongs to another workspace.")
            if self._cancel_waiting(job_id, "Cancelled before it started.") is not None:
                return "cancelled"
            if self._status(job_id).active:
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
        return wait_in_line(job_id, self.active(), self.workers(), left=self._time_left)

    def _time_left(self, job: JobStatus) -> float | None:
        """A training run's seconds left from its progress: its first events and its last few (two short reads)."""
        with self._reach():
            pipe = self.redis.pipeline(transaction=False)
            pipe.lrange(key("events", job.job_id), 0, 4)
            pipe.lrange(key("events", job.job_id), -20, -1)
            head, tail = pipe.execute()
        return time_left(next((e for e in parse_events(head) if e.get("type") == "start"), None), parse_events(tail))

    def warm(self) -> None:
        """Celery workers are started by hand on their machines; nothing to do here."""

    # The collector: finished runs come back as zips, and go into this store exactly once.
    def collect(self) -> int:
        """Writes every finished run waiting in Redis into the store; returns how many were new."""
        added = 0
        for raw in self.redis.smembers(key("finished")):
            job_id = raw.decode()
            data = self.redis.get(key("result", job_id))
            if data is not None:
                try:
                    added += self._import_run(data)
                except ModelFileError as error:
                    self._refuse(job_id, str(error))
            pipe = self.redis.pipeline()
            pipe.delete(key("result", job_id))
            pipe.srem(key("finished"), job_id)
            pipe.execute()
        return added

    def _refuse(self, job_id: str, problem: str) -> None:
        """A run came back in a form the store does not take: its status says so, instead of "finished"."""
        _log.warning("refused the run of job %s from its worker: %s", job_id, problem)
        message = (f"The run came back from its worker in a form this server does not take, so it was not saved: "
                   f"{problem}")

        def decide(current: JobStatus, pipe) -> JobStatus | None:
            return replace(current, state="failed", message=message, run_id="")

        def then(pipe, new: JobStatus) -> None:
            pipe.rpush(key("events", new.job_id), json.dumps({"type": "end", "status": "failed", "message": message}))

        transition(self.redis, job_id, decide, then)

    def _import_run(self, data: bytes) -> bool:
        """Unpacks a run's zip into the store by an atomic rename: a second copy of the same run is refused.

        Anyone who can write to Redis can put a zip here, so the run passes the checks an uploaded model passes
        (`core.model.upload_check`: known Keras layers only, no custom code, bounded sizes) and its record the
        store's own reading, before it is renamed into place.

        Raises:
            ModelFileError: If the model file or its record would not be taken as an upload.
        """
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
                _check_collected(staging, run_id)
                os.rename(staging, runs / run_id)  # fails if another server collected it first
            except OSError:
                shutil.rmtree(staging, ignore_errors=True)
                return False
            except ModelFileError:
                shutil.rmtree(staging, ignore_errors=True)
                raise
        return True

    def _collect_forever(self) -> None:
        """Stores finished runs, looks after runs nobody's page watches (a silent worker), and tops up messages."""
        while not self._closed.is_set():
            try:
                with self._reach():
                    self.collect()
                    self.active()
                    self.top_up()
            except QueueUnavailable:
                pass  # Redis is away: try again in a moment
            except Exception as error:  # a damaged zip: try again later, never crash the server
                _log.debug("collecting finished runs failed: %s", error)
            self._closed.wait(1.0)

    def close(self) -> None:
        """Stops collecting (tests; a server collects for as long as it runs)."""
        self._closed.set()
        self._collector.join(5)


def _check_collected(folder: Path, run_id: str) -> None:
    """Raises ModelFileError unless a collected run's files are what a worker writes: a record the store reads
    and a model file that passes the upload checks."""
    try:
        record = record_from_dict(json.loads((folder / META_FILE).read_text(encoding="utf-8")), run_id)
    except (OSError, ValueError, TypeError, KeyError) as error:
        raise ModelFileError(f"its record is unreadable ({str(error)[:120]}).") from None
    if record.run_id != run_id:
        raise ModelFileError("its record names another run.")
    report = inspect_keras_file(folder / MODEL_FILE, current_limits().max_parameters or 10**9)
    if tuple(report.input_shape) != tuple(record.input_shape) or report.num_classes != len(record.class_names):
        raise ModelFileError("its model does not match its record.")
