"""The Evaluate page's panels: cached test predictions, then one renderer per view.

Only the view on show is computed (the page's segmented control), so a big test set costs its
predictions once per run and server process (`st.cache_resource`, read-only) and nothing more until asked.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import streamlit as st

from core.conv.kernels import KERNEL_SIZES
from core.data.datasets import BUILTIN_DATASETS, Dataset, dataset_name
from core.data.images import framed_tile
from core.data.numbers import counted, percent
from core.evaluate import comparison
from core.evaluate import metrics as evaluation
from core.evaluate.code_export import export_notebook, export_script, file_stem
from core.evaluate.descriptions import confusion_summary, describe_test_image, probabilities_summary
from core.evaluate.spreadsheet import csv_text
from core.store.runs import RunRecord
from ui import figures, palette
from ui.chart_text import probability_table, text_alternative
from ui.choices import keep_if_offered
from ui.evaluate import figures as eval_figures
from ui.evaluate.state import (
    CHANNEL,
    COMPARE,
    COMPARE_METRIC,
    COMPARE_X,
    FILTER,
    INDEX,
    MATRIX,
    MISTAKE_CLASS,
    NORMALISE,
    ONLY_MISTAKES,
    OPEN_FILTER,
    OPEN_IMAGE,
    ORDER,
    PAIR_RUN,
    PREDICTED,
    RUN,
    SEEN_RUNS,
    TRUE,
)
from ui.keras_loader import import_keras
from ui.model_cache import load_model_at, load_problem, load_run_model, model_key
from ui.playground.state import open_in_playground
from ui.runs import predict_link
from ui.tables import metrics_dataframe
from ui.text import plain

GALLERY_SIZE = 40


def _fingerprint(dataset: Dataset) -> str:
    """Names a dataset's test images: built-ins by name, uploads by content (two sessions may share a name)."""
    if dataset.name in BUILTIN_DATASETS:
        return dataset.name
    return hashlib.sha1(np.ascontiguousarray(dataset.x_test).data).hexdigest()


@st.cache_resource(max_entries=8, show_spinner="Running the model on every test image (once per run)…")
def _probabilities(path: str, mtime: float, data_key: str, _dataset: Dataset) -> np.ndarray:
    # One read-only array shared by every session that opens this run, not a copy per rerun.
    model = load_model_at(path, mtime)
    probabilities = np.asarray(model.predict(_dataset.x_test, batch_size=512, verbose=0), dtype=np.float32)
    probabilities.flags.writeable = False
    return probabilities  # (N, classes)


def test_probabilities(record: RunRecord, dataset: Dataset) -> np.ndarray:
    """The run's softmax outputs for every test image, cached per model file and dataset."""
    return _probabilities(*model_key(record.run_id), _fingerprint(dataset), dataset)


def metrics_header(report: evaluation.TestReport) -> None:
    """The test-set numbers in one row, and the per-class table."""
    columns = st.columns(5)
    for column, (label, value, help_text) in zip(columns, (
            ("Test accuracy", percent(report.accuracy, 2), f"Right answers among {report.images:,} test images."),
            ("Loss", f"{report.loss:.4f}", "Mean cross-entropy: −log of the probability given to the true class."),
            ("Precision (macro)", percent(report.precision, 2), "Per class: of the images predicted as it, the share "
             "that really are. Averaged over classes."),
            ("Recall (macro)", percent(report.recall, 2), "Per class: of its images, the share found. Averaged."),
            ("F1 (macro)", percent(report.f1, 2), "Per class: the harmonic mean of precision and recall. Averaged."),
    ), strict=True):
        column.metric(label, value, help=help_text)
    table = report.per_class
    said, never = table[table["predicted"] > 0], table[table["predicted"] == 0]
    weakest_recall = table.loc[table["recall"].idxmin()]
    precision = ""
    if len(said):  # precision exists only for a class the model says at least once
        weakest = said.loc[said["precision"].idxmin()]
        precision = (f"**Precision** asks: when the model says “{plain(weakest['class'])}”, how often is it right? "
                     f"Here {percent(weakest['precision'], 1)}, the lowest of any class it says. ")
    if len(never):
        names = ", ".join(f"“{plain(name)}”" for name in never["class"])
        precision += (f"It never says {names}, so {'that class has' if len(never) == 1 else 'those have'} no "
                      "precision (the average counts it as 0). ")
    st.caption(
        precision + f"**Recall** asks: of all the “{plain(weakest_recall['class'])}” images, how many did it find? "
        f"{percent(weakest_recall['recall'], 1)}, the lowest. "
        "A class with low precision soaks up other classes' images; one with low recall loses its own.")
    with st.expander("Per-class precision, recall and F1"):
        metrics_dataframe(report.per_class, hide_index=True, width="stretch")


def _verdict_colour(guess: int, truth: int) -> tuple[int, int, int]:
    """A tile's frame: green if the model was right, red if not."""
    return palette.rgb(palette.RIGHT if guess == truth else palette.WRONG)


def gallery(dataset: Dataset, positions: np.ndarray, probabilities: np.ndarray, captions: str = "pair",
            run_id: str | None = None) -> None:
    """Test images as framed tiles: green when the guess is right, red when wrong, with captions; with `run_id`,
    a link opens any of them in Predict, with the run's feature maps and heat map."""
    shown = positions[:GALLERY_SIZE]
    if not len(shown):
        st.info("No test images here.")
        return
    names = dataset.class_names
    guesses = probabilities[shown].argmax(axis=1)
    tiles, texts, alts = [], [], []
    for position, guess in zip(shown, guesses, strict=True):
        truth = int(dataset.y_test[position])
        tiles.append(framed_tile(dataset.x_test[position], _verdict_colour(guess, truth)))
        confidence = probabilities[position, guess]
        texts.append(f"#{position} · {percent(confidence)}" if captions == "pair" else
                     f"#{position} pred {plain(names[guess])} / true {plain(names[truth])} ({percent(confidence)})")
        alts.append(describe_test_image(int(position), names[truth], names[guess], float(confidence)))
    st.image(tiles, caption=texts, width=96 if captions == "pair" else 110, alt=alts)
    if len(positions) > GALLERY_SIZE:
        st.caption(f"The first {GALLERY_SIZE} of {len(positions):,} images.")
    if run_id is not None:
        choices = [int(position) for position in shown]
        key = f"{OPEN_IMAGE}_{captions}"  # one per gallery: each starts on its own first image
        keep_if_offered(key, choices)  # another cell's or filter's images: a kept one they lack goes
        with st.container(horizontal=True, vertical_alignment="bottom", gap="small"):
            picked = st.selectbox("See inside the network for", choices, key=key, width=220,
                                  format_func=lambda position: f"test image #{position}")
            st.page_link("pages/predict.py", label=f"Open #{picked} in Predict: its feature maps and heat map",
                         icon=":material/visibility:", query_params=predict_link(run_id, picked, "saliency"))


def _pick_cell() -> None:
    """Callback of the confusion chart: the tapped or clicked cell becomes the chosen (true, predicted) pair."""
    cells = st.session_state[MATRIX].selection.get(eval_figures.CELL) or []
    if cells:
        st.session_state[TRUE], st.session_state[PREDICTED] = int(cells[0]["true"]), int(cells[0]["predicted"])


def confusion_view(dataset: Dataset, probabilities: np.ndarray, run_id: str) -> None:
    names = dataset.class_names
    if st.session_state.get(PAIR_RUN) != run_id:  # another run: its own most frequent mix-up, not the last one's cell
        st.session_state.pop(TRUE, None)
        st.session_state.pop(PREDICTED, None)
        st.session_state[PAIR_RUN] = run_id
    predicted = probabilities.argmax(axis=1)
    counts = evaluation.confusion(dataset.y_test, predicted, len(names))
    rates = st.toggle("Show rates (each row sums to 100%)", key=NORMALISE)
    shown = evaluation.row_rates(counts) if rates else counts
    if st.session_state.get(TRUE) not in range(len(names)) or st.session_state.get(PREDICTED) not in range(len(names)):
        # start on the most frequent mix-up: the cell most worth a look
        off_diagonal = counts - np.diag(np.diag(counts))
        st.session_state[TRUE], st.session_state[PREDICTED] = (int(v) for v in np.unravel_index(
            off_diagonal.argmax(), counts.shape))
    left, right = st.columns([3, 2])
    with left:
        st.altair_chart(eval_figures.confusion_chart(shown, counts, names, (st.session_state[TRUE],
                        st.session_state[PREDICTED])), key=MATRIX, on_select=_pick_cell,
                        selection_mode=eval_figures.CELL, width="stretch")
        text_alternative(confusion_summary(counts, names),
                         pd.DataFrame(counts, columns=[f"read as {name}" for name in names]).assign(
                             **{"true class": list(names)})[["true class", *(f"read as {name}" for name in names)]],
                         "The confusion matrix")
    with right:
        st.markdown("**Read it like this.** Each row is a true class and each column is a prediction. The "
                    "diagonal holds the right answers; everything off it is a mistake, and its position tells "
                    "you what the model mixed up. With rates on, the diagonal is each class's recall.")
        top = evaluation.biggest_confusions(counts, names)
        if top:
            st.markdown("Most frequent mix-ups here: " + "; ".join(
                f"**{plain(true)}** read as **{plain(guess)}** ({count}×)" for true, guess, count in top) + ".")
        st.markdown("**Tap or click a cell**, or choose it:")
        st.selectbox("True class", range(len(names)), format_func=names.__getitem__, key=TRUE)
        st.selectbox("Predicted class", range(len(names)), format_func=names.__getitem__, key=PREDICTED)
    true_class, predicted_class = st.session_state[TRUE], st.session_state[PREDICTED]
    positions = evaluation.cell_indices(dataset.y_test, probabilities, true_class, predicted_class)
    verdict = counted(len(positions), "right answer" if true_class == predicted_class else "mistake")
    st.header(f"True {plain(names[true_class])}, predicted {plain(names[predicted_class])}: {verdict}")
    st.caption("Most confident first; the number is the test-image index and the model's probability for its guess.")
    gallery(dataset, positions, probabilities, run_id=run_id)


def mistakes_view(dataset: Dataset, probabilities: np.ndarray, run_id: str) -> None:
    names = dataset.class_names
    options = [None, *range(len(names))]
    left, middle, right = st.columns(3)
    keep_if_offered(MISTAKE_CLASS, options)  # another run's classes: its labels came back as the value
    chosen = left.selectbox("True class", options, key=MISTAKE_CLASS,
                            format_func=lambda value: "every class" if value is None else names[value])
    order = middle.radio("Order", ("confident", "unsure", "index"), key=ORDER, horizontal=True, format_func={
        "confident": "most confidently wrong first", "unsure": "least sure first", "index": "test order"}.get)
    only_wrong = right.toggle("Mistakes only", value=True, key=ONLY_MISTAKES)
    if only_wrong:
        positions = evaluation.mistakes(dataset.y_test, probabilities, chosen, order)
        st.markdown(f"**{counted(len(positions), 'mistake')}.** A confident mistake is worth a look: often the label "
                    "itself is doubtful, or the image really is ambiguous.")
    else:
        positions = np.arange(len(dataset.y_test)) if chosen is None else np.flatnonzero(dataset.y_test == chosen)
        st.markdown("The lessons' grid: **green** when the guess is right, **red** when wrong.")
    gallery(dataset, positions, probabilities, captions="full", run_id=run_id)


def one_image_view(dataset: Dataset, probabilities: np.ndarray, run_id: str) -> None:
    count = len(dataset.y_test)
    left, right = st.columns([1, 2])
    with left:
        if st.button("Random test image", icon=":material/casino:"):
            st.session_state[INDEX] = int(np.random.default_rng().integers(count))
        index = st.number_input("Test image index", 0, count - 1, key=INDEX)
        truth, guess = int(dataset.y_test[index]), int(probabilities[index].argmax())
        names = dataset.class_names
        st.image(framed_tile(dataset.x_test[index], _verdict_colour(guess, truth), side=168), width=180,
                 alt=describe_test_image(int(index), names[truth], names[guess], float(probabilities[index, guess])))
        st.markdown(f"Expected **{plain(names[truth])}**, guessed **{plain(names[guess])}** "
                    f"({percent(probabilities[index, guess], 1)} sure).")
        st.page_link("pages/predict.py", label="Open in Predict: its feature maps and heat map",
                     icon=":material/visibility:", query_params=predict_link(run_id, index, "saliency"))
    with right:
        st.plotly_chart(figures.probability_bars(probabilities[index], dataset.class_names, truth))
        st.caption("The softmax output: one probability per class, summing to 1. The outlined bar is the true class.")
        text_alternative(probabilities_summary(probabilities[index], names),
                         probability_table(probabilities[index], names), "The probabilities")


def compare_view(records: list[RunRecord], current: RunRecord) -> None:
    by_id = {record.run_id: record for record in records}
    if not st.session_state.get(COMPARE) or any(run_id not in by_id for run_id in st.session_state[COMPARE]):
        same = [record.run_id for record in records if record.dataset == current.dataset]
        st.session_state[COMPARE] = list(dict.fromkeys([current.run_id, *same]))[:3]
    labels = comparison.run_labels(records)
    chosen = st.multiselect("Runs to compare", list(by_id), key=COMPARE,
                            format_func=lambda run_id: f"{labels[run_id]} · {dataset_name(by_id[run_id].dataset)}")
    picked = [by_id[run_id] for run_id in chosen]
    if not picked:
        st.info("Choose at least one run.")
        return
    rows = comparison.curve_rows(picked)
    if len(rows):
        metrics = comparison.curve_metrics(picked)
        keep_if_offered(COMPARE_METRIC, metrics)  # runs with other metrics: a kept value they lack goes
        left, right = st.columns(2)
        metric = left.segmented_control("Metric", metrics, key=COMPARE_METRIC, default=metrics[0],
                                        wrap=True) or metrics[0]
        x = right.segmented_control("Along", list(comparison.X_AXES), key=COMPARE_X, default="epochs", wrap=True,
                                    format_func=comparison.X_AXES.get) or "epochs"  # wraps: half a page is narrow
        st.plotly_chart(figures.comparison_curves(rows, metric, x))
    st.caption("Solid: training, measured while the weights changed (with augmentation and dropout on). Dashed: "
               "validation, held-out images checked after each epoch. A gap that keeps growing is overfitting. "
               "Along the share of its planned epochs, a 2-epoch run and a 30-epoch one span the same width; along "
               "seconds, the faster recipe shows. A run stopped mid-epoch ends where it stopped.")
    for note in filter(None, map(comparison.overfitting_note, picked)):
        st.warning(note, icon=":material/trending_up:")
    table = comparison.comparison_table(picked)
    metrics_dataframe(table, hide_index=True, width="stretch")
    st.download_button("Download the table as CSV", csv_text(table), "cnnlab_runs.csv", "text/csv",
                       icon=":material/download:")


def filters_view(record: RunRecord) -> None:
    keras = import_keras()
    try:
        model = load_run_model(record.run_id)
    except Exception as error:  # a damaged file: name the problem rather than crash the view
        st.error(f"This model could not be loaded. {load_problem(record.run_id, error)}", icon=":material/error:")
        return
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    if not convs:
        st.info("This model has no Conv2D layer, so it learned no filters: its Dense layers look at every pixel "
                "separately.")
        return
    layer = convs[0]
    kernels = np.asarray(layer.get_weights()[0])  # (k, k, C_in, filters)
    side, _, channels, count = kernels.shape
    st.markdown(f"The first Conv2D layer, {plain(layer.name)}, learned **{count} kernels of {side}×{side}** over "
                f"{channels} input channel{'s' if channels > 1 else ''}. Red weights add brightness under them and "
                "blue ones subtract it: a red stripe beside a blue one is an edge detector. Hover for the values.")
    channel = 0
    if channels > 1:
        channel = st.segmented_control("Input channel", range(channels), key=CHANNEL, default=0,
                                       format_func=lambda c: "RGB"[c] if channels == 3 else str(c)) or 0
    st.plotly_chart(eval_figures.filters_figure(np.moveaxis(kernels[:, :, channel, :], -1, 0)))
    if side not in KERNEL_SIZES:
        st.caption(f"The Convolution Playground edits {', '.join(map(str, KERNEL_SIZES))}-wide kernels, not {side}.")
        return
    number = st.columns([1, 3])[0].number_input("Filter", 0, count - 1, key=FILTER)
    if st.button(f"Open filter {number} in the Convolution Playground", icon=":material/blur_on:", key=OPEN_FILTER):
        weights = layer.get_weights()
        bias = float(weights[1][number]) * 255 if len(weights) > 1 else 0.0  # pixels 0–1 there, 0–255 here
        activation = getattr(layer.activation, "__name__", str(layer.activation))
        note = filter_note(number, layer.name, channel, record.name, bias, activation, channels)
        open_in_playground(kernels[:, :, channel, number], note, dataset=record.dataset, stride=layer.strides[0],
                           padding=layer.padding, bias=bias, relu=activation == "relu")


def filter_note(number: int, layer_name: str, channel: int, run_name: str, bias: float = 0.0,
                activation: str = "linear", channels: int = 1) -> str:
    """The Markdown note the Playground shows above a learned filter; the names in it show as typed.

    It says what of the layer comes along: its bias and ReLU are set in the playground, any other activation
    is not there, and a colour layer also sums its other channels' filters.
    """
    then = {"relu": "then its ReLU (both set below)", "linear": "and no activation after it (set below)"}.get(
        activation, f"then its {plain(activation)} activation, which the playground does not have")
    others = (f" The layer also adds the other {channels - 1} channel{'s' if channels > 2 else ''}' filters, "
              "which are not shown here." if channels > 1 else "")
    return (f"Filter {number} of {plain(layer_name)} (channel {channel}) from run “{plain(run_name)}”, with the "
            f"layer's bias ({bias:+.4g} in 0–255 pixel units) {then}. The model applies it to pixels scaled to 0–1, "
            f"so its outputs here are 255 times larger; the pattern is the same.{others}")


def export_view(record: RunRecord) -> None:
    st.markdown("A standalone script that rebuilds this run with plain Keras: the data, the same layers, "
                "compile, callbacks, fit and evaluate. It does not need CNN Lab. Try it with "
                "`python script.py --epochs 1 --subset 2000` first.")
    script = export_script(record)
    stem = file_stem(record)
    left, right = st.columns(2)
    left.download_button("Download the Python script", script, f"{stem}.py", "text/x-python",
                         icon=":material/code:")
    right.download_button("Download the Jupyter notebook", export_notebook(record), f"{stem}.ipynb",
                          "application/x-ipynb+json", icon=":material/description:")
    # Plain and wrapped: axe found a scrolling box a keyboard cannot reach, and highlighting colours (strings) under
    # WCAG AA's contrast; the download buttons give the file itself.
    st.code(script, language=None, wrap_lines=True)


def new_run_arrived(records: list[RunRecord]) -> str | None:
    """The newest run this page has not listed before (a run just finished), or None.

    Compares the sets of ids, not the newest id: ids order by the second and then by a random suffix,
    so a run that finishes in the same second as one already listed can sort below it.
    """
    listed = [record.run_id for record in records if record.source != "defaults"]
    seen = st.session_state.get(SEEN_RUNS)
    st.session_state[SEEN_RUNS] = frozenset(listed)
    if seen is None:  # the first look: nothing has arrived since
        return None
    return next((run_id for run_id in listed if run_id not in seen), None)  # listed newest first


def follow_pick() -> None:
    """The run picker's callback: the address follows the user's choice at once."""
    if st.session_state.get(RUN):
        st.query_params["run"] = st.session_state[RUN]
