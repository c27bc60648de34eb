"""A class in Chromium on a hosted server: a teacher creates it, three students join from the join link and each
trains a tiny run through the queue; the leaderboard, sharing, a student's view, a reload, and a forbidden run."""

from __future__ import annotations

import re
import time
import zipfile
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from core.classroom.classes import all_classes
from core.store.runs import list_runs
from tests.browser.conftest import assert_no_exception, start_server, wait_until_idle

pytestmark = pytest.mark.browser


def workspace_key(tab) -> str:
    """The key in the tab's address, once the app has written it there."""
    tab.wait_for_url(re.compile(r"[?&]ws=[A-Za-z0-9_-]{32}(&|$)"), timeout=30_000)
    return parse_qs(urlsplit(tab.url).query)["ws"][0]


PATHS = {"Train": "/train", "Class": "/classroom"}


def nav(tab, title: str) -> None:
    """Opens a page from the sidebar and waits until the address is that page's."""
    tab.get_by_test_id("stSidebarNavItems").get_by_role("link", name=title, exact=True).click()  # not "My classes"
    tab.wait_for_url(re.compile(re.escape(PATHS[title]) + r"(\?|$)"), timeout=30_000)
    wait_until_idle(tab)


def test_a_class_in_the_browser(browser_context, data_dir, tmp_path, monkeypatch):
    store = tmp_path / "store"
    monkeypatch.setenv("CNNLAB_HOSTED", "1")
    monkeypatch.setenv("CNNLAB_WORKERS", "2")
    monkeypatch.setenv("CNNLAB_STORE_DIR", str(store))
    server = start_server(tmp_path)
    teacher = browser_context.new_page()
    students = []
    try:
        teacher.set_default_timeout(60_000)
        teacher.goto(f"{server.url}/classroom")
        wait_until_idle(teacher)
        assert len(workspace_key(teacher)) == 32  # a new private workspace, its key in the address
        teacher.get_by_role("textbox", name="Class name").fill("Lesson 3 <i>CNNs</i>")
        teacher.get_by_role("button", name="Create the class").click()
        wait_until_idle(teacher)
        expect(teacher.get_by_text("Lesson 3 <i>CNNs</i>").first).to_be_visible()  # as typed: not markup
        room = all_classes(store)[0]
        teacher.screenshot(path=str(tmp_path / "class-teacher.png"), full_page=True)

        for nickname, epochs in (("Ada", 1), ("Bob", 3), ("Cy", None)):  # None: the recommended 20
            tab = browser_context.new_page()
            tab.set_default_timeout(60_000)
            students.append(tab)
            tab.goto(f"{server.url}/classroom?join={room.join_code}")  # the join link: no key of anyone's
            wait_until_idle(tab)
            tab.get_by_role("textbox", name="Nickname").fill(nickname)
            tab.get_by_role("button", name="Join", exact=True).click()
            wait_until_idle(tab)
            expect(tab.get_by_text(f"as {nickname}").first).to_be_visible()
            key = workspace_key(tab)
            nav(tab, "Train")  # a page switch keeps the key in the address
            assert workspace_key(tab) == key and "/train" in tab.url
            if epochs is not None:
                tab.get_by_role("tab", name="2 · Hyperparameters and callbacks").click()
                tab.get_by_role("slider", name="Epochs").focus()
                tab.keyboard.press("Home")
                for _ in range(epochs - 1):
                    tab.keyboard.press("ArrowRight")
                wait_until_idle(tab)
            tab.get_by_role("button", name="Start training").click()
        for tab in students:
            expect(tab.get_by_text(re.compile("finished after"))).to_be_visible(timeout=240_000)

        # The teacher's leaderboard fills in by itself as the runs are stored: three rows, best test accuracy first.
        runs = {run.owner: run for run in list_runs(store) if run.source == "runs"}
        assert len(runs) == 3
        board = teacher.get_by_test_id("stDataFrame").nth(1)
        expect(board).to_be_visible(timeout=30_000)
        expect(teacher.get_by_role("combobox", name="Run", exact=True)).to_be_visible(timeout=30_000)
        teacher.wait_for_timeout(2 * 3_000)  # one more refresh: the last run may have been stored after the first
        wait_until_idle(teacher)
        teacher.screenshot(path=str(tmp_path / "class-leaderboard.png"), full_page=True)
        # The table is drawn on a canvas; the run picker below it lists the same rows, in order, as text.
        accuracy = {run.owner: run.metrics["test"]["accuracy"] for run in runs.values()}
        members = all_classes(store)[0].members
        teacher.get_by_role("combobox", name="Run", exact=True).click()
        options = teacher.get_by_role("option").all_inner_texts()
        teacher.keyboard.press("Escape")
        assert len(options) == 3, options
        # In rank order; the labels carry no rank, which changes as runs come in (`ui.choices`).
        shown = [(rank, text.split(" · ")[0]) for rank, text in enumerate(options, start=1)]
        best_first = sorted(members, key=lambda owner: -accuracy[owner])
        assert [accuracy[next(o for o in members if members[o] == name)] for _, name in shown] == \
            [accuracy[owner] for owner in best_first]

        # The teacher shares Bob's run; Ada sees it on her Class page, after a reload too.
        bob = next(run for run in runs.values() if room_member(store, run.owner) == "Bob")
        cy = next(run for run in runs.values() if room_member(store, run.owner) == "Cy")
        teacher.get_by_role("combobox", name="Run", exact=True).click()
        teacher.get_by_role("option", name=re.compile(r"^Bob · ")).click()
        wait_until_idle(teacher)
        teacher.get_by_role("button", name="Share with the class").click()
        wait_until_idle(teacher)
        expect(teacher.get_by_text("Shared with the class.")).to_be_visible()
        ada = students[0]
        ada_key = workspace_key(ada)
        nav(ada, "Class")
        expect(ada.get_by_text("Shared by your teacher")).to_be_visible()
        expect(ada.get_by_text(bob.name).first).to_be_visible()
        ada.screenshot(path=str(tmp_path / "class-student.png"), full_page=True)
        ada.reload()
        wait_until_idle(ada)
        assert workspace_key(ada) == ada_key
        expect(ada.get_by_text("You are in this class as")).to_be_visible()
        expect(ada.get_by_text("Your rank")).to_be_visible()
        ada.screenshot(path=str(tmp_path / "class-student-reloaded.png"), full_page=True)

        # Open the shared run in Evaluate; Cy's unshared run is "no run" to Ada, even by its address.
        ada.get_by_role("button", name="Open in Evaluate").click()
        wait_until_idle(ada)
        expect(ada.locator("h1").first).to_have_text("Evaluate")
        assert workspace_key(ada) == ada_key and f"run={bob.run_id}" in ada.url
        ada.goto(f"{server.url}/evaluate?ws={ada_key}&run={cy.run_id}")
        wait_until_idle(ada)
        expect(ada.get_by_text("There is no run").first).to_be_visible()

        # A second tab with Ada's private link, on Train: her latest run, ended, with its result.
        second = browser_context.new_page()
        students.append(second)
        second.goto(f"{server.url}/train?ws={ada_key}")
        wait_until_idle(second)
        expect(second.get_by_text(re.compile("finished after")).first).to_be_visible()

        # The end of the lesson: the teacher downloads the results as one zip, then closes the class.
        with teacher.expect_download() as download:
            teacher.get_by_role("button", name="Download results (.zip)").click()
        with zipfile.ZipFile(download.value.path()) as archive:
            assert sum(name.endswith("/model.keras") for name in archive.namelist()) == 3
            assert "leaderboard.csv" in archive.namelist()
        teacher.get_by_text("End of the lesson: close the class").click()
        teacher.get_by_role("button", name="Warn the students").click()
        wait_until_idle(teacher)
        students[1].goto(f"{server.url}/train?ws={workspace_key(students[1])}")  # a student on another page
        wait_until_idle(students[1])
        expect(students[1].get_by_test_id("stSidebar").get_by_text("about to close")).to_be_visible()
        confirm = teacher.get_by_test_id("stCheckbox").filter(has_text="I understand: closing stops")
        confirm.locator("label").click()  # the label, as a person clicks it (the input itself is hidden)
        expect(teacher.get_by_role("checkbox", name=re.compile("I understand: closing stops"))).to_be_checked()
        wait_until_idle(teacher)
        expect(teacher.get_by_role("button", name="Close the class")).to_be_enabled()
        teacher.get_by_role("button", name="Close the class").click()
        wait_until_idle(teacher)
        expect(teacher.get_by_text("Class closed.")).to_be_visible()
        # Closed, the class stays the teacher's to read: its leaderboard and its results, and a way to reopen it.
        expect(teacher.get_by_role("button", name="Reopen the class")).to_be_visible()
        expect(teacher.get_by_role("button", name="Download results (.zip)")).to_be_visible()
        expect(teacher.locator('[data-testid="stDataFrame"]')).to_have_count(1)  # the leaderboard
        teacher.screenshot(path=str(tmp_path / "class-closed-teacher.png"))
        students[1].goto(f"{server.url}/classroom?ws={workspace_key(students[1])}")
        wait_until_idle(students[1])
        expect(students[1].get_by_text("is closed. The runs you made in it are kept until").first).to_be_visible()
        for tab in (teacher, *students):
            assert_no_exception(tab)
        keys = {workspace_key(tab) for tab in (teacher, *students[:3])}
        log = server.log_path.read_text()
        assert not [key for key in keys if key in log]  # the server never logs a workspace key
    finally:
        for tab in (teacher, *students):
            tab.close()
        server.stop()
        time.sleep(0.5)


def room_member(store, owner: str) -> str:
    return all_classes(store)[0].members.get(owner, "")
