"""Test accuracy against training time for a dataset's plans, against a reference model in the same run.

Trains with the app's own engine (`core.train.engine.train`), evaluates the test set at the end of
every epoch, and records the training seconds so far (evaluation excluded) with the accuracy then.
Each plan is run `--repeats` times (medians of 3 by default: this 2-core machine's speed varies), then
the reference model is trained the same way: Keras' own mnist_convnet example for the digits and clothes
(two 3×3 conv + max-pool blocks, Dropout 0.5, batch 128, Adam 0.001), the lessons' three-block CNN
for CIFAR-10. Both go through the same pipeline, so the ratio is the recipes', not the pipelines'.

The issue's targets, on this 2-core CPU: MNIST ≥ 99.0% within 10 s (the fast plan, the app's default)
and ≥ 99.5% within 3 minutes (the best plan); Fashion-MNIST ≥ 93.0% and CIFAR-10 ≥ 88% within 3 and
10 minutes. A cosine schedule ends at its last planned epoch, so each budget is its own run.

Usage: CNNLAB_DATA_DIR=../shared/datasets python bench/time_to_accuracy.py --dataset mnist [--plan fast]
       [--repeats 3] [--no-reference] [--epochs N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keras
import numpy as np

from core.data.datasets import load_dataset
from core.model.layers import Conv, Dropout, Flatten, Pool, Rescale, spec_to_dicts
from core.train.config import TrainConfig
from core.train.engine import train
from core.train.recipes import LESSON_SETTINGS, default_config

# plan → (seconds of training, test accuracy): the targets.
TARGETS: dict[str, dict[str, tuple[int, float]]] = {
    "mnist": {"fast": (10, 0.990), "best": (180, 0.995)},
    "fashion_mnist": {"fast": (180, 0.930)},
    "cifar10": {"fast": (600, 0.88)},
    "digits": {},
}
# Keras' examples/vision/mnist_convnet.py, layer for layer (its output Dense is added by the app's builder).
MNIST_CONVNET = (Rescale(), Conv(32, 3), Pool("max", 2), Conv(64, 3), Pool("max", 2), Flatten(), Dropout(0.5))
REFERENCE_EPOCHS = {"mnist": 12, "fashion_mnist": 15, "cifar10": 15, "digits": 30}


class TestEachEpoch(keras.callbacks.Callback):
    """Evaluates the test set after each epoch, at the training clock of the engine's epoch event.

    The engine's own progress callback runs first and emits that event, whose "elapsed" counts
    training batches only, so these test evaluations never count as training time.
    """

    def __init__(self, dataset):
        super().__init__()
        self.dataset, self.rows, self.elapsed = dataset, [], 0.0

    def sink(self, event: dict) -> None:
        if event["type"] == "epoch":
            self.elapsed = event["elapsed"]

    def on_epoch_end(self, epoch, logs=None):
        seconds = self.elapsed
        # By prediction, not `evaluate`: the labels a run's loss wants (integers or one-hot) vary by recipe.
        predictions = self.model.predict(self.dataset.x_test, batch_size=512, verbose=0)  # (N, classes)
        accuracy = float(np.mean(predictions.argmax(axis=1) == self.dataset.y_test))
        self.rows.append((epoch + 1, seconds, accuracy))
        print(f"  epoch {epoch + 1:3d}  training {seconds:7.1f} s  test accuracy {accuracy:.4f}", flush=True)


@dataclass
class Run:
    """One training run's (epoch, training seconds, test accuracy) rows."""

    rows: list[tuple[int, float, float]]
    images: int  # training images per epoch

    def seconds_to(self, accuracy: float) -> float | None:
        """Training seconds at the first epoch that reached `accuracy`, or None."""
        return next((seconds for _, seconds, reached in self.rows if reached >= accuracy), None)

    def best_within(self, budget: float) -> float:
        return max((reached for _, seconds, reached in self.rows if seconds <= budget), default=0.0)

    @property
    def images_per_second(self) -> float:
        epochs, seconds, _ = self.rows[-1]
        return self.images * epochs / seconds if seconds else 0.0


def run_plan(dataset, config: TrainConfig) -> Run:
    """Trains one run and returns its rows."""
    tester = TestEachEpoch(dataset)
    print(f"{dataset.name}: {config.model_key}, {config.epochs} epochs, batch {config.batch_size}, "
          f"{config.optimizer} {config.learning_rate} {config.schedule}, {config.precision}", flush=True)
    started = time.perf_counter()
    train(config, dataset, tester.sink, extra_callbacks=(tester,))
    print(f"  wall time {time.perf_counter() - started:.1f} s (test evaluations included)", flush=True)
    return Run(tester.rows, len(dataset.x_train))


def reference_config(dataset_key: str, epochs: int) -> TrainConfig:
    """Keras' mnist_convnet (or, for CIFAR-10, the lessons' three-block CNN) with its own settings."""
    if dataset_key == "cifar10":
        config = default_config("cifar10", "cifar_three_blocks")
    else:
        config = TrainConfig(dataset=dataset_key, spec=spec_to_dicts(list(MNIST_CONVNET)), model_key="mnist_convnet",
                             **{**LESSON_SETTINGS, "batch_size": 128})
    config.epochs, config.validation_split = epochs, 0.0
    return config


def _median(values: list[float | None]) -> float | None:
    """The median, counting a run that never got there as slower than any that did (None if the median did not)."""
    middle = statistics.median([value if value is not None else float("inf") for value in values])
    return None if middle == float("inf") else middle


def _seconds(value: float | None) -> str:
    return "not reached" if value is None else f"{value:.1f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="mnist")
    parser.add_argument("--plan", help="one plan (fast, best) instead of all of the dataset's")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, help="train each plan this many epochs instead of its own")
    parser.add_argument("--no-reference", action="store_true", help="skip the reference model")
    arguments = parser.parse_args()
    dataset = load_dataset(arguments.dataset)
    plans = TARGETS.get(arguments.dataset) or {"fast": (0, 0.0)}
    if arguments.plan:
        plans = {arguments.plan: plans.get(arguments.plan, (0, 0.0))}
    lines = []
    for plan, (budget, target) in plans.items():
        runs = []
        for repeat in range(arguments.repeats):
            config = default_config(arguments.dataset, plan=plan)
            config.validation_split = 0.0  # the whole training set, as a final model would be trained
            config.epochs = arguments.epochs or config.epochs
            config.seed = repeat
            runs.append(run_plan(dataset, config))
        reached = _median([run.seconds_to(target) for run in runs]) if target else None
        limit = budget or float("inf")
        best = statistics.median(run.best_within(limit) for run in runs)
        speed = statistics.median(run.images_per_second for run in runs)
        lines.append(f"{arguments.dataset} {plan} plan ({config.epochs} epochs, {len(runs)} runs): "
                     f"best test accuracy within {budget} s: median {best:.4f} "
                     f"({' / '.join(f'{run.best_within(limit):.4f}' for run in runs)}); "
                     f"{target:.1%} reached after median {_seconds(reached)}; {speed:,.0f} images/s; "
                     f"target {'met' if best >= target else 'NOT met'}")
        if not arguments.no_reference and target:
            reference_settings = reference_config(arguments.dataset, REFERENCE_EPOCHS[arguments.dataset])
            reference = run_plan(dataset, reference_settings)
            theirs = reference.seconds_to(target)
            ratio = f"{theirs / reached:.1f}× faster" if theirs and reached else "no ratio (one never got there)"
            their_best = max(r for *_, r in reference.rows)
            lines.append(f"  reference ({reference_settings.model_key}, same run): {target:.1%} "
                         f"after {_seconds(theirs)} (best {their_best:.4f} in "
                         f"{len(reference.rows)} epochs, {reference.images_per_second:,.0f} images/s): {ratio}")
            # The same accuracy for both, when the target is out of the reference's reach: its own best.
            ours = _median([run.seconds_to(their_best) for run in runs])
            at_best = reference.seconds_to(their_best)
            lines.append(f"  to the reference's best, {their_best:.2%}: plan after median {_seconds(ours)}, reference "
                         f"after {_seconds(at_best)}"
                         + (f": {at_best / ours:.1f}× faster" if ours and at_best else ""))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
