"""Stored runs whose files are damaged: each is named on Models, skipped elsewhere, and harms no other run."""

from __future__ import annotations

import json
import shutil

import pytest

from core.store.ids import new_id
from core.store.runs import DEFAULTS, META_FILE, MODEL_FILE, RUNS, STORE_ROOT, list_damaged, list_runs
from core.train.recipes import SHIPPED_RUN_IDS
from tests.app.harness import open_app, rerun
from tests.conftest import REPO_ROOT
from tests.robustness.conftest import assert_clean
from ui.evaluate import state as evaluate_state
from ui.predict import state as predict_state

GOOD_ID = "20260301-120000-aaaaaa"


def _copy_digits_default(run_id: str) -> dict:
    """The shipped digits model as a user run with a new id; returns its meta.json content."""
    source = REPO_ROOT / "models" / DEFAULTS / SHIPPED_RUN_IDS["digits"]
    target = STORE_ROOT / RUNS / run_id
    shutil.copytree(source, target)
    meta = json.loads((target / META_FILE).read_text())
    meta.update(run_id=run_id, name=f"run {run_id[-6:]}")
    (target / META_FILE).write_text(json.dumps(meta))
    return meta


def _damaged(run_id: str, change) -> None:
    meta = _copy_digits_default(run_id)
    path = STORE_ROOT / RUNS / run_id / META_FILE
    result = change(meta, path)
    if result is not None:
        path.write_text(result if isinstance(result, str) else json.dumps(result))


def _set(key, value):
    return lambda meta, path: {**meta, key: value}


CASES = {
    "created is a number": (_set("created", 12345), "'created' is a int, not a str"),
    "metrics is text": (_set("metrics", "oops"), "'metrics' is a str, not a dict"),
    "invalid JSON": (lambda meta, path: '{"run_id": "x", ', "not valid JSON"),
    "a missing key": (lambda meta, path: {k: v for k, v in meta.items() if k != "dataset"},
                      "lacks the field 'dataset'"),
    "an extra key": (_set("surprise", 1), "unknown field 'surprise'"),
    "history of text": (_set("history", {"loss": ["a"]}), "'history' holds something"),
    "no model file": (lambda meta, path: (path.parent / MODEL_FILE).unlink(), "model file is missing"),
}


@pytest.fixture
def store():
    shutil.rmtree(STORE_ROOT / RUNS, ignore_errors=True)
    (STORE_ROOT / RUNS).mkdir(parents=True)
    _copy_digits_default(GOOD_ID)
    ids = {}
    for number, (case, (change, _)) in enumerate(CASES.items()):
        ids[case] = f"20260301-13000{number}-bbbbbb"
        _damaged(ids[case], change)
    yield ids
    shutil.rmtree(STORE_ROOT / RUNS, ignore_errors=True)


def test_each_damaged_run_is_named_with_its_reason_and_the_good_run_still_listed(store):
    assert [run.run_id for run in list_runs() if run.source == RUNS] == [GOOD_ID]  # other suites may add defaults
    reasons = {item.run_id: item.reason for item in list_damaged()}
    for case, (_, words) in CASES.items():
        assert words in reasons[store[case]], (case, reasons[store[case]])


def test_models_lists_damaged_runs_and_deletes_one(store):
    app = open_app("pages/models.py")
    assert_clean(app)
    listed = list(app.dataframe[0].value["id"])
    assert GOOD_ID in listed and not set(store.values()) & set(listed)
    shown = " ".join(text.value for text in app.text)
    for case, (_, words) in CASES.items():
        assert store[case] in shown and words in shown, case
    app.button(key=f"delete_damaged_{store['created is a number']}").click()
    rerun(app)
    assert_clean(app)
    assert not (STORE_ROOT / RUNS / store["created is a number"]).exists()
    assert any("Deleted the damaged run" in message.value for message in app.success)
    assert (STORE_ROOT / RUNS / GOOD_ID).is_dir()


@pytest.mark.parametrize("page", ["pages/evaluate.py", "pages/predict.py", "pages/train.py", "pages/home.py"])
def test_other_pages_skip_damaged_runs(store, page):
    app = open_app(page)
    assert_clean(app)


def test_evaluate_compares_the_good_run_while_others_are_damaged(store):
    app = open_app("pages/evaluate.py", query={"run": GOOD_ID})
    assert_clean(app)
    assert app.metric  # the good run evaluates
    app.segmented_control(key=evaluate_state.VIEW).set_value("Compare runs")
    rerun(app)
    assert_clean(app)


def test_a_truncated_model_file_is_named_as_damaged_not_missing(store):
    run_id = new_id()
    _copy_digits_default(run_id)
    model = STORE_ROOT / RUNS / run_id / MODEL_FILE
    model.write_bytes(model.read_bytes()[:2000])
    app = open_app("pages/evaluate.py", query={"run": run_id})
    assert_clean(app)
    warnings = " ".join(w.value for w in app.warning)
    assert "model file is damaged" in warnings and "not found" not in warnings.lower(), warnings
    predict = open_app("pages/predict.py")
    predict.selectbox(key=predict_state.RUN).set_value(run_id)
    rerun(predict)
    errors = " ".join(e.value for e in predict.error)
    assert "model file is damaged" in errors and "not found" not in errors.lower(), errors
