"""The training queue the pages use, whichever backend runs it.

Two backends, one interface (`TrainingQueue`):

- `LocalQueue`, the default: the queue lives in the store's job folders and warm worker processes
  on this machine train the runs (`core.jobs.jobs`, `core.jobs.pool`).
- `RemoteQueue` (`core.jobs.remote`), when `CNNLAB_BROKER_URL=redis://…` is set: the queue lives in
  Redis and Celery workers on any machine that reaches it train the runs; no shared file system.

The Train page, Models and Evaluate cannot tell which one runs: they call `training_queue()`.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Protocol

from core.data.datasets import Dataset
from core.jobs import jobs
from core.jobs.eta import Wait
from core.jobs.folder import JobStatus
from core.jobs.pool import ensure_pool, pool_settings
from core.store.hosting import Limits, current_limits
from core.store.runs import STORE_ROOT
from core.train.config import TrainConfig

BROKER_ENV = "CNNLAB_BROKER_URL"


class TrainingQueue(Protocol):
    """What the pages may ask of a training queue."""

    name: str

    def submit(self, config: TrainConfig, owner: str, dataset: Dataset | None = None,
               limits: Limits | None = None, client: str = "") -> str:
        """Queues a run; returns its job id (raises `jobs.JobLimitError` or `jobs.JobError`).

        `client` is who asked (`core.store.ratelimits.client_id`): a client's second run waits behind everyone's
        first, and a client may have only so many active runs."""

    def status(self, job_id: str) -> JobStatus:
        """The run's status (raises `jobs.JobError` for an unknown job)."""

    def wait(self, job_id: str) -> Wait | None:
        """A waiting run's place in line and ETA; None once it is no longer waiting."""

    def cancel(self, job_id: str, owner: str | None = None) -> str:
        """Cancel while waiting, Stop while training: "cancelled", "stopping" or "ended"."""

    def events(self, job_id: str, offset: int = 0) -> tuple[list[dict], int]:
        """Progress events since `offset`, and the offset to ask from next time."""

    def active(self) -> list[JobStatus]:
        """Every run waiting or training."""

    def warm(self) -> None:
        """Gets ready to train at once (the local backend starts its warm workers)."""


class LocalQueue:
    """The queue in the store's job folders, trained by warm workers on this machine."""

    name = "local"

    def __init__(self, root: Path = STORE_ROOT):
        self.root = Path(root)

    def submit(self, config: TrainConfig, owner: str, dataset: Dataset | None = None,
               limits: Limits | None = None, client: str = "") -> str:
        return jobs.submit_job(config, owner, dataset=dataset, root=self.root, limits=limits, client=client)

    def status(self, job_id: str) -> JobStatus:
        return jobs.job_status(job_id, self.root)

    def wait(self, job_id: str) -> Wait | None:
        return jobs.queue_wait(job_id, self.root)

    def cancel(self, job_id: str, owner: str | None = None) -> str:
        return jobs.cancel_job(job_id, owner, self.root)

    def events(self, job_id: str, offset: int = 0) -> tuple[list[dict], int]:
        return jobs.read_events(job_id, offset, self.root)

    def active(self) -> list[JobStatus]:
        return jobs.active_jobs(self.root)

    def warm(self) -> None:
        ensure_pool(self.root, pool_settings(current_limits().workers))


_queues: dict[tuple[str, str], TrainingQueue] = {}
_guard = threading.Lock()


def training_queue(root: Path = STORE_ROOT) -> TrainingQueue:
    """The queue in use: Celery on Redis if `CNNLAB_BROKER_URL` is set, else the local one (one per store)."""
    broker = os.environ.get(BROKER_ENV, "").strip()
    key = (str(Path(root).resolve()), broker)
    with _guard:
        if key not in _queues:
            if broker:
                from core.jobs.remote import RemoteQueue  # imports redis only when it is used

                _queues[key] = RemoteQueue(broker, Path(root))
            else:
                _queues[key] = LocalQueue(Path(root))
        return _queues[key]
