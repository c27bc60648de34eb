"""The teacher's lesson controls: stop every run of the class, pause new Starts ("eyes on me"), and the class's
own caps on a run and on each student's runs (within the server's)."""

from __future__ import annotations

import streamlit as st

from core.classroom import control
from core.classroom.classes import ClassRoom, load_class
from core.jobs.jobs import JobError
from core.jobs.queue import training_queue
from core.store.runs import STORE_ROOT
from ui.classroom import state
from ui.classroom.messages import attempt, failure, flash
from ui.hosting import limits
from ui.workspace import current_workspace


def _stop_all(class_id: str) -> None:
    room = load_class(class_id, STORE_ROOT)
    if room is None:
        return
    try:
        stopped = control.stop_class_runs(room, training_queue())
    except JobError as error:
        flash("error", failure(error))
        return
    flash("success", f"Stopped {stopped} run{'s' if stopped != 1 else ''}: those training stop after their batch "
                     "and are saved as far as they got." if stopped else "No run of the class was waiting or "
                     "training.")


def _pause(class_id: str, paused: bool) -> None:
    if attempt(control.pause_class, class_id, current_workspace(), paused, STORE_ROOT) is None:
        return
    flash("success", "Starts are paused: your students' pages say so, and a Start is refused until you resume."
          if paused else
          "Starts are back on.")


def server_caps() -> dict[str, int | None]:
    """The server's caps that bound a class's own."""
    caps = limits()
    return {"max_epochs": caps.max_epochs, "max_train_images": caps.max_train_images,
            "runs_per_workspace": caps.runs_per_workspace}


def _save_caps(class_id: str) -> None:
    caps = control.ClassCaps(*(int(st.session_state.get(f"{key}_{class_id}") or 0) for key in state.CAP_FIELDS))
    if attempt(control.set_caps, class_id, current_workspace(), caps, server_caps(), STORE_ROOT) is None:
        return
    flash("success", "The class's caps are saved: they apply to the next Start.")


def controls_panel(room: ClassRoom) -> None:
    """Stop all and pause in one row, always in sight; the class caps behind an expander."""
    with st.container(horizontal=True, vertical_alignment="center"):
        st.button("Stop all runs", icon=":material/stop_circle:", on_click=_stop_all, args=(room.class_id,),
                  key=state.STOP_ALL, help="Every run of your students, waiting or training, stops now.")
        if room.paused:
            st.button("Resume Starts", icon=":material/play_circle:", on_click=_pause, args=(room.class_id, False),
                      key=state.PAUSE, type="primary")
            st.markdown(":material/pause_circle: **Starts are paused**: no student can start a run.")
        else:
            st.button("Pause Starts", icon=":material/pause_circle:", on_click=_pause, args=(room.class_id, True),
                      key=state.PAUSE, help="For “eyes on me”: no student can start a run until you resume. Runs "
                                            "already training go on (Stop all stops them).")
    caps = server_caps()
    with st.expander("Class caps", icon=":material/tune:", key=f"class_caps_open_{room.class_id}"):
        values = (room.max_epochs, room.max_images, room.max_runs)
        words = (("Epochs a run", "max_epochs"), ("Training images a run", "max_train_images"),
                 ("Runs a student", "runs_per_workspace"))
        for column, field, value, (label, name) in zip(st.columns(3), state.CAP_FIELDS, values, words, strict=True):
            ceiling, key = caps.get(name), f"{field}_{room.class_id}"  # per class: a second class has its own
            # The class's cap as saved, within the server's now (an operator may have lowered it since).
            st.session_state.setdefault(key, min(value, ceiling) if ceiling else value)
            column.number_input(label, min_value=0, max_value=ceiling, step=1, key=key,
                                help="0: no class cap" + (f" (the server allows {ceiling:,})" if ceiling else ""))
        st.button("Save the caps", icon=":material/save:", on_click=_save_caps, args=(room.class_id,),
                  key=state.SAVE_CAPS)
        st.caption("A Start over a cap is refused with the cap in words, and the student shows as blocked in the "
                   "table below.")
