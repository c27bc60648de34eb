"""Oversized link parameters: refused unread with a message, while the rest of the link still applies."""

from __future__ import annotations

from tests.app.harness import open_app
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
