"""The key tasks on a phone (390×844): the kernel keeps its grid, and a drawing's answer shows by the canvas."""

from __future__ import annotations

import itertools
import shutil

import pytest
from playwright.sync_api import expect

from core.store.runs import DEFAULTS, STORE_ROOT
from core.train.recipes import SHIPPED_RUN_IDS
from tests.browser.conftest import assert_no_exception, wait_until_idle
from tests.browser.test_playground import kernel_cell
from tests.browser.test_predict import draw
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser_context):
    tab = browser_context.new_page()
    tab.set_viewport_size(PHONE)
    tab.set_default_timeout(90_000)
    yield tab
    tab.close()


@pytest.mark.parametrize("size", [3, 7])
def test_the_kernel_keeps_its_grid_on_a_phone(phone, app_server, tmp_path, size):
    # Streamlit's columns stack under 640 px: a 3×3 kernel was one column of 9 full-width boxes.
    kernel = ";".join(",".join("1" if (r, c) == (size // 2, size // 2) else "0" for c in range(size))
                      for r in range(size))  # a size×size kernel, given by the page's own link
    phone.goto(f"{app_server.url}/convolution_playground?source=grid&kernel={kernel}")
    wait_until_idle(phone)
    expect(kernel_cell(phone, size, size)).to_be_visible()
    phone.wait_for_timeout(1_000)  # images above the editor settle
    # Every cell measured at one moment, in the page (one round trip per cell let the layout move in between).
    flat = phone.evaluate("""(size) => {
        const boxes = [];
        for (let r = 1; r <= size; r++) for (let c = 1; c <= size; c++) {
            const cell = document.querySelector(`input[aria-label="Kernel row ${r}, column ${c}"]`);
            const box = cell.getBoundingClientRect();
            boxes.push({x: box.x, y: box.y, width: box.width, height: box.height});
        }
        return boxes;
    }""", size)
    boxes = [flat[r * size:(r + 1) * size] for r in range(size)]
    for row in boxes:
        assert all(abs(box["y"] - row[0]["y"]) < 2 for box in row), row  # one line per kernel row
        assert all(left["x"] + left["width"] <= right["x"] for left, right in itertools.pairwise(row)), row
        assert row[-1]["x"] + row[-1]["width"] <= PHONE["width"], row  # on screen, no sideways scrolling
    assert all(boxes[r + 1][0]["y"] > boxes[r][0]["y"] for r in range(size - 1))
    kernel_cell(phone, 2, 2).scroll_into_view_if_needed()
    phone.screenshot(path=str(tmp_path / f"phone-kernel-{size}.png"))
    assert_no_exception(phone)


@pytest.fixture
def shipped_mnist():
    run_id = SHIPPED_RUN_IDS["mnist"]
    shutil.copytree(REPO_ROOT / "models" / DEFAULTS / run_id, STORE_ROOT / DEFAULTS / run_id, dirs_exist_ok=True)
    yield run_id
    shutil.rmtree(STORE_ROOT / DEFAULTS / run_id, ignore_errors=True)


def test_a_drawings_answer_shows_by_the_canvas_on_a_phone(phone, app_server, shipped_mnist, tmp_path):
    # The columns stack on a phone, and the answer sat below the canvas's controls, off screen after every stroke.
    phone.goto(f"{app_server.url}/predict")
    wait_until_idle(phone)
    expect(phone.get_by_text("The canvas is empty")).to_be_visible(timeout=90_000)  # first load: TensorFlow
    canvas = phone.locator("canvas.cnnlab-drawing").first
    canvas.evaluate("(element) => element.scrollIntoView({block: 'center'})")  # where a learner holds it to draw
    draw(phone, "1", 40, 30, 200)
    answer = phone.get_by_text("the full answer is below")
    expect(answer).to_be_visible()
    expect(answer).to_contain_text("Reads 1")
    expect(answer).to_be_in_viewport()  # seen where the learner is looking, without scrolling
    expect(canvas).to_be_in_viewport()
    phone.screenshot(path=str(tmp_path / "phone-predict.png"))
    assert_no_exception(phone)


def test_the_one_line_answer_is_for_phones_only(page, app_server, shipped_mnist):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{app_server.url}/predict")
    wait_until_idle(page)
    expect(page.get_by_text("The canvas is empty")).to_be_visible(timeout=90_000)
    draw(page, "1", 40, 30, 200)
    expect(page.get_by_text("It reads").first).to_be_visible()
    expect(page.get_by_text("the full answer is below")).to_be_hidden()  # the full answer is beside the canvas
