"""The teacher's roster: a new join code, locking the class to new joins, renaming a student, handing a lost seat
back (merging a ghost into the student's new seat), and taking students out."""

from __future__ import annotations

import streamlit as st

from core.classroom import classes, roster
from core.classroom.classes import ClassRoom
from core.classroom.nicknames import MAX_NICKNAME
from core.store.runs import STORE_ROOT
from ui.classroom import state
from ui.classroom.messages import attempt, flash
from ui.text import plain
from ui.workspace import current_workspace


def _new_code(class_id: str) -> None:
    if (room := attempt(classes.new_join_code, class_id, current_workspace(), STORE_ROOT)) is None:
        return
    flash("success", f"New join code {room.join_code[:4]}-{room.join_code[4:]}: the old one no longer works. "
                     "Students already in the class stay.")


def _remove(class_id: str) -> None:
    room = classes.load_class(class_id, STORE_ROOT)
    picked = st.session_state.get(state.REMOVED_WHO) or []
    removed = []
    for member in picked:
        if attempt(classes.remove_student, class_id, member, current_workspace(), STORE_ROOT) is None:
            return
        removed.append(room.members.get(member, "?") if room else "?")
    st.session_state[state.REMOVED_WHO] = []
    if removed:
        flash("success", f"Took {plain(', '.join(removed))} out of the class; their runs stay theirs.")


def _lock(class_id: str, locked: bool) -> None:
    if attempt(roster.lock_class, class_id, current_workspace(), locked, STORE_ROOT) is None:
        return
    flash("success", "The class is locked: nobody new can join; your students can still come back." if locked
          else "The class is open to new students again.")


def _rename(class_id: str) -> None:
    member = st.session_state.get(state.RENAMED_WHO)
    nickname = st.session_state.get(state.NEW_NICKNAME, "")
    if (room := attempt(roster.rename_student, class_id, member, nickname, current_workspace(), STORE_ROOT)) is None:
        return
    st.session_state[state.NEW_NICKNAME] = ""
    flash("success", f"Renamed: now {plain(room.members[member])}.")


def _merge(class_id: str) -> None:
    ghost, into = st.session_state.get(state.GHOST), st.session_state.get(state.MERGE_INTO)
    if (room := attempt(roster.merge_students, class_id, ghost, into, current_workspace(), STORE_ROOT)) is None:
        return
    flash("success", f"Seat handed back: the student's new tab is {plain(room.members[into])} again, with that "
                     "seat's runs.")


def roster_panel(room: ClassRoom) -> None:
    """The teacher's hold on who is in: a new join code, a lock on joins, renaming, handing a lost seat back, and
    taking students out."""
    with st.expander("Students and join code", icon=":material/group:", key=f"class_roster_{room.class_id}"):
        st.caption("If the code reached people who are not in your class, take them out and give the class a new "
                   "code: the old one stops working, and students already in stay. Or lock the class once "
                   "everyone is in.")
        with st.container(horizontal=True):
            st.button("New join code", icon=":material/autorenew:", key=state.NEW_CODE, on_click=_new_code,
                      args=(room.class_id,))
            if room.locked:
                st.button("Let new students join", icon=":material/lock_open:", key=state.LOCK, on_click=_lock,
                          args=(room.class_id, False))
            else:
                st.button("Lock the class to new joins", icon=":material/lock_person:", key=state.LOCK,
                          on_click=_lock, args=(room.class_id, True))
        if room.locked:
            st.caption(":material/lock_person: Locked: nobody new can join.")
        if not room.members:
            return
        for key in (state.RENAMED_WHO, state.GHOST, state.MERGE_INTO):  # a student taken out or merged meanwhile:
            if st.session_state.get(key) not in room.members:  # a picker must not show a name that is gone
                st.session_state.pop(key, None)
        names = room.members.get
        st.markdown("**Rename a student**")
        left, right = st.columns(2, vertical_alignment="bottom")
        left.selectbox("Student", list(room.members), key=state.RENAMED_WHO, format_func=lambda m: names(m, "?"))
        right.text_input("New nickname", key=state.NEW_NICKNAME, max_chars=MAX_NICKNAME)
        st.button("Rename", icon=":material/edit:", key=state.RENAME, on_click=_rename, args=(room.class_id,),
                  disabled=not st.session_state.get(state.NEW_NICKNAME))
        if len(room.members) > 1:
            st.markdown("**Hand a lost seat back**")
            st.caption("A student who lost their tab joins again under another name. Pick their old seat and the "
                       "new one: the new one takes the old name and its runs, and the old seat goes.")
            left, right = st.columns(2)
            left.selectbox("Old seat (the lost tab)", list(room.members), key=state.GHOST,
                           format_func=lambda m: names(m, "?"))
            right.selectbox("The student's new seat", list(room.members), key=state.MERGE_INTO,
                            index=len(room.members) - 1, format_func=lambda m: names(m, "?"))
            st.button("Hand the seat back", icon=":material/move_up:", key=state.MERGE, on_click=_merge,
                      args=(room.class_id,),
                      disabled=st.session_state.get(state.GHOST) == st.session_state.get(state.MERGE_INTO))
        st.markdown("**Take students out**")
        st.multiselect("Students to take out", list(room.members), key=state.REMOVED_WHO,
                       format_func=lambda member: room.members.get(member, "?"))
        st.button("Take them out", icon=":material/person_remove:", key=state.REMOVE, on_click=_remove,
                  args=(room.class_id,), disabled=not st.session_state.get(state.REMOVED_WHO))
