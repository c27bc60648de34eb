"""The end of a lesson, for its teacher: the results zip, warning the students, closing, and a closed class (still
readable, reopened or deleted).

A closed class keeps its runs for its teacher until it is deleted: by its teacher, or by the upkeep on a hosted
server `run_hours` after the closing (`core.classroom.closing.expire_closed_classes`). What the students are told
is `ui.class_notice`, on every page.
"""

from __future__ import annotations

import contextlib
import time

import streamlit as st

from core.classroom import classes, closing, control
from core.classroom.classes import ClassRoom
from core.jobs.jobs import JobError
from core.jobs.queue import training_queue
from core.store.runs import STORE_ROOT, RunRecord
from ui.class_notice import clock, kept_until
from ui.classroom import state
from ui.classroom.messages import attempt, flash
from ui.text import plain
from ui.workspace import current_workspace

STOP_WAIT_SECONDS = 15  # closing waits this long for its stopped runs to be stored, so the results hold them


# The results ------------------------------------------------------------------------------------------------


@st.cache_resource(max_entries=2, show_spinner=False)  # each up to MAX_ARCHIVE_BYTES
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


# Closing ----------------------------------------------------------------------------------------------------


def _active(queue) -> list:
    try:
        return queue.active()
    except JobError:
        return []


def _warn(class_id: str, on: bool) -> None:
    if attempt(closing.warn_class, class_id, current_workspace(), STORE_ROOT, now=None if on else 0.0) is None:
        return
    flash("success", "Your students now see that the class is about to close, on every page they open."
          if on else "The warning is taken back.")


def _close(class_id: str) -> None:
    teacher = current_workspace()
    room = classes.load_class(class_id, STORE_ROOT)
    queue = training_queue()
    members = room.members if room is not None else {}
    stopped = 0
    if room is not None:  # a lesson's end: nothing of the class keeps training
        with contextlib.suppress(JobError):  # the queue out of reach: the class closes all the same
            stopped = control.stop_class_runs(room, queue)
    if (room := attempt(closing.close_class, class_id, teacher, STORE_ROOT)) is None:
        return
    # A stopped run is still stored, a moment later (a batch, then the save): wait, so the results hold it.
    deadline = time.monotonic() + STOP_WAIT_SECONDS
    while time.monotonic() < deadline and any(job.owner in members for job in _active(queue)):
        time.sleep(0.25)
    st.session_state.pop(state.CLOSE_CONFIRM, None)
    runs = f" ({stopped} run{'s' if stopped != 1 else ''} stopped)" if stopped else ""
    flash("success", f"Class closed{runs}. Its results stay here {kept_until(room)}, and you can reopen it until "
                     "then.")


def close_panel(room: ClassRoom) -> None:
    """Warn the students, then close: the code stops working, runs stop, and the results stay readable here."""
    with st.expander("End of the lesson: close the class", icon=":material/lock:",
                     expanded=bool(st.session_state.get(state.CLOSE_CONFIRM) or room.warned),
                     key=f"class_close_open_{room.class_id}"):
        if room.warned:
            st.info(f"Your students were told at {clock(room.warned)} that the class is about to close.",
                    icon=":material/campaign:")
            st.button("Take the warning back", icon=":material/undo:", on_click=_warn, args=(room.class_id, False),
                      key=state.WARN)
        else:
            st.button("Warn the students", icon=":material/campaign:", on_click=_warn, args=(room.class_id, True),
                      key=state.WARN, help="Every student's pages say the class is about to close, so they can "
                                           "download the runs they want to keep.")
        confirmed = st.checkbox(f"I understand: closing stops the class's runs and its code stops working. Its runs "
                                f"stay readable here {kept_until(room)}, then they are deleted.",
                                key=state.CLOSE_CONFIRM)
        st.button("Close the class", type="primary", disabled=not confirmed, on_click=_close, args=(room.class_id,),
                  icon=":material/lock:", key=state.CLOSE)


# A closed class ---------------------------------------------------------------------------------------------


def _reopen(class_id: str) -> None:
    if (room := attempt(closing.reopen_class, class_id, current_workspace(), STORE_ROOT)) is None:
        return
    flash("success", f"“{plain(room.name)}” is open again, with the same join code and students.")


def _delete(class_id: str) -> None:
    if (removed := attempt(closing.delete_class, class_id, current_workspace(), STORE_ROOT)) is None:
        return
    st.session_state.pop(state.TAUGHT, None)
    st.session_state.pop(state.DELETE_CONFIRM, None)
    flash("success", f"Class deleted, with its {len(removed)} run{'s' if len(removed) != 1 else ''}.")


def closed_panel(room: ClassRoom) -> None:
    """A closed class's status, and its teacher's two ways on: reopen it, or delete it now."""
    st.markdown(f"## {plain(room.name)}")
    st.info(f"Closed at {clock(room.closed)}: its code no longer lets anyone join. Its results stay here "
            f"{kept_until(room)}; you can reopen it until then.", icon=":material/lock:")
    left, right = st.columns(2)
    left.button("Reopen the class", icon=":material/lock_open:", on_click=_reopen, args=(room.class_id,),
                key=state.REOPEN)
    with right.popover("Delete it now", icon=":material/delete:"):
        confirmed = st.checkbox("Delete the class and every run made in it", key=state.DELETE_CONFIRM)
        st.button("Delete", type="primary", disabled=not confirmed, on_click=_delete, args=(room.class_id,),
                  key=state.DELETE)
