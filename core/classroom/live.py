"""What each student of a class is doing now, for the teacher's live view: their latest run's state, whether
their last Start was refused (blocked, and by what), and whether they have gone idle. Who needs the teacher comes
first (`ORDER`)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from core.classroom.board import test_accuracy
from core.classroom.classes import ClassRoom
from core.data.numbers import percent
from core.jobs.eta import wait_line
from core.jobs.jobs import JobError
from core.jobs.queue import TrainingQueue
from core.store.runs import STORE_ROOT, RunRecord, StoreError, load_record
from core.store.workspaces import read_workspace
from core.train.progress import ProgressView, fold

STATE_WORDS = {"queued": "queued", "starting": "training", "running": "training", "finished": "finished",
               "stopped": "finished (stopped early)", "cancelled": "cancelled", "failed": "failed"}
IDLE_MINUTES = 5  # no page view for this long, and nothing training: the student may be stuck, or elsewhere
# The table's order: a student the teacher should go to first, then those waiting, then those doing fine.
ORDER = ("blocked", "failed", "idle", "no run yet", "cancelled", "queued", "training", "finished (stopped early)",
         "finished")


@dataclass(frozen=True)
class StudentState:
    """One student's latest run, as the teacher sees it.

    Args:
        nickname: The student's nickname.
        state: "no run yet", "queued", "training", "finished", "finished (stopped early)", "cancelled", "failed",
            "blocked" (their last Start was refused) or "idle" (see `IDLE_MINUTES`).
        detail: The place in line, the epoch, the test accuracy, why it failed (or stopped early), what blocked
            the Start, or for how long they have been idle.
        run_name: The latest run's name ("" before any run).
    """

    nickname: str
    state: str
    detail: str
    run_name: str

    @property
    def order(self) -> int:
        """Its place in `ORDER`: who needs the teacher first."""
        return ORDER.index(self.state) if self.state in ORDER else len(ORDER)


def _score(run_id: str, root: Path) -> str:
    """"97.5% test accuracy" for a stored run, or "" (deleted since, or scored on nothing)."""
    try:
        accuracy = test_accuracy(load_record(run_id, root))
    except StoreError:
        return ""
    return f"{percent(accuracy, 1)} test accuracy" if accuracy is not None else ""


def student_states(room: ClassRoom, queue: TrainingQueue, root: Path = STORE_ROOT, now: float | None = None,
                   runs: Sequence[RunRecord] = ()) -> list[StudentState]:
    """Every student's state, who needs the teacher first (`ORDER`), then in joining order.

    Args:
        runs: The class's stored runs (`classes.class_runs`), newest first: a student whose job the queue no
            longer knows (pruned, or from before a restart) shows their latest stored run, not "no run yet".

    Raises:
        core.jobs.jobs.QueueUnavailable: If the scale-out queue cannot be reached.
    """
    now = time.time() if now is None else now
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
        active = status is not None and (status.queued or status.training)
        if workspace is not None and workspace.blocked and not active and \
                workspace.blocked_at >= (status.created if status is not None else 0.0):
            found.append(StudentState(nickname, "blocked", workspace.blocked, status.name if status else ""))
            continue
        idle = (now - workspace.last_seen) / 60.0 if workspace is not None else 0.0
        if not active and idle >= IDLE_MINUTES:
            last = f"; last run {STATE_WORDS.get(status.state, status.state)}" if status is not None else ""
            found.append(StudentState(nickname, "idle", f"no page opened for {idle:.0f} min{last}",
                                      status.name if status else ""))
            continue
        if status is None:
            stored = next((record for record in runs if record.owner == member), None)
            found.append(StudentState(nickname, "finished", _score(stored.run_id, root), stored.name) if stored
                         else StudentState(nickname, "no run yet", "", ""))
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
    return sorted(found, key=lambda row: row.order)  # stable: joining order within a state
