"""The digit check: does a drawing look like any digit an MNIST model was trained on?

A network trained only on digits must answer with a digit, so a dash reads as 7 at 100% and a
smiley as 0. Its own confidence cannot tell (a softmax over ten digits has no "none of these"), so
the check is a second, small network with one question: digit or not? It was trained on digits
(MNIST's, drawn by code, scikit-learn's 8×8 enlarged, photographed) and non-digits (letters, shapes,
symbols, marks, scribbles, dots and dashes drawn by code, and letters and symbols typeset in many
fonts), both sides in every style of real handwriting (`core.predict.styles`: thick, thin, slanted,
broken, scanned small and enlarged), all through the app's own path. Its threshold is calibrated on
held-out sets, one per style, so that the worst style's digits are flagged at most 1% of the time
(`core.predict.rejection_training`, `scripts/build_default_models.py`).

It judges the drawing, not the model, so it serves every model trained on MNIST: the shipped default
and learners' own runs alike. Models of other data (clothes, photos, 8×8 digits) get no check.

Keras is imported lazily: importing this module costs nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

CHECK_FOLDER = Path(__file__).resolve().parents[2] / "models" / "digit_check"
MODEL_FILE, META_FILE = "model.keras", "meta.json"
CHECKED_SHAPE = (28, 28, 1)  # MNIST's: the check was trained on MNIST-style 28×28 drawings
EXPLANATION = ("This does not look like any digit I was trained on: a separate check, trained on digits and on "
               "letters, shapes and scribbles, says it is something else, but a network that knows only digits "
               "must still name one.")


@dataclass(frozen=True)
class Judgement:
    """The check's answer for one drawing.

    Attributes:
        not_digit: The check's probability that the drawing is not a digit, 0–1.
        threshold: Flagged at or above this.
    """

    not_digit: float
    threshold: float

    @property
    def flagged(self) -> bool:
        return self.not_digit >= self.threshold


def applies_to(dataset: str, input_shape: tuple[int, ...]) -> bool:
    """Whether a model gets the check: MNIST models, whose inputs are 28×28 grey digits."""
    return dataset == "mnist" and tuple(input_shape) == CHECKED_SHAPE


def read_threshold(folder: Path | None = None) -> float:
    """The calibrated threshold from the check's meta.json.

    Raises:
        ValueError: If the file holds no threshold between 0 and 1.
    """
    meta = json.loads(((folder or CHECK_FOLDER) / META_FILE).read_text())
    threshold = meta.get("threshold")
    if not isinstance(threshold, int | float) or not 0 < threshold < 1:
        raise ValueError(f"The digit check's threshold must be between 0 and 1, got {threshold!r}.")
    return float(threshold)


def load_check(folder: Path | None = None):
    """The check's Keras model (shared and read-only: only ever called)."""
    import keras

    return keras.saving.load_model((folder or CHECK_FOLDER) / MODEL_FILE, safe_mode=True, compile=False)


def judge(check, threshold: float, image: np.ndarray) -> Judgement:
    """Judges one prepared drawing.

    Args:
        check: The model `load_check` returns.
        threshold: `read_threshold`'s value.
        image: (28, 28, 1) on the 0–255 scale, as prepared for an MNIST model.

    Raises:
        ValueError: For an image of another shape.
    """
    image = np.asarray(image, dtype=np.float32)
    if image.shape != CHECKED_SHAPE:
        raise ValueError(f"The digit check takes 28×28×1 drawings, got shape {image.shape}.")
    output = np.asarray(check(image[None], training=False), dtype=np.float64)[0]  # (2,): digit, not a digit
    return Judgement(float(output[1]), threshold)
