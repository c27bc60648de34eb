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
DRAWN_FEATURE_MAP_JS = """() => {
    // The feature map is a Vega chart: each cell's aria-label reads "row r, column c: value".
    const cells = document.querySelectorAll('[data-testid="stVegaLiteChart"] path[aria-label^="row "]');
    if (!cells.length) return null;
    const rows = [];
    for (const cell of cells) {
        const [, r, c, value] = cell.getAttribute('aria-label').match(/^row (\\d+), column (\\d+): (.+)$/);
        (rows[Number(r)] = rows[Number(r)] || [])[Number(c)] = Number(value);
    }
    return JSON.stringify(rows);
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
    """Clicks a cell of the kernel editor (counted from 1), types into it and leaves it with Tab."""
    kernel_cell(tab, row, column).click()
    tab.keyboard.press("Control+A")
    tab.keyboard.type(text)
    tab.keyboard.press("Tab")


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


def feature_cell(tab, row: int, column: int):
    """A feature-map cell, found by the label a screen reader reads for it."""
    return tab.locator(f'[data-testid="stVegaLiteChart"] path[aria-label^="row {row}, column {column}:"]')


def test_clicking_a_feature_map_cell_takes_it_apart(page, app_server, data_dir):
    page.goto(f"{app_server.url}/convolution_playground?source=dataset&dataset=mnist&index=0")
    wait_until_idle(page)
    page.locator('[data-testid="stButtonGroup"]').get_by_text("Filter bank", exact=True).click()
    wait_until_idle(page)
    feature_cell(page, 5, 20).click()
    expect(page.get_by_text("The kernel covers input rows 5–7 and columns 20–22.")).to_be_visible(timeout=30_000)
    assert_no_exception(page)


def test_a_tap_on_a_phone_takes_a_feature_map_cell_apart(browser_context, app_server, data_dir, tmp_path):
    # plotly.js took a tap as a hover: the cell was not taken apart on a phone.
    from tests.browser.test_evaluate import tap

    phone = browser_context.new_page()
    try:
        phone.set_viewport_size({"width": 390, "height": 844})
        browser_context.new_cdp_session(phone).send("Emulation.setTouchEmulationEnabled",
                                                   {"enabled": True, "maxTouchPoints": 5})
        phone.goto(f"{app_server.url}/convolution_playground?source=dataset&dataset=mnist&index=0")
        wait_until_idle(phone)
        cell = feature_cell(phone, 9, 12)
        cell.scroll_into_view_if_needed()
        box = cell.bounding_box()
        tap(phone, box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        expect(phone.get_by_text("The kernel covers input rows 9–11 and columns 12–14.")).to_be_visible(
            timeout=30_000)
        phone.screenshot(path=str(tmp_path / "phone-feature-map.png"))
        assert_no_exception(phone)
    finally:
        phone.close()


def kernel_cell(tab, row: int, column: int):
    """The kernel editor's input for a cell, counted from 1."""
    return tab.get_by_label(f"Kernel row {row}, column {column}", exact=True)


def test_a_7x7_kernel_fits_stays_put_and_takes_what_is_typed(browser_context, app_server):
    tab = browser_context.new_page()
    tab.set_viewport_size({"width": 1280, "height": 1000})
    tab.set_default_timeout(60_000)
    try:
        tab.goto(f"{app_server.url}/convolution_playground?source=grid&padding=same")
        wait_until_idle(tab)
        tab.get_by_role("combobox", name="Size", exact=True).click()
        tab.get_by_role("option", name="7×7", exact=True).click()
        wait_until_idle(tab)
        # Every cell is on screen at 1280 px, the centre weight included, inside the kernel's column.
        viewport = tab.viewport_size
        for row in range(1, 8):
            for column in range(1, 8):
                box = kernel_cell(tab, row, column).bounding_box()
                assert box is not None and box["width"] >= 30, (row, column, box)
                assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], (row, column, box)
        centre = kernel_cell(tab, 4, 4)
        expect(centre).to_have_value("5")  # the sharpen preset, padded to 7×7 with zeros
        before = centre.bounding_box()
        # One click and typing: the first keystroke counts, and the grid does not move.
        centre.click()
        tab.keyboard.press("Control+A")
        tab.keyboard.type("45")
        tab.keyboard.press("Tab")
        wait_until_idle(tab)
        expect(centre).to_have_value("45")
        after = kernel_cell(tab, 4, 4).bounding_box()
        assert abs(after["y"] - before["y"]) < 1 and abs(after["x"] - before["x"]) < 1, (before, after)
        # The feature map is the lessons' 5×5 line convolved with the edited kernel ('same' padding).
        from core.conv.convolution import convolve2d
        from core.conv.links import PlaygroundSettings

        grid = PlaygroundSettings().grid.astype(float)[:, :, None]
        kernel = np.zeros((7, 7))
        kernel[2:5, 2:5] = [[0, -1, 0], [-1, 45, -1], [0, -1, 0]]
        expected = convolve2d(grid, kernel, 1, "same")
        expect_feature_map(tab, [[int(v) if float(v).is_integer() else v for v in row] for row in expected.tolist()])
        expect(tab.get_by_role("combobox", name="Preset")).to_have_value("(your own)")
        assert_no_exception(tab)
    finally:
        tab.close()


def test_a_drawing_is_convolved(page, app_server, tmp_path):
    from tests.browser.test_predict import draw

    page.goto(f"{app_server.url}/convolution_playground")
    wait_until_idle(page)
    page.locator('[data-testid="stButtonGroup"]').get_by_text("Draw", exact=True).click()
    wait_until_idle(page)
    expect(page.get_by_text("Draw on the canvas")).to_be_visible(timeout=60_000)
    page.locator("canvas.cnnlab-drawing").first.wait_for()
    wait_until_idle(page)  # the canvas's listeners are on once its component has rendered
    draw(page, "1", 40, 30, 150)  # the canvas is narrower here than on Predict
    expect(page.get_by_text("your drawing, prepared as MNIST's digits were", exact=False)).to_be_visible(
        timeout=60_000)
    wait_until_idle(page)
    expect(page.get_by_text("Feature-map height and width: (28 + 2×0 − 3) / 1 + 1", exact=False)).to_be_visible()
    page.screenshot(path=str(tmp_path / "playground-drawing.png"), full_page=True)
    assert_no_exception(page)
