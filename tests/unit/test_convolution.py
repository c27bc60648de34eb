"""core.conv.convolution against Keras' own layers, and against the lessons' worked examples."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from core.conv.convolution import (
    activate,
    conv_step,
    convolve2d,
    output_size,
    output_size_formula,
    padding_amounts,
    pool2d,
    pool_step,
)
from core.model.architectures import shape_chain
from core.model.layers import Conv, Pool, SpecError

STRIDES = (1, 2, 3)
PADDINGS = ("valid", "same")
IMAGE_SIZES = ((7, 7), (8, 10), (9, 6))  # odd, even and mixed height/width
CHANNELS = (1, 3)


@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


def _keras_conv(keras, image: np.ndarray, kernel: np.ndarray, stride: int, padding: str, bias: float) -> np.ndarray:
    layer = keras.layers.Conv2D(1, kernel.shape[:2], strides=stride, padding=padding)
    layer.build((1, *image.shape))
    layer.set_weights([kernel[..., None].astype(np.float32), np.array([bias], np.float32)])
    return np.asarray(layer(image[None].astype(np.float32)))[0, :, :, 0]


@pytest.mark.parametrize("channels", CHANNELS)
def test_convolve2d_matches_keras_conv2d(keras, channels):
    rng = np.random.default_rng(channels)
    checked = 0
    for (height, width), kernel_side, stride, padding in itertools.product(IMAGE_SIZES, (2, 3, 4, 5), STRIDES,
                                                                            PADDINGS):
        image = rng.normal(size=(height, width, channels))
        kernel = rng.normal(size=(kernel_side, kernel_side, channels))
        bias = float(rng.normal())
        expected = _keras_conv(keras, image, kernel, stride, padding, bias)
        actual = convolve2d(image, kernel, stride, padding, bias)
        case = f"{height}×{width}×{channels}, kernel {kernel_side}, stride {stride}, {padding}"
        assert actual.shape == expected.shape, case
        np.testing.assert_allclose(actual, expected, atol=1e-5, err_msg=case)
        assert actual.shape == (output_size(height, kernel_side, stride, padding),
                                output_size(width, kernel_side, stride, padding)), case
        checked += 1
    assert checked == len(IMAGE_SIZES) * 4 * len(STRIDES) * len(PADDINGS)


def test_a_2d_kernel_on_rgb_is_a_filter_with_equal_channel_slices(keras):
    rng = np.random.default_rng(7)
    image = rng.normal(size=(9, 8, 3))
    kernel = rng.normal(size=(3, 3))
    expected = _keras_conv(keras, image, np.repeat(kernel[..., None], 3, axis=2), 2, "same", 0.0)
    np.testing.assert_allclose(convolve2d(image, kernel, 2, "same"), expected, atol=1e-5)


@pytest.mark.parametrize("mode", ["max", "average"])
@pytest.mark.parametrize("channels", CHANNELS)
def test_pool2d_matches_keras_pooling(keras, mode, channels):
    layer_class = keras.layers.MaxPooling2D if mode == "max" else keras.layers.AveragePooling2D
    rng = np.random.default_rng(11 + channels)
    for (height, width), pool_size, stride, padding in itertools.product(IMAGE_SIZES, (2, 3), STRIDES, PADDINGS):
        x = rng.normal(size=(height, width, channels))
        layer = layer_class(pool_size=pool_size, strides=stride, padding=padding)
        expected = np.asarray(layer(x[None].astype(np.float32)))[0]
        case = f"{mode} {height}×{width}×{channels}, pool {pool_size}, stride {stride}, {padding}"
        actual = pool2d(x, pool_size, stride, mode, padding)
        assert actual.shape == expected.shape, case
        np.testing.assert_allclose(actual, expected, atol=1e-5, err_msg=case)
        np.testing.assert_allclose(pool2d(x[:, :, 0], pool_size, stride, mode, padding), expected[:, :, 0],
                                   atol=1e-5, err_msg=case)


def test_the_lessons_max_pool_example():
    x = np.array([[5, 10, 15, 10], [15, 20, 10, 12], [13, 16, 9, 8], [15, 19, 25, 20]])
    np.testing.assert_array_equal(pool2d(x, 2), [[20, 15], [19, 25]])
    np.testing.assert_array_equal(pool2d(x, 2, mode="average"), [[12.5, 11.75], [15.75, 15.5]])


def test_the_lessons_shape_chain_and_flatten_size():
    steps = shape_chain((28, 28, 1), [Conv(filters=32), Pool(), Conv(filters=64), Pool()])
    assert [step.shape[0] for step in steps] == [28, 26, 13, 11, 5]
    assert steps[-1].shape == (5, 5, 64)
    assert steps[-1].values == 1600
    assert steps[1].layer == "Conv2D 32@3×3 valid relu" and steps[2].layer == "MaxPooling2D 2×2"


def test_a_chain_that_no_longer_fits_names_the_layer():
    with pytest.raises(SpecError, match=r"Conv2D 64@5×5 valid relu after 3×3"):
        shape_chain((8, 8, 1), [Conv(filters=32), Pool(), Conv(filters=64, kernel=5)])


def test_the_lessons_vertical_line_with_the_sharpen_kernel():
    image = np.zeros((5, 5))
    image[:, 2] = 1  # a one-pixel vertical line down the middle
    sharpen = np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]])
    # Worked by hand: on the line, 5·1 − 1 (above) − 1 (below) = 3; beside it, −1 for the line next door.
    np.testing.assert_array_equal(convolve2d(image, sharpen), [[-1, 3, -1]] * 3)
    np.testing.assert_array_equal(convolve2d(image, sharpen, padding="same")[0], [0, -1, 4, -1, 0])


def test_the_kernel_is_not_flipped():
    image = np.arange(9.0).reshape(3, 3)
    kernel = np.zeros((3, 3))
    kernel[0, 0] = 1  # cross-correlation picks the top-left pixel; a flipped convolution would pick the bottom-right
    assert convolve2d(image, kernel)[0, 0] == 0.0


def test_padding_and_output_size_follow_tensorflow():
    assert padding_amounts(28, 3, 1, "same") == (1, 1)
    assert padding_amounts(28, 4, 1, "same") == (1, 2)  # the odd pixel goes after
    assert padding_amounts(7, 3, 2, "same") == (1, 1)
    assert padding_amounts(8, 3, 2, "same") == (0, 1)
    assert output_size(28, 3, 1, "valid") == 26
    assert output_size(28, 3, 2, "same") == 14
    assert output_size(5, 5, 1, "valid") == 1
    with pytest.raises(ValueError, match="does not fit"):
        output_size(4, 5, 1, "valid")


def test_formula_text_has_the_numbers_filled_in():
    assert output_size_formula(28, 3, 1, "valid") == "(28 + 2×0 − 3) / 1 + 1 = 25 + 1 = 26"
    assert output_size_formula(28, 3, 1, "same") == "(28 + 2×1 − 3) / 1 + 1 = 27 + 1 = 28"
    assert output_size_formula(28, 4, 1, "same") == "(28 + 1 + 2 − 4) / 1 + 1 = 27 + 1 = 28"
    assert output_size_formula(28, 3, 2, "valid") == "⌊(28 + 2×0 − 3) / 2⌋ + 1 = ⌊12.5⌋ + 1 = 13"
    assert output_size_formula(26, 2, 2, "valid") == "(26 + 2×0 − 2) / 2 + 1 = 12 + 1 = 13"


@pytest.mark.parametrize("padding", PADDINGS)
@pytest.mark.parametrize("stride", STRIDES)
def test_conv_step_agrees_with_the_feature_map(padding, stride):
    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, (9, 8, 3))
    kernel = rng.normal(size=(3, 3, 3))
    feature_map = convolve2d(image, kernel, stride, padding, bias=0.5)
    for row, col in itertools.product(range(feature_map.shape[0]), range(feature_map.shape[1])):
        step = conv_step(image, kernel, stride, padding, row, col, bias=0.5)
        assert step.total == pytest.approx(feature_map[row, col])
        np.testing.assert_allclose(step.products, step.values * step.kernel)
        assert not step.values[step.window.in_padding].any()  # padding cells hold zeros


def test_conv_step_window_reaches_into_the_padding():
    step = conv_step(np.ones((4, 4)), np.ones((3, 3)), 1, "same", 0, 0)
    assert step.window.rows == (-1, 2) and step.window.cols == (-1, 2)
    assert step.window.in_padding.sum() == 5  # the top row and the left column
    assert step.total == 4.0


@pytest.mark.parametrize("mode", ["max", "average"])
@pytest.mark.parametrize("padding", PADDINGS)
def test_pool_step_agrees_with_the_pooled_map(mode, padding):
    x = np.random.default_rng(5).normal(size=(7, 9))
    pooled = pool2d(x, 3, 2, mode, padding)
    for row, col in itertools.product(range(pooled.shape[0]), range(pooled.shape[1])):
        step = pool_step(x, 3, 2, mode, padding, row, col)
        assert step.result == pytest.approx(pooled[row, col])
        if mode == "max":
            assert step.values[step.chosen] == step.result


def test_relu_zeroes_negatives_only():
    np.testing.assert_array_equal(activate(np.array([-2.0, 0.0, 3.0]), "relu"), [0, 0, 3])
    np.testing.assert_array_equal(activate(np.array([-2.0, 3.0]), "none"), [-2, 3])


@pytest.mark.parametrize("call, message", [
    (lambda: convolve2d(np.ones((3, 3)), np.ones((5, 5))), "does not fit"),
    (lambda: convolve2d(np.ones((3, 3)), np.ones((3, 3)), stride=0), "stride"),
    (lambda: convolve2d(np.ones((3, 3)), np.ones((3, 3)), padding="full"), "padding"),
    (lambda: convolve2d(np.full((3, 3), np.nan), np.ones((3, 3))), "NaN"),
    (lambda: convolve2d(np.ones((3, 3, 3)), np.ones((3, 3, 2))), "channels"),
    (lambda: convolve2d(np.ones((3, 3)), np.ones((3, 3)), bias=float("inf")), "bias"),
    (lambda: pool2d(np.ones((3, 3)), 2, mode="median"), "mode"),
    (lambda: conv_step(np.ones((5, 5)), np.ones((3, 3)), 1, "valid", 3, 0), "outside"),
])
def test_bad_arguments_raise_value_errors_with_reasons(call, message):
    with pytest.raises(ValueError, match=message):
        call()
