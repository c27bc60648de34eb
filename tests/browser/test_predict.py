"""The Predict page in Chromium: draw digits with the mouse on the real canvas and read the answer."""

from __future__ import annotations

import itertools
import re
import shutil
import time

import pytest
from playwright.sync_api import expect

from core.store.runs import DEFAULTS, STORE_ROOT
from core.train.recipes import SHIPPED_RUN_IDS
from tests.browser.conftest import assert_no_exception, wait_until_idle
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.browser
MNIST_DEFAULT = SHIPPED_RUN_IDS["mnist"]

# Strokes in a unit box, (x, y) from the top-left; each digit is placed and sized per drawing below.
STROKES = {
    "0": [[(0.5, 0.0), (0.85, 0.2), (0.9, 0.6), (0.6, 1.0), (0.25, 0.9), (0.1, 0.5), (0.2, 0.15), (0.5, 0.0)]],
    "1": [[(0.5, 0.0), (0.5, 1.0)]],
    "3": [[(0.15, 0.1), (0.5, 0.0), (0.85, 0.15), (0.8, 0.35), (0.45, 0.5)],
          [(0.45, 0.5), (0.85, 0.65), (0.85, 0.85), (0.5, 1.0), (0.1, 0.9)]],
    "7": [[(0.1, 0.05), (0.9, 0.05), (0.4, 0.95)]],
}
# (digit, left, top, size) in canvas pixels: large and centred, off to one side, and small in a corner.
DRAWINGS = [("0", 60, 30, 220), ("1", 40, 40, 200), ("3", 70, 40, 200), ("7", 190, 180, 80)]


@pytest.fixture(scope="module")
def shipped():
    """The shipped MNIST default, in the store the test server reads."""
    target = STORE_ROOT / DEFAULTS / MNIST_DEFAULT
    shutil.copytree(REPO_ROOT / "models" / DEFAULTS / MNIST_DEFAULT, target, dirs_exist_ok=True)
    yield MNIST_DEFAULT
    shutil.rmtree(target, ignore_errors=True)


def draw(tab, digit: str, left: int, top: int, size: int) -> None:
    box = tab.locator("canvas.cnnlab-drawing").first.bounding_box()
    for stroke in STROKES[digit]:
        points = [(box["x"] + left + u * size * 0.7, box["y"] + top + v * size) for u, v in stroke]
        tab.mouse.move(*points[0])
        tab.mouse.down()
        for (x0, y0), (x1, y1) in itertools.pairwise(points):
            for step in range(1, 11):  # many small moves, like a hand
                tab.mouse.move(x0 + (x1 - x0) * step / 10, y0 + (y1 - y0) * step / 10)
        tab.mouse.up()


def test_drawn_digits_are_read(page, app_server, shipped, tmp_path):
    page.goto(f"{app_server.url}/predict")
    wait_until_idle(page)
    expect(page.get_by_text("The canvas is empty")).to_be_visible(timeout=90_000)  # first load: TensorFlow, model
    verdict = page.locator('[data-testid="stMarkdownContainer"]').filter(has_text="It reads")
    for digit, left, top, size in DRAWINGS:
        page.get_by_role("button", name="Clear").click()
        wait_until_idle(page)  # the rerun mounts a new canvas: strokes on the old one would be lost
        expect(page.get_by_text("The canvas is empty")).to_be_visible(timeout=30_000)
        page.locator("canvas.cnnlab-drawing").first.wait_for()
        draw(page, digit, left, top, size)
        expect(verdict).to_contain_text(f"It reads {digit},", timeout=60_000)
        wait_until_idle(page)
        assert_no_exception(page)
    page.screenshot(path=str(tmp_path / "predict.png"), full_page=True)




def canvas_pixels(tab) -> str:
    """The canvas's pixels as a PNG data URL (it sits in the component's shadow root, which locators pierce)."""
    return tab.locator("canvas.cnnlab-drawing").first.evaluate("canvas => canvas.toDataURL('image/png')")


def wait_for_change(tab, before: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while canvas_pixels(tab) == before:
        assert time.monotonic() < deadline, "the canvas did not change"
        tab.wait_for_timeout(100)


def test_undo_then_redraw_gives_the_same_prediction_as_one_drawing(page, app_server, shipped, tmp_path):
    """A 3 drawn at once, against the same 3 with a slip taken back by the Undo button and redrawn, and a stray
    stroke taken back with Ctrl+Z: the same canvas, to the pixel, and the same answer, to the digit."""
    STROKES["slip"] = [[(0.0, 0.2), (1.0, 0.9)]]
    page.goto(f"{app_server.url}/predict")
    wait_until_idle(page)
    expect(page.get_by_text("The canvas is empty")).to_be_visible(timeout=90_000)
    verdict = page.locator('[data-testid="stMarkdownContainer"]').filter(has_text="It reads")
    page.locator("canvas.cnnlab-drawing").first.wait_for()
    draw(page, "3", 70, 40, 200)
    expect(verdict).to_contain_text("It reads 3,", timeout=60_000)
    wait_until_idle(page)
    once, once_pixels = verdict.inner_text(), canvas_pixels(page)

    page.get_by_role("button", name="Clear").click()
    wait_until_idle(page)
    expect(page.get_by_text("The canvas is empty")).to_be_visible(timeout=30_000)
    page.locator("canvas.cnnlab-drawing").first.wait_for()
    first, second = STROKES["3"]
    STROKES["first"], STROKES["second"] = [first], [second]
    draw(page, "first", 70, 40, 200)
    draw(page, "slip", 70, 40, 200)
    wait_until_idle(page)
    slipped = canvas_pixels(page)
    page.get_by_role("button", name="Undo").click()
    wait_for_change(page, slipped)  # the click's rerun reached the canvas
    wait_until_idle(page)
    draw(page, "second", 70, 40, 200)
    expect(verdict).to_have_text(once, timeout=60_000)
    assert canvas_pixels(page) == once_pixels
    wait_until_idle(page)

    draw(page, "slip", 70, 40, 200)
    wait_until_idle(page)
    assert canvas_pixels(page) != once_pixels
    board = page.locator("canvas.cnnlab-drawing").first
    expect(board).to_have_attribute("aria-label", re.compile("It holds 3 strokes"))  # its name says what it holds
    page.keyboard.press("Control+z")
    expect(verdict).to_have_text(once, timeout=60_000)
    expect(board).to_have_attribute("aria-label", re.compile("It holds 2 strokes"))
    assert canvas_pixels(page) == once_pixels
    wait_until_idle(page)
    assert_no_exception(page)
    page.screenshot(path=str(tmp_path / "predict-undo.png"), full_page=True)


def test_a_drawn_x_is_not_a_digit_and_the_switch_shows_the_raw_guess(page, app_server, shipped, tmp_path):
    STROKES["X"] = [[(0.0, 0.0), (1.0, 1.0)], [(1.0, 0.0), (0.0, 1.0)]]
    page.goto(f"{app_server.url}/predict")
    wait_until_idle(page)
    expect(page.get_by_text("The canvas is empty")).to_be_visible(timeout=90_000)
    page.locator("canvas.cnnlab-drawing").first.wait_for()
    draw(page, "X", 60, 40, 200)
    flagged = page.locator('[data-testid="stMarkdownContainer"]').filter(has_text="Not a digit?")
    expect(flagged).to_contain_text("does not look like any digit", timeout=60_000)
    expect(page.get_by_text("The bars are the raw guess")).to_be_visible()
    page.screenshot(path=str(tmp_path / "predict-x.png"), full_page=True)
    wait_until_idle(page)
    page.get_by_text("Say when it is not a digit").click()  # the switch's label, as a person clicks it
    raw_guess = page.locator('[data-testid="stMarkdownContainer"]').filter(has_text=re.compile("It reads|Not sure"))
    expect(raw_guess).to_be_visible(timeout=30_000)
    expect(flagged).to_have_count(0)
    assert_no_exception(page)


@pytest.fixture
def shipped_three(shipped):
    """The shipped MNIST, CIFAR-10 and digits defaults: three models with different conv layers."""
    copied = [SHIPPED_RUN_IDS[dataset] for dataset in ("cifar10", "digits")]
    for run_id in copied:
        shutil.copytree(REPO_ROOT / "models" / DEFAULTS / run_id, STORE_ROOT / DEFAULTS / run_id, dirs_exist_ok=True)
    yield
    for run_id in copied:
        shutil.rmtree(STORE_ROOT / DEFAULTS / run_id, ignore_errors=True)


def test_switching_models_on_a_test_image_keeps_the_layer_box_true(page, app_server, shipped_three, tmp_path):
    # The browser sends back the layer box's label after a model switch; no layer of the new model has it, and
    # Streamlit handed the label (a str) back as the value: the page crashed ("'>' not supported between
    # instances of 'str' and 'int'"), and before that the box named a layer of the old model.
    page.goto(f"{app_server.url}/predict")
    wait_until_idle(page)
    expect(page.get_by_text("The canvas is empty")).to_be_visible(timeout=90_000)  # first load: TensorFlow, model
    page.get_by_text("Test image", exact=True).click()
    wait_until_idle(page)
    for step, dataset in enumerate(("MNIST", "CIFAR-10", "digits", "MNIST")):
        page.get_by_role("combobox", name="Model").click()
        page.get_by_role("option").filter(has_text=re.compile(rf"default · .*{dataset}", re.IGNORECASE)).first.click()
        wait_until_idle(page)
        if step == 0:  # a layer picked by hand: the browser now holds its label, and sends it after each switch
            page.get_by_role("combobox", name="Layer").click()
            page.get_by_role("option").nth(1).click()
            wait_until_idle(page)
        expect(page.get_by_text(re.compile(r"\d+ maps of \d+×\d+"))).to_be_visible(timeout=90_000)
        assert_no_exception(page)
        layer = page.get_by_role("combobox", name="Layer").input_value() or \
            page.locator('[data-testid="stSelectbox"]').filter(has_text="Layer").inner_text()
        size = re.search(r"(\d+)×(\d+)×(\d+)\)", layer)
        assert size, layer
        height, width, count = size.groups()
        expect(page.get_by_text(f"{count} maps of {height}×{width}")).to_be_visible()
    page.screenshot(path=str(tmp_path / "predict-switch.png"), full_page=True)
