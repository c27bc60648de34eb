"""A reload keeps a student's own model and settings: the workspace keeps them, so its private link (a reload,
another tab, another device) opens the Train page as it was left, not at the recommended defaults."""

from __future__ import annotations

import pytest

from core.store.workspaces import read_workspace
from tests.app.harness import open_app, rerun
from ui import state
from ui.train import state as train_state
from ui.train.settings import setting_key

TRAIN = "pages/train.py"


@pytest.fixture
def hosted(monkeypatch):
    monkeypatch.setenv("CNNLAB_HOSTED", "1")


def test_a_reload_opens_the_train_page_with_the_students_own_model_and_settings(hosted):
    app = open_app(TRAIN)
    app.selectbox(key=state.DATASET).select("fashion_mnist")
    rerun(app)
    app.selectbox(key=train_state.PRESET).select("two_conv_blocks")
    rerun(app)
    app.slider(key=setting_key("epochs")).set_value(7)
    app.select_slider(key=setting_key("batch_size")).set_value(64)
    app.text_input(key=train_state.RUN_NAME).set_value("my fashion try")
    rerun(app)
    kinds = [layer["kind"] for layer in app.session_state[train_state.SPEC]]
    key = app.session_state[state.WORKSPACE_KEY]
    assert read_workspace(app.session_state[state.OWNER]).settings[setting_key("epochs")] == 7

    again = open_app(TRAIN, query={"ws": key})  # a new session: the reload
    assert again.selectbox(key=state.DATASET).value == "fashion_mnist"
    assert again.slider(key=setting_key("epochs")).value == 7
    assert again.select_slider(key=setting_key("batch_size")).value == 64
    assert again.text_input(key=train_state.RUN_NAME).value == "my fashion try"
    assert [layer["kind"] for layer in again.session_state[train_state.SPEC]] == kinds
    assert again.session_state[train_state.PRESET] == "two_conv_blocks"
    assert not again.exception

    fresh = open_app(TRAIN)  # another workspace starts at the recommended settings, not at this one's
    assert fresh.slider(key=setting_key("epochs")).value != 7
