"""Classes under abuse (issue 30 #8, #9, #11): closing takes only the class's runs, the teacher can take the class
back, classes are capped and expire, codes are found by an index, and names cannot pose as others."""

from __future__ import annotations

import pytest

import core.classroom.classes as classes
from core.classroom.classes import (
    MAX_OPEN_CLASSES,
    ClassError,
    class_runs,
    create_class,
    find_by_code,
    join_class,
    load_class,
    new_join_code,
    remove_student,
)
from core.classroom.closing import close_class, delete_class, expire_classes
from core.classroom.nicknames import NicknameError
from core.store.runs import StoreError, list_runs, rename_run
from core.store.workspaces import create_workspace, read_workspace
from core.train.config import ConfigError, TrainConfig, check_config
from tests.unit.test_classroom import store_run


@pytest.fixture
def room(tmp_path):
    _, teacher = create_workspace(tmp_path)
    return tmp_path, teacher, create_class("Lesson", teacher, tmp_path)


def test_deleting_a_class_keeps_the_runs_a_student_made_before_joining(room):
    root, teacher, lesson = room
    _, ada = create_workspace(root)
    before = store_run(root, ada.workspace_id, 0.9, seconds=60, name="my own, trained before she joined")
    join_class(lesson.join_code, "Ada", ada, root)
    during = store_run(root, ada.workspace_id, 0.8, seconds=0.0, name="in the lesson")
    assert [run.run_id for run in class_runs(load_class(lesson.class_id, root), root)] == [during]
    close_class(lesson.class_id, teacher, root)
    assert delete_class(lesson.class_id, teacher, root) == [during]
    assert [run.run_id for run in list_runs(root) if run.source == "runs"] == [before]


def test_the_join_form_says_which_runs_a_close_removes():
    from tests.app.harness import open_app

    app = open_app("pages/classroom.py", query={"join": "ABCD-EFGH"})
    text = " ".join(element.value for element in app.caption)
    assert "Runs you made before joining stay yours" in text, text


def test_a_teacher_takes_a_class_back_by_removing_members_and_issuing_a_new_code(room):
    root, teacher, lesson = room
    intruders = [create_workspace(root)[1] for _ in range(3)]
    for number, intruder in enumerate(intruders):
        join_class(lesson.join_code, f"Alice{number}", intruder, root)
    for intruder in intruders:
        remove_student(lesson.class_id, intruder.workspace_id, teacher, root)
    fresh = new_join_code(lesson.class_id, teacher, root)
    assert fresh.join_code != lesson.join_code and not load_class(lesson.class_id, root).members
    with pytest.raises(ClassError, match="no class with this join code"):
        join_class(lesson.join_code, "Alice", intruders[0], root)  # the old code opens nothing
    _, alice = create_workspace(root)
    assert "Alice" in join_class(fresh.join_code, "Alice", alice, root).members.values()  # her name is free again
    with pytest.raises(ClassError, match="not in the class"):
        remove_student(lesson.class_id, intruders[0].workspace_id, teacher, root)
    _, stranger = create_workspace(root)
    with pytest.raises(ClassError, match="no such class"):
        new_join_code(lesson.class_id, stranger, root)


def test_a_workspace_may_have_only_a_few_open_classes(room):
    root, teacher, _ = room
    for number in range(MAX_OPEN_CLASSES - 1):
        create_class(f"More {number}", teacher, root)
    with pytest.raises(ClassError, match=f"You have {MAX_OPEN_CLASSES} open classes"):
        create_class("One too many", teacher, root)
    close_class(read_workspace(teacher.workspace_id, root).teaches[0], teacher, root)
    create_class("After closing one", teacher, root)


def test_open_classes_expire(room):
    root, _teacher, lesson = room
    assert expire_classes(24, root, now=lesson.created + 23 * 3600) == []
    assert expire_classes(24, root, now=lesson.created + 25 * 3600) == [lesson.class_id]
    with pytest.raises(ClassError, match="has been closed"):
        find_by_code(lesson.join_code, root)


def test_a_join_reads_its_class_from_the_code_index_not_every_class(room, monkeypatch):
    root, _teacher, lesson = room
    for number in range(30):
        create_class(f"Other {number}", create_workspace(root)[1], root)
    monkeypatch.setattr(classes, "all_classes", lambda *args: pytest.fail("read every class"))
    _, student = create_workspace(root)
    assert join_class(lesson.join_code, "Ada", student, root).class_id == lesson.class_id
    with pytest.raises(ClassError, match="no class with this join code"):
        find_by_code("ZZZZ-ZZZZ", root)


def test_a_store_from_before_the_index_builds_it_once(room):
    root, _teacher, lesson = room
    import shutil

    shutil.rmtree(root / classes.CLASSES / classes.CODES)
    assert find_by_code(lesson.join_code, root).class_id == lesson.class_id


def test_names_refuse_bidi_and_invisible_characters(room):
    root, teacher, _lesson = room
    with pytest.raises(ClassError, match="U\\+202E"):
        create_class("Lesson \u202eevil", teacher, root)
    config = TrainConfig(dataset="digits", spec=[{"kind": "flatten"}], name="mine\u200b")
    with pytest.raises(ConfigError, match="U\\+200B"):
        check_config(config, 1000)
    run = store_run(root, teacher.workspace_id, 0.5)
    with pytest.raises(StoreError, match="U\\+202E"):
        rename_run(run, "fine \u202e", root)


def test_look_alike_nicknames_are_refused_within_a_class(room):
    root, _teacher, lesson = room
    join_class(lesson.join_code, "Alex", create_workspace(root)[1], root)
    with pytest.raises(NicknameError, match="already called"):
        join_class(lesson.join_code, "\u0410lex", create_workspace(root)[1], root)  # Cyrillic А
    with pytest.raises(NicknameError, match="already called “Alex”"):  # the taken name, not the typed one
        join_class(lesson.join_code, "ALEX", create_workspace(root)[1], root)
    join_class(lesson.join_code, "Alexa", create_workspace(root)[1], root)
