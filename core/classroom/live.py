"""What each student of a class is doing now, for the teacher's live view: their latest run's state."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.classroom.board import test_accuracy
from core.classroom.classes import ClassRoom
from core.data.numbers import percent
from core.jobs.eta import wait_line
from core.jobs.jobs import JobError
from core.jobs.queue import TrainingQueue
from core.store.runs import STORE_ROOT, StoreError, load_record
from core.store.workspaces import read_workspace
from core.train.progress import ProgressView, fold

STATE_WORDS = {"queued": "queued", "starting": "training", "running": "training", "finished": "finished",
               "stopped": "finished (stopped early)", "cancelled": "cancelled", "failed": "failed"}


@dataclass(frozen=True)
class StudentState:
    """One student's latest run, as the teacher sees it.

    Args:
        nickname: The student's nickname.
        state: "no run yet", "queued", "training", "finished", "finished (stopped early)", "cancelled" or "failed".
        detail: The place in line, the epoch, the test accuracy, or why it failed (or stopped early).
        run_name: The run's name ("" before any run).
    """

    nickname: str
    state: str
    detail: str
    run_name: str


def _score(run_id: str, root: Path) -> str:
    """"97.5% test accuracy" for a stored run, or "" (deleted since, or scored on nothing)."""
    try:
        accuracy = test_accuracy(load_record(run_id, root))
    except StoreError:
        return ""
    return f"{percent(accuracy, 1)} test accuracy" if accuracy is not None else ""


def student_states(room: ClassRoom, queue: TrainingQueue, root: Path = STORE_ROOT) -> list[StudentState]:
    """Every student's latest run, in joining order.

    Raises:
        core.jobs.jobs.QueueUnavailable: If the scale-out queue cannot be reached.
    """
    found = []
    # A run waiting or training is the student's latest, whatever their workspace recorded last (two tabs of
    # one workspace may record their Starts out of order).
    live = {job.owner: job.job_id for job in queue.active() if job.owner in room.members}
    for member, nickname in room.members.items():
        workspace = read_workspace(member, root)
        job_id = live.get(member) or (workspace.last_job if workspace is not None else "")
        try:
            status = queue.status(job_id) if job_id else None
        except JobError as error:
            if type(error) is not JobError:  # the queue is unreachable: the caller says so once
                raise
            status = None  # pruned after the store's run hours
        if status is None:
            found.append(StudentState(nickname, "no run yet", "", ""))
            continue
        detail = status.message if status.state in ("failed", "stopped") else ""
        if status.queued:
            wait = queue.wait(job_id)
            detail = wait_line(wait) if wait is not None else ""
        elif status.training:
            view = fold(ProgressView(), queue.events(job_id)[0])
            detail = f"epoch {max(1, view.epoch)} of {view.epochs}" if view.epochs else "starting"
        elif status.run_id:
            detail = _score(status.run_id, root) or detail
        found.append(StudentState(nickname, STATE_WORDS.get(status.state, status.state), detail, status.name))
    return found
