"""A local job's changes of state, each a compare-and-set on its status file (`folder.transition`).

The queue (`core.jobs.jobs`) decides when; these decide what, and only if the job is still in the
state, and on the attempt, that the caller saw: a worker's "finished" is never overwritten, and a
worker whose run was given up on cannot end it.

- claimed: a waiting run taken by a worker, for its next attempt;
- retry_or_fail: a run whose worker died goes back in line at its old place, or fails if it was
  lost before (`folder.lost`);
- end_stalled: a run that showed no progress for `stall_seconds()` is ended, with its worker;
- cancel: a waiting run taken out of the queue.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import time
from pathlib import Path

from core.jobs import folder as files
from core.jobs.folder import JobStatus

STALL_ENV = "CNNLAB_STALL_SECONDS"
DEFAULT_STALL_SECONDS = 120.0


def worker_alive(folder: Path) -> bool:
    """Whether a process holds the job's lock: the worker that claimed it."""
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


DIED = "its worker process died (killed, or out of memory)"


ACTIVE_INDEX = ".active"  # in the jobs folder: an empty file per job waiting or training


def mark_active(jobs: Path, job_id: str) -> None:
    """Adds a job to the index of active jobs (in the jobs folder `jobs`)."""
    index = jobs / ACTIVE_INDEX
    index.mkdir(parents=True, exist_ok=True)
    (index / job_id).touch()


def retry_or_fail(folder: Path, seen: JobStatus) -> JobStatus | None:
    """A run whose worker died: back in line at its old place for its second attempt, else failed."""
    def decide(current: JobStatus) -> JobStatus | None:
        if not current.training or current.attempt != seen.attempt or worker_alive(folder):
            return None  # it ended, or was retried, or a worker holds it after all
        return files.lost(current, DIED)

    changed = files.transition(folder, decide)
    if changed is not None and changed.state == "failed":
        with contextlib.suppress(OSError), files.open_progress(folder) as handle:
            files.append_event(handle, {"type": "end", "status": "failed", "message": changed.message})
    elif changed is not None:
        mark_active(folder.parent, changed.job_id)
    return changed


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


def end_stalled(folder: Path, seen: JobStatus, silent: float) -> JobStatus | None:
    """Ends a stalled worker (paused with SIGSTOP, or hung) and records why; its slot is free at once."""
    message = (f"Stalled: the training process showed no progress for {silent:.0f} s (it hung, or was "
               "paused), so it was ended. Nothing was saved; start the run again.")

    def decide(current: JobStatus) -> JobStatus | None:
        if not current.training or current.attempt != seen.attempt:
            return None
        current.state, current.message, current.ended = "failed", message, time.time()
        return current

    try:
        changed = files.transition(folder, decide)
    except OSError:
        return None
    if changed is None:
        return None
    if seen.pid > 0:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(seen.pid, signal.SIGKILL)  # its own session: the worker and anything it started
    with contextlib.suppress(OSError), files.open_progress(folder) as handle:
        files.append_event(handle, {"type": "end", "status": "failed", "message": message})
    return changed


def cancel(folder: Path, status: JobStatus, message: str) -> bool:
    """Cancels a run if it is still waiting (compare-and-set); returns whether it did."""
    def decide(current: JobStatus) -> JobStatus | None:
        if not current.queued:
            return None
        current.state, current.message, current.ended = "cancelled", message, time.time()
        return current

    if files.transition(folder, decide) is None:
        return False
    with contextlib.suppress(OSError), files.open_progress(folder) as handle:
        files.append_event(handle, {"type": "end", "status": "cancelled", "message": message})
    return True


def claimed(current: JobStatus, worker_pid: int) -> JobStatus | None:
    """A waiting run taken by a worker, for its next attempt; None if it no longer waits."""
    if not current.queued:
        return None
    current.state, current.pid, current.attempt = "starting", worker_pid, current.attempt + 1
    if current.attempt > 1:
        current.message = files.retry_note(current.message)
    return current
