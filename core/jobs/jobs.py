"""Background training jobs: each run trains in its own worker process, reporting through files.

Why a process and not a thread: after every script and fragment run, Streamlit calls
`keras.backend.clear_session()` and a full `gc.collect()`; with TensorFlow loaded each holds the
GIL for about 0.2 s, and a `model.fit` thread polled twice a second ran about 100 times slower.
A worker process shares no GIL with the server, can be stopped for real, keeps a crash away from
the app, and lets the page never import TensorFlow at all.

A job is a folder under `<store root>/jobs/<job id>/`, whose files `core.jobs.folder` reads and
writes: the order (config.json), an uploaded dataset (data.npz), the status, the progress events,
the stop request, a heartbeat, the worker's lock and its log.

The lock is taken by the server *before* the worker starts and handed over as an inherited file
descriptor, so there is no moment when a starting job looks dead, and a worker that dies in any
way (even SIGKILL) releases it at once. A job whose status says running but whose lock is free
is reported as failed.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from core.data.datasets import BUILTIN_DATASETS, Dataset
from core.jobs import folder as files
from core.jobs.folder import JobOrder, JobStatus
from core.store.hosting import Limits, QuotaError, check_store_quota, current_limits
from core.store.ids import new_id
from core.store.runs import STORE_ROOT
from core.train.config import TrainConfig

JOBS = "jobs"
STALL_ENV = "CNNLAB_STALL_SECONDS"
DEFAULT_STALL_SECONDS = 120.0
_REPO_ROOT = Path(__file__).resolve().parents[2]
_children: dict[str, subprocess.Popen] = {}  # reaped in `job_status`, so finished workers leave no zombies


class JobLimitError(RuntimeError):
    """A job cannot start now: this session already has one, or every slot is busy."""


class JobError(ValueError):
    """An unknown job, or an action on a job that is not yours."""


def jobs_root(root: Path = STORE_ROOT) -> Path:
    return root / JOBS


def job_folder(job_id: str, root: Path = STORE_ROOT) -> Path:
    if not job_id.replace("-", "").isalnum():
        raise JobError(f"There is no job {job_id[:40]!r}.")
    folder = jobs_root(root) / job_id
    if not files.is_job(folder):
        raise JobError(f"There is no job {job_id[:40]!r}.")
    return folder


@contextmanager
def _global_lock(root: Path) -> Iterator[None]:
    """Serialises job starts across sessions and server processes, so the cap holds under a rush."""
    folder = jobs_root(root)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".start.lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _worker_alive(folder: Path) -> bool:
    """Whether a process holds the job's lock (the worker, or the server handing it over)."""
    try:
        descriptor = os.open(folder / files.LOCK, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(descriptor)  # closing drops the lock if we got it
    return False


def job_status(job_id: str, root: Path = STORE_ROOT) -> JobStatus:
    """The job's status; a job whose worker died without saying so is reported as failed.

    Raises:
        JobError: If there is no such job.
    """
    folder = job_folder(job_id, root)
    child = _children.get(job_id)
    if child is not None and child.poll() is not None:
        del _children[job_id]
    status = files.read_status(folder, job_id)
    if status.active and not _worker_alive(folder):
        # Read again: the worker may have written its last status between the two reads.
        status = files.read_status(folder, job_id)
        if status.active:
            status.state = "failed"
            status.message = status.message or "The training process ended unexpectedly (out of memory, or killed)."
    elif status.active and (silent := files.silent_for(folder)) > stall_seconds():
        _end_stalled(folder, status, silent)
    return status


def stall_seconds() -> float:
    """How long a running job may go without a sign of progress before it counts as stalled.

    Far longer than the slowest batch plus TensorFlow's tracing of the first one (seconds here);
    while it loads data or evaluates, the worker's heartbeat shows it is still being scheduled.
    `CNNLAB_STALL_SECONDS` changes it.
    """
    try:
        value = float(os.environ.get(STALL_ENV, "") or DEFAULT_STALL_SECONDS)
    except ValueError:
        return DEFAULT_STALL_SECONDS
    return value if value > 0 else DEFAULT_STALL_SECONDS


def _end_stalled(folder: Path, status: JobStatus, silent: float) -> None:
    """Ends a stalled worker (paused with SIGSTOP, or hung) and records why; its slot is free at once."""
    if status.pid > 0:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(status.pid, signal.SIGKILL)  # its own session: the worker and anything it started
    status.state = "failed"
    status.message = (f"Stalled: the training process showed no progress for {silent:.0f} s (it hung, or was "
                      "paused), so it was ended. Nothing was saved; start the run again.")
    with contextlib.suppress(OSError):
        files.write_status(folder, status)
        with files.open_progress(folder) as handle:
            files.append_event(handle, {"type": "end", "status": "failed", "message": status.message})


def list_jobs(root: Path = STORE_ROOT) -> list[JobStatus]:
    """Every job, newest first."""
    folder = jobs_root(root)
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.iterdir(), reverse=True):
        if path.is_dir() and files.is_job(path):
            try:
                found.append(job_status(path.name, root))
            except JobError:
                continue
    return found


def active_jobs(root: Path = STORE_ROOT) -> list[JobStatus]:
    return [job for job in list_jobs(root) if job.active]


def _check_quotas(owner: str, active: list[JobStatus], limits: Limits, root: Path) -> None:
    """Raises JobLimitError if `owner` may not start a run now (called under the global lock)."""
    mine = [job for job in active if job.owner == owner]
    if len(mine) >= limits.jobs_per_session:
        raise JobLimitError(f"You already have a run training ({mine[0].name}). Stop it or wait for it to "
                            f"finish: {limits.jobs_per_session} run{'s' if limits.jobs_per_session > 1 else ''} "
                            "per session at a time.")
    if limits.max_jobs is not None and len(active) >= limits.max_jobs:
        raise JobLimitError(f"Busy: {len(active)} of {limits.max_jobs} training slot"
                            f"{'s' if limits.max_jobs > 1 else ''} in use on this server. Try again when a run "
                            "finishes; nothing was started.")
    try:  # runs still training count too: each will be stored when it ends
        check_store_quota(owner, limits, root, pending_mine=len(mine), pending_all=len(active))
    except QuotaError as error:
        raise JobLimitError(str(error)) from None


def start_job(config: TrainConfig, owner: str, dataset: Dataset | None = None, root: Path = STORE_ROOT,
              limits: Limits | None = None) -> str:
    """Starts a worker process that trains `config` and stores the run; returns the job id.

    Args:
        config: Checked settings.
        owner: Who started it (a session id): the run is stored as theirs.
        dataset: Needed only for datasets the worker cannot load by name (a session's upload).
        root: The store root.
        limits: The caps to enforce; `core.store.hosting.current_limits()` by default. The worker
            checks the epoch and image caps again against the loaded dataset.

    Raises:
        JobLimitError: If this owner already has as many jobs training as allowed, every slot
            is busy, or a stored-run quota is used up.
        JobError: If the job's files cannot be written (a full disk); nothing is left behind.
    """
    limits = limits or current_limits()
    if config.dataset not in BUILTIN_DATASETS and dataset is None:
        raise JobError(f"The dataset {config.dataset!r} must be handed to the job.")
    with _global_lock(root):
        _check_quotas(owner, active_jobs(root), limits, root)
        job_id = new_id()
        folder = jobs_root(root) / job_id
        try:
            _write_job(folder, job_id, config, owner, dataset, root, limits)
        except OSError as error:  # a full disk, say: no traceback, and no half-made job left behind
            shutil.rmtree(folder, ignore_errors=True)
            raise JobError(f"The run could not start: the server cannot write its files ({error.strerror or error}). "
                           "Nothing was started; try again later.") from None
    return job_id


def _write_job(folder: Path, job_id: str, config: TrainConfig, owner: str, dataset: Dataset | None, root: Path,
               limits: Limits) -> None:
    """Writes the job's folder and starts its worker, which inherits the job's lock."""
    folder.mkdir()
    if config.dataset not in BUILTIN_DATASETS:
        files.write_dataset(folder, dataset)
    caps = {"max_epochs": limits.max_epochs, "max_train_images": limits.max_train_images}
    files.write_order(folder, JobOrder(config, root, caps))
    files.write_status(folder, JobStatus(job_id, owner, "starting", config.name, config.dataset, time.time()))
    descriptor = os.open(folder / files.LOCK, os.O_CREAT | os.O_RDWR, 0o600)
    fcntl.flock(descriptor, fcntl.LOCK_EX)
    try:
        with open(folder / files.LOG, "ab") as log:
            environment = {**os.environ, "PYTHONPATH": str(_REPO_ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"}
            _children[job_id] = subprocess.Popen(
                [sys.executable, "-m", "core.jobs.worker", str(folder), str(descriptor)], cwd=_REPO_ROOT,
                pass_fds=(descriptor,), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                env=environment, start_new_session=True)
    finally:
        os.close(descriptor)  # the worker holds the lock now


def request_stop(job_id: str, owner: str | None = None, root: Path = STORE_ROOT) -> bool:
    """Asks a job to stop after its current batch; returns False if it was not running.

    Args:
        owner: If given, only this owner's job may be stopped.

    Raises:
        JobError: For an unknown job, or another owner's.
    """
    status = job_status(job_id, root)
    if owner is not None and status.owner != owner:
        raise JobError("That run belongs to another session.")
    if not status.active:
        return False
    files.request_stop(job_folder(job_id, root))
    return True


def read_events(job_id: str, offset: int = 0, root: Path = STORE_ROOT) -> tuple[list[dict], int]:
    """Progress events written since `offset` (a byte position); returns them and the new offset.

    Only whole lines are read, so a line the worker is still writing waits for the next call.
    """
    return files.read_events(job_folder(job_id, root), offset)


def prune_jobs(root: Path = STORE_ROOT, older_than: float = 86_400.0) -> int:
    """Removes the folders of jobs that ended more than `older_than` seconds ago (their runs stay)."""
    removed = 0
    for job in list_jobs(root):
        folder = jobs_root(root) / job.job_id
        if not job.active and files.status_age(folder) > older_than:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed
