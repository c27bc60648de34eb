"""The Evaluate page under AppTest, on two small real runs trained on the digits dataset."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime
from types import SimpleNamespace
from urllib.parse import parse_qs

import numpy as np
import pytest

from core.data.datasets import load_dataset
from core.evaluate.metrics import cell_indices
from core.store.runs import RUNS, STORE_ROOT, load_record, run_folder, save_run
from core.train.engine import train_and_store
from core.train.recipes import default_config
from tests.app.harness import open_app, plotly_figure, rendered, rerun
from tests.unit.test_store import fake_model, record
from ui.evaluate import state as evaluate_state
from ui.evaluate import views as ev
from ui.runs import run_labels

EVALUATE = "pages/evaluate.py"


@pytest.fixture(scope="module")
def runs():
    """Two digits runs (1 and 3 epochs), trained for real, in the tests' temporary store."""
    shutil.rmtree(STORE_ROOT / RUNS, ignore_errors=True)
    dataset = load_dataset("digits")
    ids = []
    for name, epochs in (("short run", 1), ("longer run", 3)):
        config = default_config("digits", "one_conv")
        config.epochs, config.name, config.batch_size = epochs, name, 64
        ids.append(train_and_store(config, dataset, lambda event: None).run_id)
    yield ids
    shutil.rmtree(STORE_ROOT / RUNS, ignore_errors=True)


def predictions(run_id: str) -> np.ndarray:
    import keras

    model = keras.saving.load_model(run_folder(run_id) / "model.keras")
    return model.predict(load_dataset("digits").x_test, verbose=0)


def open_run(run_id: str, view: str | None = None):
    app = open_app(EVALUATE, query={"run": run_id})
    if view is not None:
        app.segmented_control(key=evaluate_state.VIEW).set_value(view)
        rerun(app)
    return app


def test_a_chosen_confusion_cell_shows_only_its_images(runs):
    run_id = runs[1]
    probabilities = predictions(run_id)
    labels = load_dataset("digits").y_test
    guesses = probabilities.argmax(axis=1)
    app = open_run(run_id)
    assert app.selectbox(key=evaluate_state.RUN).value == run_id
    accuracy = app.metric[0].value
    assert accuracy == f"{(guesses == labels).mean():.2%}"
    assert accuracy == f"{load_record(run_id).metrics['test']['accuracy']:.2%}"  # agrees with the stored number
    recall = [(guesses[labels == c] == c).mean() for c in range(10)]
    weakest = int(np.argmin(recall))
    assert any(f"of all the “{weakest}” images, how many did it find? {recall[weakest]:.1%}, the lowest" in
               caption.value for caption in app.caption)

    # a (true, predicted) pair that has images: the first mistake's, or a diagonal cell
    wrong = np.flatnonzero(guesses != labels)
    true_class, predicted_class = (labels[wrong[0]], guesses[wrong[0]]) if len(wrong) else (3, 3)
    app.selectbox(key=evaluate_state.TRUE).set_value(int(true_class))
    app.selectbox(key=evaluate_state.PREDICTED).set_value(int(predicted_class))
    rerun(app)
    shown = [int(re.match(r"#(\d+)", caption).group(1)) for caption in app.image[0].captions]
    expected = np.flatnonzero((labels == true_class) & (guesses == predicted_class))
    most_confident = cell_indices(labels, probabilities, true_class, predicted_class)[: ev.GALLERY_SIZE]
    assert shown == most_confident.tolist()
    assert all(labels[i] == true_class and guesses[i] == predicted_class for i in shown)
    assert f"True {true_class}, predicted {predicted_class}: {len(expected)}" in app.header[0].value


def test_the_chart_click_callback_picks_the_cell(monkeypatch):
    # what Streamlit hands the callback when a cell is tapped or clicked: the selection's fields
    chart = SimpleNamespace(selection={"cell": [{"true": 1, "predicted": 8}]})
    fake = SimpleNamespace(session_state={evaluate_state.MATRIX: chart})
    monkeypatch.setattr(ev, "st", fake)
    ev._pick_cell()
    assert (fake.session_state[evaluate_state.TRUE], fake.session_state[evaluate_state.PREDICTED]) == (1, 8)


def test_mistakes_gallery_and_one_image(runs):
    run_id = runs[0]
    probabilities = predictions(run_id)
    labels = load_dataset("digits").y_test
    app = open_run(run_id, "Mistakes")
    captions = app.image[0].captions
    wrong = np.flatnonzero(probabilities.argmax(axis=1) != labels)
    assert any(f"**{len(wrong):,} mistakes.**" in block.value for block in app.markdown)
    first = int(re.match(r"#(\d+)", captions[0]).group(1))
    confidence = probabilities[wrong].max(axis=1)
    assert first == wrong[np.argmax(confidence)]  # the most confidently wrong comes first
    # A mistake opens in Predict, with the run's feature maps and heat map (Predict reads the link: test_predict).
    links = [element.proto for element in app.get("page_link") if element.proto.page.endswith("predict")]
    query = parse_qs(links[0].query_string)
    assert (query["run"], query["test"], query["look"]) == ([run_id], [str(first)], ["saliency"])

    app.segmented_control(key=evaluate_state.VIEW).set_value("One image")
    rerun(app)
    app.number_input(key=evaluate_state.INDEX).set_value(5)
    rerun(app)
    guess = int(probabilities[5].argmax())
    assert any(f"Expected **{labels[5]}**, guessed **{guess}**" in block.value for block in app.markdown)
    link = next(element.proto for element in app.get("page_link") if element.proto.page.endswith("predict"))
    assert parse_qs(link.query_string)["test"] == ["5"]


def test_compare_two_runs_and_export(runs):
    app = open_run(runs[0], "Compare runs")
    assert set(app.multiselect(key=evaluate_state.COMPARE).value) == set(runs)
    table = app.dataframe[-1].value
    assert sorted(table["run"]) == ["longer run", "short run"]
    assert sorted(table["epochs"]) == [1, 3]
    assert len(app.get("plotly_chart")) == 1  # one metric at a time, the page's width
    app.segmented_control(key=evaluate_state.COMPARE_METRIC).set_value("accuracy")
    app.segmented_control(key=evaluate_state.COMPARE_X).set_value("share")
    rerun(app)
    figure = plotly_figure(app.get("plotly_chart")[0])
    assert figure["layout"]["title"]["text"] == "Accuracy"
    assert figure["layout"]["xaxis"]["title"]["text"] == "share of its planned epochs"
    assert {max(trace["x"]) for trace in figure["data"]} == {1.0}  # the 1-epoch run and the 3-epoch one: full width

    app.segmented_control(key=evaluate_state.VIEW).set_value("Export code")
    rerun(app)
    assert "keras.layers.Conv2D(32, 3" in app.code[0].value and "cnnlab" not in app.code[0].value.split("\n\n")[1]

    app.segmented_control(key=evaluate_state.VIEW).set_value("Learned filters")
    rerun(app)
    assert any("32 kernels of 3×3" in block.value for block in app.markdown)
    assert app.number_input(key=evaluate_state.FILTER).max == 31


def test_a_run_whose_dataset_is_gone_still_compares_and_exports(runs):
    lost = record(name="on an old upload")
    lost.dataset, lost.input_shape = "folder:pets", [32, 32, 3]
    run_id = save_run(lost, fake_model).name
    app = open_run(run_id)
    assert "no longer holds" in app.warning[0].value
    assert app.segmented_control(key=evaluate_state.VIEW).options == ["Compare runs", "Learned filters", "Export code"]
    assert not app.metric


def test_run_picker_labels_differ_for_runs_with_the_same_name():
    # Chromium picks a selectbox option by its label: two equal labels made a revisit select the other run.
    first, second = record("20261121-120000-aaaaaa", "same"), record("20261121-130000-bbbbbb", "same")
    labels = run_labels([first, second])
    assert labels[first.run_id] != labels[second.run_id]
    assert labels[first.run_id] == "same (120000-aaaaaa) · MNIST handwritten digits · 90.00%"


@pytest.mark.parametrize("linked", ["20991231-235959-abcdef", "not-a-run", "../../etc"])
def test_a_link_to_an_unknown_run_says_so_and_shows_no_other_run(runs, linked):
    app = open_app(EVALUATE, query={"run": linked})
    errors = [rendered(error.value) for error in app.error]
    assert any(f"There is no run {linked!r}" in error for error in errors), errors
    assert not app.metric and not app.get("plotly_chart") and not app.get("segmented_control")
    assert app.selectbox(key=evaluate_state.RUN).value is None  # nothing chosen for the user
    assert app.query_params["run"] == linked  # the address is left as it was
    # Picking a run opens it, and only then does the address change.
    app.selectbox(key=evaluate_state.RUN).set_value(runs[1])
    rerun(app)
    assert app.metric and not app.error
    assert app.query_params["run"] == runs[1]


def test_a_link_to_another_hosted_sessions_run_is_no_run(runs, monkeypatch):
    import ui.hosting

    monkeypatch.setenv("CNNLAB_HOSTED", "1")
    monkeypatch.setattr(ui.hosting, "viewer", lambda: "a-different-session")
    app = open_app(EVALUATE, query={"run": runs[0]})
    assert any(f"There is no run {runs[0]!r}" in rendered(error.value) for error in app.error)
    assert not app.metric and app.query_params["run"] == runs[0]


def test_a_run_that_finished_since_the_last_visit_opens_by_itself(runs):
    app = open_app(EVALUATE)
    app.selectbox(key=evaluate_state.RUN).set_value(runs[0])  # the user looks at an older run
    rerun(app)
    assert app.selectbox(key=evaluate_state.RUN).value == runs[0]
    rerun(app)
    assert app.selectbox(key=evaluate_state.RUN).value == runs[0]  # nothing new: their choice stays
    newer = record()  # a run finishes in the background, newer than any listed
    newer.name = "just finished"
    save_run(newer, lambda target: shutil.copyfile(run_folder(runs[0]) / "model.keras", target))
    rerun(app)
    assert app.selectbox(key=evaluate_state.RUN).value == newer.run_id
    shutil.rmtree(run_folder(newer.run_id))


def test_a_run_that_finished_in_the_same_second_as_a_listed_one_opens_too(runs):
    """Run ids order by the second, then by a random suffix: a new run can sort below one already listed."""
    second = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    listed = save_run(record(run_id=f"{second}-ffffff", name="listed"), fake_model).name
    app = open_app(EVALUATE)
    app.selectbox(key=evaluate_state.RUN).set_value(runs[0])
    rerun(app)
    newer = record(run_id=f"{second}-000000", name="just finished")  # finished after, sorts below
    save_run(newer, lambda target: shutil.copyfile(run_folder(runs[0]) / "model.keras", target))
    rerun(app)
    assert app.selectbox(key=evaluate_state.RUN).value == newer.run_id
    for run_id in (listed, newer.run_id):
        shutil.rmtree(run_folder(run_id))


def test_another_run_starts_on_its_own_most_frequent_mix_up(runs):
    # The chosen cell stayed from the last run ("True 1, predicted 8" on a CIFAR-10 run).
    app = open_run(runs[0])
    app.selectbox(key=evaluate_state.TRUE).set_value(2)
    app.selectbox(key=evaluate_state.PREDICTED).set_value(2)
    rerun(app)
    assert app.header[0].value.startswith("True 2, predicted 2")
    app.selectbox(key=evaluate_state.RUN).set_value(runs[1])
    rerun(app)
    counts = np.zeros((10, 10), int)
    labels, guesses = load_dataset("digits").y_test, predictions(runs[1]).argmax(axis=1)
    np.add.at(counts, (labels, guesses), 1)
    np.fill_diagonal(counts, 0)
    true_class, predicted_class = np.unravel_index(counts.argmax(), counts.shape)
    assert app.header[0].value.startswith(f"True {true_class}, predicted {predicted_class}"), app.header[0].value


def test_counts_take_the_right_number_and_a_class_never_said_has_no_precision(monkeypatch):
    from core.data.numbers import counted
    from core.evaluate.metrics import test_report

    assert (counted(1, "mistake"), counted(2, "mistake"), counted(1204, "image")) == (
        "1 mistake", "2 mistakes", "1,204 images")
    probabilities = np.array([[0.9, 0.1, 0.0], [0.8, 0.2, 0.0], [0.1, 0.9, 0.0], [0.6, 0.4, 0.0]])
    report = test_report(probabilities, np.array([0, 1, 1, 2]), ["cat", "dog", "car"])
    assert report.per_class["predicted"].tolist() == [3, 1, 0]

def test_no_runs_at_all():  # last: it empties the store the other tests share
    shutil.rmtree(STORE_ROOT / RUNS, ignore_errors=True)
    app = open_app(EVALUATE)
    assert "No trained runs yet" in app.info[0].value


def test_a_run_whose_images_do_not_fit_its_dataset_says_why(runs):
    # `ui.loaders.dataset_for_run` ("this run's dataset, or why not") serves Evaluate and Predict alike.
    odd = record(name="odd shape")
    odd.dataset, odd.input_shape = "digits", [28, 28, 1]  # scikit-learn's digits are 8×8
    run_id = save_run(odd, fake_model).name
    app = open_run(run_id)
    reason = "The model takes (28, 28, 1) images but Digits (scikit-learn, 8×8) has (8, 8, 1)"
    assert reason in rendered(app.warning[0].value) and not app.metric
    assert app.segmented_control(key=evaluate_state.VIEW).options == ["Compare runs", "Learned filters", "Export code"]


def test_a_run_name_sent_to_the_playground_stays_text():
    # The note above the Playground's editor is Markdown: the run name in it must show as typed.
    hostile = "**bold** [link](javascript:alert(1)) <b>x</b>"
    note = ev.filter_note(3, "conv2d", 0, hostile, bias=-12.5, activation="relu")
    assert hostile not in note  # escaped…
    assert rendered(note) == (f"Filter 3 of conv2d (channel 0) from run “{hostile}”, with the layer's bias (-12.5 "
                              "in 0–255 pixel units) then its ReLU (both set below). The model applies it to pixels "
                              "scaled to 0–1, so its outputs here are 255 times larger; the pattern is the same.")


def test_a_learned_filter_says_what_of_its_layer_comes_along():
    # The bias and ReLU were dropped without a word.
    note = rendered(ev.filter_note(0, "conv2d", 1, "run", bias=3, activation="tanh", channels=3))
    assert "+3 in 0–255 pixel units" in note and "tanh activation, which the playground does not have" in note
    assert "the other 2 channels' filters" in note

