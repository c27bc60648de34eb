"""The recipes: for each dataset, the preset and settings that train it best in a given time on this CPU.

`default_config` is what the Train page recommends, what `python -m core.train` trains without
options, and what `scripts/build_default_models.py` builds the shipped defaults from.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.data.class_sets import is_own_key
from core.model.layers import spec_to_dicts
from core.model.presets import PRESETS
from core.train.config import TrainConfig


@dataclass(frozen=True)
class DefaultRun:
    """A preset with the settings that train it best in a given time on this CPU.

    Args:
        preset: A key of PRESETS.
        epochs, batch_size, learning_rate, optimizer, schedule, precision, loss, label_smoothing:
            As in TrainConfig.
    """

    preset: str
    epochs: int
    batch_size: int
    learning_rate: float
    optimizer: str = "adam"
    schedule: str = "cosine"
    precision: str = "float32"
    loss: str = "sparse"
    label_smoothing: float = 0.0


# The strong default per dataset: measured with bench/time_to_accuracy.py (see the README).
# Mixed bfloat16 runs the digit nets 1.5-2× faster here (this CPU has AMX); see the README for the figures.
DEFAULT_RUNS: dict[str, DefaultRun] = {
    "mnist": DefaultRun("fast_digits", 2, 128, 0.006, precision="mixed_bfloat16"),
    "fashion_mnist": DefaultRun("fast_digits", 40, 256, 0.005, precision="mixed_bfloat16"),
    "cifar10": DefaultRun("speed_cifar", 15, 512, 0.2, "sgd", precision="mixed_bfloat16", loss="categorical",
                          label_smoothing=0.2),  # about 36 s an epoch here
    "digits": DefaultRun("fast_digits", 30, 64, 0.003),
}
# A learner's own classes (keys "own:<set id>"): a few dozen examples per class; bench/own_classes.py. 20 epochs, so
# a hosted server's epoch cap (20) leaves it whole: batches of 4 give 48 examples 12 steps an epoch. Measured on 3
# drawn shapes, seeds 0, 1, 2: 100%, 100%, 93% of 30 new drawings, about 4 s of training each (0.002: 90–97%).
OWN_CLASSES_RUN = DefaultRun("own_classes", 20, 4, 0.003)
# The best plan: the most accurate run within 3 minutes here, where the default is the fastest to 99%.
BEST_RUNS: dict[str, DefaultRun] = {
    "mnist": DefaultRun("fast_digits", 50, 256, 0.01, precision="mixed_bfloat16"),
}
PLANS = ("fast", "best")
# The trained models that ship in models/defaults/, built from these settings by
# scripts/build_default_models.py. Fixed ids in the store's format, so a link to one never changes.
SHIPPED_RUN_IDS = {"mnist": "20260101-000000-000001", "fashion_mnist": "20260101-000000-000002",
                   "cifar10": "20260101-000000-000003", "digits": "20260101-000000-000004"}
LESSON_SETTINGS = {"epochs": 5, "batch_size": 64, "learning_rate": 1e-3, "optimizer": "adam", "schedule": "constant",
                   "precision": "float32"}


_OPTIMIZER_WORDS = {"adam": "Adam", "sgd": "SGD", "rmsprop": "RMSprop"}


def settings_line(config: TrainConfig) -> str:
    """A run's training settings in a few words, e.g. "Adam 0.001 · batch 64 · 5 epochs · constant rate · float32"."""
    parts = [f"{_OPTIMIZER_WORDS.get(config.optimizer, config.optimizer)} {config.learning_rate:g}",
             f"batch {config.batch_size}", f"{config.epochs} epoch{'s' if config.epochs != 1 else ''}",
             f"{config.schedule} rate", "mixed bfloat16" if config.precision == "mixed_bfloat16" else config.precision]
    if config.loss == "categorical":
        parts.append(f"one-hot labels, smoothing {config.label_smoothing:g}" if config.label_smoothing
                     else "one-hot labels")
    return " · ".join(parts)


def preset_config(dataset: str, preset: str) -> TrainConfig:
    """What picking a preset brings: the dataset's tuned settings for its recommended preset, the lessons'
    settings for every other (as `python -m core.train --model <preset>` trains it).

    A tuned recipe belongs to its model: SGD at 0.2 with batch 512, right for `speed_cifar`, left the CIFAR
    dense baseline at 15% where the lessons' Adam 0.001 and batch 64 reach 27%.

    Raises:
        ValueError: For an unknown preset.
    """
    if preset == default_run(dataset).preset:
        return default_config(dataset)
    return default_config(dataset, preset)


def default_run(dataset: str, plan: str = "fast") -> DefaultRun:
    """The dataset's strong default; MNIST's for an uploaded folder (its recipe suits small images); a small CNN
    with augmentation for the learner's own classes.

    Args:
        plan: "fast" (the default: the quickest to a good accuracy) or "best" (the most accurate in
            3 minutes; the fast plan where a dataset has no best plan of its own).

    Raises:
        ValueError: For an unknown plan.
    """
    if plan not in PLANS:
        raise ValueError(f"Unknown plan {plan!r}; choose from {', '.join(PLANS)}.")
    if plan == "best" and dataset in BEST_RUNS:
        return BEST_RUNS[dataset]
    if is_own_key(dataset):
        return OWN_CLASSES_RUN
    return DEFAULT_RUNS.get(dataset, DEFAULT_RUNS["mnist"])


def default_config(dataset: str, model: str = "default", plan: str = "fast") -> TrainConfig:
    """The settings to start from: the dataset's strong default, or a preset with the lessons' settings.

    Raises:
        ValueError: For an unknown preset.
    """
    if model == "default":
        run = default_run(dataset, plan)
        settings = {"epochs": run.epochs, "batch_size": run.batch_size, "learning_rate": run.learning_rate,
                    "optimizer": run.optimizer, "schedule": run.schedule, "precision": run.precision,
                    "loss": run.loss, "label_smoothing": run.label_smoothing}
        model = run.preset
    elif model in PRESETS:
        settings = dict(LESSON_SETTINGS)
    else:
        raise ValueError(f"Unknown model {model!r}; `python -m core.train --list-models` lists them.")
    return TrainConfig(dataset=dataset, spec=spec_to_dicts(PRESETS[model].spec()), model_key=model, **settings)
