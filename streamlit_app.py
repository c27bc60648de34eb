"""CNN Lab's entry point: page config, session state, and the router over pages/."""

import streamlit as st

from ui.hosting import sidebar_note
from ui.navigation import init_state, route

st.set_page_config(page_title="CNN Lab", page_icon=":material/neurology:", layout="wide")
init_state()
sidebar_note()
route()
