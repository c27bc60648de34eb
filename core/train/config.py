"""A training run's settings, checked before anything is built, and the data split they imply.

Plain Python and NumPy: the Train page checks a configuration and shows what is wrong without
importing TensorFlow. `core.train.engine` turns a valid configuration into a trained model.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields

import numpy as np

from core.store.names import refusal

OPTIMIZERS = ("adam", "sgd", "rmsprop")  # sgd means SGD with momentum
LOSSES = ("sparse", "categorical")
ENGINES = ("fit", "tape")
SCHEDULES = ("constant", "cosine")
MONITORS = ("val_loss", "val_accuracy", "loss", "accuracy")
MAX_EPOCHS = 1000
MAX_BATCH_SIZE = 4096


PRECISIONS = ("float32", "mixed_bfloat16")
MAX_LABEL_SMOOTHING = 0.5  # more, and the true class is hardly told apart from the others


class ConfigError(ValueError):
    """Training settings that cannot be used together; the message says which and why."""


@dataclass
class TrainConfig:
    """Everything that decides a training run.

    Args:
        dataset: Dataset key, e.g. "mnist".
        spec: The model spec as dicts (`core.model.layers.spec_to_dicts`).
        model_key: The preset it came from, or "custom".
        name: The run's name in the store.
        epochs: Passes over the training images.
        batch_size: Images per gradient step.
        learning_rate: The optimizer's (starting) step size.
        optimizer: "adam", "sgd" (with momentum 0.9) or "rmsprop".
        schedule: "constant", or "cosine": decay to zero over the run, after a short warm-up.
        validation_split: Fraction of the (subset of the) training images held out for validation.
        subset: Train on this many training images (0: all of them).
        seed: Seeds the subset, the split, the shuffling and the initial weights.
        loss: "sparse" (integer labels) or "categorical" (one-hot labels).
        engine: "fit" (Keras `model.fit`) or "tape" (the lessons' `tf.GradientTape` loop).
        early_stopping: Stop when `early_monitor` has not improved by `early_min_delta` for
            `early_patience` epochs; with `early_restore_best`, go back to the best epoch's weights.
        target_accuracy: Stop at the end of the first epoch whose `target_monitor` reaches this
            (0 turns it off): the lessons' "Reached 99.8% accuracy" callback.
        reduce_lr: Multiply the learning rate by `reduce_factor` when `reduce_monitor` has not
            improved for `reduce_patience` epochs (ReduceLROnPlateau).
        precision: "float32", or "mixed_bfloat16": layers compute in bfloat16 and keep float32
            weights (Keras mixed precision). Faster on CPUs with AMX or AVX-512 BF16.
        stroke_thickness: Share of training images (0–1) whose strokes are made thicker (a 3×3
            dilation) or thinner (half an erosion) each epoch, half each way: augmentation for
            drawn digits, whose pens vary. 0 turns it off. Not a model layer, so a stored model
            stays plain Keras.
        label_smoothing: Train against targets of 1 - s + s/classes for the true class and s/classes
            for the others, not 1 and 0: the network is never pushed towards 100% certainty, which
            generalises better on short plans (the CIFAR-10 speed records use 0.2). Needs the
            categorical loss, whose labels are one-hot. 0 turns it off.
    """

    dataset: str
    spec: list[dict[str, object]]
    model_key: str = "custom"
    name: str = ""
    epochs: int = 5
    batch_size: int = 64
    learning_rate: float = 1e-3
    optimizer: str = "adam"
    schedule: str = "constant"
    validation_split: float = 0.1
    subset: int = 0
    seed: int = 0
    loss: str = "sparse"
    engine: str = "fit"
    early_stopping: bool = False
    early_monitor: str = "val_loss"
    early_patience: int = 3
    early_min_delta: float = 0.0
    early_restore_best: bool = True
    target_accuracy: float = 0.0
    target_monitor: str = "accuracy"
    reduce_lr: bool = False
    reduce_monitor: str = "val_loss"
    reduce_factor: float = 0.5
    reduce_patience: int = 2
    precision: str = "float32"
    stroke_thickness: float = 0.0
    label_smoothing: float = 0.0
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> TrainConfig:
        """The config a dict describes; unknown keys are an error, missing ones take defaults.

        Raises:
            ConfigError: For unknown keys or a missing dataset or spec.
        """
        if not isinstance(data, dict):
            raise ConfigError("A training config must be a JSON object.")
        known = {item.name for item in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"Unknown training settings: {', '.join(map(str, unknown))}.")
        try:
            return cls(**data)  # type: ignore[arg-type]
        except TypeError as error:
            raise ConfigError(f"Incomplete training config: {error}.") from None

    def hyperparameters(self) -> dict[str, object]:
        """The settings worth showing next to a run (everything but the dataset and the spec)."""
        data = asdict(self)
        for key in ("dataset", "spec", "name", "notes"):
            data.pop(key)
        return data


@dataclass(frozen=True)
class SplitSizes:
    """How many images each part of a run gets."""

    train: int
    validation: int
    steps_per_epoch: int


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and np.isfinite(value)


def check_config(config: TrainConfig, available: int, max_epochs: int | None = None,
                 max_train_images: int | None = None, *, image_shape: tuple[int, int, int] | None = None,
                 num_classes: int | None = None, max_parameters: int | None = None,
                 max_run_tflop: float | None = None) -> SplitSizes:
    """Checks the settings against each other and the dataset; returns the split sizes.

    A batch larger than the training set is not an error: Keras then takes one smaller batch per
    epoch, and a note says so.

    Args:
        config: The settings.
        available: How many training images the dataset has.
        max_epochs: A hosted server's cap on epochs (None: only MAX_EPOCHS).
        max_train_images: A hosted server's cap on the images a run uses (None: all may be used).
        image_shape, num_classes: The dataset's (H, W, C) and class count. With them the model's size is
            checked against `max_parameters` and `max_run_tflop` (`core.model.cost`).
        max_parameters: The server's cap on a model's parameters (None: uncapped).
        max_run_tflop: The server's cap on a run's training FLOP, in TFLOP (None: uncapped).

    Raises:
        ConfigError: Naming the setting and what to change.
    """
    if problem := refusal(str(config.name), "A run name"):
        raise ConfigError(problem)
    if problem := refusal(str(config.name), "A run name"):
        raise ConfigError(problem)
    integers = {"epochs": (1, MAX_EPOCHS), "batch_size": (1, MAX_BATCH_SIZE), "subset": (0, 10**9),
                "seed": (0, 2**31 - 1), "early_patience": (0, 1000), "reduce_patience": (0, 1000)}
    for name, (low, high) in integers.items():
        value = getattr(config, name)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ConfigError(f"{name.replace('_', ' ').capitalize()} must be a whole number from {low} to {high}.")
    choices = {"optimizer": OPTIMIZERS, "loss": LOSSES, "engine": ENGINES, "schedule": SCHEDULES,
               "early_monitor": MONITORS, "target_monitor": ("accuracy", "val_accuracy"),
               "reduce_monitor": MONITORS, "precision": PRECISIONS}
    for name, allowed in choices.items():
        if getattr(config, name) not in allowed:
            raise ConfigError(f"{name.replace('_', ' ').capitalize()} must be one of {', '.join(allowed)}.")
    if not _number(config.learning_rate) or not 1e-6 <= config.learning_rate <= 10:
        raise ConfigError("The learning rate must lie between 0.000001 and 10.")
    if not _number(config.validation_split) or not 0 <= config.validation_split < 1:
        raise ConfigError("The validation split must be at least 0 and below 1.")
    if not _number(config.target_accuracy) or not 0 <= config.target_accuracy <= 1:
        raise ConfigError("The target accuracy must lie between 0 (off) and 1.")
    if not _number(config.stroke_thickness) or not 0 <= config.stroke_thickness <= 1:
        raise ConfigError("The stroke-thickness share must lie between 0 (off) and 1.")
    if not _number(config.label_smoothing) or not 0 <= config.label_smoothing <= MAX_LABEL_SMOOTHING:
        raise ConfigError(f"Label smoothing must lie between 0 (off) and {MAX_LABEL_SMOOTHING}, "
                          f"got {config.label_smoothing!r}.")
    if config.label_smoothing and config.loss != "categorical":
        raise ConfigError("Label smoothing softens one-hot labels: choose the categorical loss, or set it to 0.")
    if not _number(config.reduce_factor) or not 0 < config.reduce_factor < 1:
        raise ConfigError("ReduceLROnPlateau's factor must lie strictly between 0 and 1.")
    if not _number(config.early_min_delta) or config.early_min_delta < 0:
        raise ConfigError("Early stopping's min delta must be 0 or more.")
    if config.reduce_lr and config.schedule != "constant":
        raise ConfigError("ReduceLROnPlateau and the cosine schedule both set the learning rate: pick one.")
    used = min(config.subset, available) if config.subset else available
    if max_epochs is not None and config.epochs > max_epochs:
        raise ConfigError(f"This shared server allows at most {max_epochs} epochs per run; you asked for "
                          f"{config.epochs}.")
    if max_train_images is not None and used > max_train_images:
        raise ConfigError(f"This shared server trains on at most {max_train_images:,} images per run; this run "
                          f"would use {used:,}. Set the training subset to {max_train_images:,} or fewer.")
    validation = round(used * config.validation_split)
    train = used - validation
    if train < 1:
        raise ConfigError(f"With {used} images and a validation split of {config.validation_split:.0%}, "
                          "no image is left to train on. Use a larger subset or a smaller split.")
    if config.validation_split > 0 and validation < 1:
        raise ConfigError(f"A validation split of {config.validation_split:.0%} of {used} images holds out "
                          "no image. Use a larger subset, or set the split to 0.")
    monitored = [config.early_monitor if config.early_stopping else "",
                 config.target_monitor if config.target_accuracy else "",
                 config.reduce_monitor if config.reduce_lr else ""]
    if validation == 0 and any(name.startswith("val_") for name in monitored):
        raise ConfigError("A callback watches a validation metric, but the validation split is 0. "
                          "Watch a training metric or hold out some validation images.")
    if image_shape is not None and num_classes is not None and (max_parameters or max_run_tflop):
        from core.model.cost import CostError, check_cost, run_cost
        from core.model.layers import spec_from_dicts

        cost = run_cost(spec_from_dicts(config.spec), image_shape, num_classes, train, validation, config.epochs)
        try:
            check_cost(cost, max_parameters, max_run_tflop)
        except CostError as error:
            raise ConfigError(str(error)) from None
    return SplitSizes(train, validation, -(-train // config.batch_size))


def check_run(config: TrainConfig, available: int, image_shape: tuple[int, int, int], num_classes: int,
              caps: Mapping[str, object]) -> tuple[SplitSizes, float | None]:
    """Checks a run against the settings' rules and a server's run caps; the one check the queue and both kinds
    of worker make.

    Args:
        config: The settings.
        available: Training images in the dataset.
        image_shape, num_classes: The dataset's (H, W, C) and class count.
        caps: `core.store.hosting.RUN_CAPS` by name; a missing or None cap is no cap.

    Returns:
        The split sizes, and the seconds the run may train (None: no limit).

    Raises:
        ConfigError: Naming the setting or cap and what to change.
    """
    checked = {name: caps.get(name) for name in ("max_epochs", "max_train_images", "max_parameters",
                                                 "max_run_tflop")}
    sizes = check_config(config, available, image_shape=image_shape, num_classes=num_classes,
                         **checked)  # type: ignore[arg-type]
    minutes = caps.get("run_minutes")
    return sizes, float(minutes) * 60.0 if minutes else None


def smoothed_loss_floor(smoothing: float, num_classes: int) -> float:
    """The lowest cross-entropy against smoothed targets: their entropy, reached by predicting them exactly.

    Args:
        smoothing: The label smoothing, 0–1.
        num_classes: How many classes share it.
    """
    other = smoothing / num_classes
    true = 1 - smoothing + other
    return float(-sum(p * np.log(p) for p in (true, *[other] * (num_classes - 1)) if p > 0))


def config_notes(config: TrainConfig, sizes: SplitSizes, num_classes: int = 10) -> list[str]:
    """Remarks worth showing before a run starts (nothing here stops it)."""
    notes = []
    if config.label_smoothing and config.loss == "categorical":
        notes.append(f"With label smoothing {config.label_smoothing:g} the loss cannot fall below "
                     f"{smoothed_loss_floor(config.label_smoothing, num_classes):.2f}: the targets themselves are "
                     "uncertain. Watch the accuracy.")
    if config.batch_size > sizes.train:
        notes.append(f"The batch size ({config.batch_size}) is larger than the {sizes.train} training images: "
                     "each epoch is a single, smaller batch.")
    if config.subset and config.subset < 1000:
        notes.append(f"Only {config.subset} images: expect noisy curves and a model that overfits quickly.")
    return notes


def split_indices(available: int, subset: int, validation_split: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train, validation) positions into the training images: a seeded shuffle, then a cut.

    Shuffling first matters: Keras' own `validation_split` takes the last images unshuffled.
    """
    order = np.random.default_rng(seed).permutation(available)
    if subset:
        order = order[:subset]
    validation = round(len(order) * validation_split)
    return order[validation:], order[:validation]
