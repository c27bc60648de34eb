"""Plotly figures more than one page draws: pixel heatmaps, tile mosaics, probability bars, signed colour limits,
and runs' curves overlaid (Evaluate and Class).

Pure plotly and NumPy (no Streamlit), so tests can build them directly.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from core.data.numbers import percent
from core.evaluate.comparison import X_AXES
from ui import palette
from ui.text import plot_text

_CHANNEL_SCALES = {"R": "Reds", "G": "Greens", "B": "Blues", "grey": "gray"}


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
                              yanchor="bottom", font={"size": 10, "color": palette.DARK_GREY})
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False, autorange="reversed", scaleanchor="x")
    # One screen pixel size for both axes, so the tiles stay square and the figure has no blank bands.
    cell = min(40.0, 900 / (columns * (width + gap)), 700 / (rows * (height + gap)))
    figure.update_layout(height=int(40 + rows * (height + gap) * cell), width=int(110 + columns * (width + gap) * cell),
                         margin={"l": 10, "r": 10, "t": 20, "b": 10}, plot_bgcolor="white")
    return figure


def probability_bars(probabilities: np.ndarray, class_names: Sequence[str], true_class: int | None) -> go.Figure:
    """One image's probability vector: the guess in red if wrong, green if right (blue with no truth known),
    the true class outlined."""
    guess = int(np.argmax(probabilities))
    colours = [palette.GREY] * len(class_names)
    if true_class is None:  # nothing to be right or wrong about, e.g. a drawing
        colours[guess] = palette.GUESS
    else:
        colours[guess] = palette.RIGHT if guess == true_class else palette.WRONG
    figure = go.Figure(go.Bar(
        x=[plot_text(name) for name in class_names], y=probabilities, marker_color=colours,
        marker_line={"color": ["black" if i == true_class else "rgba(0,0,0,0)" for i in range(len(class_names))],
                     "width": 2},
        text=[percent(p, 1) if p >= 0.005 else "" for p in probabilities], textposition="outside",
        hovertemplate="%{x}: %{y:.4f}<extra></extra>"))
    figure.update_yaxes(range=[0, 1.12], tickformat=".0%", title="probability")
    figure.update_xaxes(type="category")
    figure.update_layout(height=300, margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return figure


ROBUST_LIMIT_CELLS = 4096  # above this many values the colour scale ignores the top 0.5 % of magnitudes


def symmetric_limit(values: np.ndarray) -> float:
    """The colour-scale limit for values centred on 0 (1 if all are 0).

    Small maps use their largest magnitude, so every number written in a cell matches its colour.
    On a photo a few extreme pixels would wash everything else out to white, so large maps use the
    99.5th percentile of the magnitudes and saturate the rest.
    """
    if not values.size:
        return 1.0
    magnitudes = np.abs(values)
    limit = float(np.percentile(magnitudes, 99.5) if values.size > ROBUST_LIMIT_CELLS else magnitudes.max())
    return limit if limit > 0 else float(magnitudes.max()) or 1.0


def comparison_curves(rows: pd.DataFrame, metric: str, x: str = "epochs") -> go.Figure:
    """Every run's train (solid) and validation (dashed) curve of one metric, a colour per run.

    Args:
        rows: `core.evaluate.comparison.curve_rows`.
        metric: Which metric's rows to draw.
        x: The x-axis, a key of `comparison.X_AXES`: "epochs", "share" (of each run's planned epochs, so short and
            long runs span the same width) or "seconds" (of training).
    """
    figure = go.Figure()
    chosen = rows[rows["metric"] == metric]
    for number, (run_id, run_rows) in enumerate(chosen.groupby("id", sort=False)):
        colour = palette.SERIES[number % len(palette.SERIES)]
        name = run_rows["run"].iloc[0]
        for split, dash in (("train", "solid"), ("validation", "dash")):
            part = run_rows[run_rows["split"] == split]
            if len(part):
                notes = ["" if timed or x != "seconds" else " (its time spread evenly over its epochs)"
                         for timed in part["timed"]]
                figure.add_scatter(x=part[x], y=part["value"], mode="lines+markers",
                                   name=plot_text(f"{name} · {split}"), legendgroup=run_id,
                                   line={"color": colour, "dash": dash, "width": 2},
                                   customdata=np.stack([part["epoch"], notes], axis=1),
                                   hovertemplate="epoch %{customdata[0]}%{customdata[1]}: %{y:.4~g}<extra>"
                                                 + plot_text(f"{name} · {split}") + "</extra>")
    # The legend sits at the figure's foot, below the axis title, with room made for it: placed in the plot's
    # own coordinates it covered the "epoch" label, and six runs' twelve entries were cut off.
    legend_rows = -(-len(figure.data) // 3)  # three entries a row: the chart is the page's width
    figure.update_layout(title=metric.capitalize(), height=340 + 22 * legend_rows,
                         margin={"l": 10, "r": 10, "t": 40, "b": 50 + 22 * legend_rows},
                         legend={"orientation": "h", "yref": "container", "y": 0, "yanchor": "bottom",
                                 "x": 0, "xanchor": "left"})
    figure.update_xaxes(title=X_AXES[x])
    if x == "epochs" and len(chosen) and chosen["epochs"].max() <= 20:
        figure.update_xaxes(dtick=1)
    elif x == "share":
        figure.update_xaxes(tickformat=".0%", range=[0, 1.02])
    if metric in ("accuracy", "precision", "recall"):
        figure.update_yaxes(tickformat=".0%")
    return figure
