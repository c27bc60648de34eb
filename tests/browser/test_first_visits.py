"""A class arriving together: simultaneous deep links to a freshly started server.

Streamlit decides per process, at the first session, whether an app with a `pages/` folder runs in
legacy folder mode. When several first visits arrive at the same instant, some of them used to run
their page without the router: a menu built from file names, and `KeyError`s on session keys that
only the router had set.
"""

from __future__ import annotations

import asyncio
import threading

import pytest

from tests.browser.conftest import CHROMIUM, CHROMIUM_FLAGS, _unavailable, start_server
from ui.navigation import HOME, PAGES

pytestmark = pytest.mark.browser

ROUNDS = 5
DEEP_LINKS = [spec for spec in PAGES if spec is not HOME]  # six pages, six students
TITLES = [spec.title for spec in PAGES]


def _url_path(spec) -> str:
    return spec.path.removeprefix("pages/").removesuffix(".py")


async def _visit(context, url: str, spec) -> dict[str, object]:
    """Opens one deep link and reports what the student saw once the page settled."""
    tab = await context.new_page()
    tab.set_default_timeout(90_000)
    await tab.goto(url)
    await tab.locator("h1").first.wait_for()
    await tab.wait_for_function(
        "title => [...document.querySelectorAll('h1')].some(h => h.innerText.trim() === title)", arg=spec.title)
    await tab.locator('[data-testid="stSidebarNav"]').wait_for()
    await tab.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=90_000)
    await tab.wait_for_timeout(1500)  # a late rerun would replace the menu or raise now
    seen = {
        "page": spec.title,
        "menu": await tab.locator('[data-testid="stSidebarNav"]').inner_text(),
        "exceptions": await tab.locator('[data-testid="stException"]').all_inner_texts(),
        "h1": await tab.locator("h1").first.inner_text(),
    }
    await tab.close()
    return seen


async def _class_arrives(base_url: str, profile: str) -> list[dict[str, object]]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True,
            viewport={"width": 1280, "height": 900})
        try:
            # Every tab is opened first, then all of them load at once.
            return await asyncio.gather(*(_visit(context, f"{base_url}/{_url_path(spec)}", spec)
                                          for spec in DEEP_LINKS))
        finally:
            await context.close()


@pytest.mark.parametrize("round_number", range(1, ROUNDS + 1))
def test_six_simultaneous_deep_links_to_a_fresh_server(round_number, tmp_path):
    try:
        import playwright  # noqa: F401
    except ImportError:
        _unavailable("the playwright package is not installed")
    server = start_server(tmp_path)  # a fresh process each round: the decision is made once per process
    results: list = []

    def visit() -> None:
        try:
            results.append(asyncio.run(_class_arrives(server.url, str(tmp_path / "profile"))))
        except BaseException as error:  # handed to the test's thread below
            results.append(error)

    # Its own thread and event loop: the other browser tests' sync Playwright keeps a loop running in this one.
    worker = threading.Thread(target=visit)
    try:
        worker.start()
        worker.join(timeout=400)
    finally:
        server.stop()
    assert results, "the six visits did not finish in 400 s"
    if isinstance(results[0], BaseException):
        raise results[0]
    seen = results[0]
    log = (tmp_path / "streamlit.log").read_text()
    for visit in seen:
        assert not visit["exceptions"], visit
        assert visit["h1"] == visit["page"], visit
        menu = visit["menu"]
        assert all(title in menu for title in TITLES), visit  # the router's titles, not file names
        assert "streamlit app" not in menu.lower() and "convolution playground" in menu.lower(), visit
    assert "KeyError" not in log and "Traceback" not in log, log[-3000:]
