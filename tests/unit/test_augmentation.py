"""Keras augmentation preview (imports TensorFlow, so it is the slowest unit test)."""

from __future__ import annotations

import numpy as np
import pytest

from core.data.augmentation import AugmentationSettings, augment_variants


@pytest.fixture(scope="module")
def bar_image():
    image = np.zeros((28, 28, 1), dtype=np.uint8)
    image[4:24, 12:16] = 255  # a vertical bar
    return image


def test_no_layers_returns_copies(bar_image):
    variants = augment_variants(bar_image, AugmentationSettings(), count=3)
    assert variants.shape == (3, 28, 28, 1) and variants.dtype == np.uint8
    assert (variants == bar_image).all()


def test_horizontal_flip_and_rotation_change_images_reproducibly(bar_image):
    settings = AugmentationSettings(flip="horizontal", rotation=0.2, zoom=0.1, translation=0.1)
    first = augment_variants(bar_image, settings, count=6, seed=7)
    again = augment_variants(bar_image, settings, count=6, seed=7)
    np.testing.assert_array_equal(first, again)
    differing = [not np.array_equal(variant, bar_image) for variant in first]
    assert sum(differing) >= 5
    assert len({variant.tobytes() for variant in first}) >= 5  # each variant gets its own transform


def test_vertical_flip_only_mirrors_rows():
    image = np.zeros((4, 4, 1), dtype=np.uint8)
    image[0] = 200
    flipped = augment_variants(image, AugmentationSettings(flip="vertical"), count=16, seed=0)
    assert all(np.array_equal(v, image) or np.array_equal(v, image[::-1]) for v in flipped)
    assert any(np.array_equal(v, image[::-1]) for v in flipped)


def test_settings_are_validated_and_shown_as_code():
    with pytest.raises(ValueError, match="rotation"):
        AugmentationSettings(rotation=0.7)
    code = AugmentationSettings(flip="horizontal", zoom=0.2).layer_code()
    assert code == ['keras.layers.RandomFlip("horizontal")', 'keras.layers.RandomZoom(0.2, fill_mode="constant")']
