"""The main task with the keyboard alone, in Chromium: only Tab, Enter, Space and the arrow keys.

Choose a dataset on Train, start the recommended run and wait for it, open Evaluate, and predict a test image on
Predict. Each step presses Tab until the control it needs has the focus (reading which element has it, as a
screen reader would announce it), then operates it with Enter, Space or the arrows. No click, no typing.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_no_exception, wait_until_idle

pytestmark = pytest.mark.browser

FOCUSED = """() => {
  let element = document.activeElement;
  while (element && element.shadowRoot && element.shadowRoot.activeElement) element = element.shadowRoot.activeElement;
  if (!element) return "";
  const name = element.getAttribute("aria-label") || element.innerText || element.value || "";
  return `${element.tagName} ${element.getAttribute("role") || ""} ${name}`.replace(/\\s+/g, " ").trim();
}"""


def tab_to(tab, pattern: str, limit: int = 300) -> str:
    """Presses Tab until the focused element's description matches `pattern`; returns that description."""
    seen = []
    for _ in range(limit):
        tab.keyboard.press("Tab")
        focused = tab.evaluate(FOCUSED)
        if re.search(pattern, focused):
            return focused
        seen.append(focused)
    raise AssertionError(f"Tab never reached {pattern!r}; it went through: {seen[:60]}")


def test_train_evaluate_and_predict_with_the_keyboard_alone(page, app_server, tmp_path):
    page.goto(f"{app_server.url}/train")
    expect(page.locator("h1").first).to_have_text("Train", timeout=60_000)
    wait_until_idle(page)

    # Choose a dataset: open the list with the arrow key, move through it, take one with Enter.
    tab_to(page, r"^INPUT combobox Dataset$")
    page.keyboard.press("ArrowDown")
    expect(page.get_by_role("option").first).to_be_visible()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Enter")
    wait_until_idle(page)
    chosen = page.get_by_role("combobox", name="Dataset", exact=True).input_value() or \
        page.get_by_test_id("stSelectbox").first.inner_text()
    assert chosen, "no dataset chosen"
    page.screenshot(path=str(tmp_path / "keyboard-dataset.png"))

    # Start the recommended run (the page's defaults for the dataset) and wait for its end.
    tab_to(page, r"^BUTTON .*Start training")
    page.screenshot(path=str(tmp_path / "keyboard-start-focused.png"))  # the focus ring on the Start button
    page.keyboard.press("Enter")
    expect(page.get_by_text(re.compile("finished after"))).to_be_visible(timeout=240_000)
    wait_until_idle(page)
    # The result is a polite live region, once: a screen reader announces it without moving the focus.
    expect(page.get_by_role("status").filter(has_text=re.compile("finished after"))).to_have_count(1)

    # Open Evaluate from the navigation.
    tab_to(page, r"^A .*Evaluate$")
    page.keyboard.press("Enter")
    expect(page.locator("h1").first).to_have_text("Evaluate", timeout=60_000)
    expect(page.get_by_text("Test accuracy").first).to_be_visible(timeout=120_000)
    wait_until_idle(page)

    # Predict a test image: its alternatives to drawing come first, right after the model.
    tab_to(page, r"^A .*Predict$")
    page.keyboard.press("Enter")
    expect(page.locator("h1").first).to_have_text("Predict", timeout=60_000)
    wait_until_idle(page)
    tab_to(page, r"radio Draw$")
    for _ in ("Camera", "Upload", "Test image"):  # the arrows walk the sources in their order
        page.keyboard.press("ArrowRight")
    page.keyboard.press("Space")
    wait_until_idle(page)
    tab_to(page, r"^BUTTON .*Random$")
    page.keyboard.press("Enter")
    expect(page.get_by_text(re.compile(r"Expected .+, guessed .+"))).to_be_visible(timeout=60_000)
    wait_until_idle(page)
    assert_no_exception(page)
    page.screenshot(path=str(tmp_path / "keyboard-predict.png"), full_page=True)


def test_the_kernel_editor_works_from_the_keyboard(page, app_server):
    """Tab to a kernel cell, type a number, Enter: the kernel and everything computed from it follow."""
    page.goto(f"{app_server.url}/convolution_playground")
    expect(page.locator("h1").first).to_have_text("Convolution Playground", timeout=60_000)
    wait_until_idle(page)
    before = page.locator('[data-testid="stMain"]').inner_text()
    tab_to(page, r"^INPUT Kernel row 2, column 2")  # each cell is named by its place
    page.keyboard.press("Control+a")
    page.keyboard.type("7")
    page.keyboard.press("Enter")
    wait_until_idle(page)
    expect(page.get_by_role("textbox", name="Kernel row 2, column 2")).to_have_value("7")
    assert page.locator('[data-testid="stMain"]').inner_text() != before  # the sums and maps were recomputed
    assert_no_exception(page)
