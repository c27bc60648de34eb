"""Label encodings."""

from __future__ import annotations

import numpy as np


def one_hot(labels: np.ndarray | int, num_classes: int) -> np.ndarray:
    """Turns integer labels into one-hot rows, like `keras.utils.to_categorical`.

    Args:
        labels: An integer label or an array of them (N,).
        num_classes: The length of each one-hot vector.

    Returns:
        float32 (N, num_classes), or (num_classes,) for a single label.

    Raises:
        ValueError: If a label lies outside [0, num_classes).
    """
    array = np.asarray(labels, dtype=np.int64)
    if array.size and (array.min() < 0 or array.max() >= num_classes):
        raise ValueError(f"labels must lie in [0, {num_classes}), got {array.min()}…{array.max()}.")
    return np.eye(num_classes, dtype=np.float32)[array]
