"""The Class page's panels: join or create a class, the teacher's view, and a student's view.

Nicknames, class names and run names are user text: they reach the page through `plain` (Markdown)
or a dataframe cell, never as HTML.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import replace

import pandas as pd
import streamlit as st

from core.classroom import classes, closing
from core.classroom.board import best_per_student, best_rank, board_frame, leaderboard
from core.classroom.classes import ClassError, ClassRoom
from core.classroom.live import student_states
from core.classroom.nicknames import MAX_NICKNAME, NicknameError
from core.data.numbers import percent
from core.evaluate.comparison import curve_rows
from core.evaluate.spreadsheet import spreadsheet_safe
from core.jobs.jobs import JobError
from core.jobs.queue import training_queue
from core.store.runs import STORE_ROOT, RunRecord, list_runs
from core.store.workspaces import Workspace
from ui import figures, guard
from ui.classroom import state
from ui.classroom.projector import join_link, projector_link
from ui.polling import live_fragment
from ui.text import plain
from ui.workspace import current_workspace, link_params, private_link

LIVE_SECONDS = 3.0  # how often the teacher's table of students refreshes itself


def flash(kind: str, text: str) -> None:
    """Keeps an action's outcome to show once, after the rerun the action causes."""
    st.session_state[state.MESSAGE] = (kind, text)


def show_flash() -> None:
    """The last action's outcome, in a container that is always there: elements below keep their place in the
    page, so an open expander stays open on the next run."""
    kind, text = st.session_state.pop(state.MESSAGE, (None, ""))
    with st.container():
        if kind == "success":
            st.success(text, icon=":material/check_circle:")
        elif kind == "error":
            st.error(text, icon=":material/error:")


def open_in_evaluate(run_id: str) -> None:
    """Opens a run on the Evaluate page, the workspace key kept in the address."""
    st.switch_page("pages/evaluate.py", query_params=link_params(run=run_id))


# Joining and creating ---------------------------------------------------------------------------------------


def _join() -> None:
    if too_many := guard.refused("join"):
        flash("error", plain(too_many))
        return
    try:
        room = classes.join_class(st.session_state.get(state.JOIN_CODE, ""), st.session_state.get(state.NICKNAME, ""),
                                  current_workspace(), STORE_ROOT)
    except (ClassError, NicknameError) as error:
        flash("error", plain(error))
        return
    st.query_params.pop(state.JOIN_PARAM, None)
    flash("success", f"You joined “{plain(room.name)}” as {plain(room.members[current_workspace().workspace_id])}.")


def _create() -> None:
    if too_many := guard.refused("create_class"):
        flash("error", plain(too_many))
        return
    try:
        room = classes.create_class(st.session_state.get(state.CLASS_NAME, ""), current_workspace(), STORE_ROOT)
    except ClassError as error:
        flash("error", plain(error))
        return
    st.session_state[state.TAUGHT] = room.class_id
    flash("success", f"Class “{plain(room.name)}” created. Give your students its join code.")


def join_panel() -> None:
    """A student's way in: the join code (from a join link, or typed) and a nickname."""
    linked = st.query_params.get(state.JOIN_PARAM)
    if linked and not st.session_state.get(state.JOIN_CODE):
        st.session_state[state.JOIN_CODE] = classes.normalise_code(linked)[: classes.CODE_LENGTH]
    with st.container(border=True):
        st.subheader("Join a class")
        st.text_input("Join code", key=state.JOIN_CODE, max_chars=16, placeholder="ABCD-EFGH",
                      help="Your teacher's code: 8 letters and digits.")
        st.text_input("Nickname", key=state.NICKNAME, max_chars=MAX_NICKNAME,
                      help="What your teacher and the leaderboard show. Letters, digits, spaces and . - _ ' only.")
        st.button("Join", type="primary", icon=":material/login:", on_click=_join, key=state.JOIN)
        st.caption("Your teacher will see the runs you make in the class and their results. Your classmates never "
                   "see your runs, unless your teacher shares one with the class. When your teacher closes the "
                   "class, the runs you made in it are deleted (download any you want to keep). Runs you made "
                   "before joining stay yours.")


def create_panel() -> None:
    """A teacher's way in: a class name."""
    with st.container(border=True):
        st.subheader("Teach a class")
        st.text_input("Class name", key=state.CLASS_NAME, max_chars=classes.MAX_CLASS_NAME,
                      placeholder="e.g. Year 11 · CNNs, lesson 2")
        st.button("Create the class", icon=":material/school:", on_click=_create, key=state.CREATE)
        st.caption("You get a join code for your students and a teacher link for you. Your students' runs, live "
                   "training and a leaderboard then appear here.")


# The teacher's view -----------------------------------------------------------------------------------------


def taught_classes(workspace: Workspace) -> list[ClassRoom]:
    """The open classes this workspace teaches, newest first."""
    found = [classes.load_class(class_id, STORE_ROOT) for class_id in workspace.teaches]
    return [room for room in reversed(found) if room is not None and room.is_open]


def links_panel(room: ClassRoom) -> None:
    st.markdown(f"### {plain(room.name)}")
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


def _new_code(class_id: str) -> None:
    try:
        room = classes.new_join_code(class_id, current_workspace(), STORE_ROOT)
    except ClassError as error:
        flash("error", plain(error))
        return
    flash("success", f"New join code {room.join_code[:4]}-{room.join_code[4:]}: the old one no longer works. "
                     "Students already in the class stay.")


def _remove(class_id: str) -> None:
    room = classes.load_class(class_id, STORE_ROOT)
    picked = st.session_state.get(state.REMOVED_WHO) or []
    removed = []
    for member in picked:
        try:
            classes.remove_student(class_id, member, current_workspace(), STORE_ROOT)
        except ClassError as error:
            flash("error", plain(error))
            return
        removed.append(room.members.get(member, "?") if room else "?")
    st.session_state[state.REMOVED_WHO] = []
    if removed:
        flash("success", f"Took {plain(', '.join(removed))} out of the class; their runs stay theirs.")


def roster_panel(room: ClassRoom) -> None:
    """The teacher's hold on who is in: a new join code (the old one stops working) and taking students out."""
    with st.expander("Students and join code", icon=":material/group:", key=f"class_roster_{room.class_id}"):
        st.caption("If the code reached people who are not in your class, take them out and give the class a new "
                   "code: the old one stops working, and students already in stay.")
        st.button("New join code", icon=":material/autorenew:", key=state.NEW_CODE, on_click=_new_code,
                  args=(room.class_id,))
        if room.members:
            st.multiselect("Students to take out", list(room.members), key=state.REMOVED_WHO,
                           format_func=lambda member: room.members.get(member, "?"))
            st.button("Take them out", icon=":material/person_remove:", key=state.REMOVE, on_click=_remove,
                      args=(room.class_id,), disabled=not st.session_state.get(state.REMOVED_WHO))


def live_students(class_id: str, runs_on_board: int) -> None:
    """Every student's latest run, refreshed every few seconds (less often when the server is busy); when a
    run has been stored or removed since the page was drawn, the whole page runs again, so the leaderboard
    and curves follow. While the queue cannot be reached, the table stays as last seen, marked stale."""
    live_fragment(_students_table, state.PACE, LIVE_SECONDS, True, class_id, runs_on_board)


def _students_table(class_id: str, runs_on_board: int) -> None:
    room = classes.load_class(class_id, STORE_ROOT)
    if room is None:
        return
    if len(classes.class_runs(room, STORE_ROOT)) != runs_on_board:
        st.rerun(scope="app")
    st.markdown(f"**Students** ({len(room.members)}): their latest run, live")
    if not room.members:
        st.caption("Nobody has joined yet.")
        return
    seen = st.session_state.setdefault(state.LAST_STUDENTS, {})
    try:
        rows = student_states(room, training_queue())
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
                 hide_index=True, width="stretch", height=table_height(len(rows)))


def _share(class_id: str, run_id: str, shared: bool) -> None:
    try:
        classes.share_run(class_id, run_id, current_workspace(), shared, STORE_ROOT)
    except ClassError as error:
        flash("error", plain(error))
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


STOP_WAIT_SECONDS = 15  # closing waits this long for stopped runs to be stored (the upkeep catches later ones)


def _active(queue) -> list:
    try:
        return queue.active()
    except JobError:
        return []


def _close(class_id: str) -> None:
    teacher = current_workspace()
    room = classes.load_class(class_id, STORE_ROOT)
    queue = training_queue()
    members = room.members if room is not None else {}
    for job in _active(queue):  # runs still waiting or training would be stored after the class is gone
        if job.owner in members:
            with contextlib.suppress(JobError):  # ended meanwhile
                queue.cancel(job.job_id)
    try:
        removed = closing.close_class(class_id, teacher, STORE_ROOT)
    except ClassError as error:
        flash("error", plain(error))
        return
    # A stopped run is still stored, a moment later: wait for them (a batch, then the save), then remove it.
    deadline = time.monotonic() + STOP_WAIT_SECONDS
    while time.monotonic() < deadline and any(job.owner in members for job in _active(queue)):
        time.sleep(0.25)
    removed += closing.remove_late_class_runs(STORE_ROOT)
    st.session_state.pop(state.TAUGHT, None)
    flash("success", f"Class closed: {len(removed)} student run{'s' if len(removed) != 1 else ''} removed.")


@st.cache_resource(max_entries=4, show_spinner=False)
def _results_zip(class_id: str, fingerprint: str) -> bytes:
    # One zip a class and state of its runs, shared by the teacher's tabs; a new run makes a new fingerprint.
    room = classes.load_class(class_id, STORE_ROOT)
    return closing.class_archive(room, STORE_ROOT) if room is not None else b""


def _fingerprint(room: ClassRoom, runs: list[RunRecord]) -> str:
    return repr((sorted((record.run_id, record.name, record.created) for record in runs), sorted(room.members.items()),
                 sorted(room.shared), room.closed))


def results_panel(room: ClassRoom, runs: list[RunRecord]) -> None:
    """The lesson's results, one click away: every model, every run's settings and metrics, and the leaderboard.

    The zip is made when the page is drawn (again when a run lands: the live table reruns the page), not on the
    click: a file made on the click belongs to no session, and Streamlit deletes such a file after the next two
    script runs of any session, which in a class of live tabs came before the browser fetched it.
    """
    data = _results_zip(room.class_id, _fingerprint(room, runs))
    left, right = st.columns([2, 3], vertical_alignment="center")
    left.download_button("Download results (.zip)", data=data, file_name=f"class-results-{room.class_id}.zip",
                         mime="application/zip", icon=":material/download:", on_click="ignore",
                         key=state.RESULTS, type="primary")
    right.caption(f"{len(runs)} run{'s' if len(runs) != 1 else ''} · {len(data) / 1e6:.1f} MB: `leaderboard.csv` "
                  "(each student's best run), `runs.csv` (every run's settings and metrics), and each run's "
                  "model.keras and meta.json in a folder per student.")


def close_panel(room: ClassRoom) -> None:
    with st.expander("End of the lesson: close the class", icon=":material/lock:",
                     expanded=bool(st.session_state.get(state.CLOSE_CONFIRM))):
        st.caption("Download the results first (above).")
        confirmed = st.checkbox("I understand: closing deletes every student run of this class, and its code "
                                "stops working.", key=state.CLOSE_CONFIRM)
        st.button("Close the class", type="primary", disabled=not confirmed, on_click=_close, args=(room.class_id,),
                  icon=":material/lock:", key=state.CLOSE)


def teacher_view(rooms: list[ClassRoom]) -> None:
    """The class on screen (the newest by default): links, live students, leaderboard, curves, closing."""
    ids = [room.class_id for room in rooms]
    if st.session_state.get(state.TAUGHT) not in ids:
        st.session_state[state.TAUGHT] = ids[0]
    if len(rooms) > 1:
        names = {room.class_id: room.name for room in rooms}
        st.selectbox("Class", ids, key=state.TAUGHT, format_func=names.__getitem__)
    room = next(room for room in rooms if room.class_id == st.session_state[state.TAUGHT])
    links_panel(room)
    runs = classes.class_runs(room, STORE_ROOT)
    live_students(room.class_id, len(runs))
    leaderboard_panel(room, runs)
    results_panel(room, runs)
    close_panel(room)


# A student's view -------------------------------------------------------------------------------------------


def _leave() -> None:
    classes.leave_class(current_workspace(), STORE_ROOT)
    flash("success", "You left the class. Your runs stay yours.")


def student_view(workspace: Workspace, room: ClassRoom | None) -> None:
    """The student's class: their rank, and the runs the teacher shared."""
    if room is not None and room.is_open and workspace.workspace_id not in room.members:
        st.info(f"Your teacher took you out of “{plain(room.name)}”. Your runs stay yours. Ask your teacher for "
                "the code to join again.", icon=":material/person_remove:")
        classes.leave_class(workspace, STORE_ROOT)
        return
    if room is None or not room.is_open or workspace.workspace_id not in room.members:
        name = f"“{plain(room.name)}”" if room is not None else "Your class"
        st.info(f"{name} has been closed, so the runs you made in it are gone. You can join another class.",
                icon=":material/lock:")
        classes.leave_class(workspace, STORE_ROOT)
        return
    st.markdown(f"### {plain(room.name)}")
    st.markdown(f"You are in this class as **{plain(workspace.nickname)}**. Your teacher sees your runs.")
    runs = list_runs(STORE_ROOT)
    rows = leaderboard(room, runs)
    mine = best_rank(rows, workspace.workspace_id)
    if mine is None:
        st.metric("Your rank", "—", help="Train a run on the Train page: it joins the leaderboard when it finishes.")
        st.caption(f"{len(rows)} run{'s' if len(rows) != 1 else ''} on the leaderboard so far.")
    else:
        st.metric("Your rank", f"#{mine.rank} of {len(rows)}",
                  help="Your best run's place among the class's runs, by test accuracy.")
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
