"""A chart's text alternative: a sentence saying what it shows, and its data as a table behind an expander.

A plotly or Vega-Lite chart is a picture to a screen reader. WCAG 2.1 (1.1.1) asks for the same
information as text; the sentences come from `core.evaluate.descriptions`.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ui.text import plain


def text_alternative(summary: str, table: pd.DataFrame, what: str, key: str | None = None) -> None:
    """Writes the chart's summary as a caption and its data as a table in a closed expander.

    Args:
        summary: One or two sentences: what the chart shows (plain text; shown as typed).
        table: The chart's data, one row per point, bar or cell.
        what: Names the chart in the expander's label ("The probabilities").
        key: Sets the expander's widget key, for a page with several.
    """
    st.caption(plain(summary))  # class names may be a learner's own: shown as typed
    with st.expander(f"{what} as a table", key=key):
        st.dataframe(table, hide_index=True)


def probability_table(probabilities, class_names) -> pd.DataFrame:
    """One image's probabilities as a table, highest first: class, probability (%)."""
    table = pd.DataFrame({"class": [str(name) for name in class_names],
                          "probability (%)": [round(float(p) * 100, 3) for p in probabilities]})
    return table.sort_values("probability (%)", ascending=False)


def epoch_table(epoch_rows: list[dict]) -> pd.DataFrame:
    """A run's finished epochs as a table: epoch, then each metric Keras logged (to 4 decimals)."""
    metrics = [key for key in ("loss", "val_loss", "accuracy", "val_accuracy") if any(key in row for row in epoch_rows)]
    return pd.DataFrame([{"epoch": int(row["epoch"]), **{key: (round(float(row[key]), 4) if row.get(key) is not None
                                                            else None) for key in metrics}} for row in epoch_rows])
