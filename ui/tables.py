"""Numbers in tables, one way on every page: shares as percentages with 2 decimals, losses with 4, counts with
thousands separators. (Accuracy read 0.9895 in one table, 98.95% in another and 98.9% in a third.)"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.evaluate.spreadsheet import spreadsheet_safe

SHARES = ("accuracy", "precision", "recall", "F1")  # a column whose name ends with one of these is a share
COUNTS = ("images", "support", "predicted", "parameters", "params", "epochs")


def shown_metrics(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, object]]:
    """The frame as a table shows it (shares × 100) and its column configs; the numbers stay numbers, so they sort.

    Keep the original frame for downloads: a CSV holds the values themselves.
    """
    shown, config = frame.copy(), {}
    for column in frame.columns:
        last = str(column).split(" ")[-1]
        if last in SHARES:
            shown[column] = pd.to_numeric(frame[column], errors="coerce") * 100
            config[column] = st.column_config.NumberColumn(format="%.2f%%")
        elif last == "loss":
            config[column] = st.column_config.NumberColumn(format="%.4f")
        elif last in COUNTS:
            config[column] = st.column_config.NumberColumn(format="localized")
    return shown, config


def metrics_dataframe(frame: pd.DataFrame, **kwargs: object) -> object:
    """`st.dataframe` of a metrics table in the shared number formats (`shown_metrics`)."""
    shown, config = shown_metrics(frame)
    return st.dataframe(spreadsheet_safe(shown), column_config={**config, **kwargs.pop("column_config", {})}, **kwargs)
