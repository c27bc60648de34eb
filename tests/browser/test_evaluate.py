"""The Evaluate page in Chromium: click a confusion-matrix cell and its gallery appears."""

from __future__ import annotations

import re
import shutil

import pytest
from playwright.sync_api import expect

from core.data.datasets import load_dataset
from core.store.runs import RUNS, STORE_ROOT
from core.train.engine import train_and_store
from core.train.recipes import default_config
from tests.browser.conftest import assert_no_exception, wait_until_idle

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def digits_run():
    """A real 1-epoch digits run in the store the test server reads (CNNLAB_STORE_DIR)."""
    shutil.rmtree(STORE_ROOT / RUNS, ignore_errors=True)
    config = default_config("digits", "one_conv")
    config.epochs, config.name = 1, "browser run"
    yield train_and_store(config, load_dataset("digits"), lambda event: None).run_id
    shutil.rmtree(STORE_ROOT / RUNS, ignore_errors=True)


def cell_centre(tab, row: int, column: int) -> tuple[float, float]:
    """Page coordinates of a confusion-matrix cell, found by the label a screen reader reads for it."""
    cell = tab.locator(f'[data-testid="stVegaLiteChart"] path[aria-label^="true {row}, predicted {column}:"]')
    cell.scroll_into_view_if_needed()
    box = cell.bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def tap(tab, x: float, y: float) -> None:
    """A finger's tap, as Chromium gets it from a touch screen (the tab's touch emulation must be on)."""
    cdp = tab.context.new_cdp_session(tab)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


def test_clicking_a_cell_shows_its_images(page, app_server, digits_run, tmp_path):
    page.goto(f"{app_server.url}/evaluate?run={digits_run}")
    wait_until_idle(page)
    page.wait_for_selector('[data-testid="stVegaLiteChart"] path[aria-label^="true 0, predicted 0:"]')
    assert_no_exception(page)
    heading = page.locator("h2").filter(has_text=re.compile(r"^True \d, predicted \d"))

    for row, column in ((3, 3), (0, 0)):  # two diagonal cells: each holds that digit's right answers
        x, y = cell_centre(page, row, column)
        page.mouse.click(x, y)
        expect(heading).to_contain_text(f"True {row}, predicted {column}: ", timeout=60_000)
        wait_until_idle(page)
        count = int(re.search(r": (\d+)", heading.inner_text()).group(1))
        tiles = page.locator('[data-testid="stImage"] img')
        expect(tiles).to_have_count(min(count, 40))
        expect(page.get_by_role("combobox", name="True class")).to_have_value(str(row))  # the click set the pickers
    assert_no_exception(page)
    page.screenshot(path=str(tmp_path / "evaluate.png"), full_page=True)


def test_open_in_playground_then_one_back_returns_to_evaluate(page, app_server, digits_run):
    page.goto(f"{app_server.url}/evaluate?run={digits_run}")
    wait_until_idle(page)
    page.locator('[data-testid="stButtonGroup"]').get_by_text("Learned filters", exact=True).click()
    wait_until_idle(page)
    page.get_by_role("button", name=re.compile(r"Open filter \d+ in the Convolution Playground")).click()
    expect(page.locator("h1").first).to_have_text("Convolution Playground", timeout=60_000)
    wait_until_idle(page)
    assert "kernel=" in page.url  # the setup is in the address, as for any playground link
    page.go_back()  # one press: the playground arrived with its address, not in two steps
    expect(page.locator("h1").first).to_have_text("Evaluate", timeout=60_000)
    assert "/evaluate" in page.url
    wait_until_idle(page)
    assert_no_exception(page)


def test_a_tap_on_a_phone_selects_a_cell(browser_context, app_server, digits_run, tmp_path):
    # plotly.js took a tap as a hover: the tooltip showed, and the cell was not selected.
    phone = browser_context.new_page()
    try:
        phone.set_viewport_size({"width": 390, "height": 844})
        cdp = browser_context.new_cdp_session(phone)
        cdp.send("Emulation.setTouchEmulationEnabled", {"enabled": True, "maxTouchPoints": 5})
        phone.goto(f"{app_server.url}/evaluate?run={digits_run}")
        wait_until_idle(phone)
        heading = phone.locator("h2").filter(has_text=re.compile(r"^True \d, predicted \d"))
        expect(heading).to_be_visible(timeout=60_000)
        for row, column in ((7, 1), (2, 2)):
            tap(phone, *cell_centre(phone, row, column))
            expect(heading).to_contain_text(f"True {row}, predicted {column}: ", timeout=60_000)
            wait_until_idle(phone)
        cell = phone.locator('[data-testid="stVegaLiteChart"] path[aria-label^="true 2, predicted 2:"]')
        box = cell.bounding_box()
        assert box["width"] >= 24 and box["height"] >= 24  # a target a finger can hit (WCAG 2.5.8 asks 24 px)
        chart = phone.locator('[data-testid="stVegaLiteChart"]').bounding_box()
        assert chart["x"] >= 0 and chart["x"] + chart["width"] <= 390  # all of it on screen
        cell.scroll_into_view_if_needed()
        phone.screenshot(path=str(tmp_path / "evaluate-phone.png"))
        assert_no_exception(phone)
    finally:
        phone.close()


def test_a_mistake_opens_in_predict_with_its_heat_map(page, app_server, digits_run, tmp_path):
    page.goto(f"{app_server.url}/evaluate?run={digits_run}")
    wait_until_idle(page)
    page.locator('[data-testid="stButtonGroup"]').get_by_text("Mistakes", exact=True).click()
    wait_until_idle(page)
    link = page.get_by_role("link", name=re.compile(r"Open #\d+ in Predict"))
    expect(link).to_be_visible(timeout=60_000)
    index = re.search(r"#(\d+)", link.inner_text()).group(1)
    link.click()
    expect(page.locator("h1").first).to_have_text("Predict", timeout=60_000)
    wait_until_idle(page)
    expect(page.get_by_text("HiResCAM on", exact=False)).to_be_visible(timeout=90_000)
    expect(page.get_by_label(re.compile(r"^Test image \(0–"))).to_have_value(index)
    assert f"run={digits_run}" in page.url and "test=" not in page.url  # the model stays shareable; the rest is used
    page.screenshot(path=str(tmp_path / "mistake-in-predict.png"), full_page=True)
    assert_no_exception(page)
