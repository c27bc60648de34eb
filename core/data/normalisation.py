"""The three scales a pixel value passes through before a network sees it.

raw: the stored uint8 value, 0–255. unit: divided by 255, so 0–1. standardised: the raw value
minus the training set's mean, divided by its std, so the training set has mean 0 and std 1.
Standardising the 0–1 values with the mean and std divided by 255 gives exactly the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.data.statistics import PixelStats


@dataclass(frozen=True)
class Scaled:
    """One image on one scale, with the range any image can take on that scale.

    Args:
        name: "raw", "unit" or "standardised".
        values: float32 (H, W, C).
        possible_min: The value a 0 pixel maps to.
        possible_max: The value a 255 pixel maps to.
    """

    name: str
    values: np.ndarray
    possible_min: float
    possible_max: float


def normalisation_stages(image: np.ndarray, stats: PixelStats, per_channel: bool = False) -> list[Scaled]:
    """Returns an image as raw, /255 and standardised values.

    Args:
        image: uint8 (H, W, C).
        stats: The training set's pixel statistics on the 0–255 scale.
        per_channel: Standardise each channel with its own mean and std (as Keras' `Normalization`
            layer does by default) rather than one mean and std for all.

    Returns:
        Three `Scaled` stages in order: raw, unit, standardised.
    """
    raw = image.astype(np.float32)  # (H, W, C)
    if per_channel:
        mean = np.asarray(stats.channel_mean, dtype=np.float32)
        std = np.asarray(stats.channel_std, dtype=np.float32)
    else:
        mean = np.float32(stats.mean)
        std = np.float32(stats.std)
    std = np.where(std == 0, np.float32(1.0), std)  # a constant dataset has std 0; leave it centred only
    standardised = (raw - mean) / std
    low, high = (0.0 - mean) / std, (255.0 - mean) / std
    return [
        Scaled("raw", raw, 0.0, 255.0),
        Scaled("unit", raw / 255.0, 0.0, 1.0),
        Scaled("standardised", standardised, float(np.min(low)), float(np.max(high))),
    ]
