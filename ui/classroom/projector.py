"""The projector view: what a teacher puts on the wall. The class's name, its join code in large type, a QR code
of the join link, and the live leaderboard, each student's best run. No workspace key anywhere: the page is opened
by the class's projector key (`?projector=…`), which shows these and can change nothing."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.classroom import classes
from core.classroom.board import best_per_student, board_frame, leaderboard
from core.classroom.classes import ClassRoom
from core.classroom.qr import qr_png
from core.store.runs import STORE_ROOT
from ui.classroom import state
from ui.polling import live_fragment
from ui.text import plain
from ui.workspace import address

BOARD_SECONDS = 5.0  # the wall's leaderboard: a glance every few seconds is plenty


def projector_link(key: str) -> str:
    """The projector view's address: the class's projector key, never the teacher's workspace key."""
    return address({state.PROJECTOR_PARAM: key}, page="projector")


def join_link(room: ClassRoom) -> str:
    return address({state.JOIN_PARAM: room.join_code}, page="classroom")


def best_runs(room: ClassRoom) -> pd.DataFrame:
    """Each student's best run, best first: the wall shows people, not a student's every attempt."""
    frame = board_frame(best_per_student(leaderboard(room, classes.class_runs(room, STORE_ROOT))))
    return frame[["rank", "student", "test accuracy", "model", "training s"]]


def _board(class_id: str) -> None:
    room = classes.load_class(class_id, STORE_ROOT)
    if room is None:
        return
    frame = best_runs(room)
    if frame.empty:
        st.markdown("### Leaderboard\nNo finished run yet: each student's best run appears here.")
        return
    st.markdown("### Leaderboard: each student's best run")
    # Students' names in a table are text to the browser; a 30-row class fits without an inner scroll bar.
    st.dataframe(frame, hide_index=True, width="stretch", height=38 + 35 * len(frame))


def projector_view(room: ClassRoom) -> None:
    """The whole projector page for `room`."""
    st.markdown(f"# {plain(room.name)}")
    if not room.is_open:  # its code and QR code would invite joins that cannot happen; its results stay
        st.warning("This class is closed: its code no longer lets anyone join.", icon=":material/lock:")
        _board(room.class_id)  # nothing changes in a closed class: no timer
        return
    left, right = st.columns([3, 2], vertical_alignment="center")
    code = f"{room.join_code[:4]}-{room.join_code[4:]}"
    with left:
        st.markdown("### To join, open the Class page and type")
        # The code is the app's own (8 of 32 unambiguous letters and digits), never user text: safe as HTML.
        st.html(f'<div role="text" aria-label="Join code {" ".join(code)}" style="font-family: ui-monospace, '
                'monospace; font-weight: 700; font-size: clamp(3rem, 7vw, 9rem); letter-spacing: 0.08em; '
                f'line-height: 1.1; white-space: nowrap; color: #1c2330;">{code}</div>')
        st.markdown(f"### or scan the code with a phone\nThe address: `{join_link(room)}`")
    with right:
        st.image(qr_png(join_link(room)), caption="Scan to join", width=420,
                 alt="QR code of the class's join link: scan it with a phone's camera to join")
    live_fragment(_board, state.PACE, BOARD_SECONDS, True, room.class_id)
