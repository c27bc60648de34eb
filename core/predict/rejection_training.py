"""Trains and calibrates the digit check (`core.predict.rejection`), for `scripts/build_default_models.py`.

Positives are MNIST's training digits and digits drawn by code; negatives are non-digits drawn by
code. Every drawing goes through `prepare_grey`, the Predict page's own path. The threshold is then
set on held-out data the check never trained on (MNIST's test digits, and drawings from other random
seeds): the lowest that flags at most `max_false_flags` of each set of real digits, so a learner's
honest digit is almost never called "not a digit". How many non-digits that flags, per family, is
measured on the same held-out drawings and written into the check's meta.json.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from core.predict import sketches
from core.predict.preprocessing import prepare_grey
from core.predict.rejection import META_FILE, MODEL_FILE


def prepared(grey: np.ndarray) -> np.ndarray:
    """A drawing as the Predict page prepares it: (28, 28) float32, 0–255."""
    stages = prepare_grey(grey)
    if stages is None:  # cannot happen for the sketches (they always have ink); kept loud if it does
        raise ValueError("A sketch came out with no ink.")
    return stages.centred


def drawn_digits(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`count` digits drawn by code and prepared: ((count, 28, 28) float32, (count,) digit labels)."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, count)
    return np.stack([prepared(sketches.drawn_digit(int(digit), rng)) for digit in labels]), labels


def drawn_non_digits(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`count` non-digits drawn by code and prepared: (images, (count,) family names)."""
    rng = np.random.default_rng(seed)
    families = rng.choice(sketches.NON_DIGIT_FAMILIES, count)
    return np.stack([prepared(sketches.drawn_non_digit(rng, str(family))) for family in families]), families


def build_check():
    """The check's network: two strided convs, as the digit models have, and two outputs (digit, not)."""
    import keras

    return keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Rescaling(1 / 255),
        keras.layers.Conv2D(16, 5, strides=2, padding="same", activation="relu"),  # (N, 14, 14, 16)
        keras.layers.Conv2D(32, 3, strides=2, padding="same", activation="relu"),  # (N, 7, 7, 32)
        keras.layers.Flatten(),
        keras.layers.Dropout(0.3),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(2, activation="softmax"),
    ], name="digit_check")


@dataclass
class CheckReport:
    """What calibration measured: the threshold and the flag rates on held-out data."""

    threshold: float
    false_flags: dict[str, float]  # share of real digits flagged, per held-out set
    flags: dict[str, float]  # share of non-digits flagged, per family and "all"
    training_seconds: float


def _threshold(scores: list[np.ndarray], max_false_flags: float) -> float:
    """The lowest threshold that flags at most `max_false_flags` of every set of digit scores."""
    return float(max(np.quantile(score, 1 - max_false_flags) for score in scores)) + 1e-6


def train_check(mnist_x: np.ndarray, mnist_y: np.ndarray, mnist_test_x: np.ndarray, folder: Path, *,
                drawn: int = 12_000, non_digits: int = 36_000, epochs: int = 6, max_false_flags: float = 0.01,
                seed: int = 0, log=print) -> CheckReport:
    """Trains the check, calibrates its threshold, and writes model.keras and meta.json into `folder`.

    Args:
        mnist_x, mnist_y: MNIST's training images (N, 28, 28, 1) on 0–255 and labels.
        mnist_test_x: MNIST's test images, for calibration only.
        drawn, non_digits: How many digits and non-digits to draw for training.
        max_false_flags: The most real digits the threshold may flag, in each held-out set.
    """
    import keras

    keras.utils.set_random_seed(seed)
    started = time.perf_counter()
    digits_x, _ = drawn_digits(drawn, seed + 1)
    others_x, _ = drawn_non_digits(non_digits, seed + 2)
    log(f"drew {drawn:,} digits and {non_digits:,} non-digits in {time.perf_counter() - started:.0f} s")
    x = np.concatenate([mnist_x.reshape(-1, 28, 28).astype(np.float32), digits_x, others_x])[..., None]
    y = np.concatenate([np.zeros(len(mnist_x) + drawn, np.int32), np.ones(non_digits, np.int32)])
    weights = {0: 0.5 * len(y) / (len(y) - non_digits), 1: 0.5 * len(y) / non_digits}  # balance the two classes
    check = build_check()
    check.compile(optimizer=keras.optimizers.Adam(2e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    order = np.random.default_rng(seed).permutation(len(y))
    trained = time.perf_counter()
    check.fit(x[order], y[order], batch_size=256, epochs=epochs, class_weight=weights, verbose=2)
    training_seconds = time.perf_counter() - trained

    def scores(images: np.ndarray) -> np.ndarray:
        return check.predict(images.reshape(-1, 28, 28, 1).astype(np.float32), batch_size=1024, verbose=0)[:, 1]

    held_digits, _ = drawn_digits(3_000, seed + 101)
    held_others, families = drawn_non_digits(6_000, seed + 102)
    digit_scores = {"MNIST test digits": scores(mnist_test_x), "drawn digits": scores(held_digits)}
    threshold = _threshold(list(digit_scores.values()), max_false_flags)
    other_scores = scores(held_others)
    flags = {str(family): float(np.mean(other_scores[families == family] >= threshold))
             for family in sketches.NON_DIGIT_FAMILIES}
    flags["all"] = float(np.mean(other_scores >= threshold))
    false_flags = {name: float(np.mean(score >= threshold)) for name, score in digit_scores.items()}
    report = CheckReport(threshold, false_flags, flags, training_seconds)
    folder.mkdir(parents=True, exist_ok=True)
    check.save(folder / MODEL_FILE)
    meta = {"threshold": threshold, "false_flags": false_flags, "flags": flags,
            "training_seconds": round(training_seconds, 1), "trained_on": {
                "digits": f"MNIST's {len(mnist_x):,} training digits and {drawn:,} drawn by code",
                "non_digits": f"{non_digits:,} drawn by code: {', '.join(sketches.NON_DIGIT_FAMILIES)}"},
            "max_false_flags": max_false_flags, "seed": seed, "date": datetime.now(UTC).isoformat(timespec="seconds")}
    (folder / META_FILE).write_text(json.dumps(meta, indent=1))
    log(f"threshold {threshold:.4f}; digits flagged: {false_flags}; non-digits flagged: {flags}")
    return report
