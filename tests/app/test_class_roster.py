"""The roster of a class of 30 under AppTest: a student who lost their tab comes back by their seat link, or joins
again and the teacher hands the seat back; the teacher renames, takes one out, and locks the class."""

from __future__ import annotations

import pytest

from core.classroom.classes import load_class
from tests.app.harness import open_app, rendered, rerun
from tests.app.test_classroom import CLASS, create_class_page, join, key_of, page_text
from tests.robustness.conftest import assert_clean, assert_says
from ui.classroom import state as class_state


@pytest.fixture
def hosted(monkeypatch):
    monkeypatch.setenv("CNNLAB_HOSTED", "1")


def nicknames(room_id: str) -> list[str]:
    return list(load_class(room_id).members.values())


def test_a_class_of_30_reclaims_merges_renames_removes_and_locks(hosted):
    teacher, room, code = create_class_page("Roster lesson")
    students = [join(code, f"Student {number:02d}") for number in range(1, 31)]
    # The seat link is on the class page right after joining (besides the sidebar): the student's private link.
    assert any(key_of(students[4]) in element.value for element in students[4].main.code)  # Student 05's

    # Student 05 closes the tab and opens the seat link on another device: the same seat, nothing to redo.
    back = open_app(CLASS, query={"ws": key_of(students[4])})
    assert "You are in this class as **Student 05**" in page_text(back)

    # Student 06 lost the tab and the link: "Student 06" is taken, and the message says what to do.
    lost = open_app(CLASS, query={"join": code})
    lost.text_input(key=class_state.NICKNAME).set_value("Student 06")
    lost.button(key=class_state.JOIN).click()
    rerun(lost)
    assert_clean(lost)
    assert_says(lost, "already called “Student 06”", "hand your seat back")
    lost.text_input(key=class_state.NICKNAME).set_value("Student 06 again")
    lost.button(key=class_state.JOIN).click()
    rerun(lost)
    assert len(nicknames(room.class_id)) == 31
    members = {name: member for member, name in load_class(room.class_id).members.items()}

    # The teacher hands the seat back: the new tab is "Student 06" again, and the ghost is gone.
    rerun(teacher)
    teacher.selectbox(key=class_state.GHOST).select(members["Student 06"])
    teacher.selectbox(key=class_state.MERGE_INTO).select(members["Student 06 again"])
    rerun(teacher)
    teacher.button(key=class_state.MERGE).click()
    rerun(teacher)
    assert_says(teacher, "Seat handed back")
    assert len(nicknames(room.class_id)) == 30 and "Student 06 again" not in nicknames(room.class_id)
    assert "You are in this class as **Student 06**" in page_text(open_app(CLASS, query={"ws": key_of(lost)}))

    # Rename, and take one out.
    teacher.selectbox(key=class_state.RENAMED_WHO).select(members["Student 07"])
    teacher.text_input(key=class_state.NEW_NICKNAME).set_value("Grace H.")
    rerun(teacher)
    teacher.button(key=class_state.RENAME).click()
    rerun(teacher)
    assert "Grace H." in nicknames(room.class_id)
    teacher.multiselect(key=class_state.REMOVED_WHO).select(members["Student 30"])
    rerun(teacher)
    teacher.button(key=class_state.REMOVE).click()
    rerun(teacher)
    assert_says(teacher, "Took Student 30 out")
    assert len(nicknames(room.class_id)) == 29
    live = teacher.dataframe[0].value
    assert len(live) == 29 and "Grace H." in set(live["student"]) and "Student 30" not in set(live["student"])

    # Locked: nobody new gets in; a member's own link still works.
    teacher.button(key=class_state.LOCK).click()
    rerun(teacher)
    assert_says(teacher, "locked")
    stranger = open_app(CLASS, query={"join": code})
    stranger.text_input(key=class_state.NICKNAME).set_value("Mallory")
    stranger.button(key=class_state.JOIN).click()
    rerun(stranger)
    assert_says(stranger, "locked this class")
    assert "Mallory" not in nicknames(room.class_id)
    assert "You are in this class as" in rendered(page_text(open_app(CLASS, query={"ws": key_of(students[0])})))
