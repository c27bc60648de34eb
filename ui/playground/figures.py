"""Figures for the Convolution Playground: plotly, and Vega-Lite for the feature map a tap selects a cell of. Pure
plotly, Altair and NumPy, so tests can build them directly."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import altair as alt
import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ui import palette
from ui.figures import symmetric_limit

MAX_DRAWN_CELLS = 200  # per side: larger maps are drawn every n-th pixel (the axes keep true positions)
MAX_NUMBERED_CELLS = 16  # per side: up to this size every cell shows its value…
MIN_NUMBERED_CELL_PIXELS = 24  # …when it is drawn at least this many screen pixels wide
SIGNED_SCALE = "RdBu_r"  # negative blue, 0 white, positive red
MAX_CLICKABLE_CELLS = 4096  # a 64×64 map; beyond that the invisible click targets cost more than they help


@dataclass(frozen=True)
class Box:
    """A rectangle to outline on a map, in the map's own pixel positions: rows and columns [start, stop)."""

    rows: tuple[int, int]
    cols: tuple[int, int]
    colour: str = palette.WINDOW


def _step(shape: Sequence[int]) -> int:
    return max(1, math.ceil(max(shape[0], shape[1]) / MAX_DRAWN_CELLS))


def map_figure(values: np.ndarray, title: str, pixel_size: float, signed: bool,
               value_range: tuple[float, float] = (0.0, 255.0), boxes: Sequence[Box] = (),
               clickable: bool = False) -> go.Figure:
    """An image or a feature map with its size on the axes.

    Args:
        values: (H, W) numbers, or (H, W, 3) uint8 for a colour image.
        title: The figure's title; the caller puts the shape in it.
        pixel_size: Screen pixels per map pixel, so maps of one chain share a scale and halving shows.
        signed: Use a diverging scale centred on 0 (feature maps); else grey over `value_range`.
        value_range: The grey scale's black and white values when not signed.
        boxes: Rectangles to outline (the current window, the current output cell).
        clickable: Lay an invisible marker on every cell (up to MAX_CLICKABLE_CELLS), so a click selects
            it: plotly reports clicks on scatter points but not on heatmap cells.
    """
    height, width = values.shape[:2]
    step = _step(values.shape)
    shown = values[::step, ::step]
    # Numbers only fit when there are few cells and each is drawn large enough to hold one.
    numbered = max(height, width) <= MAX_NUMBERED_CELLS and pixel_size >= MIN_NUMBERED_CELL_PIXELS
    if values.ndim == 3:
        trace = go.Image(z=shown, x0=0, dx=step, y0=0, dy=step,
                         hovertemplate="row %{y}, column %{x}: RGB %{z}<extra></extra>")
    else:
        limit = symmetric_limit(values)
        trace = go.Heatmap(
            z=shown.astype(np.float32), x0=0, dx=step, y0=0, dy=step,
            colorscale=SIGNED_SCALE if signed else "gray", zmid=0 if signed else None,
            zmin=-limit if signed else value_range[0], zmax=limit if signed else value_range[1],
            texttemplate="%{z:.3~g}" if numbered else None, textfont={"size": 11},
            hovertemplate="row %{y}, column %{x}: %{z:.4~g}<extra></extra>", colorbar={"thickness": 10, "len": 0.8},
            showscale=signed,
        )
    figure = go.Figure(trace)
    if clickable and values.ndim == 2 and height * width <= MAX_CLICKABLE_CELLS:
        rows, cols = np.mgrid[0:height, 0:width]
        figure.add_trace(go.Scatter(
            x=cols.ravel(), y=rows.ravel(), mode="markers", customdata=values.ravel().astype(np.float32),
            marker={"size": max(6.0, pixel_size * 0.9), "opacity": 0, "symbol": "square"}, showlegend=False,
            hovertemplate="row %{y}, column %{x}: %{customdata:.4~g} (click for its sum)<extra></extra>",
        ))
    for box in boxes:
        figure.add_shape(type="rect", x0=box.cols[0] - 0.5, x1=box.cols[1] - 0.5, y0=box.rows[0] - 0.5,
                         y1=box.rows[1] - 0.5, line={"color": box.colour, "width": 3})
    border = 1 if boxes else 0  # one cell of room round the map, so a window reaching into the padding shows
    figure.update_xaxes(range=[-0.5 - border, width - 0.5 + border], side="top", constrain="domain",
                        showgrid=False, zeroline=False)
    figure.update_yaxes(range=[height - 0.5 + border, -0.5 - border], scaleanchor="x", constrain="domain",
                        showgrid=False, zeroline=False)
    plot_width = max(90.0, pixel_size * (width + 2 * border))  # screen pixels for the cells themselves
    plot_height = max(90.0, pixel_size * (height + 2 * border))
    figure.update_layout(title={"text": title, "font": {"size": 14}, "y": 0.99, "yanchor": "top"},
                         width=int(plot_width) + (120 if signed else 50), height=int(plot_height) + 80,
                         margin=dict(l=40, r=10, t=70, b=10), plot_bgcolor="white")
    return figure


CELL = "cell"  # the tappable feature map's selection: the cell tapped or clicked, fields "row" and "col"


def tappable_map(values: np.ndarray, title: str, pixel_size: float, boxes: Sequence[Box] = ()) -> alt.LayerChart:
    """A feature map whose cells a tap or a click selects (`CELL`), drawn as `map_figure` draws a signed map.

    Vega-Lite, not plotly: plotly.js turns a touch tap into a hover and never a click (plotly/plotly.js#1858),
    so on a phone a cell could not be taken apart. Each cell's `description` is its aria-label.

    Args:
        values: (H, W) numbers, at most MAX_CLICKABLE_CELLS of them.
        title: The chart's title; the caller puts the shape in it.
        pixel_size: Screen pixels per map pixel, the scale the page's other maps use.
        boxes: Rectangles to outline, in the map's own positions.
    """
    height, width = values.shape
    if height * width > MAX_CLICKABLE_CELLS:
        raise ValueError(f"Expected at most {MAX_CLICKABLE_CELLS} cells, received a {height}×{width} map.")
    limit = symmetric_limit(values)
    numbered = max(height, width) <= MAX_NUMBERED_CELLS and pixel_size >= MIN_NUMBERED_CELL_PIXELS
    rows, cols = (index.ravel() for index in np.mgrid[0:height, 0:width])
    flat = values.ravel().astype(np.float64)
    frame = pd.DataFrame({"row": rows, "col": cols, "value": flat, "x0": cols - 0.5, "x1": cols + 0.5,
                          "y0": rows - 0.5, "y1": rows + 0.5,
                          "label": [f"{value:.3g}" for value in flat],
                          "description": [f"row {r}, column {c}: {value:.4g}" for r, c, value in zip(rows, cols, flat,
                                                                                                      strict=True)]})
    border = 1 if boxes else 0  # one cell of room round the map, so a window reaching into the padding shows
    across = alt.Scale(domain=[-0.5 - border, width - 0.5 + border], nice=False, zero=False)
    down = alt.Scale(domain=[height - 0.5 + border, -0.5 - border], nice=False, zero=False)  # row 0 on top
    x = alt.X("x0:Q", scale=across, axis=alt.Axis(orient="top", title=None, tickMinStep=1, grid=False))
    y = alt.Y("y0:Q", scale=down, axis=alt.Axis(title=None, tickMinStep=1, grid=False))
    pick = alt.selection_point(name=CELL, fields=["row", "col"], on="click", clear=False, empty=False, toggle=False)
    cells = alt.Chart(frame).mark_rect(cursor="pointer").encode(
        x=x, x2="x1:Q", y=y, y2="y1:Q",
        color=alt.Color("value:Q", scale=alt.Scale(scheme="redblue", reverse=True, domain=[-limit, limit],
                                                    clamp=True),
                        legend=alt.Legend(title=None, gradientLength=max(60, int(pixel_size * height * 0.8)),
                                          gradientThickness=10)),
        tooltip=[alt.Tooltip("row:Q"), alt.Tooltip("col:Q", title="column"),
                 alt.Tooltip("value:Q", format=".4~g")],
        description="description:N").add_params(pick)
    layers = [cells]
    if numbered:
        layers.append(alt.Chart(frame).mark_text(fontSize=11, aria=False).encode(
            x=alt.X("col:Q", scale=across), y=alt.Y("row:Q", scale=down), text="label:N"))
    if boxes:
        outlines = pd.DataFrame({"x0": [b.cols[0] - 0.5 for b in boxes], "x1": [b.cols[1] - 0.5 for b in boxes],
                                 "y0": [b.rows[0] - 0.5 for b in boxes], "y1": [b.rows[1] - 0.5 for b in boxes],
                                 "colour": [b.colour for b in boxes]})
        layers.append(alt.Chart(outlines).mark_rect(filled=False, strokeWidth=3, aria=False).encode(
            x=x, x2="x1:Q", y=y, y2="y1:Q", stroke=alt.Stroke("colour:N", scale=None)))
    side = max(90.0, pixel_size * (width + 2 * border))
    tall = max(90.0, pixel_size * (height + 2 * border))
    return alt.layer(*layers).properties(title=title, width=int(side), height=int(tall))


def _side_by_side(titles: Sequence[str], spacing: float, square: bool, tick_labels: bool) -> go.Figure:
    """An empty figure with one panel per title, in a row.

    Built by hand because `plotly.subplots.make_subplots` costs about 15 ms a call, and the
    page draws these on every rerun.
    """
    count = len(titles)
    width = (1 - spacing * (count - 1)) / count
    layout: dict[str, object] = {"annotations": []}
    for index, title in enumerate(titles):
        suffix = "" if index == 0 else str(index + 1)
        left = index * (width + spacing)
        axis = {"showgrid": False, "zeroline": False, "showticklabels": tick_labels, "tickfont": {"size": 9},
                "constrain": "domain"}
        layout[f"xaxis{suffix}"] = {**axis, "domain": [left, left + width], "anchor": f"y{suffix}"}
        layout[f"yaxis{suffix}"] = {**axis, "domain": [0, 1], "anchor": f"x{suffix}", "autorange": "reversed",
                                    **({"scaleanchor": f"x{suffix}"} if square else {})}
        layout["annotations"].append({"text": title, "x": left + width / 2, "y": 1.0, "xref": "paper",
                                      "yref": "paper", "xanchor": "center", "yanchor": "bottom",
                                      "showarrow": False, "font": {"size": 12}})
    return go.Figure(layout=layout)


def _axes(index: int) -> dict[str, str]:
    suffix = "" if index == 0 else str(index + 1)
    return {"xaxis": f"x{suffix}", "yaxis": f"y{suffix}"}


def step_figure(panels: Sequence[tuple[str, np.ndarray, np.ndarray | None]], signed: Sequence[bool]) -> go.Figure:
    """Small matrices side by side with every value written in, e.g. window, kernel and products.

    Args:
        panels: (title, (k, k) values, optional (k, k) mask of padding cells drawn grey) per panel.
        signed: Per panel, whether to colour on a scale centred on 0.
    """
    figure = _side_by_side([title for title, _, _ in panels], 0.04, square=True, tick_labels=False)
    for index, ((_, values, padding), is_signed) in enumerate(zip(panels, signed, strict=True)):
        shown = values.astype(np.float64).copy()
        if padding is not None:
            shown[padding] = np.nan  # drawn in the background colour: padding is not part of the image
        limit = symmetric_limit(values[np.isfinite(values)])
        low = float(np.nanmin(values)) if np.isfinite(values).any() else 0.0
        high = float(np.nanmax(values)) if np.isfinite(values).any() else 1.0
        figure.add_trace(go.Heatmap(
            z=shown, text=[[_number(value) for value in row] for row in values], texttemplate="%{text}",
            textfont={"size": 13 if values.shape[0] <= 5 else 10},
            colorscale=SIGNED_SCALE if is_signed else "gray", zmid=0 if is_signed else None,
            zmin=-limit if is_signed else low, zmax=limit if is_signed else max(high, low + 1e-9),
            showscale=False, hovertemplate="row %{y}, column %{x}: %{text}<extra></extra>", **_axes(index),
        ))
    side = panels[0][1].shape[0]
    figure.update_layout(height=120 + 34 * max(side, 3), margin=dict(l=5, r=5, t=40, b=5), plot_bgcolor=palette.PADDING)
    return figure


def _number(value: float) -> str:
    if np.isnan(value):
        return ""
    text = f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"
    return "0" if text in ("-0", "0", "-0.0") else text


def maps_row(maps: Sequence[np.ndarray], titles: Sequence[str], signed: Sequence[bool],
             height: int = 230) -> go.Figure:
    """Several maps side by side, each on its own colour scale: a filter bank or the steps of a chain."""
    figure = _side_by_side(titles, 0.03, square=True, tick_labels=True)
    for index, (values, is_signed) in enumerate(zip(maps, signed, strict=True)):
        step = _step(values.shape)
        limit = symmetric_limit(values)
        figure.add_trace(go.Heatmap(
            z=values[::step, ::step].astype(np.float32), x0=0, dx=step, y0=0, dy=step,
            colorscale=SIGNED_SCALE if is_signed else "gray", zmid=0 if is_signed else None,
            zmin=-limit if is_signed else float(values.min()), zmax=limit if is_signed else float(values.max()),
            showscale=False, hovertemplate="row %{y}, column %{x}: %{z:.4~g}<extra></extra>", **_axes(index),
        ))
    figure.update_layout(height=height, margin=dict(l=5, r=5, t=40, b=5), plot_bgcolor="white")
    return figure
