"""Home: what CNN Lab is and the path through it."""

import streamlit as st

from ui.navigation import HOME, PAGES, require_router
from ui.privacy import your_data
from ui.workspace import link_params

require_router()

st.title("CNN Lab")
st.markdown(
    "Learn image classification with convolutional neural networks by doing it. "
    "**Look** at a dataset the way a network does, as grids of numbers. **Slide** a convolution kernel "
    "over an image and check every multiply-and-add. **Train** a real Keras model and watch it learn, "
    "**evaluate** where it goes wrong, then **draw** a digit and see it read your handwriting."
)
st.markdown("Follow the pages in order the first time; each one builds on the one before.")

for step, spec in enumerate((page for page in PAGES if page is not HOME), start=1):
    with st.container(border=True):
        st.page_link(spec.path, label=f"{step}. {spec.title}", icon=spec.icon, query_params=link_params())
        st.caption(spec.summary)

your_data()
