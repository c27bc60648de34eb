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
    """Page coordinates of a confusion-matrix cell, from plotly's own axis mapping."""
    return tuple(tab.evaluate("""([row, column]) => {
        const plot = document.querySelector('.stPlotlyChart .js-plotly-plot');
        const box = plot.getBoundingClientRect();
        const x = plot._fullLayout.xaxis, y = plot._fullLayout.yaxis;
        return [box.left + x._offset + x.l2p(column), box.top + y._offset + y.l2p(row)];
    }""", [row, column]))


def test_clicking_a_cell_shows_its_images(page, app_server, digits_run, tmp_path):
    page.goto(f"{app_server.url}/evaluate?run={digits_run}")
    wait_until_idle(page)
    page.wait_for_selector(".stPlotlyChart .js-plotly-plot .main-svg")
    assert_no_exception(page)
    heading = page.locator("h3").filter(has_text=re.compile(r"^True \d, predicted \d"))

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
