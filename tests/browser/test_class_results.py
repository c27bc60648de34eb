"""The teacher's results download in Chromium, while the room's live panels keep rerunning.

Every script or fragment run of any session ends with Streamlit's `remove_orphaned_files`, and a file made on
demand (a `download_button` given a callable) belongs to no session: two runs after it was made it is gone. In
a class of 30 live tabs that is a fraction of a second, so the browser's fetch of the zip could find nothing
("Download.path: canceled"). Here the fetch is held back while the room's own timer reruns its table.
"""

from __future__ import annotations

import io
import re
import time
import urllib.request
import zipfile

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_no_exception, wait_until_idle

pytestmark = pytest.mark.browser


def test_the_results_zip_downloads_even_when_the_room_reruns_before_the_browser_fetches_it(
        browser_context, app_server, tmp_path):
    from core.classroom.classes import create_class, join_class
    from core.store.runs import STORE_ROOT
    from core.store.workspaces import create_workspace
    from tests.unit.test_classroom import store_run
    from ui.classroom.views import LIVE_SECONDS

    key, teacher = create_workspace(STORE_ROOT)
    room = create_class("Results lesson", teacher, STORE_ROOT)
    student = create_workspace(STORE_ROOT)[1]
    join_class(room.join_code, "Grace", student, STORE_ROOT)
    store_run(STORE_ROOT, student.workspace_id, 0.875, seconds=0.0)
    tab = browser_context.new_page()
    tab.set_default_timeout(60_000)

    fetched = []

    def late(route):  # the browser's fetch of the file, after the room has rerun (at least) twice
        fetched.append(route.request.url)
        time.sleep(LIVE_SECONDS * 2.5)
        route.continue_()

    try:
        tab.goto(f"{app_server.url}/classroom?ws={key}")
        wait_until_idle(tab)
        tab.route(re.compile(r"/media/[0-9a-f]+\.zip"), late)
        button = tab.get_by_role("button", name="Download results (.zip)")
        expect(button).to_be_visible()
        with tab.expect_download(timeout=60_000) as download:
            button.click()
        with zipfile.ZipFile(io.BytesIO(open(download.value.path(), "rb").read())) as archive:
            names = archive.namelist()
        assert sum(name.endswith("/model.keras") for name in names) == 1 and "leaderboard.csv" in names, names
        time.sleep(LIVE_SECONDS * 2.5)  # the table reran twice more: the address the browser was given still works
        with urllib.request.urlopen(fetched[-1]) as response:  # a 404 raises
            assert response.read()[:2] == b"PK"
        assert_no_exception(tab)
    finally:
        tab.close()


def test_a_class_of_30_fits_the_teachers_room_at_1280_without_scrolling_inside_a_table(browser_context, app_server,
                                                                                        tmp_path):
    from core.classroom.classes import create_class, join_class
    from core.store.runs import STORE_ROOT
    from core.store.workspaces import create_workspace
    from tests.unit.test_classroom import store_run

    key, teacher = create_workspace(STORE_ROOT)
    room = create_class("Year 10 · a class of 30", teacher, STORE_ROOT)
    for number in range(30):
        student = create_workspace(STORE_ROOT)[1]
        join_class(room.join_code, f"Student {number + 1:02d} Longname-Dou", student, STORE_ROOT)
        for attempt in range(2):  # two runs each: the default board shows 30 rows, not 60
            store_run(STORE_ROOT, student.workspace_id, 0.5 + 0.01 * number + 0.001 * attempt,
                      seconds=0.0, name=f"fast_digits on Digits (scikit-learn, 8×8), {attempt + 1} epochs")
    tab = browser_context.new_page()
    tab.set_viewport_size({"width": 1280, "height": 800})
    tab.set_default_timeout(60_000)
    try:
        tab.goto(f"{app_server.url}/classroom?ws={key}")
        wait_until_idle(tab)
        expect(tab.get_by_text("60 runs in all")).to_be_visible()
        tables = tab.locator('[data-testid="stDataFrame"]')
        expect(tables).to_have_count(2)  # the live students, and the leaderboard

        def fits(index: int) -> None:
            scroller = tables.nth(index).locator(".dvn-scroller").first
            sizes = scroller.evaluate("e => [e.scrollWidth, e.clientWidth, e.scrollHeight, e.clientHeight]")
            assert sizes[0] <= sizes[1] + 1, f"table {index} scrolls sideways: {sizes}"
            assert sizes[2] <= sizes[3] + 1, f"table {index} scrolls inside: {sizes}"

        fits(0)
        fits(1)
        tab.get_by_role("button", name="Pause Starts").click()
        wait_until_idle(tab)
        expect(tab.get_by_role("button", name="Resume Starts")).to_be_visible()
        tab.screenshot(path=str(tmp_path / "teacher-room-30-1280.png"))
        tables.nth(1).scroll_into_view_if_needed()
        tab.screenshot(path=str(tmp_path / "teacher-board-30-1280.png"))
        tab.get_by_role("radio", name="All runs").click()  # every attempt: 60 rows, with the runs' names
        wait_until_idle(tab)
        expect(tab.get_by_text("60 runs in all")).to_have_count(0)
        fits(1)
        tab.screenshot(path=str(tmp_path / "teacher-board-all-1280.png"))
        assert_no_exception(tab)
    finally:
        tab.close()
