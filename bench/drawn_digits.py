"""How well MNIST models read digits drawn by code, through the Predict page's own path, and MNIST's test set.

    CNNLAB_DATA_DIR=../shared/datasets python bench/drawn_digits.py [model.keras ...] [--count 3000]

Without files, it measures the shipped MNIST default. The drawings come from `core.predict.sketches`
(several ways of drawing each digit, with random size, place, slant, wobble and pen width), prepared as a
canvas drawing is (`core.predict.rejection_training.drawn_digits`). It also prints how many of them the
digit check calls "not a digit". This is the set a new MNIST default is compared on before it ships, next
to MNIST's test set: people's handwriting must not be read worse.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keras
import numpy as np

from core.data.datasets import load_dataset
from core.predict import rejection
from core.predict.rejection_training import drawn_digits
from core.store.runs import MODEL_FILE, SHIPPED_DEFAULTS
from core.train.recipes import SHIPPED_RUN_IDS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", type=Path)
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=7)
    arguments = parser.parse_args()
    paths = arguments.models or [SHIPPED_DEFAULTS / SHIPPED_RUN_IDS["mnist"] / MODEL_FILE]
    images, labels = drawn_digits(arguments.count, arguments.seed)
    images = images[..., None]  # (N, 28, 28, 1)
    test = load_dataset("mnist")
    check, threshold = rejection.load_check(), rejection.read_threshold()
    flagged = np.mean(np.asarray(check.predict(images, batch_size=512, verbose=0))[:, 1] >= threshold)
    print(f"{arguments.count} drawn digits (seed {arguments.seed}); the digit check flags {flagged:.2%} of them")
    for path in paths:
        model = keras.saving.load_model(path, safe_mode=True, compile=False)
        on_drawn = np.mean(model.predict(images, batch_size=512, verbose=0).argmax(axis=1) == labels)
        on_test = np.mean(model.predict(test.x_test, batch_size=512, verbose=0).argmax(axis=1) == test.y_test)
        print(f"{path}: drawn digits {on_drawn:.2%}, MNIST test {on_test:.2%}")


if __name__ == "__main__":
    main()
