"""Predict: not built yet; this page says what it will do."""

import streamlit as st

from ui.navigation import require_router

require_router()

st.title("Predict")
st.info(
    "Coming soon: draw a digit or upload an image, and see the probabilities, feature maps and saliency "
    "of a trained model.",
    icon=":material/construction:",
)
