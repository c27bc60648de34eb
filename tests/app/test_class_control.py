"""A class of 30 under AppTest, through the real queue: the teacher pauses Starts and sets a class cap (the
students' Starts are refused in words, and the table says who is blocked, and by what), stops every run, and
sees who is idle; who needs the teacher comes first."""

from __future__ import annotations

import time

import pytest

from core.classroom.classes import load_class
from core.jobs.queue import training_queue
from core.store.workspaces import update_workspace
from tests.app.harness import rerun
from tests.app.test_classroom import create_class_page, join
from tests.robustness.conftest import assert_clean, assert_says
from tests.unit.test_jobs import wait_for
from ui import state
from ui.classroom import state as class_state
from ui.train import state as train_state
from ui.train.settings import setting_key


@pytest.fixture
def hosted(monkeypatch):
    monkeypatch.setenv("CNNLAB_HOSTED", "1")
    monkeypatch.setenv("CNNLAB_WORKERS", "1")


def press_start(app, epochs: int) -> None:
    app.switch_page("pages/train.py")
    rerun(app)
    app.slider(key=setting_key("epochs")).set_value(epochs)
    rerun(app)
    app.button(key=train_state.START).click()
    rerun(app)


def table(teacher) -> dict[str, tuple[str, str]]:
    rerun(teacher)
    live = teacher.dataframe[0].value
    return {row["student"]: (row["state"], row["detail"]) for _, row in live.iterrows()}


def test_thirty_students_pause_a_class_cap_stop_all_and_who_is_stuck(hosted):
    teacher, room, code = create_class_page("Year 10, a class of 30")
    students = [join(code, f"Student {number:02d}") for number in range(1, 31)]
    assert len(load_class(room.class_id).members) == 30
    assert set(table(teacher).values()) == {("no run yet", "")}

    # "Eyes on me": Starts are paused; a Start is refused in words, and the table says who is blocked and why.
    teacher.button(key=class_state.PAUSE).click()
    rerun(teacher)
    assert_says(teacher, "Starts are paused")
    press_start(students[0], 1)
    assert_clean(students[0])
    assert_says(students[0], "paused training for the class")
    assert train_state.JOB_ID not in students[0].session_state or not students[0].session_state[train_state.JOB_ID]
    rows = table(teacher)
    assert rows["Student 01"][0] == "blocked" and "paused" in rows["Student 01"][1]
    assert teacher.dataframe[0].value["student"].iloc[0] == "Student 01"  # who needs the teacher comes first
    teacher.button(key=class_state.PAUSE).click()  # "Resume Starts"
    rerun(teacher)

    # A class cap within the server's: 3 epochs a run. A Start over it is refused with the cap in words.
    teacher.number_input(key=f"{class_state.CAP_FIELDS[0]}_{room.class_id}").set_value(3)
    teacher.button(key=class_state.SAVE_CAPS).click()
    rerun(teacher)
    assert_says(teacher, "caps are saved")
    press_start(students[1], 5)
    assert_says(students[1], "caps this class's runs at 3 epochs")
    assert table(teacher)["Student 02"] == ("blocked", "Your teacher caps this class's runs at 3 epochs: set "
                                                      "Epochs to 3 or fewer.")

    # Within the cap, two runs start; the teacher stops them all.
    press_start(students[1], 3)
    press_start(students[2], 3)
    jobs = [students[1].session_state[train_state.JOB_ID], students[2].session_state[train_state.JOB_ID]]
    assert all(jobs) and table(teacher)["Student 02"][0] in ("queued", "training")  # unblocked by the Start
    teacher.button(key=class_state.STOP_ALL).click()
    rerun(teacher)
    assert_says(teacher, "Stopped 2 runs")
    wait_for(lambda: not any(training_queue().status(job_id).active for job_id in jobs), 120)
    rows = table(teacher)
    assert {rows["Student 02"][0], rows["Student 03"][0]} <= {"cancelled", "finished (stopped early)"}

    # A student who has opened no page for a while is idle.
    idle = load_class(room.class_id).members
    member = next(member for member, nickname in idle.items() if nickname == "Student 30")
    update_workspace(member, lambda workspace: setattr(workspace, "last_seen", time.time() - 20 * 60))
    assert table(teacher)["Student 30"] == ("idle", "no page opened for 20 min")
    states = list(teacher.dataframe[0].value["state"])
    assert states.index("idle") < states.index("no run yet")  # the stuck before the rest
    assert states[0] == "blocked"
    assert students[0].session_state[state.OWNER] != teacher.session_state[state.OWNER]
