"""The key tasks on a phone (390×844): the kernel keeps its grid, a drawing's answer shows by the canvas, and the layer
editor stays a list of lines."""

from __future__ import annotations

import itertools
import shutil

import pytest
from playwright.sync_api import expect

from core.model.presets import PRESETS
from core.store.runs import DEFAULTS, STORE_ROOT
from core.train.recipes import SHIPPED_RUN_IDS, default_run
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


def editor_span(tab) -> float:
    """Pixels from the layer editor's heading to its "Add a layer" box."""
    return tab.evaluate("""() => {
        const heading = [...document.querySelectorAll('[data-testid="stMarkdownContainer"]')]
            .find((element) => element.textContent.startsWith('Layers (the input comes first'));
        const add = [...document.querySelectorAll("label")]
            .find((element) => element.textContent.trim() === "Add a layer");
        return add.getBoundingClientRect().top - heading.getBoundingClientRect().bottom;
    }""")


def cut_texts(tab) -> list[str]:
    """Words in the layer editor's visible labels and buttons that are clipped, or broken across two lines
    ("RandomTranslati on"): a word's text range has one box unless it is broken."""
    return tab.evaluate("""() => {
        const cut = [];
        const elements = document.querySelectorAll(
            '[data-testid="stPopoverBody"] label, [class*="st-key-layer_row_"] button');
        for (const element of elements) {
            if (element.offsetParent === null) continue;
            if (element.scrollWidth > element.clientWidth + 1) cut.push(element.textContent.trim());
            const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
            for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                for (const match of node.textContent.matchAll(/\\S+/g)) {
                    const range = document.createRange();
                    range.setStart(node, match.index);
                    range.setEnd(node, match.index + match[0].length);
                    const lines = new Set([...range.getClientRects()].map((box) => Math.round(box.top)));
                    if (lines.size > 1) cut.push(match[0]);
                }
            }
        }
        return cut;
    }""")


@pytest.mark.parametrize("viewport", [PHONE, {"width": 1280, "height": 800}], ids=["phone", "desktop"])
def test_the_layer_editor_is_one_line_a_layer_and_opens_each_layers_settings(phone, app_server, tmp_path, viewport):
    # On a phone every layer's eleven widgets stacked into full-width rows (a page of about 5,400 px); at 1280 px
    # the eleven columns cut labels ("interpolatio n") and wrapped layer 10's number.
    phone.set_viewport_size(viewport)
    phone.goto(f"{app_server.url}/train")
    wait_until_idle(phone)
    expect(phone.get_by_text("Add a layer")).to_be_visible(timeout=90_000)  # the dataset loads once per server
    wait_until_idle(phone)
    layers = PRESETS[default_run("mnist").preset].spec()
    assert editor_span(phone) <= 70 * len(layers)  # one line a layer
    assert cut_texts(phone) == []
    conv = next(position for position, layer in enumerate(layers, start=1) if layer.kind == "Conv2D")
    opener = phone.get_by_role("button", name=f"{conv} · Conv2D")
    opener.click()
    filters = phone.get_by_label("filters")
    expect(filters).to_be_visible()
    expect(filters).to_be_in_viewport()
    assert cut_texts(phone) == []
    filters.fill("40")
    filters.press("Enter")
    wait_until_idle(phone)
    expect(phone.get_by_role("button", name=f"{conv} · Conv2D 40@")).to_be_visible()  # the line says the change
    expect(filters).to_be_visible()  # still open, for the next setting
    phone.screenshot(path=str(tmp_path / f"layers-{viewport['width']}.png"))
    assert_no_exception(phone)
