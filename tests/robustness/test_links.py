"""Oversized link parameters: refused unread with a message, while the rest of the link still applies."""

from __future__ import annotations

from tests.app.harness import open_app, rendered
from tests.robustness.conftest import assert_clean, assert_says
from ui.playground import state as pg


def test_a_300x300_playground_grid_is_refused_and_the_page_renders():
    # 180,000 characters: under the 512 KB query string Streamlit itself still hands to the page.
    app = open_app("pages/convolution_playground.py",
                   query={"source": "grid", "grid": ";".join([",".join(["0"] * 300)] * 300), "stride": "2"})
    assert_clean(app)
    assert_says(app, "grid", "longer than any link this app makes")
    assert app.session_state[pg.STRIDE] == 2  # the usable part still applies


def test_an_oversized_run_link_is_no_run():
    app = open_app("pages/evaluate.py", query={"run": "2" * 100_000})
    assert_clean(app)
    message = assert_says(app, "There is no run")
    assert len(message) < 200  # the id is quoted in part, not echoed whole


def test_a_playground_links_refused_values_are_echoed_as_text_not_markdown():
    # The warnings quoted what they refused as Markdown: a link, bold red text, and an image the browser fetched.
    app = open_app("pages/convolution_playground.py", query={
        "padding": "[Fix it](//evil.ex)", "dataset": "![x](//127.0.0.2:9/px.png)", "pool": "**BOLD**:red[red]"})
    assert_clean(app)
    warnings = [warning.value for warning in app.warning]
    assert len(warnings) == 3
    for text in warnings:
        assert "](" not in text and "**B" not in text and ":red[" not in text, text  # every mark escaped
    assert any("'[Fix it](//evil.ex)' is not one of valid, same" in rendered(text) for text in warnings)
