"""2-D convolution and pooling in NumPy, with the same shapes and values as Keras' layers.

`convolve2d` is one filter of a Keras `Conv2D` layer: a cross-correlation (the kernel is not
flipped, unlike the convolution of signal processing) whose products are summed over the
window and over every input channel, plus an optional bias. `pool2d` is `MaxPooling2D` or
`AveragePooling2D` applied to each channel separately. Padding follows TensorFlow's rule:
"valid" adds nothing, "same" adds just enough zeros for ceil(n / stride) outputs, with any odd
pixel of padding at the end (bottom or right).

Everything is vectorised with `sliding_window_view`: the only Python loops run over kernel
positions or channels, never over pixels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

Padding = Literal["valid", "same"]
PoolMode = Literal["max", "average"]
Activation = Literal["none", "relu"]
PADDINGS: tuple[Padding, ...] = ("valid", "same")
POOL_MODES: tuple[PoolMode, ...] = ("max", "average")
ACTIVATIONS: tuple[Activation, ...] = ("none", "relu")


def _check_positive(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a whole number of at least 1, got {value!r}.")


def _check_padding(padding: str) -> None:
    if padding not in PADDINGS:
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}.")


def padding_amounts(size: int, kernel: int, stride: int, padding: Padding) -> tuple[int, int]:
    """Returns the zeros added before and after one axis, as TensorFlow adds them.

    Args:
        size: The input's length along the axis (height or width).
        kernel: The kernel's (or pooling window's) length along the axis.
        stride: The step between windows.
        padding: "valid" (no padding) or "same" (pad so there are ceil(size / stride) outputs).
    """
    _check_padding(padding)
    for name, value in (("size", size), ("kernel", kernel), ("stride", stride)):
        _check_positive(name, value)
    if padding == "valid":
        return 0, 0
    total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def output_size(size: int, kernel: int, stride: int, padding: Padding) -> int:
    """Returns the output length along one axis: floor((n + p_total - k) / s) + 1.

    Raises:
        ValueError: If "valid" padding leaves no room for a single window (kernel > size).
    """
    before, after = padding_amounts(size, kernel, stride, padding)
    if size + before + after < kernel:
        raise ValueError(
            f"A {kernel}-wide window does not fit in {size} pixel{'' if size == 1 else 's'} with 'valid' padding; "
            "use a smaller kernel or 'same' padding."
        )
    return (size + before + after - kernel) // stride + 1


def output_size_formula(size: int, kernel: int, stride: int, padding: Padding) -> str:
    """The output-size formula with the numbers filled in, e.g. "(28 + 2×0 − 3) / 1 + 1 = 26".

    Symmetric padding is written as 2p, like the textbook formula (n + 2p − k) / s + 1; the
    uneven padding of "same" with an even kernel is written as its two parts. A division that
    is not exact is shown rounded down, since a window that does not fit is dropped.
    """
    before, after = padding_amounts(size, kernel, stride, padding)
    result = output_size(size, kernel, stride, padding)
    pad_text = f"2×{before}" if before == after else f"{before} + {after}"
    numerator = size + before + after - kernel
    division = f"({size} + {pad_text} − {kernel}) / {stride}"
    if stride == 1:
        return f"{division} + 1 = {numerator} + 1 = {result}"
    if numerator % stride:
        return f"⌊{division}⌋ + 1 = ⌊{numerator / stride:.4g}⌋ + 1 = {result}"
    return f"{division} + 1 = {numerator // stride} + 1 = {result}"


def _as_hwc(image: np.ndarray, name: str = "image") -> np.ndarray:
    """(H, W) or (H, W, C) numbers → (H, W, C) float64, refusing NaN and infinity."""
    array = np.asarray(image)
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3 or 0 in array.shape:
        raise ValueError(f"{name} must have shape (H, W) or (H, W, C) with no empty axis, got {array.shape}.")
    if not np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.complexfloating):
        raise ValueError(f"{name} must hold real numbers, got dtype {array.dtype}.")
    array = array.astype(np.float64, copy=False)
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or infinity.")
    return array


def _as_filter(kernel: np.ndarray, channels: int) -> np.ndarray:
    """(kh, kw) or (kh, kw, C) → (kh, kw, C) float64.

    A 2-D kernel on a C-channel input is used as a filter with the same weights in every channel.
    """
    weights = _as_hwc(kernel, "kernel")
    if weights.shape[2] == 1 and channels > 1:
        weights = np.repeat(weights, channels, axis=2)
    if weights.shape[2] != channels:
        raise ValueError(f"The kernel has {weights.shape[2]} channels but the image has {channels}.")
    return weights


def pad(image: np.ndarray, window: tuple[int, int], stride: int, padding: Padding,
        value: float = 0.0) -> np.ndarray:
    """Pads an (H, W, C) array for windows of the given size, as `padding` asks."""
    top, bottom = padding_amounts(image.shape[0], window[0], stride, padding)
    left, right = padding_amounts(image.shape[1], window[1], stride, padding)
    return np.pad(image, ((top, bottom), (left, right), (0, 0)), constant_values=value)


def _windows(padded: np.ndarray, window: tuple[int, int], stride: int) -> np.ndarray:
    """Every window of a padded (H, W, C) array, as a view: (OH, OW, C, kh, kw)."""
    if padded.shape[0] < window[0] or padded.shape[1] < window[1]:
        raise ValueError(
            f"A {window[0]}×{window[1]} window does not fit in a {padded.shape[0]}×{padded.shape[1]} input; "
            "use a smaller kernel or 'same' padding."
        )
    return sliding_window_view(padded, window, axis=(0, 1))[::stride, ::stride]


def convolve2d(image: np.ndarray, kernel: np.ndarray, stride: int = 1, padding: Padding = "valid",
               bias: float = 0.0) -> np.ndarray:
    """One filter of a Keras `Conv2D` layer: slide the kernel, multiply, sum over window and channels.

    Args:
        image: (H, W) or (H, W, C) real numbers.
        kernel: (kh, kw) or (kh, kw, C) weights. A 2-D kernel on a C-channel image applies the same
            weights to every channel and sums the results, like a filter whose C slices are equal.
        stride: The step between windows, the same along both axes.
        padding: "valid" or "same" (zeros, TensorFlow's placement).
        bias: Added to every output value.

    Returns:
        (OH, OW) float64 feature map.
    """
    _check_positive("stride", stride)
    x = _as_hwc(image)  # (H, W, C)
    weights = _as_filter(kernel, x.shape[2])  # (kh, kw, C)
    if not math.isfinite(bias):
        raise ValueError(f"bias must be a finite number, got {bias!r}.")
    windows = _windows(pad(x, weights.shape[:2], stride, padding), weights.shape[:2], stride)  # (OH, OW, C, kh, kw)
    # Accumulate one kernel position at a time (at most 49 steps, each over every pixel at once).
    # Reducing the whole (OH, OW, C, kh, kw) view in one call would first copy it: kh·kw times the
    # image, 100 MB for a 7×7 kernel on a 512×512 photo, and slower as well (bench/convolution.py).
    out = np.full(windows.shape[:2], float(bias))  # (OH, OW)
    scratch = np.empty_like(out)
    for i in range(weights.shape[0]):
        for j in range(weights.shape[1]):
            if x.shape[2] == 1:
                np.multiply(windows[:, :, 0, i, j], weights[i, j, 0], out=scratch)
            else:
                np.matmul(windows[:, :, :, i, j], weights[i, j], out=scratch)  # sum over channels
            out += scratch
    return out


def pool2d(x: np.ndarray, pool_size: int = 2, stride: int | None = None, mode: PoolMode = "max",
           padding: Padding = "valid") -> np.ndarray:
    """Keras `MaxPooling2D` / `AveragePooling2D`: each channel's windows reduced to one value.

    With "same" padding, padded cells never win a max and are left out of an average (TensorFlow
    divides by the number of real cells in the window, not by the window's size).

    Args:
        x: (H, W) or (H, W, C) values, e.g. a feature map.
        pool_size: The window's side.
        stride: The step between windows; Keras' default is the pool size (windows do not overlap).
        mode: "max" or "average".
        padding: "valid" or "same".

    Returns:
        The pooled values, (OH, OW) for a 2-D input and (OH, OW, C) for a 3-D one.
    """
    if mode not in POOL_MODES:
        raise ValueError(f"mode must be 'max' or 'average', got {mode!r}.")
    stride = pool_size if stride is None else stride
    _check_positive("pool_size", pool_size)
    _check_positive("stride", stride)
    values = _as_hwc(x, "x")  # (H, W, C)
    window = (pool_size, pool_size)
    if mode == "max":
        pooled = _windows(pad(values, window, stride, padding, -np.inf), window, stride).max(axis=(-2, -1))
    else:
        sums = _windows(pad(values, window, stride, padding), window, stride).sum(axis=(-2, -1))
        real = pad(np.ones_like(values[:, :, :1]), window, stride, padding)
        pooled = sums / _windows(real, window, stride).sum(axis=(-2, -1))
    return pooled[:, :, 0] if np.ndim(x) == 2 else pooled  # (OH, OW[, C])


def activate(x: np.ndarray, activation: Activation) -> np.ndarray:
    """Applies "none" (identity) or "relu" (negative values become 0)."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be 'none' or 'relu', got {activation!r}.")
    return np.maximum(x, 0.0) if activation == "relu" else x


@dataclass(frozen=True)
class Window:
    """Where an output value's window sits in the (unpadded) input.

    Args:
        rows: The input rows it covers, [start, stop); may reach outside 0..H into the padding.
        cols: The input columns it covers, [start, stop).
        in_padding: (kh, kw) True where the window lies in the padding rather than the input.
    """

    rows: tuple[int, int]
    cols: tuple[int, int]
    in_padding: np.ndarray


def window_at(shape: tuple[int, int], window: tuple[int, int], stride: int, padding: Padding,
              row: int, col: int) -> Window:
    """Locates the window behind output position (row, col) for an input of the given (H, W)."""
    out_rows = output_size(shape[0], window[0], stride, padding)
    out_cols = output_size(shape[1], window[1], stride, padding)
    if not (0 <= row < out_rows and 0 <= col < out_cols):
        raise ValueError(f"Output position ({row}, {col}) is outside the {out_rows}×{out_cols} output.")
    top = row * stride - padding_amounts(shape[0], window[0], stride, padding)[0]
    left = col * stride - padding_amounts(shape[1], window[1], stride, padding)[0]
    rows = np.arange(top, top + window[0])[:, None]
    cols = np.arange(left, left + window[1])[None, :]
    outside = (rows < 0) | (rows >= shape[0]) | (cols < 0) | (cols >= shape[1])
    return Window((top, top + window[0]), (left, left + window[1]), outside)


def _window_values(x: np.ndarray, where: Window, fill: float) -> np.ndarray:
    """The (kh, kw, C) values under a window, with `fill` in its padding cells."""
    rows = np.clip(np.arange(*where.rows), 0, x.shape[0] - 1)
    cols = np.clip(np.arange(*where.cols), 0, x.shape[1] - 1)
    values = x[np.ix_(rows, cols)].copy()  # (kh, kw, C)
    values[where.in_padding] = fill
    return values


@dataclass(frozen=True)
class ConvStep:
    """One output value of `convolve2d`, taken apart.

    Args:
        window: Where the kernel sits in the input.
        values: (kh, kw, C) the input values under the kernel (0 in padding cells).
        kernel: (kh, kw, C) the weights.
        products: (kh, kw, C) values × weights.
        bias: The bias added.
        total: The sum of all products plus the bias: the feature map's value before any activation.
    """

    window: Window
    values: np.ndarray
    kernel: np.ndarray
    products: np.ndarray
    bias: float
    total: float


def conv_step(image: np.ndarray, kernel: np.ndarray, stride: int, padding: Padding, row: int, col: int,
              bias: float = 0.0) -> ConvStep:
    """Takes apart the feature-map value at (row, col) of `convolve2d(image, kernel, stride, padding, bias)`."""
    x = _as_hwc(image)
    weights = _as_filter(kernel, x.shape[2])
    where = window_at(x.shape[:2], weights.shape[:2], stride, padding, row, col)
    values = _window_values(x, where, 0.0)
    products = values * weights
    return ConvStep(where, values, weights, products, float(bias), float(products.sum() + bias))


@dataclass(frozen=True)
class PoolStep:
    """One output value of `pool2d` for one channel, taken apart.

    Args:
        window: Where the pooling window sits in its input.
        values: (p, p) the values in the window (NaN in padding cells, which take no part).
        mode: "max" or "average".
        result: The window's max, or the mean of its real cells.
        chosen: For "max", the (row, col) within the window of the (first) largest value; else None.
    """

    window: Window
    values: np.ndarray
    mode: PoolMode
    result: float
    chosen: tuple[int, int] | None


def pool_step(x: np.ndarray, pool_size: int, stride: int | None, mode: PoolMode, padding: Padding,
              row: int, col: int, channel: int = 0) -> PoolStep:
    """Takes apart the pooled value at (row, col) of one channel of `pool2d(x, ...)`."""
    if mode not in POOL_MODES:
        raise ValueError(f"mode must be 'max' or 'average', got {mode!r}.")
    stride = pool_size if stride is None else stride
    values = _as_hwc(x, "x")[:, :, channel : channel + 1]
    where = window_at(values.shape[:2], (pool_size, pool_size), stride, padding, row, col)
    cells = _window_values(values, where, np.nan)[:, :, 0]  # (p, p)
    if mode == "max":
        flat = int(np.nanargmax(cells))
        chosen = divmod(flat, pool_size)
        return PoolStep(where, cells, mode, float(cells.flat[flat]), (int(chosen[0]), int(chosen[1])))
    return PoolStep(where, cells, mode, float(np.nanmean(cells)), None)
