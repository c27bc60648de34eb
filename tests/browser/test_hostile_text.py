"""Text a user typed, shown in a real browser: the characters as typed, never markup, links or images.

Streamlit renders captions, alerts and markdown as Markdown (raw HTML never, but links, images,
emphasis and `:material/…:` icons yes); plotly reads tags in its labels. A run named like the
string below must show as that text on Evaluate (its caption carries the name and the stop
reason), and no element may come of it.
"""

from __future__ import annotations

import json
import shutil

import pytest
from playwright.sync_api import expect

from core.store.runs import DEFAULTS, META_FILE, RUNS, STORE_ROOT
from core.train.recipes import SHIPPED_RUN_IDS
from tests.browser.conftest import assert_no_exception, wait_until_idle
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.browser

RUN_ID = "20260401-120000-abcdef"
HOSTILE = ("![pic](http://127.0.0.1:9/track.png) [link](javascript:alert(1)) **bold** `tick` "
           ":material/home: <b>tag</b> $x^2$")


@pytest.fixture
def hostile_run():
    source = REPO_ROOT / "models" / DEFAULTS / SHIPPED_RUN_IDS["digits"]
    target = STORE_ROOT / RUNS / RUN_ID
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target)
    meta = json.loads((target / META_FILE).read_text())
    meta.update(run_id=RUN_ID, name=HOSTILE, stop_reason=f"Stopped: {HOSTILE}")
    (target / META_FILE).write_text(json.dumps(meta))
    yield RUN_ID
    shutil.rmtree(target, ignore_errors=True)


def _no_markup_from_the_name(tab) -> None:
    main = tab.locator('[data-testid="stMain"]')
    assert main.locator('img[src*="track.png"]').count() == 0
    assert main.locator('a[href^="javascript"]').count() == 0
    assert main.locator("b", has_text="tag").count() == 0
    assert main.locator("strong", has_text="bold").count() == 0
    assert main.locator("code", has_text="tick").count() == 0


def _shown_as_typed(tab) -> None:
    text = tab.locator('[data-testid="stMain"]').inner_text().replace("\u200b", "")
    assert "![pic](http://127.0.0.1:9/track.png)" in text and "**bold**" in text and "<b>tag</b>" in text, text


def test_a_hostile_run_name_shows_as_text_on_evaluate(page, app_server, hostile_run):
    page.goto(f"{app_server.url}/evaluate?run={hostile_run}")
    wait_until_idle(page)
    expect(page.locator('[data-testid="stCaptionContainer"]').filter(has_text="pic").first).to_be_visible(
        timeout=90_000)  # the first Evaluate of a server loads TensorFlow
    _shown_as_typed(page)
    _no_markup_from_the_name(page)
    assert_no_exception(page)
