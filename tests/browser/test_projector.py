"""The projector view in Chromium at 1920×1080: opened from the teacher's room, no key in its address, and a QR
code a phone can read as the join link."""

from __future__ import annotations

import io

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import assert_no_exception, wait_until_idle

pytestmark = pytest.mark.browser


def test_the_projector_view_shows_the_code_and_a_readable_qr_and_no_key(browser_context, app_server, tmp_path):
    room = browser_context.new_page()
    room.set_default_timeout(60_000)
    try:
        room.goto(f"{app_server.url}/classroom")
        wait_until_idle(room)
        room.get_by_label("Class name").fill("Year 10 · CNNs")
        room.get_by_role("button", name="Create the class").click()
        expect(room.get_by_role("link", name="Projector view")).to_be_visible()
        code = room.locator('[data-testid="stMain"] [data-testid="stCode"] code').first.text_content().strip()
        assert "ws=" in room.url  # the teacher's own tab keeps its key…
        with browser_context.expect_page() as opened:
            room.get_by_role("link", name="Projector view").click()
        wall = opened.value
        wall.set_viewport_size({"width": 1920, "height": 1080})
        wall.set_default_timeout(60_000)
        wait_until_idle(wall)
        expect(wall.get_by_text(code, exact=True)).to_be_visible()
        assert "ws=" not in wall.url and "projector=" in wall.url  # …the wall's address has none
        assert wall.get_by_text("Show my teacher link").count() == 0
        assert wall.get_by_text("Page not found").count() == 0  # a fresh tab finds the page at once
        assert_no_exception(wall)
        path = tmp_path / "projector-1920.png"
        wall.screenshot(path=str(path))
        read = [result.text for result in zxingcpp.read_barcodes(Image.open(io.BytesIO(path.read_bytes())))]
        assert read == [f"{app_server.url}/classroom?join={code.replace('-', '')}"]
        height = wall.get_by_text(code, exact=True).bounding_box()["height"]
        assert height >= 100  # about 7 cm a letter on a 3 m wide projection: readable from the back of a room
        wall.close()
    finally:
        room.close()


def test_the_projector_board_follows_new_runs_on_its_timer(browser_context, app_server, tmp_path):
    """The board is a fragment on a timer, which AppTest never runs: a run stored after the page opened appears."""
    from core.classroom.classes import create_class, join_class, projector_key
    from core.store.runs import STORE_ROOT
    from core.store.workspaces import create_workspace
    from tests.unit.test_classroom import store_run

    teacher = create_workspace(STORE_ROOT)[1]
    room = create_class("Timer lesson", teacher, STORE_ROOT)
    wall = browser_context.new_page()
    wall.set_default_timeout(60_000)
    try:
        wall.goto(f"{app_server.url}/projector?projector={projector_key(room.class_id, teacher, STORE_ROOT)}")
        wait_until_idle(wall)
        expect(wall.get_by_text("No finished run yet")).to_be_visible()
        student = create_workspace(STORE_ROOT)[1]
        join_class(room.join_code, "Grace", student, STORE_ROOT)
        store_run(STORE_ROOT, student.workspace_id, 0.875, seconds=0.0)
        expect(wall.get_by_text("each student's best run")).to_be_visible(timeout=20_000)  # no reload
        expect(wall.locator('[data-testid="stDataFrame"]')).to_be_visible()
        assert_no_exception(wall)
        wall.screenshot(path=str(tmp_path / "projector-board.png"))
    finally:
        wall.close()
