"""The Evaluate page in Chromium: click a confusion-matrix cell and its gallery appears."""

from __future__ import annotations

import re
import shutil

import pytest
from playwright.sync_api import expect

from core.datasets import load_dataset
from core.model_presets import default_config
from core.store import RUNS, STORE_ROOT
from core.training import train_and_store
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
