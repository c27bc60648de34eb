"""The Class page's panels: join or create a class, the teacher's view, and a student's view.

Nicknames, class names and run names are user text: they reach the page through `plain` (Markdown)
or a dataframe cell, never as HTML.
"""

from __future__ import annotations

import time
from dataclasses import replace

import pandas as pd
import streamlit as st

from core.classroom import classes
from core.classroom.board import best_per_student, best_rank, board_frame, leaderboard
from core.classroom.classes import ClassRoom
from core.classroom.live import student_states
from core.classroom.nicknames import MAX_NICKNAME
from core.data.numbers import percent
from core.evaluate.comparison import curve_rows
from core.evaluate.spreadsheet import spreadsheet_safe
from core.jobs.jobs import JobError
from core.jobs.queue import training_queue
from core.store.runs import STORE_ROOT, RunRecord, list_runs
from core.store.workspaces import Workspace
from ui import figures, guard
from ui.class_notice import student_notice
from ui.classroom import ending, state
from ui.classroom.controls import controls_panel
from ui.classroom.messages import attempt, flash
from ui.classroom.projector import join_link, projector_link
from ui.classroom.roster import roster_panel
from ui.polling import live_fragment
from ui.text import plain
from ui.workspace import current_workspace, link_params, private_link

LIVE_SECONDS = 3.0  # how often the teacher's table of students refreshes itself


def open_in_evaluate(run_id: str) -> None:
    """Opens a run on the Evaluate page, the workspace key kept in the address."""
    st.switch_page("pages/evaluate.py", query_params=link_params(run=run_id))


# Joining and creating ---------------------------------------------------------------------------------------


def _join() -> None:
    if too_many := guard.refused("join"):
        flash("error", plain(too_many))
        return
    code, nickname = st.session_state.get(state.JOIN_CODE, ""), st.session_state.get(state.NICKNAME, "")
    if (room := attempt(classes.join_class, code, nickname, current_workspace(), STORE_ROOT)) is None:
        return
    st.query_params.pop(state.JOIN_PARAM, None)
    st.session_state[state.JUST_JOINED] = True  # the seat link, shown large once
    flash("success", f"You joined “{plain(room.name)}” as {plain(room.members[current_workspace().workspace_id])}.")


def _create() -> None:
    if too_many := guard.refused("create_class"):
        flash("error", plain(too_many))
        return
    name = st.session_state.get(state.CLASS_NAME, "")
    if (room := attempt(classes.create_class, name, current_workspace(), STORE_ROOT)) is None:
        return
    st.session_state[state.TAUGHT] = room.class_id
    flash("success", f"Class “{plain(room.name)}” created. Give your students its join code.")


def join_panel() -> None:
    """A student's way in: the join code (from a join link, or typed) and a nickname."""
    linked = st.query_params.get(state.JOIN_PARAM)
    if linked and not st.session_state.get(state.JOIN_CODE):
        st.session_state[state.JOIN_CODE] = classes.normalise_code(linked)[: classes.CODE_LENGTH]
    with st.container(border=True):
        st.header("Join a class")
        st.text_input("Join code", key=state.JOIN_CODE, max_chars=16, placeholder="ABCD-EFGH",
                      help="Your teacher's code: 8 letters and digits.")
        st.text_input("Nickname", key=state.NICKNAME, max_chars=MAX_NICKNAME,
                      help="What your teacher and the leaderboard show. Letters, digits, spaces and . - _ ' only.")
        st.button("Join", type="primary", icon=":material/login:", on_click=_join, key=state.JOIN)
        st.caption("Your teacher will see the runs you make in the class and their results. Your classmates never "
                   "see your runs, unless your teacher shares one with the class. Some time after your teacher "
                   "closes the class, the runs you made in it are deleted: you are told before, and can download "
                   "any you want to keep. Runs you made before joining stay yours.")


def create_panel() -> None:
    """A teacher's way in: a class name."""
    with st.container(border=True):
        st.header("Teach a class")
        st.text_input("Class name", key=state.CLASS_NAME, max_chars=classes.MAX_CLASS_NAME,
                      placeholder="e.g. Year 11 · CNNs, lesson 2")
        st.button("Create the class", icon=":material/school:", on_click=_create, key=state.CREATE)
        st.caption("You get a join code for your students and a teacher link for you. Your students' runs, live "
                   "training and a leaderboard then appear here.")


# The teacher's view -----------------------------------------------------------------------------------------


def taught_classes(workspace: Workspace) -> list[ClassRoom]:
    """The classes this workspace teaches, open or closed (until deleted), the open ones first, newest first."""
    found = [room for class_id in reversed(workspace.teaches) if (room := classes.load_class(class_id, STORE_ROOT))]
    return sorted(found, key=lambda room: not room.is_open)


def links_panel(room: ClassRoom) -> None:
    st.markdown(f"## {plain(room.name)}")
    left, right = st.columns(2)
    with left:
        st.markdown("**Join code** for your students")
        st.code(f"{room.join_code[:4]}-{room.join_code[4:]}", language=None)
        st.markdown("**Join link** (or share this)")
        st.code(join_link(room), language=None, wrap_lines=True)
    with right:
        # The key is made once; afterwards the class record read for this page already holds it.
        key = room.projector or classes.projector_key(room.class_id, current_workspace(), STORE_ROOT)
        st.link_button("Projector view", projector_link(key),
                       icon=":material/co_present:", type="primary",
                       help="A page for the wall, in a new tab: the join code in large type, a QR code and the "
                            "leaderboard. It holds no key of yours: it can show, and change nothing.")
        # Beside the join code the teacher link ended up on projectors: it can close the class and see every run.
        with st.expander("Show my teacher link", icon=":material/key:", key=f"class_teacher_link_{room.class_id}"):
            st.code(private_link(), language=None, wrap_lines=True)
            st.caption("Keep it secret. Whoever opens it is this class's teacher: they see every student's runs, "
                       "and can share or close. It is your private workspace link; losing it means losing this "
                       "view.")
    roster_panel(room)


STUDENT_COLUMNS = {  # about 810 px at 1280 with the sidebar open: the detail (a refusal's reason) gets the room
    "student": st.column_config.TextColumn("student", width=150),
    "state": st.column_config.TextColumn("state", width=120, help="Who needs you first: blocked, failed, idle, "
                                                                  "no run yet, then queued, training, finished"),
    "detail": st.column_config.TextColumn("detail", width=360),
    "run": st.column_config.TextColumn("run", width=170),
}


def live_students(class_id: str, runs_on_board: int) -> None:
    """Every student's latest run, refreshed every few seconds (less often when the server is busy); when a
    run has been stored or removed since the page was drawn, the whole page runs again, so the leaderboard
    and curves follow. While the queue cannot be reached, the table stays as last seen, marked stale."""
    live_fragment(_students_table, state.PACE, LIVE_SECONDS, True, class_id, runs_on_board)


def _students_table(class_id: str, runs_on_board: int) -> None:
    room = classes.load_class(class_id, STORE_ROOT)
    if room is None:
        return
    runs = classes.class_runs(room, STORE_ROOT)
    if len(runs) != runs_on_board:
        st.rerun(scope="app")
    st.markdown(f"**Students** ({len(room.members)}): their latest run, live")
    if not room.members:
        st.caption("Nobody has joined yet.")
        return
    seen = st.session_state.setdefault(state.LAST_STUDENTS, {})
    try:
        rows = student_states(room, training_queue(), runs=runs)
        seen[class_id] = (rows, time.time())
        stale = ""
    except JobError as error:
        if class_id not in seen:
            st.error(plain(error), icon=":material/cloud_off:")
            return
        rows, when = seen[class_id]
        stale = time.strftime("%H:%M:%S", time.localtime(when))
        st.warning(f"The job queue cannot be reached right now, so this table is as it was at {stale} (stale). "
                   "Runs keep training meanwhile and report when the queue is back.", icon=":material/cloud_off:")
    # Nicknames and run names are the students' text: safe in the table toolbar's CSV download.
    st.dataframe(spreadsheet_safe(pd.DataFrame([{"student": row.nickname,
                                                 "state": f"{row.state} (stale)" if stale else row.state,
                                                 "detail": row.detail, "run": row.run_name} for row in rows])),
                 hide_index=True, width="stretch", height=table_height(len(rows)), column_config=STUDENT_COLUMNS)


def _share(class_id: str, run_id: str, shared: bool) -> None:
    if attempt(classes.share_run, class_id, run_id, current_workspace(), shared, STORE_ROOT) is None:
        return
    flash("success", "Shared with the class." if shared else "No longer shared.")


BOARD_VIEWS = {"best": "Each student's best run", "all": "All runs"}
ROW_PX, HEADER_PX = 35, 38  # a dataframe's row and header heights: a table this tall never scrolls inside


def table_height(rows: int) -> int:
    """The height that shows `rows` rows without an inner scroll bar (a class of 30 in one glance)."""
    return HEADER_PX + ROW_PX * max(rows, 1) + 2


def board_columns(every_run: bool) -> dict:
    """Column widths in pixels that fit the page at 1280 px with the sidebar open (about 810 px for the table):
    no column cut off, no sideways scrolling. Each student's best run leaves out the run's name (a class's runs
    are mostly a preset's name and differ little), which gives the student and the model more room."""
    name, model = (140, 140) if every_run else (200, 215)
    return {
        "rank": st.column_config.NumberColumn("rank", width=45),
        "student": st.column_config.TextColumn("student", width=name),
        "test accuracy": st.column_config.TextColumn("test accuracy", width=85),
        "model": st.column_config.TextColumn("model", width=model, help="A preset's name, or the layers in order"),
        "parameters": st.column_config.NumberColumn("parameters", width=85, format="localized"),
        "epochs": st.column_config.NumberColumn("epochs", width=55),
        "training s": st.column_config.NumberColumn("training s", width=75),
        "run": st.column_config.TextColumn("run", width=130) if every_run else None,
        "shared": st.column_config.TextColumn("shared", width=55),
    }


def leaderboard_panel(room: ClassRoom, runs: list[RunRecord]) -> None:
    every = leaderboard(room, runs)
    top, pick = st.columns([3, 2], vertical_alignment="bottom")
    top.markdown("**Leaderboard** by test accuracy")
    if st.session_state.get(state.BOARD_VIEW) not in BOARD_VIEWS:  # the first visit, or the choice clicked off
        st.session_state[state.BOARD_VIEW] = "best"
    view = pick.segmented_control("Show", list(BOARD_VIEWS), format_func=BOARD_VIEWS.__getitem__,
                                  key=state.BOARD_VIEW, label_visibility="collapsed") or "best"
    rows = every if view == "all" else best_per_student(every)
    if not rows:
        st.caption("No finished run yet: rows appear as your students' runs finish.")
        return
    st.dataframe(spreadsheet_safe(board_frame(rows)), hide_index=True, width="stretch",
                 column_config=board_columns(view == "all"), height=table_height(len(rows)))
    if view != "all" and len(every) > len(rows):
        st.caption(f"{len(every)} runs in all: pick “All runs” to see each student's every run.")
    rows = every  # the actions below reach any run, not only the best ones
    by_id = {row.run_id: row for row in rows}
    if st.session_state.get(state.PICKED_RUN) not in by_id:  # a run deleted meanwhile, or the first visit
        st.session_state[state.PICKED_RUN] = rows[0].run_id
    kept = [run_id for run_id in st.session_state.get(state.CURVE_RUNS, list(by_id)[:3]) if run_id in by_id]
    st.session_state[state.CURVE_RUNS] = kept
    picked = st.selectbox("Run", list(by_id), key=state.PICKED_RUN,
                          # No rank in the label: it changes as runs come in, and the browser's old label
                          # would match no run (`ui.choices`), moving the teacher's pick back to the first.
                          format_func=lambda run_id: f"{by_id[run_id].nickname} · {by_id[run_id].run_name} · "
                                                     f"{by_id[run_id].run_id}")
    if picked is None or picked not in by_id:
        return
    left, right = st.columns(2)
    if left.button("Open in Evaluate", icon=":material/analytics:", key=state.OPEN_EVALUATE):
        open_in_evaluate(picked)  # st.switch_page works in the script, not in a callback
    shared = by_id[picked].shared
    if room.is_open:  # a closed class shows its students nothing more
        right.button("Stop sharing" if shared else "Share with the class", icon=":material/share:",
                     on_click=_share, args=(room.class_id, picked, not shared), key=state.SHARE)
    records = {record.run_id: record for record in runs}
    chosen = st.multiselect("Overlay the curves of", list(by_id), key=state.CURVE_RUNS,
                            format_func=lambda run_id: f"{by_id[run_id].nickname} · {by_id[run_id].run_name}",
                            max_selections=8)
    if chosen:  # each curve named by its student, since a class's runs often share a preset's name
        curves = curve_rows([replace(records[run_id], name=f"{by_id[run_id].nickname} · {records[run_id].name}")
                             for run_id in chosen])
        left, right = st.columns(2)
        left.plotly_chart(figures.comparison_curves(curves, "loss"))
        right.plotly_chart(figures.comparison_curves(curves, "accuracy"))


def teacher_view(rooms: list[ClassRoom]) -> None:
    """The class on screen (the newest open one by default): links, live students, leaderboard, curves, results
    and closing; for a closed class, its status, the leaderboard, curves and results."""
    ids = [room.class_id for room in rooms]
    if st.session_state.get(state.TAUGHT) not in ids:
        st.session_state[state.TAUGHT] = ids[0]
    if len(rooms) > 1:
        names = {room.class_id: room.name + ("" if room.is_open else " (closed)") for room in rooms}
        st.selectbox("Class", ids, key=state.TAUGHT, format_func=names.__getitem__)
    room = next(room for room in rooms if room.class_id == st.session_state[state.TAUGHT])
    runs = classes.class_runs(room, STORE_ROOT)
    if not room.is_open:
        ending.closed_panel(room)
        leaderboard_panel(room, runs)
        ending.results_panel(room, runs)
        return
    links_panel(room)
    controls_panel(room)
    live_students(room.class_id, len(runs))
    leaderboard_panel(room, runs)
    ending.results_panel(room, runs)
    ending.close_panel(room)


# A student's view -------------------------------------------------------------------------------------------


def _leave() -> None:
    classes.leave_class(current_workspace(), STORE_ROOT)
    flash("success", "You left the class. Your runs stay yours.")


def seat_link(workspace: Workspace) -> None:
    """The student's way back to their seat (their private link): shown open once, right after joining, then
    behind an expander. A lost tab without it means joining again, and the teacher handing the seat back."""
    just_joined = st.session_state.pop(state.JUST_JOINED, False)
    with st.expander("Your seat link", icon=":material/event_seat:", expanded=just_joined,
                     key="class_seat_link_open"):
        st.code(private_link(), language=None, wrap_lines=True)
        st.caption(f"Bookmark it, or copy it somewhere safe: it brings you back to this class as "
                   f"{plain(workspace.nickname)}, with your runs, from this or any device. Keep it to yourself.")


def student_view(workspace: Workspace, room: ClassRoom | None) -> None:
    """The student's class: their rank, and the runs the teacher shared."""
    if room is not None and room.is_open and workspace.workspace_id not in room.members:
        st.info(f"Your teacher took you out of “{plain(room.name)}”. Your runs stay yours. Ask your teacher for "
                "the code to join again.", icon=":material/person_remove:")
        classes.leave_class(workspace, STORE_ROOT)
        return
    if room is None or workspace.workspace_id not in room.members:
        st.info("Your class has been deleted, with the runs you made in it. You can join another class.",
                icon=":material/lock:")
        classes.leave_class(workspace, STORE_ROOT)
        return
    if notice := student_notice(room):  # warned, or closed: the student stays in it until they leave
        st.warning(notice, icon=":material/lock_clock:" if room.is_open else ":material/lock:")
    if not room.is_open:
        st.button("Leave the class", icon=":material/logout:", on_click=_leave, key=state.LEAVE)
        return
    st.markdown(f"## {plain(room.name)}")
    st.markdown(f"You are in this class as **{plain(workspace.nickname)}**. Your teacher sees your runs.")
    seat_link(workspace)
    runs = list_runs(STORE_ROOT)
    rows = best_per_student(leaderboard(room, classes.class_runs(room, STORE_ROOT)))
    mine = best_rank(rows, workspace.workspace_id)
    if mine is None:
        st.metric("Your rank", "—", help="Train a run on the Train page: it joins the leaderboard when it finishes.")
        st.caption(f"{len(rows)} student{'s' if len(rows) != 1 else ''} on the leaderboard so far.")
    else:
        st.metric("Your rank", f"#{mine.rank} of {len(rows)}",
                  help="Your best run's place among your classmates' best runs, by test accuracy.")
        st.caption(f"Your best run, “{plain(mine.run_name)}”, reached {percent(mine.test_accuracy, 1)} test accuracy.")
    shared = [record for record in runs if record.run_id in room.shared]
    st.markdown("**Shared by your teacher**")
    if not shared:
        st.caption("Nothing shared yet.")
    for record in shared:
        with st.container(border=True):
            left, right = st.columns([4, 1])
            accuracy = record.metrics.get("test", {}).get("accuracy")
            left.markdown(f"**{plain(record.name)}** by {plain(room.members.get(record.owner, 'your teacher'))}"
                          + (f" · {percent(accuracy, 1)} test accuracy" if isinstance(accuracy, float) else ""))
            if right.button("Open in Evaluate", key=state.open_shared_key(record.run_id)):
                open_in_evaluate(record.run_id)
    st.button("Leave the class", icon=":material/logout:", on_click=_leave, key=state.LEAVE)
