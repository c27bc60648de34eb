"""The Convolution Playground's controls and views: layer settings, step-by-step arithmetic, filter bank, chain."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st

from core.conv.convolution import (
    ConvStep,
    activate,
    convolve2d,
    output_size,
    output_size_formula,
    pool2d,
    pool_step,
)
from core.conv.kernels import PRESETS, format_weight
from core.conv.links import POOL_CHOICES, POOL_SIZE_RANGE, STRIDE_RANGE
from core.model.architectures import shape_chain
from core.model.layers import Conv, Pool
from ui.playground import figures as conv_figures
from ui.playground import state as pg

MAX_TERMS_WRITTEN = 27  # a 3×3×3 filter; bigger sums are written in part
CHANNEL_NAMES = ("R", "G", "B")


@dataclass(frozen=True)
class LayerSettings:
    """The convolution and pooling settings chosen on the page."""

    stride: int
    padding: str
    relu: bool
    pool: str
    pool_size: int
    pool_stride: int
    bias: float

    @property
    def activation(self) -> str:
        return "relu" if self.relu else "none"


def layer_controls() -> LayerSettings:
    """Shows stride, padding, ReLU and pooling controls."""
    stride = st.slider("Stride", *STRIDE_RANGE, key=pg.STRIDE, help="How far the kernel moves between outputs.")
    padding = st.segmented_control("Padding", ["valid", "same"], key=pg.PADDING) or "valid"
    relu = st.toggle("ReLU after the convolution", key=pg.RELU, help="Negative values become 0.")
    pool = st.segmented_control("Pooling", list(POOL_CHOICES), key=pg.POOL) or "none"
    size_column, stride_column = st.columns(2)
    pool_size = size_column.slider("Pool size", *POOL_SIZE_RANGE, key=pg.POOL_SIZE, disabled=pool == "none")
    pool_stride = stride_column.slider("Pool stride", *STRIDE_RANGE, key=pg.POOL_STRIDE, disabled=pool == "none")
    return LayerSettings(stride, padding, relu, pool, pool_size, pool_stride, float(st.session_state[pg.BIAS]))


def _formulas(name: str, shape: tuple[int, int], window: int, stride: int,
              padding: str) -> tuple[list[str], tuple[int, int]]:
    """One formula line per axis (one line when both axes agree), and the output shape."""
    out = (output_size(shape[0], window, stride, padding), output_size(shape[1], window, stride, padding))
    if shape[0] == shape[1]:
        return [f"{name} height and width: {output_size_formula(shape[0], window, stride, padding)}"], out
    return [f"{name} {axis}: {output_size_formula(size, window, stride, padding)}"
            for axis, size in zip(("height", "width"), shape, strict=True)], out


def shape_formulas(height: int, width: int, kernel: int, layer: LayerSettings) -> list[str]:
    """The output-size formulas with the current numbers, conv first, then pooling.

    Raises:
        ValueError: If a window does not fit (the message says what to change).
    """
    lines, feature_shape = _formulas("Feature-map", (height, width), kernel, layer.stride, layer.padding)
    if layer.pool != "none":
        try:
            lines += _formulas("Pooled", feature_shape, layer.pool_size, layer.pool_stride, "valid")[0]
        except ValueError:
            raise ValueError(f"the {layer.pool_size}×{layer.pool_size} pooling window does not fit in the "
                             f"{feature_shape[0]}×{feature_shape[1]} feature map. Set pooling to none, use a "
                             "smaller pool, or a bigger input.") from None
    return lines


def clamp_position(key: str, size: int, first: int = 0) -> int:
    """Keeps a position in session state inside 0..size-1 (sizes change as settings change).

    Args:
        key: The position's session-state key.
        size: The number of positions.
        first: The position to start at when there is none yet.
    """
    value = min(max(int(st.session_state.get(key, first)), 0), size - 1)
    st.session_state[key] = value
    return value


def position_picker(label: str, size: int, key: str, container) -> int:
    """A slider over 0..size-1, or a note when there is only one position."""
    if size == 1:
        container.caption(f"{label}: 0 (the only one)")
        return 0
    return container.slider(label, 0, size - 1, key=key)


def _term(value: float) -> str:
    """A number inside a written sum, with negatives in brackets: 51×(-1), not 51×-1."""
    text = format_weight(value)
    return f"({text})" if text.startswith("-") else text


def _expression(values: np.ndarray, weights: np.ndarray, padding: np.ndarray | None) -> str:
    terms = [f"{_term(v)}×{_term(w)}" for v, w in zip(values.ravel(), weights.ravel(), strict=True)]
    if padding is not None:
        terms = [f"{term}ᵖ" if pad else term for term, pad in zip(terms, padding.ravel(), strict=True)]
    if len(terms) > MAX_TERMS_WRITTEN:
        shown = len(terms) - MAX_TERMS_WRITTEN
        terms = [*terms[:MAX_TERMS_WRITTEN], f"… ({shown} more products)"]
    return " + ".join(terms)


def conv_step_view(step: ConvStep, layer: LayerSettings) -> None:
    """Shows how one feature-map value is made: window, kernel, products and their sum."""
    channels = step.values.shape[2]
    channel = 0
    if channels > 1:
        channel = st.radio("Channel shown", range(channels), horizontal=True, key=pg.STEP_CHANNEL,
                           format_func=lambda c: CHANNEL_NAMES[c])
    padding_cells = int(step.window.in_padding.sum())
    rows, cols = step.window.rows, step.window.cols
    st.markdown(
        f"The kernel covers input rows {rows[0]}–{rows[1] - 1} and columns {cols[0]}–{cols[1] - 1}"
        + (f"; {padding_cells} of its cells lie in the padding and count as 0 (marked ᵖ)." if padding_cells else ".")
    )
    panels = [("input window", step.values[:, :, channel], step.window.in_padding),
              ("× kernel", step.kernel[:, :, channel], None),
              ("= products", step.products[:, :, channel], step.window.in_padding)]
    st.plotly_chart(conv_figures.step_figure(panels, signed=[False, True, True]), key=pg.STEP_FIGURE)
    sums = step.products.sum(axis=(0, 1))
    expression = _expression(step.values[:, :, channel], step.kernel[:, :, channel], step.window.in_padding)
    prefix = f"{CHANNEL_NAMES[channel]}: " if channels > 1 else ""
    lines = [f"{prefix}{expression} = **{format_weight(sums[channel])}**"]
    if channels > 1:
        parts = " + ".join(f"{format_weight(s)} ({CHANNEL_NAMES[c]})" for c, s in enumerate(sums))
        lines.append(f"Sum over the channels: {parts} = **{format_weight(sums.sum())}**")
    if step.bias:
        lines.append(f"Plus the bias {format_weight(step.bias)}: **{format_weight(step.total)}**")
    if layer.relu:
        lines.append(f"ReLU: max(0, {format_weight(step.total)}) = **{format_weight(max(step.total, 0.0))}**")
    for line in lines:
        st.markdown(line)


def pool_step_view(feature_map: np.ndarray, layer: LayerSettings, row: int, col: int) -> None:
    """Shows how pooled value (row, col) is chosen from its window of the feature map."""
    step = pool_step(feature_map, layer.pool_size, layer.pool_stride, layer.pool, "valid", row, col)
    rows, cols = step.window.rows, step.window.cols
    st.markdown(f"The {layer.pool_size}×{layer.pool_size} window covers feature-map rows {rows[0]}–{rows[1] - 1} "
                f"and columns {cols[0]}–{cols[1] - 1}.")
    st.plotly_chart(conv_figures.step_figure([("feature-map window", step.values, None)], signed=[True]),
                    key=pg.POOL_STEP_FIGURE)
    values = ", ".join(format_weight(v) for v in step.values.ravel())
    if step.mode == "max":
        st.markdown(f"max({values}) = **{format_weight(step.result)}**, at window row {step.chosen[0]}, "
                    f"column {step.chosen[1]}. The other {step.values.size - 1} values are dropped.")
    else:
        st.markdown(f"({values.replace(', ', ' + ')}) / {step.values.size} = **{format_weight(step.result)}**")


def filter_bank_view(image: np.ndarray, kernel: np.ndarray, layer: LayerSettings) -> None:
    """Your kernel and some presets applied together, as the filters of one Conv2D layer."""
    names = st.multiselect("Presets to add as filters", list(PRESETS), key=pg.BANK, max_selections=7)
    kernels = [("your kernel", kernel)] + [(name, PRESETS[name].array()) for name in names]
    maps = [activate(convolve2d(image, weights, layer.stride, layer.padding, layer.bias), layer.activation)
            for _, weights in kernels]
    height, width = maps[0].shape
    st.markdown(f"A Conv2D layer with these **{len(maps)} filters** turns the {image.shape[0]}×{image.shape[1]}"
                f"×{image.shape[2]} input into a **{height}×{width}×{len(maps)}** output: one feature map per "
                "filter, stacked as channels. The next layer sees all of them at once.")
    st.plotly_chart(conv_figures.maps_row(maps, [name for name, _ in kernels], [True] * len(maps)),
                    key=pg.BANK_FIGURE)


def chain_view(image: np.ndarray, kernel: np.ndarray, layer: LayerSettings) -> None:
    """conv → ReLU → pool → conv → pool on this image, and the same chain's shapes in a real network."""
    second = st.selectbox("Second kernel", list(PRESETS), key=pg.CHAIN_KERNEL)
    pool_size, pool_stride = (layer.pool_size, layer.pool_stride) if layer.pool != "none" else (2, 2)
    mode = layer.pool if layer.pool != "none" else "max"
    try:
        first = activate(convolve2d(image, kernel, layer.stride, layer.padding, layer.bias), "relu")
        pooled = pool2d(first, pool_size, pool_stride, mode)
        again = activate(convolve2d(pooled, PRESETS[second].array(), layer.stride, layer.padding), "relu")
        final = pool2d(again, pool_size, pool_stride, mode)
    except ValueError as error:
        st.warning(f"The chain stops early: {error}", icon=":material/warning:")
        return
    maps = [image.mean(axis=2), first, pooled, again, final]
    titles = [f"{name}<br>{m.shape[0]}×{m.shape[1]}" for name, m in
              zip(["input", "conv + ReLU", f"{mode} pool", f"{second} + ReLU", f"{mode} pool"], maps, strict=True)]
    st.plotly_chart(conv_figures.maps_row(maps, titles, [False, True, True, True, True], height=260),
                    key=pg.CHAIN_FIGURE)
    pool = Pool(mode=mode, size=pool_size, stride=pool_stride)
    layers = [Conv(filters=32, kernel=kernel.shape[0], stride=layer.stride, padding=layer.padding), pool,
              Conv(filters=64, kernel=3, stride=layer.stride, padding=layer.padding), pool]
    try:
        steps = shape_chain((image.shape[0], image.shape[1], image.shape[2]), layers)
    except ValueError as error:
        st.caption(f"In a real network this chain would not fit: {error}")
        return
    st.markdown("In a real network each conv layer has many filters. With 32 and then 64 filters, "
                "the shapes are:")
    table = pd.DataFrame({"layer": [s.layer for s in steps], "output (H × W × C)": [
        " × ".join(map(str, s.shape)) for s in steps], "numbers": [s.values for s in steps]})
    st.dataframe(table, hide_index=True, width="content")
    st.markdown(f"Flatten turns the last {' × '.join(map(str, steps[-1].shape))} block into one vector of "
                f"**{steps[-1].values:,}** numbers for the Dense layers.")


def explanations(image_shape: tuple[int, ...], kernel_side: int, layer: LayerSettings,
                 feature_shape: tuple[int, int], pooled_shape: tuple[int, int] | None) -> str:
    """Short explanations of kernel, output size, padding, stride and pooling, using the numbers on screen."""
    height, width, channels = image_shape
    count = kernel_side * kernel_side * channels
    text = [
        f"**A kernel** is a small grid of weights, here {kernel_side}×{kernel_side}. Laid over the image, each weight "
        f"multiplies the pixel under it and the {count} products are added into one number. Sliding the kernel "
        f"over every position gives the **feature map**: large where the image looks like the kernel, negative "
        "where it looks like its opposite (blue). Keras' `Conv2D` works this way and does not flip the kernel, "
        "so strictly it is a cross-correlation. A CNN learns its kernels from data rather than having them typed in.",
    ]
    if channels > 1:
        text.append("On a colour image a filter has one slice of weights per channel and adds all three channels' "
                    "products together, so one filter gives one feature map however many channels come in.")
    if layer.padding == "valid":
        text.append(f"**Why it shrinks:** with *valid* padding the kernel must lie wholly inside the image, so "
                    f"along a row of {width} pixels it fits in {width} − {kernel_side} + 1 = "
                    f"{width - kernel_side + 1} places (then the stride thins them out). Edges are seen less often.")
    else:
        text.append(f"**Padding:** *same* adds a border of zeros so the kernel can also sit over the edge pixels; "
                    f"with stride {layer.stride} the output is ⌈{height}/{layer.stride}⌉ × ⌈{width}/{layer.stride}⌉ "
                    f"= {feature_shape[0]}×{feature_shape[1]}. The zeros pull edge values towards 0.")
    if layer.stride == 1:
        text.append("**Stride** 1: the kernel moves one pixel at a time and every position gives an output. "
                    "Try stride 2 to skip every other position and halve each axis.")
    else:
        text.append(f"**Stride** {layer.stride}: the kernel moves {layer.stride} pixels at a time, so each axis "
                    f"has about 1/{layer.stride} as many outputs: {height}×{width} → "
                    f"{feature_shape[0]}×{feature_shape[1]}.")
    if pooled_shape is not None:
        verb = "keeps the largest value" if layer.pool == "max" else "keeps the mean"
        text.append(
            f"**{layer.pool.title()} pooling** {verb} of each {layer.pool_size}×{layer.pool_size} window, moving "
            f"{layer.pool_stride} at a time: {feature_shape[0]}×{feature_shape[1]} → "
            f"{pooled_shape[0]}×{pooled_shape[1]}. It has no weights. Max pooling says whether a feature is "
            "somewhere in the window, not exactly where; average pooling is smoother but dilutes a strong, "
            "small response. Either way later layers see a smaller map, which is cheaper and looks at a wider "
            "area of the image per value.")
    return "\n\n".join(text)
