"""Training engines: Keras `model.fit`, and the lessons' `tf.GradientTape` loop, with one progress stream.

Both engines take the same `TrainConfig`, emit the same progress events to a sink (a callable
taking a dict), obey the same stop request (checked after every batch), run the same Keras
callbacks (`core.train.callbacks`), and end in `train_and_store`, which evaluates on the test set and saves the run.

Progress events (all JSON-friendly):
    {"type": "start", "epochs", "steps_per_epoch", "train_size", "validation_size", "batch_size"}
    {"type": "batch", "epoch", "step", "seen", "loss", "accuracy", "elapsed", "images_per_second"}
    {"type": "epoch", "epoch", "partial", "steps", "elapsed", "learning_rate", plus every metric, e.g. "val_loss"}
    {"type": "phase", "phase": "evaluating" | "saving"}
    {"type": "end", "status", "run_id", "stop_reason", "metrics"}

This module imports Keras at the top: only worker processes, the CLI and tests import it, never
a page (importing TensorFlow costs a Streamlit server about 700 MB).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
from keras import ops

from core.data.datasets import Dataset
from core.model.architectures import build_model
from core.model.layers import spec_from_dicts
from core.store.ids import new_id
from core.store.records import EPOCHS_DONE
from core.store.runs import STORE_ROOT, RunRecord, save_run
from core.train.callbacks import (  # noqa: F401 (Progress and the reasons are also read from here)
    Progress,
    Sink,
    TargetAccuracy,
    _callbacks,
    _float,
    early_stopping_reason,
    target_reason,
    time_limit_reason,
)
from core.train.config import TrainConfig, check_config, split_indices

TRAIN_SAMPLE = 10_000  # training images evaluated after training for the train-vs-test table
EVAL_BATCH = 512


class _ConfusionRate(keras.metrics.Metric):
    """Macro-averaged precision or recall from a running confusion matrix.

    Keras' own Precision and Recall are binary metrics: on 10-way softmax outputs they threshold
    every class score at 0.5. This one counts (true, predicted) pairs like scikit-learn and
    averages per class over the classes seen so far, so it matches the Evaluate page's numbers.
    """

    def __init__(self, num_classes: int, sparse: bool, kind: str, name: str | None = None, **kwargs):
        super().__init__(name=name or kind, **kwargs)
        self.num_classes, self.sparse, self.kind = num_classes, sparse, kind
        self.matrix = self.add_variable(shape=(num_classes, num_classes), initializer="zeros", name="matrix")

    def update_state(self, y_true, y_pred, sample_weight=None):
        true = ops.reshape(ops.cast(y_true, "int32"), (-1,)) if self.sparse else ops.argmax(y_true, axis=-1)
        predicted = ops.argmax(y_pred, axis=-1)
        pairs = ops.cast(true, "int32") * self.num_classes + ops.cast(predicted, "int32")
        counts = ops.bincount(pairs, minlength=self.num_classes * self.num_classes)
        self.matrix.assign_add(ops.reshape(ops.cast(counts, "float32"), (self.num_classes, self.num_classes)))

    def result(self):
        hits = ops.diagonal(self.matrix)
        predicted, actual = ops.sum(self.matrix, axis=0), ops.sum(self.matrix, axis=1)
        denominator = predicted if self.kind == "precision" else actual
        rates = ops.divide_no_nan(hits, denominator)
        seen = ops.cast((predicted + actual) > 0, "float32")  # scikit-learn's labels: true ∪ predicted
        return ops.divide_no_nan(ops.sum(rates * seen), ops.sum(seen))

    def reset_state(self):
        self.matrix.assign(ops.zeros_like(self.matrix))

    def get_config(self):
        return {"num_classes": self.num_classes, "sparse": self.sparse, "kind": self.kind, "name": self.name}


def make_metrics(num_classes: int, sparse: bool) -> list:
    """Accuracy, macro precision and macro recall."""
    return ["accuracy", _ConfusionRate(num_classes, sparse, "precision"), _ConfusionRate(num_classes, sparse, "recall")]


def make_loss(config: TrainConfig) -> keras.losses.Loss:
    """Cross-entropy on integer labels ("sparse") or on one-hot ones ("categorical", smoothed if asked)."""
    if config.loss == "sparse":
        return keras.losses.SparseCategoricalCrossentropy()
    return keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing)


def make_optimizer(config: TrainConfig, steps: int) -> keras.optimizers.Optimizer:
    """The optimizer, with the cosine schedule when asked for (warm-up over the first 3% of steps)."""
    rate: float | keras.optimizers.schedules.LearningRateSchedule = config.learning_rate
    if config.schedule == "cosine":
        warmup = max(1, steps * 3 // 100)
        rate = keras.optimizers.schedules.CosineDecay(
            config.learning_rate / 10, decay_steps=max(1, steps - warmup), alpha=0.0,
            warmup_target=config.learning_rate, warmup_steps=warmup)
    if config.optimizer == "sgd":
        return keras.optimizers.SGD(rate, momentum=0.9, nesterov=True)
    if config.optimizer == "rmsprop":
        return keras.optimizers.RMSprop(rate)
    return keras.optimizers.Adam(rate)


@dataclass
class TrainingOutcome:
    """What a finished or stopped training run produced."""

    model: keras.Model
    history: dict[str, list[float]]
    training_seconds: float
    stopped_by_user: bool  # stopped early: by the user, or by a server's time limit (the reason says which)
    stop_reason: str


def _labels_for_loss(labels: np.ndarray, config: TrainConfig, num_classes: int) -> np.ndarray:
    if config.loss == "categorical":
        return keras.utils.to_categorical(labels, num_classes).astype("float32")  # (N, classes) one-hot
    return labels


def vary_thickness(images, share: float):
    """Thickens (3×3 dilation) or thins (half a 3×3 erosion) the strokes of `share` of the images.

    Half of the chosen images go each way. Thinning is half an erosion, the mean of the image
    and its erosion, because a full one wipes out MNIST's 2-pixel strokes.

    Args:
        images: (B, H, W, C) uint8 or float tensor of light strokes on a dark background.
        share: Fraction of images changed, 0–1.
    """
    import tensorflow as tf

    x = tf.cast(images, tf.float32)  # (B, H, W, C)
    thicker = tf.nn.max_pool2d(x, 3, 1, "SAME")
    thinner = 0.5 * (x - tf.nn.max_pool2d(-x, 3, 1, "SAME"))  # x + (-max(-x)) halved: x blended with its erosion
    draw = tf.random.uniform(tf.stack([tf.shape(x)[0], 1, 1, 1]))  # one draw per image
    varied = tf.where(draw < share / 2, thicker, tf.where(draw < share, thinner, x))
    return tf.cast(tf.round(varied), images.dtype) if images.dtype.is_integer else varied


def batches(x: np.ndarray, y: np.ndarray, batch_size: int, shuffle_seed: int | None = None,
            stroke_thickness: float = 0.0):
    """A tf.data pipeline of (images, labels) batches, reshuffled every epoch when a seed is given.

    `stroke_thickness` > 0 varies that share of the images' strokes (`vary_thickness`).

    Why not hand NumPy arrays to `fit`: Keras then builds a pipeline with tf.data's autotuning,
    and here, after any `evaluate` between epochs (validation, or a benchmark's test pass), the
    next epoch's first batch waited 15-20 s with the CPU idle while the old iterator's autotune
    thread shut down (seen in py-spy in `~RootDataset::Iterator`; a CIFAR-10 epoch went from
    21 s to 40 s). With autotuning off and a fixed prefetch of two batches the stall is gone, and
    throughput is the same. Shuffling indices and gathering keeps the images uint8 in one copy.
    """
    import tensorflow as tf

    images, labels = tf.constant(x), tf.constant(y)  # (N, H, W, C) uint8, (N,) or (N, classes)
    indices = tf.data.Dataset.range(len(x))
    if shuffle_seed is not None:
        indices = indices.shuffle(len(x), seed=shuffle_seed, reshuffle_each_iteration=True)
    data = (indices.batch(batch_size)
            .map(lambda at: (tf.gather(images, at), tf.gather(labels, at))))
    if stroke_thickness > 0:
        data = data.map(lambda batch, answers: (vary_thickness(batch, stroke_thickness), answers))
    data = data.prefetch(2)
    options = tf.data.Options()
    options.autotune.enabled = False
    return data.with_options(options)


def _fit(model, train_data, validation_data, config, callbacks) -> None:
    model.fit(train_data, epochs=config.epochs, validation_data=validation_data, callbacks=callbacks,
              shuffle=False, verbose=0)  # `batches` shuffles


def _tape(model, train_data, validation_data, config, callbacks) -> None:
    """The lessons' custom loop: tf.data batches, `train_step`/`test_step` under `tf.function`."""
    import tensorflow as tf

    loss_fn = make_loss(config)
    num_classes = model.output_shape[-1]
    sparse = config.loss == "sparse"
    train_loss, val_loss = keras.metrics.Mean(name="loss"), keras.metrics.Mean(name="val_loss")
    accuracy = keras.metrics.SparseCategoricalAccuracy if sparse else keras.metrics.CategoricalAccuracy

    def metrics(prefix: str) -> list[keras.metrics.Metric]:  # the names model.fit logs: accuracy, val_accuracy…
        rates = [_ConfusionRate(num_classes, sparse, kind, name=prefix + kind) for kind in ("precision", "recall")]
        return [accuracy(name=f"{prefix}accuracy"), *rates]

    train_metrics, val_metrics = metrics(""), metrics("val_")

    @tf.function
    def train_step(images, labels):
        with tf.GradientTape() as tape:
            predictions = model(images, training=True)
            loss = loss_fn(labels, predictions)
            if model.losses:  # L2 penalties
                loss = loss + tf.add_n(model.losses)
        gradients = tape.gradient(loss, model.trainable_variables)
        model.optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))
        train_loss.update_state(loss)
        for metric in train_metrics:
            metric.update_state(labels, predictions)

    @tf.function
    def test_step(images, labels):
        predictions = model(images, training=False)
        val_loss.update_state(loss_fn(labels, predictions))
        for metric in val_metrics:
            metric.update_state(labels, predictions)

    callback_list = keras.callbacks.CallbackList(callbacks, model=model, epochs=config.epochs)
    model.stop_training = False
    callback_list.on_train_begin()
    for epoch in range(config.epochs):
        for metric in (train_loss, val_loss, *train_metrics, *val_metrics):
            metric.reset_state()
        callback_list.on_epoch_begin(epoch)
        for step, (images, labels) in enumerate(train_data):
            train_step(images, labels)
            callback_list.on_train_batch_end(step, {"loss": train_loss.result(), "accuracy": train_metrics[0].result()})
            if model.stop_training:
                break
        logs = {metric.name: metric.result() for metric in (train_loss, *train_metrics)}
        if validation_data is not None:
            for images, labels in validation_data:
                test_step(images, labels)
            logs.update({metric.name: metric.result() for metric in (val_loss, *val_metrics)})
        logs = {key: float(value) for key, value in logs.items()}
        callback_list.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    callback_list.on_train_end()


ENGINES = {"fit": _fit, "tape": _tape}


def train(config: TrainConfig, dataset: Dataset, sink: Sink, should_stop: Callable[[], bool] = lambda: False,
          extra_callbacks: tuple[keras.callbacks.Callback, ...] = (),
          time_limit: float | None = None) -> TrainingOutcome:
    """Builds the model from the config's spec and trains it on the dataset's training images.

    Args:
        config: The settings (checked here again).
        dataset: Where the images come from.
        sink: Receives the progress events.
        should_stop: Asked after every batch; True stops training and keeps the model so far.
        extra_callbacks: More Keras callbacks, run after the app's own (benchmarks use this).
        time_limit: Seconds of training after which the run stops as if Stop were pressed (a hosted server's cap).

    Raises:
        ConfigError, SpecError: For settings or a spec that cannot be used.
    """
    sizes = check_config(config, len(dataset.x_train))
    spec = spec_from_dicts(config.spec)
    keras.utils.set_random_seed(config.seed)
    train_at, validation_at = split_indices(len(dataset.x_train), config.subset, config.validation_split, config.seed)
    x, y = dataset.x_train[train_at], _labels_for_loss(dataset.y_train[train_at], config, dataset.num_classes)
    validation = None
    if len(validation_at):
        validation = (dataset.x_train[validation_at],
                      _labels_for_loss(dataset.y_train[validation_at], config, dataset.num_classes))

    model = build_model(spec, dataset.image_shape, dataset.num_classes, precision=config.precision)
    sparse = config.loss == "sparse"
    model.compile(optimizer=make_optimizer(config, sizes.steps_per_epoch * config.epochs),
                  loss=make_loss(config),
                  metrics=make_metrics(dataset.num_classes, sparse), jit_compile=False)
    sink({"type": "start", "epochs": config.epochs, "steps_per_epoch": sizes.steps_per_epoch,
          "train_size": sizes.train, "validation_size": sizes.validation, "batch_size": config.batch_size})
    progress = Progress(sink, should_stop, config.batch_size, sizes.train, sizes.steps_per_epoch,
                        time_limit=time_limit)
    history = keras.callbacks.History()
    callbacks, target = _callbacks(config)
    train_data = batches(x, y, config.batch_size, config.seed, config.stroke_thickness)
    validation_data = None if validation is None else batches(*validation, EVAL_BATCH)
    ENGINES[config.engine](model, train_data, validation_data, config,
                           [progress, history, *callbacks, *extra_callbacks])

    reason = ""
    if progress.stopped_by_user:
        reason = f"Stopped by you during epoch {progress.epoch + 1}."
    elif progress.timed_out:
        reason = time_limit_reason(time_limit or 0.0, progress.epoch)
    elif target is not None and target.reached_at is not None:
        reason = target_reason(config.target_monitor, config.target_accuracy, target.value, target.reached_at)
    else:
        early = next((c for c in callbacks if isinstance(c, keras.callbacks.EarlyStopping)), None)
        if early is not None and early.stopped_epoch:
            reason = early_stopping_reason(config.early_monitor, early.best_epoch, early.stopped_epoch,
                                           config.early_restore_best)
    clean = {key: [_float(value) for value in values] for key, values in history.history.items()}
    if all(len(values) == len(progress.positions[EPOCHS_DONE]) for values in clean.values()):
        clean.update(progress.positions)
    return TrainingOutcome(model, clean, progress.training_seconds, progress.stopped_by_user or progress.timed_out,
                           reason)


def evaluate_splits(model: keras.Model, config: TrainConfig, dataset: Dataset) -> dict[str, dict[str, float]]:
    """Loss, accuracy, precision and recall on a training sample, the validation images and the test set."""
    train_at, validation_at = split_indices(len(dataset.x_train), config.subset, config.validation_split, config.seed)
    parts = {"train": train_at[:TRAIN_SAMPLE], "validation": validation_at}
    results: dict[str, dict[str, float]] = {}
    for split, positions in parts.items():
        if len(positions):
            results[split] = _evaluate(model, dataset.x_train[positions], dataset.y_train[positions], config, dataset)
    if len(dataset.x_test):
        results["test"] = _evaluate(model, dataset.x_test, dataset.y_test, config, dataset)
    return results


def _evaluate(model, x, y, config, dataset) -> dict[str, float]:
    values = model.evaluate(x, _labels_for_loss(y, config, dataset.num_classes), batch_size=EVAL_BATCH,
                            verbose=0, return_dict=True)
    values = {key: _float(value) for key, value in values.items()}
    values["images"] = len(x)
    return values


def train_and_store(config: TrainConfig, dataset: Dataset, sink: Sink,
                    should_stop: Callable[[], bool] = lambda: False, root: Path = STORE_ROOT,
                    run_id: str | None = None, keep_optimizer: bool = True, owner: str = "",
                    time_limit: float | None = None) -> RunRecord:
    """Trains, evaluates on every split, and saves the run (model and metadata) to the store.

    A run stopped by the user is still evaluated and saved, marked "stopped". Without
    `keep_optimizer` the file holds no optimizer state (Adam's two slots per weight), a third of
    the size: for the shipped defaults, which are never trained further. `owner` is the session
    the run belongs to (in hosted mode only it sees the run). `time_limit` is the server's cap on seconds of
    training (see `train`).
    """
    started = time.time()
    outcome = train(config, dataset, sink, should_stop, time_limit=time_limit)
    sink({"type": "phase", "phase": "evaluating"})
    metrics = evaluate_splits(outcome.model, config, dataset)
    sink({"type": "phase", "phase": "saving"})
    record = RunRecord(
        run_id=run_id or new_id(), name=config.name or f"{config.model_key} on {dataset.name}",
        dataset=dataset.name, spec=config.spec, hyperparameters=config.hyperparameters(),
        history=outcome.history, metrics=metrics, training_seconds=round(outcome.training_seconds, 2),
        status="stopped" if outcome.stopped_by_user else "finished",
        input_shape=list(dataset.image_shape), class_names=list(dataset.class_names),
        stop_reason=outcome.stop_reason, wall_seconds=round(time.time() - started, 2), owner=owner)
    # Re-compiled with built-in metrics only, so the saved file loads anywhere, no custom objects needed.
    optimizer = outcome.model.optimizer if keep_optimizer else "adam"  # a fresh Adam has no state to save
    outcome.model.compile(optimizer=optimizer, loss=outcome.model.loss, metrics=["accuracy"])
    save_run(record, lambda path: outcome.model.save(path), root)
    sink({"type": "end", "status": record.status, "run_id": record.run_id, "stop_reason": record.stop_reason,
          "metrics": metrics})
    return record
