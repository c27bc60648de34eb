"""A job's folder: the one module that reads and writes its files.

The server and the worker talk only through these files, so their names and formats live here,
once, and both sides call the same functions.

    config.json     {"config": TrainConfig as a dict, "root": the store root, "caps": the server's caps}
    data.npz        an uploaded dataset: x_train, y_train, x_test, y_test, class_names
    status.json     a `JobStatus`, rewritten atomically
    progress.jsonl  the progress events of `core.train.engine`, one JSON object per line
    stop            appears when someone presses Stop; the worker checks after every batch
    heartbeat       touched by the worker while it loads or evaluates (no progress lines then)
    lock            held (flock) by the worker for as long as it lives
    .status.lock    held (flock) for the moment of a status change (`transition`)
    worker.log      the worker's own output, for debugging
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TextIO

import numpy as np

from core.data.datasets import Dataset
from core.jobs.eta import parse_events
from core.store.runs import file_lock, write_text_atomically
from core.train.config import TrainConfig

CONFIG = "config.json"
DATA = "data.npz"
STATUS = "status.json"
PROGRESS = "progress.jsonl"
STOP = "stop"
HEARTBEAT = "heartbeat"
LOCK = "lock"
LOG = "worker.log"
STATUS_LOCK = ".status.lock"
SPEEDS = "speeds.json"  # in the jobs folder: measured images/s per kind of run, for the queue's ETAs
QUEUED_STATES = ("queued",)
ACTIVE_STATES = ("queued", "starting", "running")
TRAINING_STATES = ("starting", "running")
FINAL_STATES = ("finished", "stopped", "cancelled", "failed")  # a job in one of these never changes again
MAX_ATTEMPTS = 2  # a run whose worker was lost is tried once more, then reported failed


@dataclass
class JobStatus:
    """What a job is doing.

    Args:
        job_id: The folder name.
        owner: The session (or user) that started it.
        state: "queued", "starting", "running", "finished", "stopped", "cancelled" or "failed".
        name: The run's name.
        dataset: The dataset key.
        created: Seconds since the epoch when it joined the queue: its place in line.
        run_id: The stored run, once saved.
        message: Why it failed, or why it stopped early.
        pid: The worker's process id.
        started: Seconds since the epoch when a worker took it (0 while it waits).
        estimate: Expected seconds of work, for the queue's ETAs (`core.jobs.eta.run_seconds`).
        attempt: How many times a worker has taken it (a run whose worker died is taken once more).
        ended: Seconds since the epoch when it reached its final state (0 while it is active).
        client: Who asked, as a hash of their network address ("" when unknown).
        share: How many of that client's runs were already waiting or training when it joined: the line takes
            every client's first run before anyone's second (`line_key`).
    """

    job_id: str
    owner: str
    state: str
    name: str = ""
    dataset: str = ""
    created: float = 0.0
    run_id: str = ""
    message: str = ""
    pid: int = 0
    started: float = 0.0
    estimate: float = 0.0
    attempt: int = 0
    ended: float = 0.0
    client: str = ""
    share: int = 0

    @property
    def line_key(self) -> tuple[int, float]:
        """Its place in line: every client's first run before anyone's second, then first come, first served."""
        return self.share, self.created

    @property
    def active(self) -> bool:
        """Queued or training: it holds its owner's one place in the queue."""
        return self.state in ACTIVE_STATES

    @property
    def queued(self) -> bool:
        return self.state in QUEUED_STATES

    @property
    def training(self) -> bool:
        return self.state in TRAINING_STATES


@dataclass(frozen=True)
class JobOrder:
    """What the server asks a worker to do, as written in config.json.

    Args:
        config: The checked settings.
        root: The store the run is saved into.
        caps: The server's run caps (`core.store.hosting.RUN_CAPS`), checked again by the worker against the
            dataset it loads; the worker's own caps win where they are stricter (`enforced_caps`).
    """

    config: TrainConfig
    root: Path
    caps: dict[str, int | None]


_WAITS_AGAIN = ", so it waits to be retried from the start."


def requeue_note(cause: str) -> str:
    """What a run put back in line says: "Its worker process died (…), so it waits to be retried from the start."."""
    return f"{cause[0].upper()}{cause[1:]}{_WAITS_AGAIN}"


def retry_note(waiting_message: str) -> str:
    """What the retry says while it trains, and after: the cause from its `requeue_note`."""
    cause = waiting_message[:-len(_WAITS_AGAIN)] if waiting_message.endswith(_WAITS_AGAIN) else "its worker was lost"
    return f"Second attempt, from the start: in the first, {cause[0].lower()}{cause[1:]}."


def lost(current: JobStatus, cause: str) -> JobStatus:
    """A run whose worker was lost (`cause` says how): back in line at its old place for another attempt, or
    failed with the reason once it has had MAX_ATTEMPTS."""
    if current.attempt >= MAX_ATTEMPTS:
        current.state, current.ended = "failed", time.time()
        current.message = (f"The run was lost {current.attempt} times; the last time {cause}. Nothing was saved; "
                           "start it again, perhaps with a smaller model or batch.")
    else:
        current.state, current.pid, current.started = "queued", 0, 0.0
        current.message = requeue_note(cause)
    return current


def failure_message(error: Exception) -> str:
    """What a failed run's status says: the reason itself for bad settings, missing data or too little memory
    (their messages are written for the user), the exception's kind for anything else."""
    if isinstance(error, (ValueError, FileNotFoundError, MemoryError)):
        return str(error) or type(error).__name__
    return f"Training failed: {type(error).__name__}: {error}"


def is_job(folder: Path) -> bool:
    """Whether `folder` holds a job (its status file exists)."""
    return (folder / STATUS).is_file()


def write_status(folder: Path, status: JobStatus) -> None:
    write_text_atomically(folder / STATUS, json.dumps(asdict(status)))


def read_status(folder: Path, job_id: str) -> JobStatus:
    """The job's status file, or a failed status saying it is unreadable (never an exception)."""
    try:
        status = JobStatus(**json.loads((folder / STATUS).read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError, RecursionError):
        return JobStatus(job_id, "", "failed", message="The job's status file is unreadable.")
    if not all(isinstance(getattr(status, name), str) for name in ("job_id", "owner", "state", "name", "message")) \
            or any(isinstance(getattr(status, name), bool) or not isinstance(getattr(status, name), int)
                   for name in ("pid", "attempt", "share")) \
            or not isinstance(status.client, str) \
            or not all(isinstance(getattr(status, name), int | float) and not isinstance(getattr(status, name), bool)
                       for name in ("created", "started", "estimate", "ended")):
        return JobStatus(job_id, "", "failed", message="The job's status file is damaged.")
    return status


def transition(folder: Path, decide: Callable[[JobStatus], JobStatus | None]) -> JobStatus | None:
    """Changes a job's status by compare-and-set: the one way the server and the worker change a state.

    Under the job's status lock, the status is read and `decide(current)` returns the new status, or None
    to leave it as it is. A decision is never made on a state that has since changed, so a worker's
    "finished" is never overwritten by a server that read "running" a moment before.

    Returns:
        The new status, or None if there was no change.
    """
    with file_lock(folder / STATUS_LOCK):
        new = decide(read_status(folder, folder.name))
        if new is not None:
            write_status(folder, new)
            if not new.active:
                # An uploaded dataset is the job's largest file (61 MB for 5,000 64×64 RGB images) and no use
                # once it has ended: a retry keeps the job active, so only a final end lets it go.
                (folder / DATA).unlink(missing_ok=True)
        return new


def status_age(folder: Path) -> float:
    """Seconds since the status file last changed."""
    return time.time() - (folder / STATUS).stat().st_mtime


def write_order(folder: Path, order: JobOrder) -> None:
    write_text_atomically(folder / CONFIG, json.dumps(
        {"config": asdict(order.config), "root": str(order.root), "caps": order.caps}))


def read_order(folder: Path) -> JobOrder:
    """The job's order.

    Raises:
        ValueError: If config.json is not a job order (`ConfigError` for bad settings).
    """
    data = json.loads((folder / CONFIG).read_text(encoding="utf-8"))
    return JobOrder(TrainConfig.from_dict(data["config"]), Path(data["root"]), dict(data.get("caps", {})))


def write_dataset(folder: Path, dataset: Dataset) -> None:
    """Writes an uploaded dataset for the worker, which cannot load it by name (compressed: it is on disk until the
    job ends, and counts in the store's disk cap)."""
    np.savez_compressed(folder / DATA, x_train=dataset.x_train, y_train=dataset.y_train, x_test=dataset.x_test,
             y_test=dataset.y_test, class_names=np.array(dataset.class_names))


def read_dataset(folder: Path, name: str) -> Dataset | None:
    """The dataset the server wrote for this job, or None if the worker should load `name` itself."""
    if not (folder / DATA).is_file():
        return None
    with np.load(folder / DATA) as data:
        return Dataset(name, name, "uploaded images", tuple(str(c) for c in data["class_names"]),
                       data["x_train"], data["y_train"], data["x_test"], data["y_test"], "upload")


def open_progress(folder: Path) -> TextIO:
    """The progress log, opened for appending (one JSON event per line; flush after each)."""
    return open(folder / PROGRESS, "a", encoding="utf-8")


def append_event(handle: TextIO, event: dict) -> None:
    handle.write(json.dumps(event) + "\n")
    handle.flush()


def read_events(folder: Path, offset: int = 0) -> tuple[list[dict], int]:
    """Progress events written since `offset` (a byte position); returns them and the new offset.

    Only whole lines are read, so a line the worker is still writing waits for the next call.
    """
    path = folder / PROGRESS
    if not path.is_file():
        return [], offset
    events = []
    with open(path, "rb") as handle:
        if offset > handle.seek(0, 2):  # the run started again (its worker died and it was retried)
            events, offset = [{"type": "reset"}], 0
        handle.seek(offset)
        chunk = handle.read()
    end = chunk.rfind(b"\n") + 1
    for line in chunk[:end].splitlines():
        try:
            events.append(json.loads(line))
        except ValueError:
            continue
    return events, offset + end


def edge_events(folder: Path, tail_bytes: int = 4096) -> tuple[dict | None, list[dict]]:
    """The progress log's "start" event (its first lines) and its latest events (its last `tail_bytes`), without
    reading the whole log: what the queue's ETA needs of a training run."""
    path = folder / PROGRESS
    try:
        with open(path, "rb") as handle:
            head = handle.read(tail_bytes)
            size = handle.seek(0, 2)
            handle.seek(max(0, size - tail_bytes))
            tail = handle.read()
    except OSError:
        return None, []

    head_events = parse_events(head.split(b"\n")[:-1])  # whole lines only
    tail_events = parse_events(tail.split(b"\n")[1 if size > tail_bytes else 0:-1])  # the first may be cut
    return next((event for event in head_events if event.get("type") == "start"), None), tail_events


def request_stop(folder: Path) -> None:
    (folder / STOP).touch()


def stop_requested(folder: Path) -> bool:
    return (folder / STOP).exists()


def touch_heartbeat(folder: Path) -> None:
    with contextlib.suppress(OSError):
        (folder / HEARTBEAT).touch()


def silent_for(folder: Path) -> float:
    """Seconds since the job last showed progress: a progress line, its heartbeat, or a status change."""
    latest = 0.0
    for name in (PROGRESS, HEARTBEAT, STATUS):
        try:
            latest = max(latest, (folder / name).stat().st_mtime)
        except FileNotFoundError:
            continue
    return time.time() - latest if latest else 0.0


def speed_key(config: TrainConfig) -> str:
    """What makes runs train at the same speed: the data, the model, the precision and the batch size."""
    return f"{config.dataset}|{config.model_key}|{config.precision}|{config.batch_size}"


def measured_speed(train_images: int, epochs_trained: int, training_seconds: float) -> float | None:
    """A finished run's training images per second, or None if it trained too little to tell."""
    return train_images * epochs_trained / training_seconds if training_seconds > 0 and epochs_trained else None


def read_speeds(root: Path) -> dict[str, float]:
    """Measured training images per second by `speed_key`; empty when none are recorded or the file is damaged."""
    try:
        data = json.loads((root / "jobs" / SPEEDS).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(key): float(value) for key, value in data.items()
            if isinstance(value, int | float) and not isinstance(value, bool) and value > 0}


def record_speed(root: Path, config: TrainConfig, images_per_second: float | None) -> None:
    """Remembers how fast this kind of run trained (a running mean that favours the latest run)."""
    if not images_per_second or images_per_second <= 0:
        return
    speeds = read_speeds(root)
    key = speed_key(config)
    old = speeds.get(key)
    speeds[key] = images_per_second if old is None else 0.5 * old + 0.5 * images_per_second
    with contextlib.suppress(OSError):  # an ETA is a courtesy: a full disk must not fail the run
        (root / "jobs").mkdir(parents=True, exist_ok=True)
        write_text_atomically(root / "jobs" / SPEEDS, json.dumps(speeds))
