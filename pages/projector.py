"""Projector view: a class's name, join code, QR code and leaderboard for the wall, without the teacher's key."""

import streamlit as st

from core.classroom.classes import find_by_projector
from core.store.runs import STORE_ROOT
from ui.classroom.projector import projector_view
from ui.classroom.state import PROJECTOR_PARAM
from ui.navigation import require_router

require_router()

room = find_by_projector(st.query_params.get(PROJECTOR_PARAM, ""), STORE_ROOT)
if room is None:
    st.title("Projector view")
    st.error("This projector link opens no class (any more). Open the projector view again from your Class page.",
             icon=":material/link_off:")
    st.stop()
projector_view(room)
