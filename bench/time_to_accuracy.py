"""Test accuracy against training time for a dataset's default model (or any preset).

Trains with the app's own engine (`core.train.engine.train`), evaluates the test set at the end of
every epoch, and prints the training seconds so far (evaluation excluded) with the accuracy
then. The issue's targets, on this 2-core CPU: MNIST ≥ 99.0% within 30 s and ≥ 99.4% within
3 minutes; Fashion-MNIST ≥ 92% within 3 minutes; CIFAR-10 ≥ 80% within 10 minutes.

A cosine schedule decays to zero at the last planned epoch, so each budget is its own run with
its own number of epochs (TARGETS below), not the first epochs of one long run. `--epochs N`
trains every plan with N epochs instead.

Usage: CNNLAB_DATA_DIR=../shared/datasets python bench/time_to_accuracy.py --dataset mnist [--epochs 2]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keras

from core.data.datasets import load_dataset
from core.train.engine import train
from core.train.recipes import default_config

# (seconds of training, test accuracy, epochs planned): each budget is its own run, because a
# cosine schedule ends at its last planned epoch. `None` plans the dataset's default epochs.
TARGETS: dict[str, tuple[tuple[int, float, int | None], ...]] = {
    "mnist": ((30, 0.990, None), (180, 0.994, 15)),
    "fashion_mnist": ((180, 0.92, None),),
    "cifar10": ((600, 0.80, None),),
    "digits": (),
}


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
        accuracy = self.model.evaluate(self.dataset.x_test, self.dataset.y_test, batch_size=512, verbose=0,
                                       return_dict=True)["accuracy"]
        self.rows.append((epoch + 1, seconds, accuracy))
        print(f"epoch {epoch + 1:3d}  training {seconds:7.1f} s  test accuracy {accuracy:.4f}", flush=True)


def run_plan(dataset, config) -> list[tuple[int, float, float]]:
    """Trains one run and returns (epoch, training seconds, test accuracy) per epoch."""
    tester = TestEachEpoch(dataset)
    print(f"{dataset.name}: {config.model_key}, {config.epochs} epochs, batch {config.batch_size}, "
          f"{config.optimizer} {config.learning_rate} {config.schedule}", flush=True)
    started = time.perf_counter()
    train(config, dataset, tester.sink, extra_callbacks=(tester,))
    print(f"wall time {time.perf_counter() - started:.1f} s (test evaluations included)", flush=True)
    return tester.rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="mnist")
    parser.add_argument("--model", default="default")
    parser.add_argument("--epochs", type=int, help="one run of this many epochs instead of each target's plan")
    arguments = parser.parse_args()
    dataset = load_dataset(arguments.dataset)
    plans = TARGETS.get(arguments.dataset, ())
    if arguments.epochs or not plans:
        plans = tuple((budget, target, arguments.epochs) for budget, target, _ in plans) or ((0, 0.0, None),)
    verdicts = []
    for budget, target, epochs in plans:
        config = default_config(arguments.dataset, arguments.model)
        config.validation_split = 0.0  # the whole training set, as a final model would be trained
        config.epochs = epochs or config.epochs
        rows = run_plan(dataset, config)
        if budget:
            best = max((accuracy for _, seconds, accuracy in rows if seconds <= budget), default=0.0)
            verdicts.append(f"target {target:.1%} within {budget} s ({config.epochs}-epoch plan): "
                            f"best {best:.4f} → {'met' if best >= target else 'NOT met'}")
    print("\n".join(verdicts))


if __name__ == "__main__":
    main()
