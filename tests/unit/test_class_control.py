"""The teacher's hand on a running lesson: stop every run, pause Starts, the class's own caps, and the live table's
states for who is stuck (blocked by a cap, failed, idle), who needs the teacher first."""

from __future__ import annotations

import os
import time

import pytest

from core.classroom.classes import ClassError, load_class
from core.classroom.closing import close_class
from core.classroom.control import (
    ClassCaps,
    pause_class,
    record_blocked,
    set_caps,
    start_refusal,
    stop_class_runs,
)
from core.classroom.live import student_states
from core.jobs.folder import stop_requested
from core.jobs.jobs import claim_next, job_folder, job_status
from core.jobs.queue import LocalQueue
from core.store.workspaces import read_workspace, record_job, update_workspace
from tests.unit.test_classroom import lesson, store_run  # noqa: F401 (lesson is a fixture)
from tests.unit.test_jobs import config, queue

SERVER = {"max_epochs": 20, "max_train_images": 60_000, "runs_per_workspace": 5}


def test_a_paused_class_refuses_starts_in_words_until_resumed_and_a_closed_one_cannot_be_paused(lesson):  # noqa: F811
    root, teacher, room, (ada, _, _) = lesson
    assert start_refusal(ada, config(), 1_000, root) is None
    pause_class(room.class_id, teacher, True, root)
    assert "paused training" in start_refusal(ada, config(), 1_000, root)
    assert start_refusal(teacher, config(), 1_000, root) is None  # the teacher is in no class of theirs
    with pytest.raises(ClassError, match="no such class"):
        pause_class(room.class_id, ada, False, root)  # only its teacher
    pause_class(room.class_id, teacher, False, root)
    assert start_refusal(ada, config(), 1_000, root) is None
    close_class(room.class_id, teacher, root)
    with pytest.raises(ClassError, match="closed"):
        pause_class(room.class_id, teacher, True, root)


def test_class_caps_are_within_the_servers_and_each_refuses_the_start_that_breaks_it(lesson):  # noqa: F811
    root, teacher, room, (ada, _, _) = lesson
    with pytest.raises(ClassError, match="at most 20 epochs"):
        set_caps(room.class_id, teacher, ClassCaps(max_epochs=30), SERVER, root)
    with pytest.raises(ClassError, match="whole number"):
        set_caps(room.class_id, teacher, ClassCaps(max_runs=-1), SERVER, root)
    set_caps(room.class_id, teacher, ClassCaps(max_epochs=5, max_images=2_000, max_runs=2), SERVER, root)
    assert "at 5 epochs" in start_refusal(ada, config(epochs=6), 1_000, root)
    assert start_refusal(ada, config(epochs=5), 1_000, root) is None
    assert "2,000 training images" in start_refusal(ada, config(), 60_000, root)  # all of MNIST
    assert start_refusal(ada, config(subset=2_000), 60_000, root) is None
    store_run(root, ada.workspace_id, 0.5, seconds=0.0)
    assert start_refusal(ada, config(), 1_000, root) is None
    store_run(root, ada.workspace_id, 0.6, seconds=0.0)
    assert "made 2 runs in this class" in start_refusal(ada, config(), 1_000, root)
    set_caps(room.class_id, teacher, ClassCaps(), SERVER, root)  # all off
    assert start_refusal(ada, config(epochs=20), 60_000, root) is None


def test_stop_all_stops_every_run_of_the_class_waiting_or_training_and_no_one_elses(lesson):  # noqa: F811
    root, _, room, (ada, bob, cy) = lesson
    training = queue(root, ada.workspace_id)
    _, status, lock = claim_next(root, worker_pid=os.getpid())  # a worker took Ada's run: it is training
    assert status.job_id == training
    waiting = [queue(root, student.workspace_id) for student in (bob, cy)]
    stranger = queue(root, "someone-else")
    assert stop_class_runs(load_class(room.class_id, root), LocalQueue(root)) == 3
    assert stop_requested(job_folder(training, root))  # stops after its batch, and is saved as far as it got
    assert [job_status(job_id, root).state for job_id in waiting] == ["cancelled", "cancelled"]
    assert job_status(stranger, root).state == "queued"
    os.close(lock)


def test_the_live_table_puts_blocked_failed_and_idle_students_first_and_says_why(lesson):  # noqa: F811
    root, _, room, (ada, bob, cy) = lesson
    job_id = queue(root, cy.workspace_id)  # Cy's run waits in line
    record_job(cy.workspace_id, job_id, root)
    record_blocked(ada.workspace_id, "You have 5 stored runs, the most a workspace may keep.", root)
    update_workspace(bob.workspace_id, lambda workspace: setattr(workspace, "last_seen", time.time() - 12 * 60),
                     root)
    rows = student_states(room, LocalQueue(root), root)
    assert [(row.nickname, row.state) for row in rows] == [("Ada", "blocked"), ("Bob", "idle"), ("Cy", "queued")]
    assert "5 stored runs" in rows[0].detail and rows[1].detail == "no page opened for 12 min"
    record_job(ada.workspace_id, queue(root, ada.workspace_id), root)  # a Start that goes through unblocks her
    assert not read_workspace(ada.workspace_id, root).blocked
    assert {row.nickname: row.state for row in student_states(room, LocalQueue(root), root)}["Ada"] == "queued"


def test_a_student_whose_job_the_queue_forgot_shows_their_latest_stored_run_not_no_run_yet(lesson):  # noqa: F811
    from core.classroom.classes import class_runs

    root, _, room, (ada, _, _) = lesson
    store_run(root, ada.workspace_id, 0.875, name="kept")  # stored; its job pruned, or from before a restart
    rows = {row.nickname: row for row in student_states(room, LocalQueue(root), root,
                                                        runs=class_runs(room, root))}
    assert (rows["Ada"].state, rows["Ada"].detail, rows["Ada"].run_name) == ("finished", "87.5% test accuracy",
                                                                             "kept")
    assert rows["Bob"].state == "no run yet"


def test_on_a_full_disk_the_teachers_notes_and_the_kept_settings_give_way_without_an_error(lesson, monkeypatch):  # noqa: F811
    import errno

    from core.store.workspaces import remember_settings

    root, _, _, (ada, _, _) = lesson

    def full(descriptor):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    assert record_blocked(ada.workspace_id, "No space left on device", root) is False  # the refusal still shows
    assert remember_settings(ada.workspace_id, {"hp_epochs": 3}, root) is False  # the page goes on
    monkeypatch.undo()
    assert record_blocked(ada.workspace_id, "paused", root) and remember_settings(ada.workspace_id, {"a": 1}, root)
    assert read_workspace(ada.workspace_id, root).settings == {"a": 1}
