"""Summary statistics of image datasets: class balance, mean images, histograms, mean and std."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def class_counts(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """Counts the images of each class.

    Args:
        labels: Integer labels (N,).
        num_classes: How many classes there are; classes with no images count 0.

    Returns:
        int64 counts (num_classes,).
    """
    return np.bincount(np.asarray(labels, dtype=np.int64), minlength=num_classes)[:num_classes]


def mean_images_by_class(images: np.ndarray, labels: np.ndarray, num_classes: int) -> np.ndarray:
    """Averages the images of each class, pixel by pixel.

    Args:
        images: uint8 images (N, H, W, C).
        labels: Integer labels (N,).
        num_classes: How many classes there are.

    Returns:
        float32 (num_classes, H, W, C) on the 0–255 scale; a class with no images is all zeros.
    """
    sums = np.zeros((num_classes, int(np.prod(images.shape[1:]))), dtype=np.float64)
    flat = images.reshape(len(images), -1)  # (N, H*W*C)
    for label in range(num_classes):  # a loop over classes, not pixels: each step is one vectorised sum
        members = flat[labels == label]
        if len(members):
            sums[label] = members.sum(axis=0, dtype=np.float64) / len(members)
    return sums.reshape((num_classes, *images.shape[1:])).astype(np.float32)


def intensity_histogram(images: np.ndarray) -> np.ndarray:
    """Counts how often each value 0–255 occurs, per channel.

    Args:
        images: uint8 images (N, H, W, C).

    Returns:
        int64 counts (C, 256).
    """
    if images.dtype != np.uint8:
        raise ValueError(f"intensity_histogram expects uint8 images, got {images.dtype}.")
    channels = images.shape[-1]
    return np.stack([np.bincount(images[..., c].ravel(), minlength=256) for c in range(channels)])


@dataclass(frozen=True)
class PixelStats:
    """Mean and standard deviation of pixel values on the 0–255 scale.

    Args:
        mean: Over all pixels and channels.
        std: Over all pixels and channels.
        channel_mean: Per channel (C,).
        channel_std: Per channel (C,).
    """

    mean: float
    std: float
    channel_mean: tuple[float, ...]
    channel_std: tuple[float, ...]


def pixel_stats(images: np.ndarray) -> PixelStats:
    """Computes the mean and standard deviation of all pixel values, overall and per channel.

    Computed from the histogram, so it is exact and needs no float copy of the images.

    Args:
        images: uint8 images (N, H, W, C).
    """
    histogram = intensity_histogram(images).astype(np.float64)  # (C, 256)
    values = np.arange(256, dtype=np.float64)

    def mean_std(counts: np.ndarray) -> tuple[float, float]:
        total = counts.sum()
        mean = float((counts * values).sum() / total)
        return mean, float(np.sqrt((counts * (values - mean) ** 2).sum() / total))

    overall = mean_std(histogram.sum(axis=0))
    per_channel = [mean_std(row) for row in histogram]
    return PixelStats(overall[0], overall[1], tuple(m for m, _ in per_channel), tuple(s for _, s in per_channel))


def balance_sentence(counts: np.ndarray, class_names: tuple[str, ...] | list[str]) -> str:
    """The class balance of a split in words, with the accuracy a constant guess would score.

    Args:
        counts: Images per class, shape (K,).
        class_names: The K class names.
    """
    smallest, largest = int(counts.min()), int(counts.max())
    total = int(counts.sum())
    if smallest == largest:
        spread = f"Every class has {largest:,} training images."
        guess = "one class"
    else:
        spread = (f"Training images per class range from {smallest:,} ({class_names[int(counts.argmin())]}) "
                  f"to {largest:,} ({class_names[int(counts.argmax())]}).")
        guess = "the largest class"
    return (f"{spread} A model that always answered {guess} would score {largest / total:.1%} on the training "
            "set: that is the accuracy to beat.")
