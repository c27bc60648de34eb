"""Background training jobs: a first-in, first-out queue that warm worker processes take runs from.

Why processes and not threads: after every script and fragment run, Streamlit calls
`keras.backend.clear_session()` and a full `gc.collect()`; with TensorFlow loaded each holds the
GIL for about 0.2 s, and a `model.fit` thread polled twice a second ran about 100 times slower.
A worker process shares no GIL with the server, can be stopped for real, keeps a crash away from
the app, and lets the page never import TensorFlow at all.

Every Start is accepted: the run joins the queue (`submit_job`), and one of the pool's warm workers
(`core.jobs.pool`, `core.jobs.worker`) takes it when it is free (`claim_next`). Each owner has at
most one run queued or training: a second Start replaces a waiting run in its place in line, and is
refused while one trains. The queue lives in the job folders, so it survives a restart.

A job is a folder under `<store root>/jobs/<job id>/`, whose files `core.jobs.folder` reads and
writes: the order (config.json), an uploaded dataset (data.npz), the status, the progress events,
the stop request, a heartbeat, the worker's lock and its log.

A worker takes a job's lock (flock) *before* it marks the job as starting, and holds it until the
run has ended, so a worker that dies in any way (even SIGKILL) releases it at once: a job whose
status says it trains but whose lock is free goes back in line at its old place and is retried
from the start by the next free worker; a run lost a second time is reported failed.

Every change of a state is a compare-and-set on the status file (`core.jobs.lifecycle`) that names
the attempt it belongs to, so a run's reported state is always the truth: a worker's "finished" is
never overwritten, and a worker whose run was given up on cannot end it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from core.data.datasets import BUILTIN_DATASETS, Dataset
from core.jobs import folder as files
from core.jobs.eta import Wait, run_seconds, time_left, waits
from core.jobs.folder import JobOrder, JobStatus
from core.jobs.lifecycle import (
    ACTIVE_INDEX,
    cancel,
    claimed,
    end_stalled,
    mark_active,
    retry_or_fail,
    stall_seconds,
    worker_alive,
)
from core.jobs.pool import ensure_pool, pool_settings
from core.store.hosting import Limits, QuotaError, check_store_quota, current_limits, run_caps
from core.store.ids import new_id
from core.store.runs import STORE_ROOT, file_lock
from core.train.config import TrainConfig, check_run

JOBS = "jobs"
QUEUE_ENV = "CNNLAB_MAX_QUEUE"
DEFAULT_MAX_QUEUE = 200  # runs waiting at once: one per visitor, so a class of 30 is far inside it


class JobLimitError(RuntimeError):
    """A run cannot join the queue: its owner has one training, the queue is full, or a quota is used up."""


class JobError(ValueError):
    """An unknown job, or an action on a job that is not yours."""


class QueueUnavailable(JobError):
    """The queue cannot be reached (the scale-out backend's Redis is down); the message says so in one sentence."""


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
    with file_lock(jobs_root(root) / ".start.lock"):
        yield


def job_status(job_id: str, root: Path = STORE_ROOT) -> JobStatus:
    """The job's status; a job whose worker died without saying so is put back in line (or fails, if it was
    lost before), and a stalled one is ended.

    Raises:
        JobError: If there is no such job.
    """
    folder = job_folder(job_id, root)
    status = files.read_status(folder, job_id)
    if status.training and not worker_alive(folder):
        status = retry_or_fail(folder, status) or files.read_status(folder, job_id)
    elif status.training and (silent := files.silent_for(folder)) > stall_seconds():
        status = end_stalled(folder, status, silent) or files.read_status(folder, job_id)
    return status


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
    """Every job waiting or training, oldest in line first.

    Read from an index of the active jobs, not from every job folder: the live panels ask twice a
    second each, and the finished jobs of a day would otherwise be read every time. The status
    files stay the truth: an index entry whose job has ended is dropped here.
    """
    index = jobs_root(root) / ACTIVE_INDEX
    if not index.is_dir():
        return []
    found = []
    for entry in index.iterdir():
        try:
            status = job_status(entry.name, root)
        except JobError:
            status = None
        if status is not None and status.active:
            found.append(status)
        else:
            with contextlib.suppress(FileNotFoundError):  # another process may drop it at the same moment
                if status is not None or time.time() - entry.stat().st_mtime > 60:  # a job being written is young
                    entry.unlink()
    return sorted(found, key=lambda job: (job.created, job.job_id))


def max_queue() -> int:
    """Runs that may wait at once (`CNNLAB_MAX_QUEUE`); a bad value falls back to the default."""
    try:
        value = int(os.environ.get(QUEUE_ENV, "") or DEFAULT_MAX_QUEUE)
    except ValueError:
        return DEFAULT_MAX_QUEUE
    return value if value > 0 else DEFAULT_MAX_QUEUE


def admit(owner: str, active: list[JobStatus], limits: Limits, root: Path, client: str = "") -> JobStatus | None:
    """Checks that `owner` may queue a run now (under the global lock); returns their waiting run, which the
    new one replaces, if any.

    Raises:
        JobLimitError: If their run is training, the queue is full, their client (network address) has as many
            runs active as it may, or a stored-run quota is used up.
    """
    mine = sorted((job for job in active if job.owner == owner), key=lambda job: job.created)
    waiting = None
    if len(mine) >= limits.jobs_per_workspace:
        mine_queued = [job for job in mine if job.queued]
        if not mine_queued:
            share = "one run" if limits.jobs_per_workspace == 1 else f"{limits.jobs_per_workspace} runs"
            raise JobLimitError(f"Your run “{mine[0].name}” is training. Stop it, or wait for it to end, before "
                                f"you start another: {share} per person at a time keeps the queue fair.")
        waiting = mine_queued[-1]  # the newest waiting run makes way, and the new one takes its place
    from_client = [job for job in active if client and job.client == client and job is not waiting]
    if limits.jobs_per_client is not None and len(from_client) >= limits.jobs_per_client:
        raise JobLimitError(f"{len(from_client)} runs from your network are waiting or training, the most one "
                            "internet address may have on this server. Try again when one has ended. (A class that "
                            "shares one address shares this limit; its teacher can ask for a higher "
                            "CNNLAB_JOBS_PER_CLIENT.)")
    queued = [job for job in active if job.queued]
    if waiting is None and len(queued) >= max_queue():
        raise JobLimitError(f"The queue is full: {len(queued)} runs are waiting. Try again when some have "
                            "started; nothing was queued.")
    others = [job for job in active if job is not waiting]
    try:  # runs waiting or training count too: each will be stored when it ends
        check_store_quota(owner, limits, root, pending_mine=0, pending_all=len(others))
    except QuotaError as error:
        raise JobLimitError(str(error)) from None
    return waiting


def planned_images(config: TrainConfig, dataset: Dataset | None) -> int:
    """Training images per epoch the run will use (for its estimate), known before any data is loaded."""
    available = len(dataset.x_train) if dataset is not None else BUILTIN_DATASETS[config.dataset].train_images
    return int(min(config.subset or available, available) * (1 - config.validation_split))


def client_share(active: list[JobStatus], client: str, replaced: JobStatus | None = None) -> int:
    """How many of `client`'s runs are waiting or training (a run being replaced keeps its own share): the new
    run's `share`, so that the line takes every client's first run before anyone's second."""
    if replaced is not None:
        return replaced.share
    return sum(1 for job in active if client and job.client == client)


def may_train(job: JobStatus, training: list[JobStatus], workers: int, hosted: bool) -> bool:
    """Whether a waiting run may take a free worker now.

    On a shared server with two or more workers, one client's runs train on all but one of them at most: the
    fair line orders the waiting runs, but a flood that arrived first would otherwise hold every worker for as
    long as its runs last, and the next student would wait for that. With one worker there is nothing to keep.
    """
    if not hosted or workers < 2 or not job.client:
        return True
    return sum(1 for other in training if other.client == job.client) < workers - 1


def check_order(config: TrainConfig, dataset: Dataset | None, limits: Limits) -> None:
    """Checks a run against the server's caps before it joins the queue, as its worker will again.

    The page checks the same settings; this holds for any caller of the queue, a page that forgot or a script.

    Raises:
        ConfigError: Naming the cap and what to change.
    """
    if dataset is not None:
        available, shape, classes = len(dataset.x_train), dataset.image_shape, dataset.num_classes
    else:
        info = BUILTIN_DATASETS[config.dataset]
        available, shape, classes = info.train_images, info.image_shape, len(info.class_names)
    check_run(config, available, shape, classes, run_caps(limits))


def wait_in_line(job_id: str, active: list[JobStatus], workers: int,
                 left: Callable[[JobStatus], float | None] | None = None) -> Wait | None:
    """A waiting run's place and ETA among the active runs, in the line's order (`JobStatus.line_key`); None if it
    is not waiting.

    Both backends call it: only how they list the active runs, count the workers and read a training run's
    progress differ.

    Args:
        left: A training run's seconds left from its own progress (`eta.time_left`), or None when it cannot tell
            yet; then its estimate, less the time it has trained, stands in.
    """
    queued = sorted((job for job in active if job.queued), key=lambda job: job.line_key)
    ids = [job.job_id for job in queued]
    if job_id not in ids:
        return None
    now = time.time()
    training = [job for job in active if job.training]

    def remaining(job: JobStatus) -> float:
        measured = left(job) if left is not None else None
        if measured is not None:
            return max(1.0, measured)
        return max(1.0, job.estimate - (now - job.started)) if job.started else job.estimate

    running_left = [remaining(job) for job in training]
    return waits(running_left, [job.estimate for job in queued], max(workers, len(running_left)))[ids.index(job_id)]


def submit_job(config: TrainConfig, owner: str, dataset: Dataset | None = None, root: Path = STORE_ROOT,
               limits: Limits | None = None, start_workers: bool = True, client: str = "") -> str:
    """Puts a run in the queue; returns its job id. A worker takes it when it reaches the front.

    Args:
        config: Checked settings.
        owner: Who started it (a workspace id): the run is stored as theirs.
        dataset: Needed only for datasets the worker cannot load by name (a session's upload).
        root: The store root.
        limits: The caps to enforce; `core.store.hosting.current_limits()` by default. The worker
            checks the run caps again against the loaded dataset, with its own environment's caps.
        start_workers: Start this store's worker pool if no process runs it yet (tests of the
            queue alone turn it off).
        client: Who asked (a hash of their address): its second run waits behind everyone's first.

    Raises:
        JobLimitError: If this owner has a run training, the queue is full, or a stored-run quota
            is used up. A run of theirs that is still waiting is replaced, keeping its place.
        JobError: If the job's files cannot be written (a full disk); nothing is left behind.
    """
    limits = limits or current_limits()
    if config.dataset not in BUILTIN_DATASETS and dataset is None:
        raise JobError(f"The dataset {config.dataset!r} must be handed to the job.")
    check_order(config, dataset, limits)
    images = planned_images(config, dataset)
    with _global_lock(root):
        active = active_jobs(root)
        waiting = admit(owner, active, limits, root, client)
        job_id = new_id()
        folder = jobs_root(root) / job_id
        estimate = run_seconds(images, config.epochs,
                               files.read_speeds(root).get(files.speed_key(config)))
        status = JobStatus(job_id, owner, "queued", config.name, config.dataset,
                           created=waiting.created if waiting else time.time(), estimate=estimate,
                           client=client, share=client_share(active, client, waiting))
        try:
            _write_job(folder, status, config, dataset, root, limits)
        except OSError as error:  # a full disk, say: no traceback, and no half-made job left behind
            shutil.rmtree(folder, ignore_errors=True)
            (jobs_root(root) / ACTIVE_INDEX / job_id).unlink(missing_ok=True)
            raise JobError(f"The run could not start: the server cannot write its files ({error.strerror or error}). "
                           "Nothing was started; try again later.") from None
        if waiting is not None:
            cancel(jobs_root(root) / waiting.job_id, waiting, "Replaced by a newer Start, which took its place.")
    if start_workers:
        ensure_pool(root, pool_settings(limits.workers))
    return job_id


def _write_job(folder: Path, status: JobStatus, config: TrainConfig, dataset: Dataset | None, root: Path,
               limits: Limits) -> None:
    """Writes the job's folder; the status, which puts it in the queue, comes last."""
    folder.mkdir()
    if config.dataset not in BUILTIN_DATASETS:
        files.write_dataset(folder, dataset)
    files.write_order(folder, JobOrder(config, root, run_caps(limits)))
    (folder / files.LOCK).touch()
    mark_active(jobs_root(root), status.job_id)
    files.write_status(folder, status)


def claim_next(root: Path, worker_pid: int) -> tuple[Path, JobStatus, int] | None:
    """Gives the first run in the fair line (`JobStatus.line_key`) that may train now (`may_train`) to a worker:
    returns its folder, status and the job's locked descriptor.

    The worker keeps the descriptor open until the run has ended; None when nothing waits.
    """
    if not jobs_root(root).is_dir():
        return None
    limits = current_limits()  # the worker's own environment: hosted or not, and how many workers share the line
    with _global_lock(root):
        active = active_jobs(root)
        training = [job for job in active if job.training]
        waiting = sorted((job for job in active if job.queued), key=lambda job: job.line_key)
        for status in waiting:
            if not may_train(status, training, limits.workers, limits.hosted):
                continue
            folder = jobs_root(root) / status.job_id
            descriptor = os.open(folder / files.LOCK, os.O_CREAT | os.O_RDWR, 0o600)
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(descriptor)
                continue
            taken = files.transition(folder, lambda current, pid=worker_pid: claimed(current, pid))
            if taken is None:  # cancelled between our two reads
                fcntl.flock(descriptor, fcntl.LOCK_UN)
                os.close(descriptor)
                continue
            if taken.attempt > 1:  # a retry: its progress starts afresh (a page sees a reset)
                (folder / files.PROGRESS).unlink(missing_ok=True)
            return folder, taken, descriptor
    return None


def cancel_job(job_id: str, owner: str | None = None, root: Path = STORE_ROOT) -> str:
    """Takes a waiting run out of the queue, or asks a training one to stop.

    Returns:
        "cancelled", "stopping", or "ended" if it had ended already.

    Raises:
        JobError: For an unknown job, or another owner's.
    """
    with _global_lock(root):  # a worker cannot claim it between our read and our write
        status = job_status(job_id, root)
        if owner is not None and status.owner != owner:
            raise JobError("That run belongs to another workspace.")
        if status.queued and cancel(job_folder(job_id, root), status, "Cancelled before it started."):
            return "cancelled"
    if status.training:
        files.request_stop(job_folder(job_id, root))
        return "stopping"
    return "ended"


def queue_wait(job_id: str, root: Path = STORE_ROOT, workers: int | None = None) -> Wait | None:
    """A waiting run's position and expected start and end; None once it is no longer waiting.

    Args:
        workers: Runs that train at once; the pool's setting by default.
    """
    return wait_in_line(job_id, active_jobs(root), workers or current_limits().workers,
                        left=lambda job: time_left(*files.edge_events(job_folder(job.job_id, root))))


def request_stop(job_id: str, owner: str | None = None, root: Path = STORE_ROOT) -> bool:
    """Asks a job to stop after its current batch; returns False if it was not running.

    Args:
        owner: If given, only this owner's job may be stopped.

    Raises:
        JobError: For an unknown job, or another owner's.
    """
    status = job_status(job_id, root)
    if owner is not None and status.owner != owner:
        raise JobError("That run belongs to another workspace.")
    if not status.training:
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
