"""Training in Chromium: start a run, watch the curves grow, leave the page and come back, press Stop."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_no_exception, wait_until_idle

pytestmark = pytest.mark.browser


def plotted_points(page) -> int:
    """Points in the loss chart, read from plotly's own data on the page."""
    return page.evaluate("""() => {
        const plot = document.querySelector('.js-plotly-plot');
        if (!plot || !plot.data) return 0;
        return plot.data.reduce((total, trace) => total + (trace.x ? trace.x.length : 0), 0);
    }""")


def test_start_watch_navigate_back_and_stop(page, app_server, tmp_path):
    page.goto(f"{app_server.url}/train")
    wait_until_idle(page)
    # MNIST for 50 epochs: minutes of work, so the run is surely still going when we press Stop.
    page.get_by_role("combobox", name="Dataset", exact=True).click()
    page.get_by_role("option", name="MNIST handwritten digits").click()
    wait_until_idle(page)
    page.get_by_role("tab", name="2 · Hyperparameters and callbacks").click()
    page.get_by_role("slider", name="Epochs").focus()
    page.keyboard.press("End")
    epochs = page.get_by_test_id("stSlider").filter(has_text="Epochs").get_by_test_id("stSliderThumbValue")
    expect(epochs).to_have_text("50")
    wait_until_idle(page)
    page.get_by_role("button", name="Start training").click()
    expect(page.get_by_text(re.compile(r"Epoch \d+/50 · batch"))).to_be_visible(timeout=60_000)
    page.wait_for_function("() => document.querySelector('.js-plotly-plot') !== null", timeout=30_000)
    first = plotted_points(page)
    page.wait_for_function(f"() => {{ const p = document.querySelector('.js-plotly-plot');"
                           f" return p && p.data.reduce((t, d) => t + (d.x ? d.x.length : 0), 0) > {first}; }}",
                           timeout=30_000)
    assert plotted_points(page) > first  # the chart grows while we watch, without any click

    page.get_by_test_id("stSidebarNavItems").get_by_role("link", name="Home").click()
    expect(page.locator("h1").first).to_have_text("CNN Lab")
    page.get_by_test_id("stSidebarNavItems").get_by_role("link", name="Train").click()
    expect(page.get_by_text(re.compile(r"Epoch \d+/50 · batch"))).to_be_visible(timeout=30_000)
    expect(page.get_by_text("· running")).to_be_visible()
    # The page's settings survive the trip too, though the live view kept ticking meanwhile.
    expect(page.get_by_text("for 28×28×1 inputs", exact=False)).to_be_visible()  # MNIST, not the 8×8 default
    page.screenshot(path=str(tmp_path / "train-live.png"), full_page=True)

    page.get_by_role("button", name="Stop").click()
    expect(page.get_by_text(re.compile("stopped by you after"))).to_be_visible(timeout=60_000)
    expect(page.get_by_text("· stopped")).to_be_visible()
    assert_no_exception(page)
    page.screenshot(path=str(tmp_path / "train-stopped.png"), full_page=True)

    page.get_by_test_id("stSidebarNavItems").get_by_role("link", name="Models").click()
    wait_until_idle(page)
    expect(page.locator('[data-testid="stDataFrame"]').first).to_be_visible()


def test_upload_a_model_file_to_the_store(page, app_server, tmp_path):
    keras = pytest.importorskip("keras")
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Rescaling(1 / 255), keras.layers.Flatten(),
                              keras.layers.Dense(10, activation="softmax")])
    good, bad = tmp_path / "tiny digits.keras", tmp_path / "bad.keras"
    model.save(good)
    bad.write_bytes(b"not a model at all")
    page.goto(f"{app_server.url}/models")
    wait_until_idle(page)
    page.get_by_text("Upload a .keras model").click()
    page.locator("input[type=file]").set_input_files(str(bad))
    expect(page.get_by_text("bad.keras")).to_be_visible()
    wait_until_idle(page)
    page.get_by_role("button", name="Check and add to the store").click()
    expect(page.get_by_text(re.compile("Not added: This is not a .keras file"))).to_be_visible(timeout=30_000)
    page.locator("input[type=file]").set_input_files(str(good))
    # Wait until the server has the new file (its rerun shows it); a click before that checks the old one.
    expect(page.get_by_text("tiny digits.keras")).to_be_visible()
    wait_until_idle(page)
    page.get_by_role("button", name="Check and add to the store").click()
    expect(page.get_by_text(re.compile(r"Added as run \S+: test accuracy"))).to_be_visible(timeout=120_000)
    assert_no_exception(page)
