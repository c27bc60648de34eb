"""Limits per client, not only per workspace (issue 30 #2, #9): a workspace costs nothing, so one client had as
many as it liked. About 60 browser contexts made 59 workspaces, 200 fresh workspaces queued 200 CIFAR-10 runs in
3.2 s and 200 joined one class in 0.7 s."""

from __future__ import annotations

import pytest

import core.store.ratelimits as ratelimits
from core.jobs.jobs import JobLimitError, claim_next, queue_wait, submit_job
from core.model.layers import spec_to_dicts
from core.model.presets import PRESETS
from core.store.hosting import Limits, current_limits
from core.store.ratelimits import RateLimitError, client_id, hit, rates
from core.train.config import TrainConfig
from tests.app.harness import open_app, rerun
from tests.robustness.conftest import assert_clean, assert_says
from ui import guard, state
from ui.classroom import state as class_state

HOSTILE, HONEST = "203.0.113.66", "198.51.100.7"


def config(name: str = "run") -> TrainConfig:
    return TrainConfig(dataset="digits", spec=spec_to_dicts(PRESETS["dense"].spec()), model_key="dense", name=name,
                       epochs=1, batch_size=64)


@pytest.fixture(autouse=True)
def fresh_counts(monkeypatch):
    """Each test counts from zero, in memory."""
    monkeypatch.delenv("CNNLAB_BROKER_URL", raising=False)
    ratelimits._limiters.clear()
    yield
    ratelimits._limiters.clear()


def test_a_client_is_refused_past_its_rate_and_told_when_to_come_back():
    environ = {"CNNLAB_RATE_START": "3/minute"}
    for _ in range(3):
        hit("start", client_id(HOSTILE), environ)
    with pytest.raises(RateLimitError, match=r"Too many training runs started from your network: this server "
                                             r"allows 3 per minute\. Try again in 1 minute\..*CNNLAB_RATE_START"):
        hit("start", client_id(HOSTILE), environ)
    hit("start", client_id(HONEST), environ)  # another client is not held up
    hit("start", "", environ)  # an unknown client (a test harness) is never limited


def test_rates_come_from_the_environment_and_a_bad_value_falls_back():
    assert rates({"CNNLAB_RATE_JOIN": "5/minute"})["join"].item.amount == 5
    assert str(rates({"CNNLAB_RATE_JOIN": "lots"})["join"].item) == str(rates({})["join"].item)
    assert client_id(HOSTILE) != HOSTILE and len(client_id(HOSTILE)) == 16  # no address is kept


def test_fifty_fresh_workspaces_from_one_address_are_refused_past_the_limit(monkeypatch):
    monkeypatch.setenv("CNNLAB_HOSTED", "1")
    monkeypatch.setenv("CNNLAB_RATE_WORKSPACE", "40/hour")
    monkeypatch.setattr(guard, "client_address", lambda: HOSTILE)
    opened = [open_app("pages/home.py") for _ in range(50)]
    made = [app for app in opened if state.OWNER in app.session_state]
    assert len(made) == 40
    refused = opened[-1]
    assert_clean(refused)
    assert_says(refused, "Too many new workspaces from your network", "private link")
    monkeypatch.setattr(guard, "client_address", lambda: HONEST)
    assert state.OWNER in open_app("pages/home.py").session_state  # a student elsewhere still gets in


def test_a_mass_join_is_refused_and_the_real_students_still_get_in(monkeypatch):
    monkeypatch.setenv("CNNLAB_HOSTED", "1")
    monkeypatch.setenv("CNNLAB_RATE_JOIN", "5/hour")
    monkeypatch.setattr(guard, "client_address", lambda: HONEST)
    teacher = open_app("pages/classroom.py")
    teacher.text_input(key=class_state.CLASS_NAME).set_value("Lesson")
    teacher.button(key=class_state.CREATE).click()
    rerun(teacher)
    from core.classroom.classes import load_class

    code = load_class(teacher.session_state[class_state.TAUGHT]).join_code
    monkeypatch.setattr(guard, "client_address", lambda: HOSTILE)
    joined = 0
    for number in range(8):
        app = open_app("pages/classroom.py", query={"join": code})
        app.text_input(key=class_state.NICKNAME).set_value(f"Alice{number}")
        app.button(key=class_state.JOIN).click()
        rerun(app)
        joined += any("You joined" in alert.value for alert in app.success)
    assert joined == 5
    assert_says(app, "Too many class joins from your network")
    monkeypatch.setattr(guard, "client_address", lambda: HONEST)
    alice = open_app("pages/classroom.py", query={"join": code})
    alice.text_input(key=class_state.NICKNAME).set_value("Alice")
    alice.button(key=class_state.JOIN).click()
    rerun(alice)
    assert_says(alice, "You joined")


def test_a_clients_second_run_waits_behind_everyones_first(tmp_path):
    limits = Limits(workers=1)
    flood = [submit_job(config(f"flood {n}"), f"ws{n}", root=tmp_path, limits=limits, start_workers=False,
                        client="hostile") for n in range(3)]
    student = submit_job(config("student"), "student", root=tmp_path, limits=limits, start_workers=False,
                         client="honest")
    assert queue_wait(student, tmp_path).position == 2  # behind the flood's first run only
    order = []
    while (claimed := claim_next(tmp_path, 1)) is not None:
        order.append(claimed[1].job_id)
    assert order == [flood[0], student, flood[1], flood[2]]


def test_a_client_may_have_only_so_many_active_runs(tmp_path):
    limits = current_limits({"CNNLAB_HOSTED": "1", "CNNLAB_JOBS_PER_CLIENT": "3"})
    for n in range(3):
        submit_job(config(), f"ws{n}", root=tmp_path, limits=limits, start_workers=False, client="hostile")
    with pytest.raises(JobLimitError, match="3 runs from your network are waiting or training"):
        submit_job(config(), "ws9", root=tmp_path, limits=limits, start_workers=False, client="hostile")
    submit_job(config(), "student", root=tmp_path, limits=limits, start_workers=False, client="honest")


def test_two_servers_on_one_redis_share_the_counts(monkeypatch):
    from tests.robustness.test_scale_out import REDIS, Redis

    if REDIS is None:
        pytest.skip("no redis-server")
    redis = Redis()
    try:
        environ = {"CNNLAB_BROKER_URL": redis.url, "CNNLAB_RATE_UPLOAD": "3/minute"}
        for _ in range(3):
            hit("upload", client_id(HOSTILE), environ)
        ratelimits._limiters.clear()  # the second server: its own limiter, the same Redis
        with pytest.raises(RateLimitError, match="Too many uploads"):
            hit("upload", client_id(HOSTILE), environ)
    finally:
        redis.stop()


def test_on_a_shared_server_a_flood_never_holds_every_worker(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNLAB_HOSTED", "1")
    monkeypatch.setenv("CNNLAB_WORKERS", "2")
    limits = current_limits()
    flood = [submit_job(config(f"flood {n}"), f"ws{n}", root=tmp_path, limits=limits, start_workers=False,
                        client="hostile") for n in range(3)]
    assert claim_next(tmp_path, 1)[1].job_id == flood[0]
    assert claim_next(tmp_path, 2) is None  # the second worker is kept for another client
    student = submit_job(config("student"), "student", root=tmp_path, limits=limits, start_workers=False,
                         client="honest")
    assert claim_next(tmp_path, 2)[1].job_id == student
    monkeypatch.setenv("CNNLAB_HOSTED", "")  # on one's own machine every worker works
    assert claim_next(tmp_path, 3)[1].job_id == flood[1]
