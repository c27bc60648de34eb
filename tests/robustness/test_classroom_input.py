"""Hostile input on the Class page and in the address: nicknames, forged workspace keys and join codes, and a class
closed under its students. Each gets a clear message, no traceback, and nothing of it is rendered as markup."""

from __future__ import annotations

import pytest

from core.classroom.classes import load_class
from tests.app.harness import open_app, rerun
from tests.robustness.conftest import alerts, assert_clean, assert_says
from ui import state
from ui.classroom import state as class_state

CLASS = "pages/classroom.py"


@pytest.fixture
def lesson():
    teacher = open_app(CLASS)
    teacher.text_input(key=class_state.CLASS_NAME).set_value("Robust class")
    teacher.button(key=class_state.CREATE).click()
    rerun(teacher)
    return teacher, load_class(teacher.session_state[class_state.TAUGHT])


def try_join(code: str, nickname: str):
    app = open_app(CLASS)
    app.text_input(key=class_state.JOIN_CODE).set_value(code)
    app.text_input(key=class_state.NICKNAME).set_value(nickname)
    app.button(key=class_state.JOIN).click()
    return rerun(app)


@pytest.mark.parametrize(("nickname", "words"), [
    ("<img src=x onerror=alert(1)>", "letters, digits"),
    ("<b>bold</b>", "letters, digits"),
    ("Ada\u202eevil", "control or invisible"),
    ("Ada\x07", "control or invisible"),
    ("   ", "Type a nickname"),
])
def test_hostile_nicknames_get_a_reason_and_join_nothing(lesson, nickname, words):
    _, room = lesson
    app = try_join(room.join_code, nickname)
    assert_clean(app)
    message = assert_says(app, words)
    assert "<img" not in message and "<b>" not in message and len(message) < 300
    assert not load_class(room.class_id).members


def test_a_10000_character_nickname_is_cut_by_the_field_as_in_a_browser(lesson):
    _, room = lesson
    app = try_join(room.join_code, "x" * 10_000)  # the core refuses it whole (tests/unit/test_classroom.py)
    assert_clean(app)
    assert list(load_class(room.class_id).members.values()) == ["x" * 24]


def test_a_taken_nickname_is_refused_whatever_its_case(lesson):
    _, room = lesson
    assert_says(try_join(room.join_code, "Sam"), "You joined")
    app = try_join(room.join_code, "SAM")
    assert_says(app, "already called")
    assert list(load_class(room.class_id).members.values()) == ["Sam"]


@pytest.mark.parametrize(("key", "words"), [
    ("A" * 32, "not known on this server"),
    ("<script>alert(1)</script>", "not valid"),
    ("../../etc/passwd", "not valid"),
    ("x" * 10_000, "not valid"),
])
def test_a_forged_workspace_key_starts_a_new_workspace_and_says_so(lesson, key, words):
    teacher, _ = lesson
    app = open_app(CLASS, query={"ws": key})
    assert_clean(app)
    assert_says(app, words)
    assert app.session_state[state.WORKSPACE_KEY] != key
    assert app.session_state[state.OWNER] != teacher.session_state[state.OWNER]
    assert not app.dataframe  # no teacher's view, no leaderboard


@pytest.mark.parametrize(("code", "words"), [("ZZZZ-ZZZZ", "no class with this join code"),
                                             ("<script>", "8 letters and digits"), ("", "8 letters and digits")])
def test_a_forged_join_code_opens_nothing(lesson, code, words):
    app = try_join(code, "Dee")
    assert_clean(app)
    assert_says(app, words)


def test_a_class_closed_under_its_students_warns_them_says_so_and_its_code_stops(lesson):
    teacher, room = lesson
    student = try_join(room.join_code, "Ada")
    teacher.button(key=class_state.WARN).click()  # "Warn the students"
    rerun(teacher)
    rerun(student)
    assert_says(student, "about to close")  # on the Class page and in the sidebar of every page
    assert any("about to close" in element.value for element in student.sidebar.warning)
    teacher.checkbox(key=class_state.CLOSE_CONFIRM).check()
    rerun(teacher)
    teacher.button(key=class_state.CLOSE).click()
    rerun(teacher)
    assert_says(teacher, "Class closed")
    assert_says(teacher, "Closed at")  # the teacher still has the class, with its reopen button
    rerun(student)
    assert_clean(student)
    assert_says(student, "is closed. The runs you made in it are kept")
    late = try_join(room.join_code, "Bo")
    assert_says(late, "has been closed")
    assert all("Traceback" not in alert for alert in alerts(late))
    teacher.button(key=class_state.REOPEN).click()
    rerun(teacher)
    assert_says(teacher, "is open again")
    assert load_class(room.class_id).is_open
    assert_says(try_join(room.join_code, "Bo"), "You joined")


def test_a_full_disk_under_the_teachers_controls_says_so_without_a_traceback_or_a_path(lesson, monkeypatch):
    import errno
    import os

    teacher, room = lesson
    try_join(room.join_code, "Ada")
    rerun(teacher)

    def full(descriptor):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)  # every atomic write flushes with fsync: the disk refuses it
    teacher.button(key=class_state.PAUSE).click()
    rerun(teacher)
    monkeypatch.undo()
    assert_clean(teacher)
    message = assert_says(teacher, "could not save this", "No space left on device", "Nothing was changed")
    assert "/" not in message  # no server path
    assert not load_class(room.class_id).paused



def test_a_full_disk_under_a_join_says_so_without_a_traceback(lesson, monkeypatch):
    import errno
    import os

    _, room = lesson
    app = open_app(CLASS)
    app.text_input(key=class_state.JOIN_CODE).set_value(room.join_code)
    app.text_input(key=class_state.NICKNAME).set_value("Ada")

    def full(descriptor):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    app.button(key=class_state.JOIN).click()
    rerun(app)
    monkeypatch.undo()
    assert_clean(app)
    assert_says(app, "could not save this", "No space left on device")
    assert not load_class(room.class_id).members


def test_a_student_taken_out_sees_no_notice_of_the_class_in_the_sidebar(lesson):
    from core.classroom.classes import remove_student
    from core.store.workspaces import read_workspace

    teacher, room = lesson
    student = try_join(room.join_code, "Ada")
    teacher.button(key=class_state.PAUSE).click()
    rerun(teacher)
    rerun(student)
    assert any("paused training" in element.value for element in student.sidebar.warning)
    owner = read_workspace(teacher.session_state[state.OWNER])
    remove_student(room.class_id, student.session_state[state.OWNER], owner)
    student.switch_page("pages/home.py")
    rerun(student)
    assert not any("paused training" in element.value for element in student.sidebar.warning)
