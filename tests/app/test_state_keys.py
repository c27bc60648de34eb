"""Session-state keys: each has one owner, and what an owner keeps survives a visit to another page."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from tests.app.harness import open_app, rerun
from tests.conftest import REPO_ROOT
from ui import navigation
from ui.evaluate import state as evaluate_state
from ui.explorer import state as explorer_state
from ui.persist import KeptKeys
from ui.playground import state as pg
from ui.predict import state as predict_state
from ui.train import state as train_state
from ui.train.settings import setting_key


def state_modules() -> list:
    """`ui.state` and every page package's `state` module, found on disk (a new page cannot be missed)."""
    paths = [REPO_ROOT / "ui" / "state.py", *sorted((REPO_ROOT / "ui").glob("*/state.py"))]
    return [importlib.import_module(".".join(path.relative_to(REPO_ROOT).with_suffix("").parts)) for path in paths]


def declared_keys(module) -> set[str]:
    """The string values of a module's upper-case constants: the keys (and key prefixes) it declares."""
    return {value for name, value in vars(module).items() if name.isupper() and isinstance(value, str)}


def ui_modules() -> list:
    paths = sorted(Path(REPO_ROOT / "ui").rglob("*.py"))
    names = [".".join(path.relative_to(REPO_ROOT).with_suffix("").parts) for path in paths]
    return [importlib.import_module(name.removesuffix(".__init__")) for name in names
            if name != "ui.canvas"]  # needs no check: it declares no key, and imports a component


def test_every_state_module_declares_what_it_keeps_and_the_shell_keeps_it():
    modules = state_modules()
    assert len(modules) == 9  # the shared root and eight pages
    for module in modules:
        assert isinstance(module.KEPT, KeptKeys) and module.KEPT.owner == module.__name__
    assert sorted(kept.owner for kept in navigation.KEPT) == sorted(module.__name__ for module in modules)


def test_every_kept_key_is_declared_by_exactly_one_owner():
    declared_by: dict[str, list[str]] = {}
    for module in ui_modules():
        for key in declared_keys(module):
            # A module that imported an owner's constant re-exposes it; only the module that defines it counts.
            if not any(key in declared_keys(other) for other in state_modules() if other is not module) or (
                    module in state_modules()):
                declared_by.setdefault(key, []).append(module.__name__)
    for kept in navigation.KEPT:
        for key in (*kept.keys, *kept.prefixes):
            assert declared_by.get(key) == [kept.owner], (key, declared_by.get(key))


def test_no_key_is_kept_by_two_owners():
    for module in state_modules():
        for key in declared_keys(module):
            covering = [kept.owner for kept in navigation.KEPT if kept.covers(key)]
            assert len(covering) <= 1, (key, covering)


# One kept widget per page: set it, visit another page, come back.
TRIPS = [
    ("pages/dataset_explorer.py", "radio", explorer_state.SPLIT, "test"),
    ("pages/dataset_explorer.py", "segmented_control", explorer_state.SECTION, "Statistics"),
    ("pages/convolution_playground.py", "slider", pg.STRIDE, 2),
    ("pages/train.py", "slider", setting_key("epochs"), 3),
    ("pages/train.py", "text_input", train_state.RUN_NAME, "my run"),
    ("pages/evaluate.py", "segmented_control", evaluate_state.VIEW, "Learned filters"),
    ("pages/predict.py", "segmented_control", predict_state.SOURCE, "Upload"),
]


@pytest.mark.shipped_defaults
@pytest.mark.parametrize(("page", "kind", "key", "value"), TRIPS, ids=[trip[2] for trip in TRIPS])
def test_a_kept_value_survives_a_visit_to_another_page(page, kind, key, value):
    app = open_app(page)
    getattr(app, kind)(key=key).set_value(value)
    rerun(app)
    assert app.session_state[key] == value
    app.switch_page("pages/home.py")
    rerun(app)
    app.switch_page(page)
    rerun(app)
    assert app.session_state[key] == value
    assert getattr(app, kind)(key=key).value == value
