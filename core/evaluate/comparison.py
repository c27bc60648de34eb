"""Several stored runs side by side: one table row per run, and their curves as long-form rows.

The table is the lessons' metrics DataFrame across models: dataset, model, parameters, settings,
epochs, time, and train / validation / test metrics. Plain pandas, no TensorFlow.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import pandas as pd

from core.data.datasets import dataset_name
from core.model.architectures import trainable_parameters
from core.model.layers import SpecError, spec_from_dicts
from core.store.records import EPOCHS_DONE, POSITIONS, SECONDS_DONE
from core.store.runs import RunRecord

SPLITS = ("train", "validation", "test")
METRICS = ("loss", "accuracy", "precision", "recall")


def parameters(record: RunRecord) -> int | None:
    """A run's trainable parameters, or None when its spec cannot say (an uploaded model)."""
    if len(record.input_shape) != 3 or not record.class_names:
        return None
    try:
        return trainable_parameters(spec_from_dicts(record.spec), tuple(record.input_shape), len(record.class_names))
    except SpecError:  # an uploaded model whose layers the spec format does not cover
        return None


def spec_summary(record: RunRecord) -> str:
    """"preset fast_digits", or the layer kinds of a hand-built spec, e.g. "Conv2D → Flatten → Dense"."""
    model_key = record.hyperparameters.get("model_key")
    if model_key and model_key != "custom":
        return f"preset {model_key}"
    kinds = [str(layer.get("kind", "?")) for layer in record.spec if isinstance(layer, dict)]
    return " → ".join(kinds) if kinds else "uploaded model"


def run_labels(records: Sequence[RunRecord]) -> dict[str, str]:
    """run id → a label that tells runs apart: the name, plus the id's time and suffix when names repeat."""
    seen = [record.name for record in records]
    return {record.run_id: record.name if seen.count(record.name) == 1 else f"{record.name} ({record.run_id[9:]})"
            for record in records}


def comparison_table(records: Sequence[RunRecord]) -> pd.DataFrame:
    """One row per run, in the given order; a missing number is NaN (sorts last, exports empty)."""
    rows = []
    labels = run_labels(records)
    for record in records:
        settings = record.hyperparameters
        # The test accuracy comes right after the run's name: further right, it was off screen at 1280 px.
        row: dict[str, object] = {
            "run": labels[record.run_id], "test accuracy": record.metrics.get("test", {}).get("accuracy"),
            "dataset": dataset_name(record.dataset), "model": spec_summary(record),
            "trainable params": parameters(record), "optimizer": settings.get("optimizer"),
            "learning rate": settings.get("learning_rate"), "batch size": settings.get("batch_size"),
            "epochs": record.epochs_trained, "training s": record.training_seconds, "status": record.status}
        for split in SPLITS:
            for metric in METRICS:
                if f"{split} {metric}" not in row:
                    row[f"{split} {metric}"] = record.metrics.get(split, {}).get(metric)
        row["id"] = record.run_id
        rows.append(row)
    frame = pd.DataFrame(rows)
    numeric = [column for column in frame.columns if column.split(" ")[0] in SPLITS] + ["trainable params"]
    if len(frame):
        frame[numeric] = frame[numeric].apply(pd.to_numeric, errors="coerce")
    return frame


NOT_METRICS = ("learning_rate", *POSITIONS)  # history keys that are not curves
X_AXES = {"epochs": "epoch", "share": "share of its planned epochs", "seconds": "seconds of training"}


def curve_metrics(records: Sequence[RunRecord]) -> list[str]:
    """The metrics the runs' histories hold curves of, loss and accuracy first."""
    found = {key[4:] if key.startswith("val_") else key for record in records for key in record.history}
    found -= set(NOT_METRICS)
    return sorted(found, key=lambda metric: (METRICS.index(metric) if metric in METRICS else len(METRICS), metric))


def curve_rows(records: Sequence[RunRecord]) -> pd.DataFrame:
    """Per-epoch history in long form: run, id, epoch (from 1), split (train/validation), metric, value, and where
    each point sits on each x-axis (`X_AXES`):

    - "epochs": where the epoch ended (2.47 for an epoch Stop broke off after 47% of its batches);
    - "share": that over the run's planned epochs, so a 2-epoch run and a 30-epoch one span the same width;
    - "seconds": seconds of training by then ("timed" False: a run saved before these were kept, its time spread
      evenly over its epochs).
    """
    rows = []
    labels = run_labels(records)
    for record in records:
        history = record.history
        count = record.epochs_trained
        positions = history.get(EPOCHS_DONE) or list(range(1, count + 1))
        timed = bool(history.get(SECONDS_DONE))
        seconds = history.get(SECONDS_DONE) or [record.training_seconds * (n + 1) / max(1, count)
                                                for n in range(count)]
        planned = record.hyperparameters.get("epochs")
        planned = planned if isinstance(planned, int) and planned >= max(positions, default=0) else max(
            positions, default=1)
        for key, values in history.items():
            split, metric = ("validation", key[4:]) if key.startswith("val_") else ("train", key)
            if key in NOT_METRICS or len(values) != len(positions):
                continue
            for epoch, (value, at, second) in enumerate(zip(values, positions, seconds, strict=False), start=1):
                if value is not None:
                    rows.append({"run": labels[record.run_id], "id": record.run_id, "epoch": epoch, "split": split,
                                 "metric": metric, "value": float(value), "epochs": float(at),
                                 "share": float(at) / planned, "seconds": float(second), "timed": timed})
    return pd.DataFrame(rows, columns=["run", "id", "epoch", "split", "metric", "value", "epochs", "share", "seconds",
                                       "timed"])


# What counts as a real change rather than noise, relative to the value it starts from.
_SUSTAINED_RISE = 0.05  # validation loss ends at least 5% above its best
_REAL_FALL = 0.10  # training loss ends at least 10% below its value at the best epoch
_REAL_GAIN = 0.01  # training accuracy gains at least one point over the same epochs


def overfitting_note(record: RunRecord) -> str | None:
    """A sentence when the model overfits: validation loss rises, steadily, while training really improves.

    Noise must not trigger it: a run at chance level whose losses zig-zag by a percent is not
    memorising anything. So it takes all of these, from the epoch with the lowest validation loss on:
    at least 2 more epochs, validation loss rising in most of them and ending 5% above its best,
    training loss ending 10% below its value then, and training accuracy (when recorded) up by a point.
    """
    history = record.history
    train, validation = history.get("loss", []), history.get("val_loss", [])
    accuracy = history.get("accuracy", [])
    if len(validation) < 3 or len(train) != len(validation) or None in validation or None in train:
        return None
    best = min(range(len(validation)), key=validation.__getitem__)
    later = len(validation) - 1 - best
    if later < 2:
        return None
    after = validation[best:]
    rises = sum(1 for before, now in pairwise(after) if now > before)
    sustained = rises * 2 > later and validation[-1] >= validation[best] * (1 + _SUSTAINED_RISE)
    learning = train[-1] <= train[best] * (1 - _REAL_FALL)
    if len(accuracy) == len(train) and None not in accuracy:
        learning = learning and accuracy[-1] >= accuracy[best] + _REAL_GAIN
    if sustained and learning:
        return (f"{record.name}: validation loss was lowest after epoch {best + 1} ({validation[best]:.3f}) and "
                f"rose to {validation[-1]:.3f} over the next {later} epochs while training loss kept falling "
                f"({train[best]:.3f} → {train[-1]:.3f}): the model started to memorise its training images.")
    return None
