"""Opening the app under AppTest and rerunning it, with any exception failing the test."""

from __future__ import annotations

import re

from streamlit.testing.v1 import AppTest

from tests.conftest import REPO_ROOT


def open_app(page: str | None = None, timeout: float = 120, query: dict[str, str] | None = None) -> AppTest:
    """Runs the router, then switches to `page` (if given) with `query` in the address, like a shared link."""
    app = AppTest.from_file(str(REPO_ROOT / "streamlit_app.py"), default_timeout=timeout)
    app.run()
    for name, value in (query or {}).items():
        app.query_params[name] = value
    if page is not None:
        app.switch_page(page).run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def rendered(markdown: str) -> str:
    """What a reader sees of a Markdown string: backslash escapes resolved, zero-width spaces gone.

    User text reaches the page through `ui.text.plain`, which escapes it; AppTest hands tests the
    Markdown source, so checks of wording compare what the browser shows.
    """
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", str(markdown)).replace("\u200b", "")


def rerun(app: AppTest) -> AppTest:
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def plotly_figure(element) -> dict:
    """A `plotly_chart` element's figure as JSON, its typed arrays ({"dtype", "bdata"}: how plotly 6 sends NumPy
    arrays) decoded into lists."""
    import base64
    import json

    import numpy as np

    def decode(value):
        if isinstance(value, dict):
            if set(value) >= {"dtype", "bdata"}:
                array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
                return array.reshape(value["shape"]).tolist() if "shape" in value else array.tolist()
            return {key: decode(item) for key, item in value.items()}
        if isinstance(value, list):
            return [decode(item) for item in value]
        return value

    return decode(json.loads(element.proto.spec))
