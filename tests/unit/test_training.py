"""Both training engines on tiny data, the stop request, each callback, and the run that lands in the store."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

pytest.importorskip("keras")

from core.data.datasets import load_dataset
from core.model.layers import spec_to_dicts
from core.model.presets import PRESETS
from core.store.records import EPOCHS_DONE, SECONDS_DONE
from core.store.runs import list_runs, load_record
from core.train.config import TrainConfig
from core.train.engine import train, train_and_store
from core.train.progress import ProgressView, fold


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


def config(preset: str = "dense", **changes) -> TrainConfig:
    settings = {"epochs": 1, "batch_size": 32, "subset": 300, "validation_split": 0.2, "seed": 1}
    settings.update(changes)
    return TrainConfig(dataset="digits", spec=spec_to_dicts(PRESETS[preset].spec()), model_key=preset, **settings)


@pytest.mark.parametrize(("engine", "loss"), [("fit", "sparse"), ("tape", "sparse"), ("fit", "categorical"),
                                              ("tape", "categorical")])
def test_engines_train_report_and_store(engine, loss, digits, tmp_path):
    events = []
    record = train_and_store(config("one_conv", epochs=2, engine=engine, loss=loss), digits, events.append,
                             root=tmp_path)
    kinds = [event["type"] for event in events]
    assert kinds[0] == "start" and kinds[-1] == "end" and kinds.count("epoch") == 2
    batches = [event for event in events if event["type"] == "batch"]
    assert batches[-1]["seen"] == 2 * 240 and batches[-1]["step"] == 8  # 240 images in batches of 32
    assert set(record.history) >= {"loss", "accuracy", "precision", "recall", "val_loss", "val_accuracy",
                                   "val_precision", "val_recall"}
    assert len(record.history["loss"]) == 2
    assert record.history["loss"][1] < record.history["loss"][0]  # it learns
    assert set(record.metrics) == {"train", "validation", "test"}
    assert record.metrics["test"]["images"] == len(digits.x_test)
    assert record.metrics["test"]["accuracy"] > 0.5
    stored = load_record(record.run_id, tmp_path)
    assert stored.status == "finished" and stored.hyperparameters["engine"] == engine
    assert [run.run_id for run in list_runs(tmp_path)] == [record.run_id]


@pytest.mark.parametrize("engine", ["fit", "tape"])
def test_label_smoothing_trains_against_softened_targets(engine, digits):
    """Same seed, same first weights: smoothing changes the loss the engine trains on, in both engines.

    The loss itself is checked against the formula, worked out by hand.
    """
    import keras
    import numpy as np

    from core.train.engine import make_loss

    changes = {"epochs": 1, "engine": engine, "loss": "categorical", "subset": 64, "batch_size": 64,
               "validation_split": 0.0, "learning_rate": 1e-6}
    losses = {}
    for smoothing in (0.0, 0.3):
        events = []
        outcome = train(config("one_conv", label_smoothing=smoothing, **changes), digits, events.append)
        losses[smoothing] = next(event for event in events if event["type"] == "batch")["loss"]
        if smoothing:
            assert outcome.model.loss.get_config()["label_smoothing"] == pytest.approx(0.3)
    assert losses[0.3] != pytest.approx(losses[0.0], abs=1e-3)
    # The same number by hand: cross-entropy against 1 - 0.3 + 0.03 and 0.03.
    probabilities = np.clip(np.asarray([[0.9, 0.1]]), 1e-7, 1)
    smoothed = np.asarray([[0.7 + 0.15, 0.15]])
    by_hand = float(-(smoothed * np.log(probabilities)).sum())
    loss = make_loss(config("one_conv", loss="categorical", label_smoothing=0.3))
    assert float(loss(np.asarray([[1.0, 0.0]]), probabilities)) == pytest.approx(by_hand, rel=1e-5)
    assert isinstance(make_loss(config("one_conv")), keras.losses.SparseCategoricalCrossentropy)


def test_macro_precision_and_recall_match_scikit_learn(digits, tmp_path):
    from sklearn.metrics import precision_score, recall_score

    outcome = train(config("dense", epochs=1, validation_split=0.0, subset=200), digits, lambda event: None)
    probabilities = outcome.model.predict(digits.x_test, verbose=0)
    predicted = probabilities.argmax(axis=1)
    outcome.model.compile(loss="sparse_categorical_crossentropy",
                          metrics=__import__("core.train.engine", fromlist=["make_metrics"]).make_metrics(10, True))
    values = outcome.model.evaluate(digits.x_test, digits.y_test, verbose=0, return_dict=True)
    assert values["precision"] == pytest.approx(precision_score(digits.y_test, predicted, average="macro",
                                                                zero_division=0), abs=1e-5)
    assert values["recall"] == pytest.approx(recall_score(digits.y_test, predicted, average="macro",
                                                          zero_division=0), abs=1e-5)


@pytest.mark.parametrize("engine", ["fit", "tape"])
def test_mixed_bfloat16_trains_and_stores_a_model_that_loads(engine, digits, tmp_path):
    import keras

    record = train_and_store(config("one_conv", epochs=2, engine=engine, precision="mixed_bfloat16"), digits,
                             lambda event: None, root=tmp_path)
    assert record.history["loss"][1] < record.history["loss"][0]  # it learns in bfloat16
    assert record.hyperparameters["precision"] == "mixed_bfloat16"
    model = keras.saving.load_model(tmp_path / "runs" / record.run_id / "model.keras")
    assert model.get_layer(index=1).dtype_policy.name == "mixed_bfloat16"
    accuracy = (model.predict(digits.x_test, verbose=0).argmax(axis=1) == digits.y_test).mean()
    assert abs(accuracy - record.metrics["test"]["accuracy"]) < 1e-6


@pytest.mark.parametrize("engine", ["fit", "tape"])
def test_stop_request_stops_within_one_batch_and_keeps_the_model(engine, digits, tmp_path):
    asked = {"count": 0}

    def should_stop() -> bool:
        asked["count"] += 1
        return asked["count"] >= 3

    events = []
    record = train_and_store(config(epochs=5, engine=engine), digits, events.append, should_stop, root=tmp_path)
    batches = [event for event in events if event["type"] == "batch"]
    assert batches[-1]["epoch"] == 0 and batches[-1]["step"] == 3 and batches[-1]["seen"] == 96
    # The epoch Stop broke off says so, and its points go where training stopped, not at the epoch's end.
    ends = [event for event in events if event["type"] == "epoch"]
    assert [(event["partial"], event["steps"]) for event in ends] == [(True, 3)]
    view = fold(ProgressView(), events)
    assert view.epoch_rows[0]["x"] == pytest.approx(3 / view.steps_per_epoch, abs=1e-4)
    assert view.epoch_rows[0]["x"] < 1
    from ui.train.live import curves_figure

    per_epoch = next(trace for trace in curves_figure(view, "loss").data if trace.name == "train, per epoch")
    assert per_epoch.x[0] < 1 and list(per_epoch.marker.symbol) == ["circle-open"]
    assert "stopped after batch 3 of" in per_epoch.text[0]
    assert record.status == "stopped" and "Stopped by you" in record.stop_reason
    # The stored history places the broken-off epoch too (Compare draws it where it stopped).
    assert record.history[EPOCHS_DONE] == [pytest.approx(3 / view.steps_per_epoch, abs=1e-4)]
    assert len(record.history[SECONDS_DONE]) == len(record.history["loss"]) == 1
    assert load_record(record.run_id, tmp_path).status == "stopped"
    assert record.metrics["test"]["accuracy"] is not None


@pytest.mark.parametrize("engine", ["fit", "tape"])
def test_early_stopping_stops_when_nothing_improves_enough(engine, digits):
    # min_delta 10: no epoch can improve the loss by 10, so with patience 0 it stops after epoch 2.
    outcome = train(config(epochs=6, engine=engine, early_stopping=True, early_monitor="loss", early_patience=0,
                           early_min_delta=10.0), digits, lambda event: None)
    assert len(outcome.history["loss"]) == 2
    # Patience 0 still waits one epoch to see no improvement: the text counts it, never "for 0 epochs".
    assert outcome.stop_reason == ("Early stopping: loss was best in epoch 1 and did not improve in the 1 epoch "
                                   "after it (stopped after epoch 2, best weights restored).")


@pytest.mark.parametrize("engine", ["fit", "tape"])
def test_target_accuracy_stops_at_the_first_epoch_that_reaches_it(engine, digits):
    outcome = train(config(epochs=6, engine=engine, target_accuracy=0.01), digits, lambda event: None)
    assert len(outcome.history["loss"]) == 1
    # The text gives the accuracy the run had, not the target it passed.
    reached = outcome.history["accuracy"][0]
    assert reached > 0.05
    assert outcome.stop_reason == f"Reached {reached:.1%} accuracy in epoch 1, at or above the target of 1.0%."
    unreachable = train(config(epochs=2, engine=engine, target_accuracy=1.0, subset=100), digits, lambda e: None)
    assert len(unreachable.history["loss"]) == 2 or unreachable.history["accuracy"][0] == 1.0


def test_reduce_lr_on_plateau_lowers_the_rate(digits):
    events = []
    # Plain SGD at 1e-6 cannot improve the loss by ReduceLROnPlateau's min_delta (1e-4).
    train(config(epochs=3, learning_rate=1e-6, optimizer="sgd", reduce_lr=True, reduce_monitor="loss",
                 reduce_patience=0, reduce_factor=0.5), digits, events.append)
    rates = [event["learning_rate"] for event in events if event["type"] == "epoch"]
    assert rates[0] == pytest.approx(1e-6) and rates[-1] < rates[0]


def test_cosine_schedule_decays_towards_zero(digits):
    events = []
    train(config(epochs=3, schedule="cosine", learning_rate=1e-2), digits, events.append)
    rates = [event["learning_rate"] for event in events if event["type"] == "epoch"]
    assert rates[0] > rates[1] > rates[2] and rates[2] < 1e-3


def test_batches_cover_every_image_once_per_epoch_reshuffled_without_autotuning():
    """The engines' pipeline: each epoch is a new order of all images, uint8 kept, no autotune thread.

    Autotuning is what stalled the first batch after an evaluate by 15-20 s (see `batches`).
    """
    import numpy as np

    from core.train.engine import batches

    x = np.arange(10, dtype=np.uint8).reshape(10, 1, 1, 1)  # (N, H, W, C), image i holds the value i
    y = np.arange(10)
    data = batches(x, y, 4, shuffle_seed=0)
    assert data.options().autotune.enabled is False
    epochs = []
    for _ in range(2):
        seen = [(images.numpy().ravel(), labels.numpy()) for images, labels in data]
        assert [len(labels) for _, labels in seen] == [4, 4, 2]
        assert all(images.dtype == np.uint8 and (images == labels).all() for images, labels in seen)
        epochs.append(np.concatenate([labels for _, labels in seen]))
    assert sorted(epochs[0]) == sorted(epochs[1]) == list(range(10))
    assert list(epochs[0]) != list(epochs[1])  # reshuffled each epoch
    in_order = np.concatenate([labels.numpy() for _, labels in batches(x, y, 4)])
    assert list(in_order) == list(range(10))  # no seed, no shuffle: validation keeps its order


def test_stop_on_an_epochs_last_batch_leaves_a_whole_epoch():
    from core.train.engine import Progress

    events = []
    progress = Progress(events.append, lambda: True, batch_size=10, train_size=30, steps=3)
    progress.set_model(SimpleNamespace(stop_training=False, optimizer=None))
    progress.on_epoch_begin(0)
    for batch in range(3):
        progress.on_train_batch_end(batch, {"loss": 1.0})
    progress.on_epoch_end(0, {"loss": 1.0})
    assert (events[-1]["partial"], events[-1]["steps"]) == (False, 3)
