"""A learner's own classes, end to end: 3 drawn shape classes, the suggested model, and its TFLite export.

    python bench/own_classes.py [--per-class 20] [--test 30] [--seed 0]

It builds a class set of circles, triangles and stars drawn by code (`core.predict.sketches.drawn_shape`: random
size, place, slant, wobble and pen width), each prepared as the builder prepares a canvas drawing
(`core.data.own_classes.prepare_drawing_example`) and stored as the builder stores it, in a temporary store. It
trains the model and settings Train suggests for such a set (`default_config`) in this process, times the
training (model building included), tests on new drawings made with another seed, then converts the model to
TensorFlow Lite (`core.model.export`) and compares its probabilities with Keras' on those drawings. Last line:

    own_classes: classes=3 examples=60 train_s=T test_accuracy=A tflite_max_diff=D
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from core.data import own_classes
from core.predict.sketches import drawn_shape

SHAPES = ("circle", "triangle", "star")


def drawings(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`count` drawings of each shape, prepared at 32×32 grey: (N, 32, 32, 1) uint8 and labels (N,)."""
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for label, shape in enumerate(SHAPES):
        for _ in range(count):
            prepared = own_classes.prepare_drawing_example(drawn_shape(shape, rng), 32, "grayscale")
            images.append(prepared)
            labels.append(label)
    return np.stack(images), np.asarray(labels)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-class", type=int, default=20)
    parser.add_argument("--test", type=int, default=30, help="new drawings in all, shared among the classes")
    parser.add_argument("--seed", type=int, default=0)
    arguments = parser.parse_args()

    from core.model.export import export_tflite, run_tflite
    from core.train.engine import train
    from core.train.recipes import default_config

    with tempfile.TemporaryDirectory(prefix="cnnlab-own-") as folder:
        root = Path(folder)
        class_set = own_classes.create_set("0" * 32, list(SHAPES), 32, "grayscale", root)
        images, labels = drawings(arguments.per_class, arguments.seed)
        for label in range(len(SHAPES)):
            class_set = own_classes.add_examples(class_set.set_id, class_set.owner, label, images[labels == label],
                                                 root)
        dataset = own_classes.to_dataset(class_set, root)
        config = default_config(dataset.name)
        started = time.perf_counter()
        outcome = train(config, dataset, lambda event: None)
        train_seconds = time.perf_counter() - started
        per_class = -(-arguments.test // len(SHAPES))
        new_images, new_labels = drawings(per_class, arguments.seed + 1000)
        new_images, new_labels = new_images[:arguments.test], new_labels[:arguments.test]
        keras_probabilities = np.asarray(outcome.model.predict(new_images.astype(np.float32), verbose=0))
        accuracy = float(np.mean(keras_probabilities.argmax(axis=1) == new_labels))
        own_split = np.mean(outcome.model.predict(dataset.x_test, verbose=0).argmax(axis=1) == dataset.y_test)
        print(f"{len(dataset.x_train)} training and {len(dataset.x_test)} test examples; "
              f"{config.model_key}, {config.epochs} epochs, batch {config.batch_size}; "
              f"{train_seconds:.1f} s; the set's own test split {own_split:.2%}")
        model_path = root / "model.keras"
        outcome.model.save(model_path)
        tflite = export_tflite(model_path)
        lite_probabilities = run_tflite(tflite, new_images.astype(np.float32))
        difference = float(np.max(np.abs(lite_probabilities - keras_probabilities)))
    print(f"own_classes: classes={len(SHAPES)} examples={len(images)} train_s={train_seconds:.1f} "
          f"test_accuracy={accuracy:.2f} tflite_max_diff={difference:.1e}")


if __name__ == "__main__":
    main()
