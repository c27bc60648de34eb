"""Figures of the Evaluate page: the confusion matrix (Vega-Lite, for taps), probabilities, run curves and learned
filters (plotly)."""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import numpy as np
import pandas as pd
import plotly.graph_objects as go

from core.data.numbers import percent
from ui import palette
from ui.figures import symmetric_limit, tile_mosaic

CELL = "cell"  # the confusion chart's selection: the tapped or clicked cell


def confusion_chart(matrix: np.ndarray, counts: np.ndarray, class_names: Sequence[str],
                    selected: tuple[int, int] | None = None) -> alt.LayerChart:
    """The confusion matrix as a heatmap, row = true class, column = predicted class; a tap or a click on a cell
    selects it (the selection is named `CELL`, its fields "true" and "predicted").

    Vega-Lite, not plotly: plotly.js turns a touch tap into a hover, never a click or a selection
    (plotly/plotly.js#1858, #6721), so on a phone a cell could not be chosen. Vega takes the tap as a click,
    and writes each cell's `description` as its aria-label, so a screen reader reads the cells too.

    Args:
        matrix: What the colours show: counts or row-normalised rates.
        counts: The image counts, written in every cell and read out for it.
        selected: (true, predicted) of the cell to outline.
    """
    size = len(class_names)
    rates = matrix.dtype.kind == "f"
    rows, columns = (index.ravel() for index in np.mgrid[0:size, 0:size])
    names = [str(name) for name in class_names]  # Vega draws text as text: nothing a class name holds is markup
    frame = pd.DataFrame({
        "true": rows, "predicted": columns, "true class": [names[r] for r in rows],
        "predicted class": [names[c] for c in columns], "images": counts.ravel(), "value": matrix.ravel(),
        "label": [f"{counts[r, c]}" + (f" · {percent(matrix[r, c])}" if rates and size <= 8 else "")
                  for r, c in zip(rows, columns, strict=True)],
    })
    frame["description"] = [f"true {t}, predicted {p}: {n} image{'s' if n != 1 else ''}"
                            + (f" ({percent(v)} of the true class)" if rates else "")
                            for t, p, n, v in zip(frame["true class"], frame["predicted class"], frame["images"],
                                                  frame["value"], strict=True)]
    top = 1.0 if rates else float(max(1, counts.max()))
    axis = {"labelLimit": 120, "titleFontWeight": "normal"}
    base = alt.Chart(frame).encode(
        x=alt.X("predicted class:N", sort=names, title="predicted class",
                axis=alt.Axis(orient="top", labelAngle=0 if max(map(len, names)) <= 3 else -45, **axis)),
        y=alt.Y("true class:N", sort=names, title="true class", axis=alt.Axis(**axis)))
    pick = alt.selection_point(name=CELL, fields=["true", "predicted"], on="click", clear=False, empty=False,
                               toggle=False)
    cells = base.mark_rect(stroke="white", strokeWidth=0.5, cursor="pointer").encode(
        color=alt.Color("value:Q", scale=alt.Scale(scheme="blues", domain=[0, top]), legend=None),
        tooltip=[alt.Tooltip("true class:N"), alt.Tooltip("predicted class:N"), alt.Tooltip("images:Q")],
        description="description:N").add_params(pick)
    layers = [cells]
    if size <= 20:
        layers.append(base.mark_text(fontSize=11 if size <= 10 else 8, aria=False).encode(
            text="label:N",
            color=alt.condition(alt.datum.value > top * 0.55, alt.value("white"), alt.value("#222222"))))
    if selected is not None:
        true_class, predicted_class = selected
        layers.append(base.mark_rect(filled=False, stroke=palette.WRONG, strokeWidth=3, aria=False).transform_filter(
            (alt.datum.true == int(true_class)) & (alt.datum.predicted == int(predicted_class))))
    side = min(600, max(260, 34 * size))
    return alt.layer(*layers).properties(height=side, width="container")


def filters_figure(kernels: np.ndarray, columns: int = 8) -> go.Figure:
    """First-layer kernels as a grid of small heatmaps (red positive, blue negative), values on hover.

    Args:
        kernels: (filters, k, k) weights of one input channel.
    """
    limit = symmetric_limit(kernels)
    return tile_mosaic(kernels, columns, "RdBu", -limit, limit, "filter", "weight", reversescale=True)
