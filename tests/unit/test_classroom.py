"""Workspaces, the store's access rule, and classes: keys, nicknames, joining, sharing, the leaderboard, closing."""

from __future__ import annotations

import io
import json
import threading
import time
import zipfile
from datetime import UTC, datetime

import pytest

from core.classroom.board import best_rank, leaderboard
from core.classroom.classes import (
    CODE_LENGTH,
    ClassError,
    access_for,
    class_runs,
    class_teachers,
    create_class,
    find_by_code,
    join_class,
    leave_class,
    load_class,
    share_run,
)
from core.classroom.closing import class_archive, close_class, delete_class, expire_closed_classes, reopen_class
from core.classroom.nicknames import MAX_NICKNAME, NicknameError, check_nickname
from core.store.access import Access
from core.store.runs import StoreError, delete_run, list_runs, load_record, rename_run, save_run
from core.store.workspaces import (
    WORKSPACES,
    WorkspaceError,
    create_workspace,
    expire_workspaces,
    key_hint,
    open_workspace,
    workspace_id,
)
from tests.unit.test_store import fake_model, record


def store_run(root, owner: str, accuracy: float, seconds: float = 1.0, name: str = "run") -> str:
    """Stores a finished run of `owner`'s. One stored right after a join counts as made in the class only with
    `seconds=0`: its start is taken as its save time's second, plus one, less `seconds` (`ClassRoom.made_here`),
    and 0.01 s left a 10 ms window in which a join just before the save came after that start."""
    run = record(name=name)
    run.owner, run.metrics, run.training_seconds = owner, {"test": {"accuracy": accuracy}}, seconds
    save_run(run, fake_model, root)
    return run.run_id


# Workspaces -------------------------------------------------------------------------------------------------


def test_a_workspace_key_is_random_long_and_never_stored(tmp_path):
    keys = [create_workspace(tmp_path)[0] for _ in range(50)]
    assert len(set(keys)) == 50 and all(len(key) == 32 for key in keys)
    stored = "".join(path.read_text() for path in (tmp_path / WORKSPACES).iterdir())
    assert not any(key in stored for key in keys)  # only the hash names a workspace on disk
    assert all(workspace_id(key) in stored for key in keys)
    assert key_hint(keys[0]) == keys[0][:4] + "…"


def test_a_key_opens_its_workspace_and_a_made_up_or_malformed_one_is_refused(tmp_path):
    key, workspace = create_workspace(tmp_path)
    assert open_workspace(key, tmp_path).workspace_id == workspace.workspace_id
    forged = "A" * 32
    with pytest.raises(WorkspaceError, match="not known"):
        open_workspace(forged, tmp_path)
    for bad in ("", "../../etc/passwd", "<script>", "x" * 10_000, None, 42, key + "x"):
        with pytest.raises(WorkspaceError, match="not valid"):
            open_workspace(bad, tmp_path)


def test_unused_workspaces_expire_unless_they_own_a_run_or_teach_a_class_still_on_file(tmp_path):
    long_ago = time.time() - 10 * 3600
    _, idle = create_workspace(tmp_path, now=long_ago)
    _, busy = create_workspace(tmp_path, now=long_ago)
    _, teacher = create_workspace(tmp_path, now=long_ago)
    _, fresh = create_workspace(tmp_path)
    store_run(tmp_path, busy.workspace_id, 0.5)
    room = create_class("still teaching", teacher, tmp_path, now=long_ago)
    assert expire_workspaces(6, tmp_path, keep=class_teachers(tmp_path)) == [idle.workspace_id]
    kept = {busy.workspace_id, teacher.workspace_id, fresh.workspace_id}
    assert {path.stem for path in (tmp_path / WORKSPACES).glob("*.json")} == kept
    close_class(room.class_id, teacher, tmp_path)  # closed, but its results are still the teacher's to read
    assert expire_workspaces(6, tmp_path, keep=class_teachers(tmp_path)) == []
    assert expire_closed_classes(6, tmp_path, now=time.time() + 7 * 3600) == [room.class_id]
    assert expire_workspaces(6, tmp_path, keep=class_teachers(tmp_path)) == [teacher.workspace_id]


# The access rule --------------------------------------------------------------------------------------------


def test_a_workspace_reads_its_own_its_students_and_shared_runs_and_changes_only_its_own(tmp_path):
    mine, student, stranger = store_run(tmp_path, "me", 0.5), store_run(tmp_path, "pupil", 0.6), \
        store_run(tmp_path, "other", 0.7)
    teacher = Access("me", readable_owners=frozenset({"pupil"}))
    assert {run.run_id for run in list_runs(tmp_path, teacher) if run.source == "runs"} == {mine, student}
    with pytest.raises(StoreError, match="There is no run"):  # the same words as for a missing run
        load_record(stranger, tmp_path, teacher)
    with pytest.raises(StoreError, match="Only the workspace"):
        rename_run(student, "mine now", tmp_path, teacher)
    with pytest.raises(StoreError, match="Only the workspace"):
        delete_run(student, tmp_path, teacher)
    classmate = Access("pupil", shared_runs=frozenset({stranger}))
    assert load_record(stranger, tmp_path, classmate).run_id == stranger
    with pytest.raises(StoreError, match="Only the workspace"):
        delete_run(stranger, tmp_path, classmate)
    delete_run(student, tmp_path, "pupil")  # its maker may


# Nicknames --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["<b>Ada</b>", "<script>alert(1)</script>", "a" * 10_000, "Ada\x00", "Ada\u202e",
                                  "Ada\u200b", "   ", "", "Ada 🙂", "x" * (MAX_NICKNAME + 1), None, "a\nb"])
def test_hostile_nicknames_are_refused_with_a_reason(text):
    with pytest.raises(NicknameError) as error:
        check_nickname(text)
    assert len(str(error.value)) < 200  # a 10,000-character nickname is not echoed back


def test_nicknames_are_normalised():
    assert check_nickname("  Ada   Lovelace ") == "Ada Lovelace"
    assert check_nickname("Zoë O'Neil-2") == "Zoë O'Neil-2"
    assert check_nickname("Ｂｏｂ") == "Bob"  # full-width letters read as the same name


# Classes ----------------------------------------------------------------------------------------------------


@pytest.fixture
def lesson(tmp_path):
    _, teacher = create_workspace(tmp_path)
    room = create_class("Year 10 — CNNs", teacher, tmp_path)
    students = [create_workspace(tmp_path)[1] for _ in range(3)]
    for nickname, student in zip(("Ada", "Bob", "Cy"), students, strict=True):
        join_class(room.join_code.lower()[:4] + "-" + room.join_code[4:], nickname, student, tmp_path,
                   now=time.time() - 600)  # the lesson began ten minutes ago
    return tmp_path, teacher, load_class(room.class_id, tmp_path), students


def test_a_class_gets_a_short_code_and_its_students_their_nicknames(lesson):
    _root, teacher, room, students = lesson
    assert len(room.join_code) == CODE_LENGTH and room.teacher == teacher.workspace_id
    assert list(room.members.values()) == ["Ada", "Bob", "Cy"]
    assert teacher.teaches == [room.class_id]
    assert all(student.class_id == room.class_id for student in students)


def test_joining_refuses_a_taken_nickname_a_bad_code_and_ones_own_class(lesson):
    root, teacher, room, _ = lesson
    _, late = create_workspace(root)
    with pytest.raises(NicknameError, match="already called"):
        join_class(room.join_code, "ada", late, root)
    with pytest.raises(ClassError, match="no class"):
        join_class("ZZZZZZZZ", "Dee", late, root)
    with pytest.raises(ClassError, match="8 letters"):
        join_class("<script>", "Dee", late, root)
    with pytest.raises(ClassError, match="your own class"):
        join_class(room.join_code, "Teach", teacher, root)


def test_two_students_racing_for_one_nickname_get_it_once(tmp_path):
    _, teacher = create_workspace(tmp_path)
    room = create_class("race", teacher, tmp_path)
    racers = [create_workspace(tmp_path)[1] for _ in range(8)]
    outcomes: list[str] = []

    def join(workspace):
        try:
            join_class(room.join_code, "Sam", workspace, tmp_path)
            outcomes.append("joined")
        except NicknameError:
            outcomes.append("refused")

    threads = [threading.Thread(target=join, args=(workspace,)) for workspace in racers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["joined"] + ["refused"] * 7
    assert list(load_class(room.class_id, tmp_path).members.values()) == ["Sam"]


def test_the_teacher_sees_every_student_run_and_students_see_their_own_plus_shared(lesson):
    root, teacher, room, (ada, bob, cy) = lesson
    runs = {name: store_run(root, student.workspace_id, accuracy, name=name)
            for name, student, accuracy in (("a", ada, 0.7), ("b", bob, 0.9), ("c", cy, 0.8))}
    outsider = store_run(root, "stranger", 0.99)

    def visible(workspace) -> set[str]:
        return {run.run_id for run in list_runs(root, access_for(workspace, root)) if run.source == "runs"}

    assert visible(teacher) == set(runs.values())
    assert visible(ada) == {runs["a"]}
    share_run(room.class_id, runs["b"], teacher, root=root)
    assert visible(ada) == {runs["a"], runs["b"]} and visible(cy) == {runs["c"], runs["b"]}
    with pytest.raises(StoreError, match="There is no run"):
        load_record(runs["c"], root, access_for(ada, root))
    with pytest.raises(ClassError, match="There is no run"):  # the teacher cannot share a stranger's run
        share_run(room.class_id, outsider, teacher, root=root)
    with pytest.raises(ClassError, match="no such class"):  # nor can a student share
        share_run(room.class_id, runs["a"], ada, root=root)
    share_run(room.class_id, runs["b"], teacher, shared=False, root=root)
    assert visible(ada) == {runs["a"]}


def test_the_leaderboard_orders_by_test_accuracy_and_tells_each_student_their_rank(lesson):
    root, _, room, (ada, bob, cy) = lesson
    store_run(root, ada.workspace_id, 0.7, seconds=3)
    store_run(root, bob.workspace_id, 0.9, seconds=5)
    store_run(root, cy.workspace_id, 0.9, seconds=2)
    store_run(root, "stranger", 0.99)
    rows = leaderboard(room, list_runs(root))
    assert [(row.rank, row.nickname) for row in rows] == [(1, "Cy"), (1, "Bob"), (3, "Ada")]
    assert best_rank(rows, ada.workspace_id).rank == 3
    assert rows[0].parameters is not None and rows[0].model


def test_leaving_a_class_takes_the_student_out(lesson):
    root, _teacher, room, (ada, _, _) = lesson
    leave_class(ada, root)
    assert "Ada" not in load_class(room.class_id, root).members.values() and not ada.class_id
    assert access_for(ada, root).shared_runs == frozenset()


def test_a_closed_class_stays_readable_to_its_teacher_and_its_code_opens_nothing_until_reopened(lesson):
    root, teacher, room, (ada, bob, _) = lesson
    ada_run, bob_run = store_run(root, ada.workspace_id, 0.7), store_run(root, bob.workspace_id, 0.8)
    close_class(room.class_id, teacher, root)
    closed = load_class(room.class_id, root)
    assert not closed.is_open and {run.run_id for run in class_runs(closed, root)} == {ada_run, bob_run}
    assert access_for(teacher, root).readable_owners == frozenset(room.members)  # the leaderboard, the zip
    archive = zipfile.ZipFile(io.BytesIO(class_archive(closed, root)))
    assert {f"Ada/{ada_run}/model.keras", f"Bob/{bob_run}/meta.json", "leaderboard.csv"} <= set(archive.namelist())
    assert json.loads(archive.read("class.json"))["students"] == ["Ada", "Bob", "Cy"]
    with pytest.raises(ClassError, match="closed"):
        find_by_code(room.join_code, root)
    _, late = create_workspace(root)
    with pytest.raises(ClassError, match="closed"):
        join_class(room.join_code, "Dee", late, root)
    reopened = reopen_class(room.class_id, teacher, root)
    assert reopened.is_open and find_by_code(room.join_code, root).class_id == room.class_id
    assert list(reopened.members.values()) == ["Ada", "Bob", "Cy"]  # the same students, the same code
    join_class(room.join_code, "Dee", late, root)


def test_a_closed_class_is_deleted_with_its_runs_by_its_teacher_or_once_it_expires(lesson):
    root, teacher, room, (ada, bob, _) = lesson
    store_run(root, ada.workspace_id, 0.7)
    teachers_own = store_run(root, teacher.workspace_id, 0.5)
    with pytest.raises(ClassError, match="Close the class"):
        delete_class(room.class_id, teacher, root)
    close_class(room.class_id, teacher, root, now=time.time())
    with pytest.raises(ClassError, match="no such class"):
        delete_class(room.class_id, ada, root)
    assert expire_closed_classes(6, root, now=time.time() + 5 * 3600) == []  # still the teacher's to read
    assert expire_closed_classes(6, root, now=time.time() + 7 * 3600) == [room.class_id]
    assert {run.run_id for run in list_runs(root) if run.source == "runs"} == {teachers_own}
    assert load_class(room.class_id, root) is None
    with pytest.raises(ClassError, match="no class with this join code"):
        find_by_code(room.join_code, root)
    with pytest.raises(ClassError, match="no such class"):
        reopen_class(room.class_id, teacher, root)  # too late
    other = create_class("Next lesson", teacher, root)
    join_class(other.join_code, "Bob", bob, root)
    bobs = store_run(root, bob.workspace_id, 0.8, seconds=0.0)
    close_class(other.class_id, teacher, root)
    assert delete_class(other.class_id, teacher, root) == [bobs]


def test_a_run_stopped_by_the_closing_but_stored_after_it_is_the_classs_and_a_later_one_the_students(lesson):
    """Closing stops a student's training run, but a stopped run is still stored, a moment after the class
    closed: it is the class's (in its results, and deleted with it). A run its student starts after the closing
    is theirs and stays."""
    root, teacher, room, (ada, bob, _) = lesson
    close_class(room.class_id, teacher, root)
    closed = load_class(room.class_id, root).closed
    late = record(name="stopped by the closing")
    late.owner, late.training_seconds = ada.workspace_id, 30.0  # it started 30 s before it was stored
    late.created = datetime.fromtimestamp(closed + 2, UTC).isoformat(timespec="seconds")  # …after the closing
    save_run(late, fake_model, root)
    fresh = record(name="a new lesson")
    fresh.owner, fresh.training_seconds = bob.workspace_id, 1.0
    fresh.created = datetime.fromtimestamp(closed + 60, UTC).isoformat(timespec="seconds")  # started after
    save_run(fresh, fake_model, root)
    leave_class(ada, root)  # she read the "closed" notice and left: her run is still the class's
    assert [run.run_id for run in class_runs(load_class(room.class_id, root), root)] == [late.run_id]
    assert delete_class(room.class_id, teacher, root) == [late.run_id]
    assert {run.run_id for run in list_runs(root) if run.source == "runs"} == {fresh.run_id}


def test_only_its_teacher_can_close_a_class(lesson):
    root, _, room, (ada, _, _) = lesson
    with pytest.raises(ClassError):
        close_class(room.class_id, ada, root)
    assert load_class(room.class_id, root).is_open



def test_the_teachers_live_view_says_each_students_state_in_words(lesson):
    from core.classroom.live import student_states
    from core.jobs.eta import Wait
    from core.jobs.folder import JobStatus
    from core.jobs.jobs import JobError
    from core.store.workspaces import record_job

    root, _, room, (ada, bob, cy) = lesson
    finished = store_run(root, cy.workspace_id, 0.875)
    statuses = {"j-ada": JobStatus("j-ada", ada.workspace_id, "queued", name="first try"),
                "j-bob": JobStatus("j-bob", bob.workspace_id, "running", name="deeper"),
                "j-cy": JobStatus("j-cy", cy.workspace_id, "finished", name="done", run_id=finished)}

    class FakeQueue:  # the real queues are tested in test_jobs.py and test_scale_out.py
        def active(self):
            return [status for status in statuses.values() if status.active]

        def status(self, job_id):
            if job_id not in statuses:
                raise JobError("There is no job.")
            return statuses[job_id]

        def wait(self, job_id):
            return Wait(position=2, starts_in=30.0, ends_in=90.0)

        def events(self, job_id, offset=0):
            return [{"type": "start", "epochs": 5, "steps_per_epoch": 10, "train_size": 100},
                    {"type": "batch", "epoch": 2, "step": 4, "seen": 240, "elapsed": 3.0, "loss": 0.5,
                     "accuracy": 0.8}], 2

    for student, job_id in ((ada, "j-ada"), (bob, "j-bob"), (cy, "j-cy")):
        record_job(student.workspace_id, job_id, root)
    rows = {row.nickname: row for row in student_states(room, FakeQueue(), root)}
    assert rows["Ada"].state == "queued"
    assert rows["Ada"].detail == "2nd in line · starts in about 0:30 · done in about 1:30"
    assert (rows["Bob"].state, rows["Bob"].detail) == ("training", "epoch 3 of 5")
    assert (rows["Cy"].state, rows["Cy"].detail) == ("finished", "87.5% test accuracy")
    statuses["j-bob"] = JobStatus("j-bob", bob.workspace_id, "failed", name="deeper", message="Out of memory.")
    rows = {row.nickname: row for row in student_states(room, FakeQueue(), root)}
    assert (rows["Bob"].state, rows["Bob"].detail) == ("failed", "Out of memory.")
    # A run waiting or training is the one shown, even if another tab of the workspace recorded an older Start last.
    statuses["j-ada-old"] = JobStatus("j-ada-old", ada.workspace_id, "cancelled", name="first",
                                      message="Replaced by a newer Start, which took its place.")
    record_job(ada.workspace_id, "j-ada-old", root)
    assert {row.nickname: row.state for row in student_states(room, FakeQueue(), root)}["Ada"] == "queued"
    del statuses["j-ada"]
    record_job(ada.workspace_id, "pruned-long-ago", root)
    assert {row.nickname: row.state for row in student_states(room, FakeQueue(), root)}["Ada"] == "no run yet"


def test_a_page_holding_an_older_copy_of_the_workspace_never_undoes_what_another_tab_wrote(tmp_path):
    # One tab presses Start (its last job is recorded); another tab, opened earlier, then joins a class,
    # leaves it, and the teacher's page (holding the teacher's copy from before) creates a second class.
    # Each writes only its own fields: the Start's job stays, so the teacher's table does not say "no run yet".
    from core.store.workspaces import read_workspace, record_job

    _, teacher = create_workspace(tmp_path)
    _, student = create_workspace(tmp_path)
    room = create_class("Lesson", teacher, tmp_path)
    stale_student = read_workspace(student.workspace_id, tmp_path)
    stale_teacher = read_workspace(teacher.workspace_id, tmp_path)
    record_job(student.workspace_id, "20261205-101010-aaaaaa", tmp_path)
    join_class(room.join_code, "Ada", stale_student, tmp_path)
    assert read_workspace(student.workspace_id, tmp_path).last_job == "20261205-101010-aaaaaa"
    record_job(teacher.workspace_id, "20261205-101011-bbbbbb", tmp_path)
    create_class("Lesson 2", stale_teacher, tmp_path)
    fresh = read_workspace(teacher.workspace_id, tmp_path)
    assert fresh.last_job == "20261205-101011-bbbbbb" and len(fresh.teaches) == 2
    leave_class(stale_student, tmp_path)
    fresh = read_workspace(student.workspace_id, tmp_path)
    assert fresh.last_job == "20261205-101010-aaaaaa" and fresh.class_id == ""
