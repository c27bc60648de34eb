"""Train: not built yet; this page says what it will do."""

import streamlit as st

from ui.navigation import require_router

require_router()

st.title("Train")
st.info(
    "Coming soon: build a Keras model, tune it with sliders and watch live loss and accuracy curves "
    "while it trains in the background.",
    icon=":material/construction:",
)
