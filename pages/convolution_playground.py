"""Convolution Playground: not built yet; this page says what it will do."""

import streamlit as st

from ui.navigation import require_router

require_router()

st.title("Convolution Playground")
st.info(
    "Coming next: edit a kernel, set stride, padding and pooling, and see each output value computed step by step.",
    icon=":material/construction:",
)
