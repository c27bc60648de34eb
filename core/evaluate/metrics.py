"""Test-set evaluation from stored predictions: metrics, the confusion matrix and its cells, mistakes.

Everything here works on a (N, classes) array of predicted probabilities and the (N,) true labels,
so the Evaluate page computes predictions once per run (cached) and every view below is NumPy and
scikit-learn only. No TensorFlow.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn import metrics as sk

LOW_PROBABILITY = 1e-7  # probabilities are clipped here for the log loss, as Keras clips them


@dataclass(frozen=True)
class TestReport:
    """Whole-test-set numbers and the per-class table.

    Args:
        loss: Mean cross-entropy, -log(probability given to the true class).
        accuracy: Share of images whose top class is the true one.
        precision, recall, f1: Macro averages: every class counts the same, whatever its size.
        per_class: One row per class: precision, recall, F1, support (its number of test images) and predicted
            (how many images the model put in it; a class never predicted has no precision, counted as 0).
        images: The number of test images.
    """

    loss: float
    accuracy: float
    precision: float
    recall: float
    f1: float
    per_class: pd.DataFrame
    images: int


def _check(probabilities: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    probabilities = np.asarray(probabilities, dtype=np.float64)  # (N, classes)
    labels = np.asarray(labels).reshape(-1).astype(np.int64)  # (N,)
    if probabilities.ndim != 2 or len(probabilities) != len(labels):
        raise ValueError(f"Expected (N, classes) probabilities for {len(labels)} labels, got {probabilities.shape}.")
    if len(labels) and (labels.min() < 0 or labels.max() >= probabilities.shape[1]):
        raise ValueError(f"Labels must lie in 0..{probabilities.shape[1] - 1}.")
    return probabilities, labels


def test_report(probabilities: np.ndarray, labels: np.ndarray, class_names: Sequence[str]) -> TestReport:
    """Loss, accuracy, macro precision / recall / F1 and the per-class table.

    Args:
        probabilities: (N, classes) softmax outputs.
        labels: (N,) true class indices.
        class_names: Names in class order, one per column of `probabilities`.

    Raises:
        ValueError: If the shapes do not match or the set is empty.
    """
    probabilities, labels = _check(probabilities, labels)
    if not len(labels):
        raise ValueError("There are no test images to evaluate.")
    if len(class_names) != probabilities.shape[1]:
        raise ValueError(f"{len(class_names)} class names for {probabilities.shape[1]} outputs.")
    predicted = probabilities.argmax(axis=1)
    classes = np.arange(probabilities.shape[1])
    precision, recall, f1, support = sk.precision_recall_fscore_support(
        labels, predicted, labels=classes, zero_division=0)
    true_probability = np.clip(probabilities[np.arange(len(labels)), labels], LOW_PROBABILITY, 1.0)
    table = pd.DataFrame({"class": list(class_names), "precision": precision, "recall": recall, "F1": f1,
                          "support": support.astype(int),
                          "predicted": np.bincount(predicted, minlength=len(classes)).astype(int)})
    # Macro averages over the classes present (true or predicted), as scikit-learn's default labels do.
    present = np.union1d(labels, predicted)
    return TestReport(
        loss=float(-np.log(true_probability).mean()),
        accuracy=float((predicted == labels).mean()),
        precision=float(precision[present].mean()), recall=float(recall[present].mean()),
        f1=float(f1[present].mean()), per_class=table, images=len(labels))


def confusion(labels: np.ndarray, predicted: np.ndarray, num_classes: int, normalise: bool = False) -> np.ndarray:
    """The (classes, classes) confusion matrix: row = true class, column = predicted class.

    Args:
        normalise: Divide each row by its total, so a cell reads "share of this true class
            predicted as that class" (the diagonal is then each class's recall). Empty rows stay 0.
    """
    matrix = sk.confusion_matrix(labels, predicted, labels=np.arange(num_classes))
    return row_rates(matrix) if normalise else matrix


def row_rates(counts: np.ndarray) -> np.ndarray:
    """A confusion matrix of counts divided by each row's total; an empty row stays 0."""
    totals = counts.sum(axis=1, keepdims=True)
    return np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)


def cell_indices(labels: np.ndarray, probabilities: np.ndarray, true_class: int, predicted_class: int) -> np.ndarray:
    """Test-set positions of the images in one confusion-matrix cell, most confident first.

    Args:
        true_class: The cell's row.
        predicted_class: The cell's column.
    """
    probabilities, labels = _check(probabilities, labels)
    predicted = probabilities.argmax(axis=1)
    positions = np.flatnonzero((labels == true_class) & (predicted == predicted_class))
    confidence = probabilities[positions, predicted_class]
    return positions[np.argsort(-confidence, kind="stable")]


def mistakes(labels: np.ndarray, probabilities: np.ndarray, true_class: int | None = None,
             order: str = "confident") -> np.ndarray:
    """Positions of the wrongly classified test images.

    Args:
        true_class: Only images of this true class; None for all.
        order: "confident" puts the most confidently wrong first, "unsure" the least, "index"
            keeps test-set order.
    """
    if order not in ("confident", "unsure", "index"):
        raise ValueError(f"Unknown order {order!r}.")
    probabilities, labels = _check(probabilities, labels)
    predicted = probabilities.argmax(axis=1)
    wrong = predicted != labels
    if true_class is not None:
        wrong &= labels == true_class
    positions = np.flatnonzero(wrong)
    if order == "index":
        return positions
    confidence = probabilities[positions, predicted[positions]]
    return positions[np.argsort(-confidence if order == "confident" else confidence, kind="stable")]


def biggest_confusions(matrix: np.ndarray, class_names: Sequence[str], count: int = 3) -> list[tuple[str, str, int]]:
    """The off-diagonal cells with the most images: (true name, predicted name, images), largest first."""
    off = np.array(matrix, dtype=float)
    np.fill_diagonal(off, -1)
    order = np.argsort(-off, axis=None, kind="stable")[:count]
    cells = [np.unravel_index(flat, off.shape) for flat in order]
    return [(class_names[row], class_names[column], int(matrix[row, column]))
            for row, column in cells if matrix[row, column] > 0]
