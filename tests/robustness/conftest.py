"""What every robustness case checks: a clear message, no traceback on the page, and an app that still works."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from streamlit.testing.v1 import AppTest

from core.store.runs import DEFAULTS, STORE_ROOT
from core.train.recipes import SHIPPED_RUN_IDS
from tests.app.harness import rendered
from tests.conftest import REPO_ROOT

_TEXT = ("title", "header", "subheader", "markdown", "caption", "code", "text", "error", "warning", "info", "success",
         "exception", "toast")


def page_text(app: AppTest) -> str:
    """Every piece of text on the page, alerts and exceptions included."""
    parts = []
    for kind in _TEXT:
        for element in app.get(kind):
            value = getattr(element, "value", None) or getattr(element, "message", None) or ""
            parts.append(rendered(value))
            parts.extend(str(line) for line in getattr(element, "stack_trace", []) or [])
    return "\n".join(parts)


def alerts(app: AppTest) -> list[str]:
    kinds = ("error", "warning", "info", "success", "toast")
    return [rendered(element.value) for kind in kinds for element in app.get(kind)]


def assert_clean(app: AppTest) -> None:
    """No exception element and no traceback text anywhere on the page."""
    assert not app.exception, [element.value for element in app.exception]
    text = page_text(app)
    assert "Traceback" not in text and 'File "' not in text, text[:2000]


def assert_says(app: AppTest, *words: str) -> str:
    """Some alert on the page contains all of `words` (case-insensitive); returns it."""
    found = alerts(app)
    for alert in found:
        if all(word.lower() in alert.lower() for word in words):
            return alert
    raise AssertionError(f"no alert says {words}; alerts: {found}")


@pytest.fixture(scope="session")
def mnist_default() -> Iterator[str]:
    """The shipped MNIST model, copied into the tests' store for the Predict page."""
    run_id = SHIPPED_RUN_IDS["mnist"]
    target = STORE_ROOT / DEFAULTS / run_id
    existed = target.exists()
    shutil.copytree(REPO_ROOT / "models" / DEFAULTS / run_id, target, dirs_exist_ok=True)
    yield run_id
    if not existed:
        shutil.rmtree(target, ignore_errors=True)
