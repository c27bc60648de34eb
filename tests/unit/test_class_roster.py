"""The roster in the teacher's hands: rename, lock to new joins, and hand a lost seat back (merge a ghost)."""

from __future__ import annotations

import pytest

from core.classroom.board import best_per_student, leaderboard
from core.classroom.classes import ClassError, class_runs, join_class, load_class
from core.classroom.nicknames import NicknameError
from core.classroom.roster import lock_class, merge_students, rename_student
from core.store.runs import list_runs, load_record
from core.store.workspaces import create_workspace, read_workspace
from tests.unit.test_classroom import lesson, store_run  # noqa: F401 (lesson is a fixture)


def test_a_teacher_renames_a_student_everywhere_but_never_onto_another_students_name(lesson):  # noqa: F811
    root, teacher, room, (ada, bob, _) = lesson
    rename_student(room.class_id, ada.workspace_id, "Ada L.", teacher, root)
    assert load_class(room.class_id, root).members[ada.workspace_id] == "Ada L."
    assert read_workspace(ada.workspace_id, root).nickname == "Ada L."  # her own page says it too
    with pytest.raises(NicknameError, match="already called “Bob”"):
        rename_student(room.class_id, ada.workspace_id, "BOB", teacher, root)
    with pytest.raises(NicknameError):
        rename_student(room.class_id, ada.workspace_id, "<b>x</b>", teacher, root)
    with pytest.raises(ClassError, match="no such class"):
        rename_student(room.class_id, bob.workspace_id, "Bobby", ada, root)  # only the teacher


def test_a_locked_class_lets_its_students_back_in_but_nobody_new(lesson):  # noqa: F811
    root, teacher, room, (ada, _, _) = lesson
    lock_class(room.class_id, teacher, True, root)
    join_class(room.join_code, "Ada", ada, root)  # a member, joining again from her own workspace
    _, newcomer = create_workspace(root)
    with pytest.raises(ClassError, match="locked"):
        join_class(room.join_code, "Dee", newcomer, root)
    lock_class(room.class_id, teacher, False, root)
    assert "Dee" in join_class(room.join_code, "Dee", newcomer, root).members.values()


def test_a_student_who_lost_their_tab_gets_their_seat_and_runs_back_by_a_merge(lesson):  # noqa: F811
    root, teacher, room, (ada, bob, _) = lesson
    earlier = [store_run(root, ada.workspace_id, accuracy, seconds=0.0) for accuracy in (0.6, 0.9)]
    _, new_tab = create_workspace(root)  # her tab is lost: a new workspace, and "Ada" is taken by her old seat
    with pytest.raises(NicknameError, match="If you are Ada and lost your tab"):
        join_class(room.join_code, "Ada", new_tab, root)
    join_class(room.join_code, "Ada again", new_tab, root)
    with pytest.raises(ClassError, match="two different"):
        merge_students(room.class_id, ada.workspace_id, ada.workspace_id, teacher, root)
    merged = merge_students(room.class_id, ada.workspace_id, new_tab.workspace_id, teacher, root)
    assert merged.members[new_tab.workspace_id] == "Ada" and ada.workspace_id not in merged.members
    assert list(merged.members.values()) == ["Bob", "Cy", "Ada"]  # no ghost, nobody twice
    assert {load_record(run_id, root).owner for run_id in earlier} == {new_tab.workspace_id}
    assert {run.run_id for run in class_runs(merged, root)} == set(earlier)  # still the class's runs
    board = best_per_student(leaderboard(merged, list_runs(root)))
    assert [(row.nickname, row.test_accuracy) for row in board] == [("Ada", 0.9)]
    assert read_workspace(new_tab.workspace_id, root).nickname == "Ada"
    assert not read_workspace(ada.workspace_id, root).class_id  # the lost tab is in no class now
    assert bob.workspace_id in merged.members
