"""The Models page under AppTest: pick a stored run, rename it, delete it; shipped defaults stay read-only."""

from __future__ import annotations

import shutil
from urllib.parse import parse_qs

import pytest

from core.store.runs import DEFAULTS, RUNS, STORE_ROOT, list_runs, save_run
from tests.app.harness import open_app, rerun
from tests.unit.test_store import fake_model, record
from ui.models import state as models_state
from ui.predict import state as predict_state

MODELS = "pages/models.py"


@pytest.fixture
def two_runs():
    """One run of the user's and one shipped default, in the tests' temporary store."""
    shutil.rmtree(STORE_ROOT / RUNS, ignore_errors=True)
    shutil.rmtree(STORE_ROOT / DEFAULTS, ignore_errors=True)
    mine = save_run(record(name="my first run"), fake_model)
    shipped = save_run(record(name="shipped mnist"), fake_model)
    (STORE_ROOT / DEFAULTS).mkdir()
    shipped.rename(STORE_ROOT / DEFAULTS / shipped.name)
    yield mine.name, shipped.name
    shutil.rmtree(STORE_ROOT / RUNS, ignore_errors=True)
    shutil.rmtree(STORE_ROOT / DEFAULTS, ignore_errors=True)


def pick_row(app, row: int):
    # The table's selection, as the browser sends it when a row is clicked.
    app.session_state[models_state.TABLE] = {"selection": {"rows": [row], "columns": [], "cells": []}}
    return rerun(app)


def test_rename_then_delete_a_run(two_runs):
    mine, _ = two_runs
    app = open_app(MODELS)
    table = app.dataframe[0].value
    assert list(table["name"]) == ["shipped mnist", "my first run"]  # defaults first
    assert list(table["kind"]) == ["shipped default", "your run"]
    pick_row(app, 1)
    assert [header.value for header in app.header] == ["my first run"]
    links = {element.proto.page: parse_qs(element.proto.query_string) for element in app.get("page_link")}
    assert links["evaluate"]["run"] == links["predict"]["run"] == [mine]  # a 28×28×1 model: Evaluate and Predict

    app.text_input(key=f"rename_{mine}").input("  better   name ")
    rerun(app)
    app.button(key=f"do_rename_{mine}").click()
    rerun(app)
    assert [run.name for run in list_runs() if run.run_id == mine] == ["better name"]
    assert "Renamed to “better name”" in app.success[0].value
    assert "better name" in list(app.dataframe[0].value["name"])

    pick_row(app, 1)
    assert not [button for button in app.button if button.key == f"delete_{mine}"]  # confirm first
    app.toggle(key=f"confirm_{mine}").set_value(True)
    rerun(app)
    app.button(key=f"delete_{mine}").click()
    rerun(app)
    assert [run.name for run in list_runs()] == ["shipped mnist"]
    assert list(app.dataframe[0].value["name"]) == ["shipped mnist"]
    assert "Deleted “better name”" in app.success[0].value
    assert not app.header  # the selection is cleared, not moved onto another run


def test_a_shipped_default_cannot_be_renamed_or_deleted(two_runs):
    _, shipped = two_runs
    app = pick_row(open_app(MODELS), 0)
    assert [header.value for header in app.header] == ["shipped mnist"]
    assert "cannot be renamed or deleted" in " ".join(caption.value for caption in app.caption)
    assert not [widget for widget in app.text_input if widget.key == f"rename_{shipped}"]
    assert not [widget for widget in app.toggle if widget.key == f"confirm_{shipped}"]


def test_a_bad_new_name_is_explained_and_changes_nothing(two_runs):
    mine, _ = two_runs
    app = pick_row(open_app(MODELS), 1)
    app.text_input(key=f"rename_{mine}").input("   ")
    rerun(app)
    app.button(key=f"do_rename_{mine}").click()
    rerun(app)
    assert "1 to 80 characters" in app.error[0].value
    assert [run.name for run in list_runs() if run.run_id == mine] == ["my first run"]


@pytest.mark.shipped_defaults
def test_a_store_set_by_the_environment_still_offers_the_shipped_defaults():
    # The tests' store is CNNLAB_STORE_DIR, a folder with no defaults/ of its own, as on a deployer's volume.
    from core.train.recipes import SHIPPED_RUN_IDS

    shutil.rmtree(STORE_ROOT / DEFAULTS, ignore_errors=True)
    models = open_app(MODELS)
    assert not any("No stored runs" in info.value for info in models.info)
    assert set(SHIPPED_RUN_IDS.values()) <= set(models.dataframe[0].value["id"])
    predict = open_app("pages/predict.py")
    assert not any("No trained models" in info.value for info in predict.info)
    assert predict.selectbox(key=predict_state.RUN).value == SHIPPED_RUN_IDS["mnist"]


def test_a_run_without_validation_shows_an_empty_cell_not_none(two_runs):
    # A number column draws a missing value as "None"; a progress column leaves the cell empty.
    import json

    table = open_app(MODELS).dataframe[0]
    assert table.value["validation accuracy"].isna().all()
    assert list(table.value["test accuracy"]) == [90.0, 90.0]  # percent, still numbers, so they sort
    columns = json.loads(table.proto.columns)
    for name in ("test accuracy", "validation accuracy"):
        assert columns[name]["type_config"]["type"] == "progress", columns[name]
    assert "None" not in table.value.astype(str).to_string().replace("NaN", "")


def test_the_page_reads_each_run_folder_once_per_run(two_runs, monkeypatch):
    # Listing the runs and the damaged ones is one look at the store, not two.
    import core.store.runs as store

    seen: list[str] = []
    examine = store._examine

    def counted(folder, source):
        seen.append(folder.name)
        return examine(folder, source)

    monkeypatch.setattr(store, "_examine", counted)
    app = open_app(MODELS)
    seen.clear()
    rerun(app)
    assert sorted(seen) == sorted(two_runs)


def test_the_columns_a_learner_compares_come_first(two_runs):
    # At 1280 px the columns after the sixth were off screen: validation accuracy and epochs among them.
    table = open_app(MODELS).dataframe[0]
    assert list(table.value.columns[:4]) == ["name", "test accuracy", "validation accuracy", "epochs"]
