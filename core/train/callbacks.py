"""The Keras callbacks of a training run: progress events and the stop request (`Progress`), the lessons' target
accuracy, and the sentences that say why a run stopped early. Both engines (`core.train.engine`) run them."""

from __future__ import annotations

import time
from collections.abc import Callable

import keras
import numpy as np
from keras import ops

from core.store.records import EPOCHS_DONE, SECONDS_DONE
from core.train.config import TrainConfig

Sink = Callable[[dict], None]
MIN_BATCH_INTERVAL = 0.1  # seconds between batch events: enough points for a smooth curve, a small log


class TargetAccuracy(keras.callbacks.Callback):
    """The lessons' callback: stop once an epoch's accuracy reaches the target."""

    def __init__(self, target: float, monitor: str = "accuracy"):
        super().__init__()
        self.target, self.monitor, self.reached_at, self.value = target, monitor, None, None

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is not None and value >= self.target:
            self.reached_at, self.value = epoch, float(value)
            self.model.stop_training = True


def target_reason(monitor: str, target: float, value: float, epoch: int) -> str:
    """Why a run stopped at its target, with the value it really had (92.0%, not the 90.0% target).

    Args:
        epoch: The epoch that reached it, from 0.
    """
    return f"Reached {value:.1%} {monitor} in epoch {epoch + 1}, at or above the target of {target:.1%}."


def time_limit_reason(limit_seconds: float, epoch: int) -> str:
    """Why a hosted server stopped a run: its wall-clock limit, with the epoch it reached (from 0)."""
    allowed = f"{round(limit_seconds / 60, 1):g} minutes" if limit_seconds >= 60 else f"{limit_seconds:.2g} seconds"
    return (f"Stopped during epoch {epoch + 1}: this server allows {allowed} of training a run. "
            "The model so far is kept.")


def early_stopping_reason(monitor: str, best_epoch: int, stopped_epoch: int, restored: bool) -> str:
    """Why early stopping ended a run, counting the epochs that really passed without improvement.

    Args:
        best_epoch, stopped_epoch: From 0, as Keras' EarlyStopping records them.
    """
    waited = stopped_epoch - best_epoch
    return (f"Early stopping: {monitor} was best in epoch {best_epoch + 1} and did not improve in the "
            f"{waited} epoch{'' if waited == 1 else 's'} after it (stopped after epoch {stopped_epoch + 1}"
            + (", best weights restored)." if restored else ")."))


class Progress(keras.callbacks.Callback):
    """Turns Keras callback calls into progress events, and checks for a stop request after each batch."""

    def __init__(self, sink: Sink, should_stop: Callable[[], bool], batch_size: int, train_size: int,
                 steps: int, clock: Callable[[], float] = time.perf_counter, time_limit: float | None = None):
        super().__init__()
        self.sink, self.should_stop, self.clock = sink, should_stop, clock
        self.batch_size, self.train_size, self.steps = batch_size, train_size, steps
        self.stopped_by_user = False
        # A hosted server's wall-clock limit (seconds from the first batch, validation included): checked after
        # every batch like Stop, so even an epoch of one slow batch cannot outlast it by more than that batch.
        self.time_limit, self.timed_out = time_limit, False
        self._began: float | None = None
        self.epoch = 0
        self.seen = 0
        self.steps_done = 0  # batches finished in the current epoch
        # Where each ended epoch sits, for the stored history (`POSITIONS`): in epochs (2.47 for an epoch Stop broke
        # off after 47% of its batches) and in seconds of training.
        self.positions: dict[str, list[float]] = {EPOCHS_DONE: [], SECONDS_DONE: []}
        self.training_seconds = 0.0  # excludes validation, so images/s is the training speed
        self._started = self._last_emit = self._epoch_seconds = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch, self._started, self._last_emit = epoch, self.clock(), 0.0
        self._epoch_seconds = 0.0
        self.steps_done = 0

    def on_train_begin(self, logs=None):
        self._began = self.clock()

    def on_train_batch_end(self, batch, logs=None):
        now = self.clock()
        self.steps_done = batch + 1
        self._epoch_seconds = now - self._started
        self.seen += min(self.batch_size, self.train_size - batch * self.batch_size)
        if self.should_stop():
            self.stopped_by_user = True
            self.model.stop_training = True
        elif self.time_limit is not None and self._began is not None and now - self._began >= self.time_limit:
            self.timed_out = True
            self.model.stop_training = True
        last = batch + 1 == self.steps
        if now - self._last_emit >= MIN_BATCH_INTERVAL or last or self.stopped_by_user or self.timed_out:
            self._last_emit = now
            logs = logs or {}
            elapsed = self.training_seconds + self._epoch_seconds
            self.sink({"type": "batch", "epoch": self.epoch, "step": batch + 1, "seen": self.seen,
                       "loss": _float(logs.get("loss")), "accuracy": _float(logs.get("accuracy")),
                       "elapsed": round(elapsed, 3),
                       "images_per_second": round(self.seen / elapsed, 1) if elapsed > 0 else None})

    def on_epoch_end(self, epoch, logs=None):
        self.training_seconds += self._epoch_seconds
        # Keras ends the epoch (and validates) also when Stop broke it off: such an epoch is partial, and says
        # how far it got, so that its point is drawn where training stopped, not at the epoch's end.
        event = {"type": "epoch", "epoch": epoch, "partial": self.steps_done < self.steps, "steps": self.steps_done,
                 "elapsed": round(self.training_seconds, 3), "learning_rate": _learning_rate(self.model)}
        event.update({key: _float(value) for key, value in (logs or {}).items() if key != "learning_rate"})
        self.sink(event)
        self.positions[EPOCHS_DONE].append(round(epoch + self.steps_done / max(1, self.steps), 4))
        self.positions[SECONDS_DONE].append(round(self.training_seconds, 3))


def _float(value: object) -> float | None:
    if value is None:
        return None
    number = float(np.asarray(value))
    return round(number, 6) if np.isfinite(number) else None


def _learning_rate(model: keras.Model) -> float | None:
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        return None
    rate = optimizer.learning_rate  # the current value, schedules included
    return _float(ops.convert_to_numpy(rate))


def _callbacks(config: TrainConfig) -> tuple[list[keras.callbacks.Callback], TargetAccuracy | None]:
    callbacks: list[keras.callbacks.Callback] = []
    if config.early_stopping:
        callbacks.append(keras.callbacks.EarlyStopping(
            monitor=config.early_monitor, patience=config.early_patience, min_delta=config.early_min_delta,
            restore_best_weights=config.early_restore_best))
    target = None
    if config.target_accuracy:
        target = TargetAccuracy(config.target_accuracy, config.target_monitor)
        callbacks.append(target)
    if config.reduce_lr:
        callbacks.append(keras.callbacks.ReduceLROnPlateau(
            monitor=config.reduce_monitor, factor=config.reduce_factor, patience=config.reduce_patience))
    return callbacks, target
