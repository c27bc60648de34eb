"""Plotly figures of the Dataset Explorer: class balance, RGB images, image rows, histograms.

Pure plotly and NumPy (no Streamlit), so tests can build them directly.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ui import palette
from ui.text import plot_text


def class_balance(class_names: Sequence[str], train_counts: np.ndarray, test_counts: np.ndarray) -> go.Figure:
    """Grouped bars of images per class in the train and test splits."""
    names = [plot_text(name) for name in class_names]  # plotly reads tags in labels: show them as typed
    figure = go.Figure([
        go.Bar(name="train", x=names, y=train_counts, marker_color=palette.SPLITS["train"],
               hovertemplate="%{x}: %{y:,} train images<extra></extra>"),
        go.Bar(name="test", x=names, y=test_counts, marker_color=palette.SPLITS["test"],
               hovertemplate="%{x}: %{y:,} test images<extra></extra>"),
    ])
    figure.update_layout(barmode="group", height=340, margin=dict(l=10, r=10, t=30, b=10),
                         xaxis_title="class", yaxis_title="images", legend_orientation="h", legend_y=1.12,
                         xaxis_type="category")
    return figure


def rgb_image(image: np.ndarray, height: int = 360, title: str | None = None,
              highlight: tuple[slice, slice] | None = None) -> go.Figure:
    """An RGB image (H, W, 3) uint8 with pixel positions on the axes and values on hover.

    Args:
        image: The image.
        height: Figure height in pixels.
        title: Optional title.
        highlight: Optional (rows, columns) region to outline, e.g. the crop shown elsewhere.
    """
    figure = go.Figure(go.Image(z=image, hovertemplate="row %{y}, column %{x}: RGB %{z}<extra></extra>"))
    if highlight is not None:
        rows, cols = highlight
        figure.add_shape(type="rect", x0=cols.start - 0.5, x1=cols.stop - 0.5, y0=rows.start - 0.5,
                         y1=rows.stop - 0.5, line={"color": palette.CROP, "width": 3})
    figure.update_layout(height=height, margin=dict(l=10, r=10, t=40 if title else 10, b=10), title=title)
    return figure


def image_row(images: np.ndarray, titles: Sequence[str], zmax: float = 255, height: int = 170) -> go.Figure:
    """Small images side by side, e.g. per-class means; grey images use a grey scale."""
    count = len(images)
    columns = min(count, 10)
    rows = -(-count // columns)
    figure = make_subplots(rows=rows, cols=columns, subplot_titles=[plot_text(title) for title in titles],
                           horizontal_spacing=0.01, vertical_spacing=0.08)
    for index, image in enumerate(images):
        row, col = divmod(index, columns)
        if image.shape[-1] == 3:
            trace = go.Image(z=np.clip(image, 0, 255), zmax=[255, 255, 255, 1],
                             hovertemplate="row %{y}, col %{x}: mean RGB %{z}<extra></extra>")
        else:
            trace = go.Heatmap(z=image[..., 0], zmin=0, zmax=zmax, colorscale="gray", showscale=False,
                               hovertemplate="row %{y}, col %{x}: mean %{z:.1f}<extra></extra>")
        figure.add_trace(trace, row=row + 1, col=col + 1)
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False, autorange="reversed", scaleanchor="x")
    for axis in range(2, count + 1):
        figure.update_yaxes(scaleanchor=f"x{axis}", row=(axis - 1) // columns + 1, col=(axis - 1) % columns + 1)
    figure.update_layout(height=height * rows, margin=dict(l=5, r=5, t=30, b=5), plot_bgcolor="white")
    return figure


def intensity_histogram(counts: np.ndarray, log_scale: bool = False) -> go.Figure:
    """Bars of how often each pixel value 0–255 occurs; one trace per channel."""
    names = ["grey"] if len(counts) == 1 else ["R", "G", "B"]
    figure = go.Figure()
    for name, row in zip(names, counts, strict=True):
        figure.add_trace(go.Bar(x=np.arange(256), y=row, name=name, marker_color=palette.CHANNELS[name],
                                opacity=0.6 if len(counts) > 1 else 1.0,
                                hovertemplate=f"{name} value %{{x}}: %{{y:,}} pixels<extra></extra>"))
    figure.update_layout(barmode="overlay", bargap=0, height=320, margin=dict(l=10, r=10, t=30, b=10),
                         xaxis_title="pixel value (0 = black, 255 = white)", yaxis_title="pixels",
                         yaxis_type="log" if log_scale else "linear", legend_orientation="h", legend_y=1.12)
    return figure


def value_histogram(values: np.ndarray, low: float, high: float, colour: str, height: int = 220) -> go.Figure:
    """A small histogram of one image's values on some scale, with the possible range as the x-axis."""
    figure = go.Figure(go.Histogram(x=values.ravel(), nbinsx=40, marker_color=colour,
                                    hovertemplate="%{x}: %{y} pixels<extra></extra>"))
    span = high - low
    figure.update_layout(height=height, margin=dict(l=10, r=10, t=10, b=10), bargap=0.05,
                         xaxis_range=[low - 0.03 * span, high + 0.03 * span], xaxis_title="value",
                         yaxis_title="pixels")
    return figure
