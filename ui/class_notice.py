"""What a student is told about their class's end (about to close, closed) or a pause, on every page: a student
spends the lesson on Train, not on the Class page. The teacher's side is `ui.classroom.ending`."""

from __future__ import annotations

import time

import streamlit as st

from core.classroom import classes
from core.classroom.classes import ClassRoom
from core.store.runs import STORE_ROOT
from ui.hosting import limits
from ui.state import OWNER
from ui.text import plain
from ui.workspace import current_workspace


def clock(when: float) -> str:
    """A time a teacher or student reads on the page: "14:05", with the day if it is not today."""
    today = time.strftime("%Y-%m-%d") == time.strftime("%Y-%m-%d", time.localtime(when))
    return time.strftime("%H:%M" if today else "%a %d %b, %H:%M", time.localtime(when))


def kept_until(room: ClassRoom, teacher: bool = True) -> str:
    """How long a closed (or closing) class's runs stay: "until 20:05" on a hosted server (where the upkeep deletes
    it), else until its teacher deletes it."""
    hours = limits().run_hours if limits().hosted else None
    if hours is None:
        return "until you delete it" if teacher else "until your teacher deletes the class"
    return f"until {clock((room.closed or time.time()) + hours * 3600.0)}"


def student_notice(room: ClassRoom | None) -> str:
    """What a student is told about their class's end, or "" while it goes on as usual."""
    if room is None:
        return ""
    if room.is_open and room.paused:
        return "Your teacher has paused training for the class: Start works again when they resume it."
    if room.is_open and room.warned:
        return (f"Your teacher is about to close “{plain(room.name)}”. The runs you made in it will be kept "
                f"{kept_until(room, teacher=False)}, then deleted: download any you want to keep from the Models "
                "page.")
    if not room.is_open:
        return (f"“{plain(room.name)}” is closed. The runs you made in it are kept {kept_until(room, teacher=False)}, "
                "then deleted: download any you want to keep from the Models page.")
    return ""


def class_sidebar_note() -> None:
    """On every page of a student whose class is closing or closed, the notice in the sidebar: a student spends
    the lesson on Train, not on the Class page."""
    if OWNER not in st.session_state:  # the projector view has no workspace, hence nothing to say
        return
    workspace = current_workspace()
    room = classes.load_class(workspace.class_id, STORE_ROOT) if workspace.class_id else None
    if room is not None and workspace.workspace_id in room.members and (notice := student_notice(room)):
        st.sidebar.warning(notice, icon=":material/lock_clock:")  # not for a student taken out meanwhile
