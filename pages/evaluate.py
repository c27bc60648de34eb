"""Evaluate: not built yet; this page says what it will do."""

import streamlit as st

from ui.navigation import require_router

require_router()

st.title("Evaluate")
st.info(
    "Coming soon: a clickable confusion matrix, the model's mistakes, run comparison, learned filters and code export.",
    icon=":material/construction:",
)
