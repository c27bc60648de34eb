"""The Convolution Playground in Chromium: a preset, a cell typed into the grid, and a shared link."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import assert_no_exception, wait_until_idle

pytestmark = pytest.mark.browser

SAME_PADDED = [[0, 3, 9, -3, 0], [0, 4, 9, -4, 0], [0, 4, 9, -4, 0], [0, 4, 9, -4, 0], [0, 3, 9, -3, 0]]
ROW_PIXELS = 35  # glide-data-grid's header and row height in st.data_editor
SMALL_COLUMN_PIXELS = 75  # TextColumn(width="small")
DRAWN_FEATURE_MAP_JS = """() => {
    const plot = document.querySelectorAll('.js-plotly-plot')[1];  // input, feature map, pooled map
    if (!plot || !plot._fullData) return null;
    return JSON.stringify(Array.from(plot._fullData[0].z, row => Array.from(row)));
}"""


def expect_feature_map(tab, values: list[list[float]], timeout: float = 60.0) -> None:
    """Waits until the drawn feature map holds exactly these values (the rerun and plotly both take a moment)."""
    expected = json.dumps(values, separators=(",", ":"))
    deadline = time.monotonic() + timeout
    drawn = None
    while time.monotonic() < deadline:
        drawn = tab.evaluate(DRAWN_FEATURE_MAP_JS)
        if drawn == expected:
            return
        tab.wait_for_timeout(250)
    raise AssertionError(f"feature map drawn: {drawn}; expected {expected}")


def type_into_kernel_cell(tab, row: int, column: int, text: str) -> None:
    """Double-clicks a cell of the kernel's grid (counted from 1, index column excluded) and types into it."""
    canvas = tab.locator('[data-testid="stDataFrame"]').nth(1).locator('[data-testid="data-grid-canvas"]')
    box = canvas.bounding_box()
    columns = 3
    x = box["x"] + box["width"] - (columns - column + 0.5) * SMALL_COLUMN_PIXELS
    y = box["y"] + ROW_PIXELS * row + ROW_PIXELS / 2
    tab.mouse.dblclick(x, y)
    editor = tab.locator("#portal textarea")
    editor.fill(text)
    tab.keyboard.press("Enter")


def test_preset_cell_edit_and_shared_link(page, app_server, browser_context, tmp_path):
    # The pixel grid holds the lessons' 5×5 vertical line, so every value can be checked by hand.
    page.goto(f"{app_server.url}/convolution_playground?source=grid")
    wait_until_idle(page)
    expect_feature_map(page, [[-1, 3, -1]] * 3)  # sharpen: 5·1 − 1 − 1 on the line, −1 beside it

    page.get_by_role("combobox", name="Preset").click()
    page.get_by_role("option", name="Sobel x", exact=True).click()
    expect_feature_map(page, [[4, 0, -4]] * 3)  # right minus left: +4 left of the line, −4 right of it

    type_into_kernel_cell(page, 2, 2, "9")  # Sobel's centre 0 becomes 9
    expect_feature_map(page, [[4, 9, -4]] * 3)

    page.locator('[data-testid="stButtonGroup"]').get_by_text("same", exact=True).click()
    # "same" keeps 5×5; the top and bottom rows lose one of the line's pixels to the zero padding (2 + 1 = 3)
    expect_feature_map(page, SAME_PADDED)
    expect(page.get_by_text("(5 + 2×1 − 3) / 1 + 1 = 4 + 1 = 5")).to_be_visible()
    wait_until_idle(page)
    assert_no_exception(page)
    page.screenshot(path=str(tmp_path / "playground.png"), full_page=True)
    shared = page.url
    assert "kernel=-1%2C0%2C1%3B-2%2C9%2C2%3B-1%2C0%2C1" in shared and "padding=same" in shared

    # A colleague opens the link in a new tab: a new session with nothing but the URL.
    other = browser_context.new_page()
    try:
        other.goto(shared)
        wait_until_idle(other)
        expect_feature_map(other, SAME_PADDED)
        expect(other.get_by_text("(5 + 2×1 − 3) / 1 + 1 = 4 + 1 = 5")).to_be_visible()
        expect(other.get_by_role("combobox", name="Preset")).to_have_value("(your own)")
        assert_no_exception(other)
    finally:
        other.close()


def test_uploads_bad_and_oversized(page, app_server, tmp_path):
    page.goto(f"{app_server.url}/convolution_playground?source=grid")
    wait_until_idle(page)
    page.locator('[data-testid="stButtonGroup"]').get_by_text("Upload", exact=True).click()
    uploader = page.locator('[data-testid="stFileUploaderDropzoneInput"]')
    uploader.wait_for(state="attached")

    not_an_image = tmp_path / "notes.png"
    not_an_image.write_bytes(b"these are my notes, not a picture")
    uploader.set_input_files(str(not_an_image))
    expect(page.get_by_text("not an image file this app can read")).to_be_visible(timeout=30_000)
    assert_no_exception(page)

    wide = np.zeros((1000, 2000), np.uint8)
    wide[:, 1000:] = 255  # one vertical edge down the middle
    photo = tmp_path / "wide.png"
    Image.fromarray(wide).save(photo)
    uploader.set_input_files(str(photo))
    expect(page.get_by_text("shrunk to 1024×512 to keep the page quick")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Input 512×1024×1")).to_be_visible()
    wait_until_idle(page)
    assert_no_exception(page)
    page.screenshot(path=str(tmp_path / "upload.png"), full_page=True)


def test_clicking_a_feature_map_cell_takes_it_apart(page, app_server, data_dir):
    page.goto(f"{app_server.url}/convolution_playground?source=dataset&dataset=mnist&index=0")
    wait_until_idle(page)
    page.wait_for_selector(".js-plotly-plot .main-svg")
    page.locator('[data-testid="stButtonGroup"]').get_by_text("Filter bank", exact=True).click()
    wait_until_idle(page)
    # plotly's own axis conversion gives the screen position of feature-map cell (row 5, column 20)
    x, y = page.evaluate("""() => {
        const plot = document.querySelectorAll('.js-plotly-plot')[1];
        const xaxis = plot._fullLayout.xaxis, yaxis = plot._fullLayout.yaxis, box = plot.getBoundingClientRect();
        return [box.left + xaxis._offset + xaxis.l2p(20), box.top + yaxis._offset + yaxis.l2p(5)];
    }""")
    page.mouse.click(x, y)
    expect(page.get_by_text("The kernel covers input rows 5–7 and columns 20–22.")).to_be_visible(timeout=30_000)
    assert_no_exception(page)
