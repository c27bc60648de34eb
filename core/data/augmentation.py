"""Previewing Keras' random augmentation layers on one image.

Keras (and TensorFlow behind it) is imported inside the function, so that importing this module
costs nothing: only a page section that actually shows augmentation pays the few seconds and
hundreds of MB that TensorFlow takes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

FlipMode = Literal["none", "horizontal", "vertical", "horizontal_and_vertical"]
FillMode = Literal["constant", "reflect", "wrap", "nearest"]


@dataclass(frozen=True)
class AugmentationSettings:
    """The settings of the four augmentation layers, as in the Keras layer arguments.

    Args:
        flip: RandomFlip's mode, or "none" to leave it out.
        rotation: RandomRotation's factor: the largest turn as a fraction of a full circle (0.1 = ±36°).
        zoom: RandomZoom's height factor: the largest zoom as a fraction (0.2 = 20% in or out).
        translation: RandomTranslation's height and width factor: the largest shift as a fraction of the size.
        fill_mode: How pixels moved in from outside the image are filled.
    """

    flip: FlipMode = "none"
    rotation: float = 0.0
    zoom: float = 0.0
    translation: float = 0.0
    fill_mode: FillMode = "constant"

    def __post_init__(self) -> None:
        for field_name, limit in (("rotation", 0.5), ("zoom", 0.9), ("translation", 0.9)):
            value = getattr(self, field_name)
            if not 0.0 <= value <= limit:
                raise ValueError(f"{field_name} must lie between 0 and {limit}, got {value}.")

    def layer_code(self) -> list[str]:
        """The Keras layers these settings stand for, as Python source lines."""
        fill = f'fill_mode="{self.fill_mode}"'
        lines = []
        if self.flip != "none":
            lines.append(f'keras.layers.RandomFlip("{self.flip}")')
        if self.rotation:
            lines.append(f"keras.layers.RandomRotation({self.rotation:g}, {fill})")
        if self.zoom:
            lines.append(f"keras.layers.RandomZoom({self.zoom:g}, {fill})")
        if self.translation:
            lines.append(f"keras.layers.RandomTranslation({self.translation:g}, {self.translation:g}, {fill})")
        return lines


def augment_variants(image: np.ndarray, settings: AugmentationSettings, count: int = 8, seed: int = 0) -> np.ndarray:
    """Applies the augmentation layers to copies of one image.

    Args:
        image: uint8 (H, W, C).
        settings: Which layers, with which strength.
        count: How many random variants to make.
        seed: Seed of the layers' random generators; the same seed gives the same variants.

    Returns:
        uint8 variants (count, H, W, C).
    """
    import keras  # Lazy: see the module docstring.

    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}.")
    layers = []
    if settings.flip != "none":
        layers.append(keras.layers.RandomFlip(settings.flip, seed=seed))
    if settings.rotation:
        layers.append(keras.layers.RandomRotation(settings.rotation, fill_mode=settings.fill_mode, seed=seed + 1))
    if settings.zoom:
        layers.append(keras.layers.RandomZoom(settings.zoom, fill_mode=settings.fill_mode, seed=seed + 2))
    if settings.translation:
        layers.append(keras.layers.RandomTranslation(
            settings.translation, settings.translation, fill_mode=settings.fill_mode, seed=seed + 3))
    batch = np.repeat(image[None].astype(np.float32), count, axis=0)  # (count, H, W, C)
    for layer in layers:
        batch = layer(batch, training=True)  # each image in the batch gets its own random transform
    return np.clip(np.rint(np.asarray(batch)), 0, 255).astype(np.uint8)
