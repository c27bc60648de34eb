"""core.evaluate.metrics on a tiny prediction set whose numbers are worked out by hand below."""

import math

import numpy as np
import pytest

from core.evaluate import metrics as evaluation

# 3 classes, 6 images. Predicted (argmax): 0, 1, 1, 2, 2, 2.
LABELS = np.array([0, 0, 1, 1, 2, 2])
PROBABILITIES = np.array([
    [0.70, 0.20, 0.10],  # true 0, predicted 0
    [0.40, 0.50, 0.10],  # true 0, predicted 1 (wrong, 0.50 sure)
    [0.10, 0.80, 0.10],  # true 1, predicted 1
    [0.20, 0.25, 0.55],  # true 1, predicted 2 (wrong, 0.55 sure)
    [0.10, 0.10, 0.80],  # true 2, predicted 2
    [0.30, 0.10, 0.60],  # true 2, predicted 2
])
NAMES = ["a", "b", "c"]


def test_report_matches_hand_computed_numbers():
    report = evaluation.test_report(PROBABILITIES, LABELS, NAMES)
    # Columns of the confusion matrix: predicted a = 1 (right), b = 2 (1 right), c = 3 (2 right).
    precision = [1 / 1, 1 / 2, 2 / 3]
    recall = [1 / 2, 1 / 2, 2 / 2]
    f1 = [2 * p * r / (p + r) for p, r in zip(precision, recall, strict=True)]  # 2/3, 1/2, 4/5
    assert report.accuracy == pytest.approx(4 / 6)
    assert report.precision == pytest.approx(sum(precision) / 3)  # 0.7222
    assert report.recall == pytest.approx(sum(recall) / 3)  # 0.6667
    assert report.f1 == pytest.approx((2 / 3 + 1 / 2 + 4 / 5) / 3)  # 0.6556
    assert report.loss == pytest.approx(-sum(math.log(p) for p in (0.7, 0.4, 0.8, 0.25, 0.8, 0.6)) / 6)
    assert report.per_class["precision"].tolist() == pytest.approx(precision)
    assert report.per_class["F1"].tolist() == pytest.approx(f1)
    assert report.per_class["support"].tolist() == [2, 2, 2]
    assert report.per_class["class"].tolist() == NAMES
    assert report.images == 6


def test_macro_average_skips_classes_neither_present_nor_predicted():
    labels = np.array([0, 1])
    probabilities = np.array([[0.9, 0.05, 0.05], [0.1, 0.8, 0.1]])
    report = evaluation.test_report(probabilities, labels, NAMES)
    assert report.precision == 1.0 and report.recall == 1.0  # class c is absent, not a 0


def test_confusion_counts_and_rates():
    predicted = PROBABILITIES.argmax(axis=1)
    matrix = evaluation.confusion(LABELS, predicted, 3)
    assert matrix.tolist() == [[1, 1, 0], [0, 1, 1], [0, 0, 2]]
    rates = evaluation.confusion(LABELS, predicted, 3, normalise=True)
    assert rates.tolist() == [[0.5, 0.5, 0.0], [0.0, 0.5, 0.5], [0.0, 0.0, 1.0]]
    empty_row = evaluation.confusion(np.array([0]), np.array([0]), 2, normalise=True)
    assert empty_row.tolist() == [[1.0, 0.0], [0.0, 0.0]]


def test_cell_indices_map_a_cell_to_its_images_most_confident_first():
    assert evaluation.cell_indices(LABELS, PROBABILITIES, 0, 1).tolist() == [1]
    assert evaluation.cell_indices(LABELS, PROBABILITIES, 2, 2).tolist() == [4, 5]  # 0.80 before 0.60
    assert evaluation.cell_indices(LABELS, PROBABILITIES, 1, 0).tolist() == []
    every = sorted(i for t in range(3) for p in range(3) for i in evaluation.cell_indices(LABELS, PROBABILITIES, t, p))
    assert every == list(range(6))  # the cells partition the test set


def test_mistakes_order_and_class_filter():
    assert evaluation.mistakes(LABELS, PROBABILITIES).tolist() == [3, 1]  # 0.55 sure before 0.50
    assert evaluation.mistakes(LABELS, PROBABILITIES, order="unsure").tolist() == [1, 3]
    assert evaluation.mistakes(LABELS, PROBABILITIES, order="index").tolist() == [1, 3]
    assert evaluation.mistakes(LABELS, PROBABILITIES, true_class=0).tolist() == [1]
    assert evaluation.mistakes(LABELS, PROBABILITIES, true_class=2).tolist() == []
    with pytest.raises(ValueError, match="order"):
        evaluation.mistakes(LABELS, PROBABILITIES, order="random")


def test_biggest_confusions():
    matrix = np.array([[5, 3, 0], [1, 4, 7], [0, 0, 9]])
    assert evaluation.biggest_confusions(matrix, NAMES, 2) == [("b", "c", 7), ("a", "b", 3)]
    assert evaluation.biggest_confusions(np.eye(3, dtype=int), NAMES) == []


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match="Expected"):
        evaluation.test_report(PROBABILITIES[:3], LABELS, NAMES)
    with pytest.raises(ValueError, match="Labels"):
        evaluation.test_report(PROBABILITIES, LABELS + 1, NAMES)
    with pytest.raises(ValueError, match="class names"):
        evaluation.test_report(PROBABILITIES, LABELS, NAMES[:2])
    with pytest.raises(ValueError, match="no test images"):
        evaluation.test_report(np.zeros((0, 3)), np.zeros(0), NAMES)
