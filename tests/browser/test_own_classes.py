"""My classes in Chromium: examples drawn with the mouse on the real canvas, photos from Chromium's fake camera
(`--use-fake-device-for-media-stream --use-fake-ui-for-media-stream`), a camera the browser denies, and hostile
class names shown as typed."""

from __future__ import annotations

import math
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import CHROMIUM, CHROMIUM_FLAGS, assert_no_exception, wait_until_idle
from tests.browser.test_accessibility import audit

CAMERA_FLAGS = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]


@pytest.fixture
def camera_tab(playwright_driver, tmp_path):
    """A tab in a Chromium whose camera is the fake device, allowed without a prompt."""
    context = playwright_driver.chromium.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=CHROMIUM, args=[*CHROMIUM_FLAGS, *CAMERA_FLAGS],
        headless=True, viewport={"width": 1280, "height": 1400}, permissions=["camera"])
    tab = context.new_page()
    tab.set_default_timeout(60_000)
    yield tab
    context.close()


def create(tab, url: str, names: str) -> None:
    tab.goto(f"{url}/my_classes")
    expect(tab.get_by_role("button", name="Create my classes")).to_be_visible(timeout=90_000)
    box = tab.get_by_role("textbox", name="Your classes, one name per line (2 to 10)")
    box.fill(names)
    box.press("Tab")  # a text area sends its value when it loses focus
    wait_until_idle(tab)
    tab.get_by_role("button", name="Create my classes").click()
    wait_until_idle(tab)


def canvas_pixels(tab) -> str:
    return tab.locator("canvas.cnnlab-drawing").first.evaluate("canvas => canvas.toDataURL('image/png')")


def draw_circle(tab, radius: float = 80) -> None:
    """One stroke around the canvas's middle, with the mouse."""
    box = tab.locator("canvas.cnnlab-drawing").first.bounding_box()
    middle_x, middle_y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    tab.mouse.move(middle_x + radius, middle_y)
    tab.mouse.down()
    for step in range(1, 41):
        angle = 2 * math.pi * step / 40
        tab.mouse.move(middle_x + radius * math.cos(angle), middle_y + radius * math.sin(angle))
    tab.mouse.up()


def test_drawn_examples_and_photos_from_the_camera_fill_a_class(camera_tab, app_server, tmp_path):
    tab = camera_tab
    create(tab, app_server.url, "circle\ntriangle\nstar")
    expect(tab.get_by_text("Add at least 10 examples to each class")).to_be_visible()
    tab.locator("canvas.cnnlab-drawing").first.wait_for()
    blank = canvas_pixels(tab)
    for count in (1, 2):
        draw_circle(tab, radius=60 + 20 * count)
        wait_until_idle(tab)
        tab.get_by_role("button", name="Add to “circle”").click()
        expect(tab.get_by_text(f"circle · {count} example")).to_be_visible(timeout=30_000)
        wait_until_idle(tab)
        tab.locator("canvas.cnnlab-drawing").first.wait_for()
        assert canvas_pixels(tab) == blank  # cleared for the next example
    tab.screenshot(path=str(tmp_path / "own-classes-drawn.png"), full_page=True)

    tab.get_by_role("radio", name="star (0)").check(force=True)
    wait_until_idle(tab)
    tab.get_by_role("radio", name="Camera").click()
    wait_until_idle(tab)
    for count in (1, 2):  # two photos in a row, with no click between them but the shutter's
        shutter = tab.get_by_role("button", name="Take Photo")
        expect(shutter).to_be_enabled(timeout=30_000)
        tab.wait_for_timeout(1500)  # the fake camera's first frames
        shutter.click()
        expect(tab.get_by_text(f"star · {count} example")).to_be_visible(timeout=30_000)
        wait_until_idle(tab)
    assert_no_exception(tab)
    tab.screenshot(path=str(tmp_path / "own-classes-camera.png"), full_page=True)
    audit(tab, "My classes with examples and the camera")
    # Each photo is in the star grid, with a delete button named for it.
    expect(tab.get_by_role("img", name="example 1 of star, newest first")).to_be_visible()
    assert tab.get_by_role("button", name=re.compile(r"^Delete \d+$")).count() == 4  # 2 circles, 2 stars
    tab.get_by_role("button", name="Delete 1").last.click()  # the newest star
    expect(tab.get_by_text("star · 1 example", exact=True)).to_be_visible(timeout=30_000)


def test_a_denied_camera_leaves_the_page_working_and_says_what_to_do(page, app_server):
    # This context was given no camera permission and has no fake device: Chromium denies the camera.
    create(page, app_server.url, "thumbs up\nfist")
    page.get_by_role("radio", name="Camera").click()
    wait_until_idle(page)
    expect(page.get_by_text("if it is blocked, allow it from the address bar, or use Upload")).to_be_visible()
    page.wait_for_timeout(2000)
    assert_no_exception(page)
    page.get_by_role("radio", name="Upload").click()
    wait_until_idle(page)
    expect(page.get_by_text("Images for “thumbs up”")).to_be_visible()


HOSTILE = ["<img src=x onerror=alert(1)>", "**bold** [link](http://example.com)"]


def test_hostile_class_names_are_shown_as_typed(page, app_server):
    create(page, app_server.url, "\n".join(HOSTILE))
    assert_no_exception(page)
    expect(page.get_by_role("heading", name=f"{HOSTILE[0]} · 0 examples")).to_be_visible()
    expect(page.get_by_role("heading", name=f"{HOSTILE[1]} · 0 examples")).to_be_visible()
    assert page.locator("img[src='x']").count() == 0
    assert page.locator("a[href='http://example.com']").count() == 0
    expect(page.get_by_role("button", name=f"Add to “{HOSTILE[0]}”")).to_be_visible()
