"""CNN Lab's entry point: page config, session state, and the router over pages/."""

import streamlit as st

from ui.class_notice import class_sidebar_note
from ui.hosting import enforce_upload_cap, sidebar_note
from ui.navigation import init_state, route
from ui.polling import start_collector

st.set_page_config(page_title="CNN Lab", page_icon=":material/neurology:", layout="wide")
start_collector()  # the full collection Streamlit no longer runs after every rerun (.streamlit/config.toml)
enforce_upload_cap()  # hosted mode: Streamlit's upload endpoint itself refuses files over the cap
init_state()
sidebar_note()
class_sidebar_note()  # a student's class about to close, or closed: said on every page
route()
