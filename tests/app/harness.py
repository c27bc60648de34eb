"""Opening the app under AppTest and rerunning it, with any exception failing the test."""

from __future__ import annotations

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


def rerun(app: AppTest) -> AppTest:
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app
