"""Plotly figures for the pages. Pure plotly and NumPy (no Streamlit), so tests can build them directly."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ui.text import plot_text

_CHANNEL_COLOURS = {"R": "#d62728", "G": "#2ca02c", "B": "#1f77b4", "grey": "#555555"}
_CHANNEL_SCALES = {"R": "Reds", "G": "Greens", "B": "Blues", "grey": "gray"}


def class_balance(class_names: Sequence[str], train_counts: np.ndarray, test_counts: np.ndarray) -> go.Figure:
    """Grouped bars of images per class in the train and test splits."""
    names = [plot_text(name) for name in class_names]  # plotly reads tags in labels: show them as typed
    figure = go.Figure([
        go.Bar(name="train", x=names, y=train_counts, marker_color="#4c78a8",
               hovertemplate="%{x}: %{y:,} train images<extra></extra>"),
        go.Bar(name="test", x=names, y=test_counts, marker_color="#f58518",
               hovertemplate="%{x}: %{y:,} test images<extra></extra>"),
    ])
    figure.update_layout(barmode="group", height=340, margin=dict(l=10, r=10, t=30, b=10),
                         xaxis_title="class", yaxis_title="images", legend_orientation="h", legend_y=1.12,
                         xaxis_type="category")
    return figure


def pixel_heatmap(values: np.ndarray, channel: str = "grey", zmin: float = 0, zmax: float = 255,
                  row_offset: int = 0, col_offset: int = 0, numbers: bool = True, height: int = 560,
                  number_format: str = "%{z:.0f}", title: str | None = None,
                  colorscale: str | None = None, showscale: bool = True) -> go.Figure:
    """A heatmap of one channel with each cell's value written in it.

    Args:
        values: (H, W) values of one channel, possibly a crop.
        channel: "grey", "R", "G" or "B": picks the colour scale.
        zmin: The value drawn darkest.
        zmax: The value drawn brightest.
        row_offset: The crop's first row in the full image, so the axes show real pixel positions.
        col_offset: The crop's first column.
        numbers: Write the values in the cells.
        height: Figure height in pixels.
        number_format: Plotly texttemplate for the numbers.
        title: Optional title.
        colorscale: Overrides the channel's colour scale.
        showscale: Draw the colour bar.
    """
    rows, cols = values.shape
    figure = go.Figure(go.Heatmap(
        z=values, x=list(range(col_offset, col_offset + cols)), y=list(range(row_offset, row_offset + rows)),
        zmin=zmin, zmax=zmax, colorscale=colorscale or _CHANNEL_SCALES[channel],
        texttemplate=number_format if numbers else None,
        textfont={"size": max(6, min(14, int(height / max(rows, cols) / 2.6)))},
        hovertemplate="row %{y}, column %{x}: %{z}<extra></extra>", colorbar={"thickness": 12},
        showscale=showscale,
    ))
    figure.update_yaxes(autorange="reversed", scaleanchor="x", constrain="domain", title="row")
    figure.update_xaxes(constrain="domain", title="column", side="top")
    figure.update_layout(height=height, margin=dict(l=10, r=10, t=60 if title else 40, b=10),
                         title=title, plot_bgcolor="white")
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
                         y1=rows.stop - 0.5, line={"color": "#ffd400", "width": 3})
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
        figure.add_trace(go.Bar(x=np.arange(256), y=row, name=name, marker_color=_CHANNEL_COLOURS[name],
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


def tile_mosaic(tiles: np.ndarray, columns: int, colorscale: str, zmin: float, zmax: float, name: str,
                colour_title: str, reversescale: bool = False) -> go.Figure:
    """Equal-sized tiles (kernels, feature maps) as one numbered mosaic heatmap, values on hover.

    One heatmap rather than a subplot per tile: far less for the browser to lay out.

    Args:
        tiles: (count, h, w) values.
        columns: Tiles per row.
        colorscale, zmin, zmax, reversescale: The heatmap's colours.
        name: What a tile is, for the hover text ("filter", "map").
        colour_title: The colour bar's title.
    """
    count, height, width = tiles.shape
    rows = -(-count // columns)
    gap = 1  # one blank cell between tiles
    mosaic = np.full((rows * (height + gap) - gap, columns * (width + gap) - gap), np.nan)  # (H, W)
    number = np.full(mosaic.shape, -1)
    for index, tile in enumerate(tiles):
        top, left = (index // columns) * (height + gap), (index % columns) * (width + gap)
        mosaic[top:top + height, left:left + width] = tile
        number[top:top + height, left:left + width] = index
    figure = go.Figure(go.Heatmap(
        z=mosaic, customdata=number, colorscale=colorscale, reversescale=reversescale, zmin=zmin, zmax=zmax,
        hovertemplate=f"{name} %{{customdata}}: %{{z:.3f}}<extra></extra>", hoverongaps=False,
        colorbar={"title": colour_title, "thickness": 12}))
    for index in range(count):
        top, left = (index // columns) * (height + gap), (index % columns) * (width + gap)
        figure.add_annotation(x=left - 0.5, y=top - 0.5, text=str(index), showarrow=False, xanchor="left",
                              yanchor="bottom", font={"size": 10, "color": "#555"})
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False, autorange="reversed", scaleanchor="x")
    # One screen pixel size for both axes, so the tiles stay square and the figure has no blank bands.
    cell = min(40.0, 900 / (columns * (width + gap)), 700 / (rows * (height + gap)))
    figure.update_layout(height=int(40 + rows * (height + gap) * cell), width=int(110 + columns * (width + gap) * cell),
                         margin={"l": 10, "r": 10, "t": 20, "b": 10}, plot_bgcolor="white")
    return figure
