"""An action's outcome, kept to show once after the rerun the action causes (a callback's own output would be
drawn above the page and vanish)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import streamlit as st

from core.classroom.classes import ClassError
from core.classroom.nicknames import NicknameError
from ui.classroom import state
from ui.text import plain

T = TypeVar("T")


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


def attempt(action: Callable[..., T], *args: object, **kwargs: object) -> T | None:
    """Runs a class action of a button's callback. A refusal (`ClassError`, `NicknameError`) or a disk that
    refused to write is kept to show once (`failure`), and None returned: the callback then stops."""
    try:
        return action(*args, **kwargs)
    except (ClassError, NicknameError, OSError) as error:
        flash("error", failure(error))
        return None


def failure(error: Exception) -> str:
    """An action's error in words: a refusal's own message, or for a disk that refused to write, what happened
    without the server's paths."""
    if isinstance(error, OSError):
        return (f"The server could not save this ({error.strerror or 'its disk refused'}). Nothing was changed; try "
                "again in a moment.")
    return plain(error)
