"""The teacher's hand on a running lesson: stop every run of the class, pause new Starts ("eyes on me"), and the
class's own caps on a run (epochs, training images) and on each student's runs, within the server's caps.

`start_refusal` is the one check a student's Start goes through for all of these; a refused Start is kept on the
student's workspace (`record_blocked`), so the teacher's live table can say who is blocked, and by what.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from pathlib import Path

from core.classroom.classes import ClassError, ClassRoom, class_runs, load_class, teachers_change
from core.jobs.jobs import JobError
from core.jobs.queue import TrainingQueue
from core.store.runs import STORE_ROOT
from core.store.workspaces import Workspace, update_workspace
from core.train.config import TrainConfig


@dataclass(frozen=True)
class ClassCaps:
    """A class's own caps, each 0 for none (the server's caps still apply).

    Args:
        max_epochs: Epochs a run may train.
        max_images: Training images a run may use (its subset; 0 "all" counts as the dataset's size).
        max_runs: Runs each student may make in the class.
    """

    max_epochs: int = 0
    max_images: int = 0
    max_runs: int = 0


def set_caps(class_id: str, teacher: Workspace, caps: ClassCaps, server: dict[str, int | None],
             root: Path = STORE_ROOT) -> ClassRoom:
    """Sets a class's caps.

    Args:
        server: The server's own caps by name ("max_epochs", "max_train_images", "runs_per_workspace"; None for
            none): a class cap may only be tighter.

    Raises:
        ClassError: If the class is not the teacher's, a cap is negative, or above the server's.
    """
    pairs = (("max_epochs", caps.max_epochs, "epochs"), ("max_train_images", caps.max_images, "training images"),
             ("runs_per_workspace", caps.max_runs, "runs a student"))
    for name, value, words in pairs:
        if not isinstance(value, int) or value < 0:
            raise ClassError(f"A cap is a whole number, 0 for none; got {value!r} for {words}.")
        if value and (ceiling := server.get(name)) and value > ceiling:
            raise ClassError(f"This server allows at most {ceiling:,} {words}; a class cap can only be lower "
                             f"(got {value:,}).")
    with teachers_change(class_id, teacher, root, open_only=False) as room:
        room.max_epochs, room.max_images, room.max_runs = caps.max_epochs, caps.max_images, caps.max_runs
    return room


def pause_class(class_id: str, teacher: Workspace, paused: bool, root: Path = STORE_ROOT,
                now: float | None = None) -> ClassRoom:
    """Pauses new Starts in the class (runs already waiting or training go on: `stop_class_runs` stops them), or
    lets them start again.

    Raises:
        ClassError: If the class is not the teacher's, or is closed.
    """
    with teachers_change(class_id, teacher, root) as room:
        room.paused = (time.time() if now is None else now) if paused else 0.0
    return room


def stop_class_runs(room: ClassRoom, queue: TrainingQueue) -> int:
    """Stops every run of the class's students: one waiting leaves the line, one training stops after its batch
    (and is saved as far as it got). Returns how many were stopped.

    Raises:
        core.jobs.jobs.QueueUnavailable: If the scale-out queue cannot be reached.
    """
    stopped = 0
    for job in queue.active():
        if job.owner in room.members:
            with contextlib.suppress(JobError):  # ended meanwhile
                if queue.cancel(job.job_id) in ("cancelled", "stopping"):
                    stopped += 1
    return stopped


def start_refusal(workspace: Workspace, config: TrainConfig, available: int, root: Path = STORE_ROOT) -> str | None:
    """Why the class stops this Start now (paused, or over a class cap), or None: the student's own words.

    Args:
        workspace: The student's workspace (a workspace in no open class is never refused here).
        config: The run's settings.
        available: Training images in the chosen dataset (a subset of 0 means all of them).
    """
    room = load_class(workspace.class_id, root) if workspace.class_id else None
    if room is None or not room.is_open or workspace.workspace_id not in room.members:
        return None
    if room.paused:
        return ("Your teacher has paused training for the class. Start works again when they resume it; your "
                "settings stay as they are.")
    if room.max_epochs and config.epochs > room.max_epochs:
        return (f"Your teacher caps this class's runs at {room.max_epochs} epochs: set Epochs to {room.max_epochs} "
                "or fewer.")
    images = config.subset or available
    if room.max_images and images > room.max_images:
        return (f"Your teacher caps this class's runs at {room.max_images:,} training images: set Training images "
                f"to {room.max_images:,} or fewer.")
    if room.max_runs:
        made = sum(record.owner == workspace.workspace_id for record in class_runs(room, root))
        if made >= room.max_runs:
            return (f"You have made {made} runs in this class, the most your teacher allows each student. Ask your "
                    "teacher, or delete one of them on the Models page.")
    return None


def record_blocked(workspace_id: str, reason: str, root: Path = STORE_ROOT, now: float | None = None) -> bool:
    """Keeps why a student's Start was refused (a cap, a pause), for their teacher's live table; a Start that
    goes through clears it (`core.store.workspaces.record_job`). Returns False if it could not be written.

    A note for the teacher, never in the way of the refusal itself: a Start refused because the disk is full
    must still say so, so a failed write is only reported back.
    """
    when = time.time() if now is None else now

    def change(workspace: Workspace) -> None:
        workspace.blocked, workspace.blocked_at = reason[:300], when

    try:
        update_workspace(workspace_id, change, root)
    except OSError:
        return False
    return True
