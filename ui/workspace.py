"""The visitor's workspace in the pages: found from the address (`?ws=…`), kept there, and shown as their private link.

Every run starts here (`ensure_workspace`, from `ui.navigation.init_state`): the address's key
wins if this server issued it; otherwise the session's key; otherwise a new workspace is created.
The key is then written back into the address, so it survives every page switch and a reload, and
the app's own links carry it (`link_params`). A link meant for someone else (the Playground's
"share" link, a class's join link) never does.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode, urlsplit, urlunsplit

import streamlit as st

from core.classroom.classes import access_for
from core.store.access import Access
from core.store.runs import STORE_ROOT
from core.store.workspaces import Workspace, WorkspaceError, create_workspace, key_hint, open_workspace, read_workspace
from ui import state
from ui.guard import refused
from ui.text import plain

WS_PARAM = "ws"
_log = logging.getLogger(__name__)


def ensure_workspace() -> None:
    """Resolves this run's workspace and keeps its key in the address. Call once per run, first."""
    from_address = st.query_params.get(WS_PARAM)
    key = st.session_state.get(state.WORKSPACE_KEY)
    workspace = None
    if from_address is not None and from_address != key:
        try:
            workspace, key = open_workspace(from_address, STORE_ROOT), from_address
        except WorkspaceError as error:
            st.session_state[state.WORKSPACE_PROBLEM] = str(error)
            _log.info("refused a workspace key %s", key_hint(from_address))
    if workspace is None and key:
        try:
            workspace = open_workspace(key, STORE_ROOT)
        except WorkspaceError:  # expired while the tab stayed open
            st.session_state[state.WORKSPACE_PROBLEM] = ("Your workspace expired on this server, with its runs. "
                                                         "A new one was started for you.")
    if workspace is None:
        if too_many := refused("workspace"):
            st.error(plain(too_many) + " If you have a private link (with ?ws=…), open it: it needs no new "
                     "workspace.", icon=":material/block:")
            st.stop()
        key, workspace = create_workspace(STORE_ROOT)
        st.session_state[state.WORKSPACE_NOTICE] = True
    st.session_state[state.WORKSPACE_KEY] = key
    st.session_state[state.OWNER] = workspace.workspace_id
    if st.query_params.get(WS_PARAM) != key:
        st.query_params[WS_PARAM] = key


def current_key() -> str:
    """This visitor's workspace key (the secret in their private link)."""
    return st.session_state[state.WORKSPACE_KEY]


def current_workspace() -> Workspace:
    """This visitor's workspace record as stored now (another tab may have joined a class meanwhile)."""
    identifier = st.session_state[state.OWNER]
    return read_workspace(identifier, STORE_ROOT) or Workspace(identifier, 0.0, 0.0)


def current_access() -> Access | None:
    """What this workspace may read: its runs, its students' (as a teacher) and its class's shared runs."""
    return access_for(current_workspace(), STORE_ROOT)


def link_params(**extra: str) -> dict[str, str]:
    """Query parameters for a link inside the app: the workspace key first, then `extra`."""
    return {WS_PARAM: current_key(), **extra}


def address(params: dict[str, str], page: str | None = None) -> str:
    """This page's full address with `params` as its query (relative when the address is unknown, as in tests).

    Args:
        params: The query.
        page: Another page's url path (e.g. "classroom"), on this server and under its base path.
    """
    parts = urlsplit(st.context.url or "")
    path = parts.path
    if page is not None:
        path = f"{path.rsplit('/', 1)[0] if path.count('/') > 1 else ''}/{page}"
    return urlunsplit((parts.scheme, parts.netloc, path, urlencode(params), ""))


def private_link() -> str:
    """This page's address with the workspace key: what a visitor bookmarks."""
    return address(link_params())


def workspace_sidebar() -> None:
    """The private link in the sidebar, the notice once for a new workspace, and why an address's key was refused."""
    problem = st.session_state.pop(state.WORKSPACE_PROBLEM, None)
    with st.sidebar:
        # The one-time notes sit in a container that is always there: when they go on the next run, everything
        # below keeps its place in the sidebar, so an expander a visitor opened (the zip upload) stays open.
        with st.container():
            if problem:
                st.warning(problem, icon=":material/key_off:")
            if st.session_state.pop(state.WORKSPACE_NOTICE, False):
                st.info("This is your **private workspace**. Its link, below, is the only key to your runs: "
                        "bookmark it. Anyone with it sees your work, and losing it means losing access.",
                        icon=":material/key:")
        with st.expander("Your private link: bookmark it", icon=":material/key:"):
            st.code(private_link(), language=None, wrap_lines=True)
            st.caption("Open it on any device, in any tab, to see your runs and your training. Keep it to yourself.")
