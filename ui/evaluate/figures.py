"""Plotly figures of the Evaluate page: confusion matrix, probabilities, run curves, learned filters."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from core.data.numbers import percent
from ui import palette
from ui.figures import symmetric_limit, tile_mosaic
from ui.text import plot_text

_MARGIN = {"l": 10, "r": 10, "t": 40, "b": 10}


def confusion_figure(matrix: np.ndarray, counts: np.ndarray, class_names: Sequence[str],
                     selected: tuple[int, int] | None = None) -> go.Figure:
    """The confusion matrix as a heatmap, row = true class, column = predicted class.

    Plotly reports clicks on scatter points but not on heatmap cells, so every cell also carries an
    invisible square marker; a click selects that marker, and the page reads its (x, y).

    Args:
        matrix: What the colours show: counts or row-normalised rates.
        counts: The image counts, written in every cell and in the hover text.
        selected: (true, predicted) of the cell to outline.
    """
    size = len(class_names)
    rates = matrix.dtype.kind == "f"
    text = [[f"{counts[r, c]}" + (f"<br>{percent(matrix[r, c])}" if rates and size <= 12 else "") for c in range(size)]
            for r in range(size)]
    figure = go.Figure(go.Heatmap(
        z=matrix, x=list(range(size)), y=list(range(size)), colorscale="Blues", text=text,
        texttemplate="%{text}" if size <= 20 else None, hoverinfo="skip", showscale=False,
        zmin=0, zmax=1 if rates else max(1, int(counts.max()))))
    rows, columns = np.mgrid[0:size, 0:size]
    names = np.array([plot_text(name) for name in class_names], dtype=object)  # plotly reads tags in text
    figure.add_scatter(
        x=columns.ravel(), y=rows.ravel(), mode="markers", showlegend=False,
        customdata=np.stack([names[rows.ravel()], names[columns.ravel()], counts.ravel()], axis=1),
        marker={"size": max(8, 360 // size), "symbol": "square", "opacity": 0},
        hovertemplate="true %{customdata[0]}, predicted %{customdata[1]}: %{customdata[2]} images"
                      "<br>click to see them<extra></extra>")
    if selected is not None:
        row, column = selected
        figure.add_shape(type="rect", x0=column - 0.5, x1=column + 0.5, y0=row - 0.5, y1=row + 0.5,
                         line={"color": palette.WRONG, "width": 3})
    ticks = {"tickvals": list(range(size)), "ticktext": [plot_text(name) for name in class_names]}
    figure.update_xaxes(title="predicted class", side="top", **ticks)
    figure.update_yaxes(title="true class", autorange="reversed", scaleanchor="x", **ticks)
    side = min(640, 140 + 42 * size)
    figure.update_layout(height=side, width=side + 80, margin=_MARGIN, clickmode="event+select",
                         dragmode=False, plot_bgcolor="white")
    return figure


def filters_figure(kernels: np.ndarray, columns: int = 8) -> go.Figure:
    """First-layer kernels as a grid of small heatmaps (red positive, blue negative), values on hover.

    Args:
        kernels: (filters, k, k) weights of one input channel.
    """
    limit = symmetric_limit(kernels)
    return tile_mosaic(kernels, columns, "RdBu", -limit, limit, "filter", "weight", reversescale=True)
