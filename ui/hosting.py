"""Hosted mode in the pages: which runs this workspace sees, upload caps, and the store's upkeep.

Every page that lists or opens runs goes through `visible_runs` and `viewer`, so in hosted mode a
visitor sees only their own runs, their students' (as a teacher) and their class's shared runs,
and renames or deletes only their own (`core.store.access`).
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import streamlit as st

from core.classroom.classes import class_teachers
from core.classroom.closing import expire_classes, expire_closed_classes
from core.data.own_classes import expire_sets
from core.jobs.jobs import prune_jobs
from core.jobs.queue import training_queue
from core.store.access import Access
from core.store.hosting import CAPS, Limits, current_limits
from core.store.runs import STORE_ROOT, RunRecord, StoreListing, expire_runs, list_runs, remove_partials, scan_store
from core.store.workspaces import expire_workspaces, workspace_ids
from ui.state import OWNER
from ui.workspace import current_access, workspace_sidebar

_log = logging.getLogger(__name__)
_UPKEEP_EVERY = 300.0  # seconds between clean-ups, per server process
_upkeep = {"last": 0.0}
_upkeep_lock = threading.Lock()


def limits() -> Limits:
    return current_limits()


def owner() -> str:
    """This workspace's id: the owner of the jobs and runs it starts."""
    return st.session_state[OWNER]


def viewer() -> Access | None:
    """Who is asking, for the store's access rule: this workspace in hosted mode, else None (all runs)."""
    return current_access() if limits().hosted else None


def upkeep(root: Path = STORE_ROOT, force: bool = False) -> None:
    """Removes expired visitor runs, workspaces, closed classes and old job folders (hosted), and leftovers
    of crashed saves.

    Runs at most every few minutes per server process, so a page view stays cheap.
    """
    now = time.time()
    with _upkeep_lock:
        if not force and now - _upkeep["last"] < _UPKEEP_EVERY:
            return
        _upkeep["last"] = now
    caps = limits()
    for problem in caps.problems:  # the operator's typo, in the server log rather than on visitors' pages
        _log.warning(problem)
    remove_partials(root)
    if caps.hosted and caps.run_hours is not None:
        # A closed class is its teacher's to read for as long as a visitor's run is kept, then goes with its runs.
        expire_closed_classes(caps.run_hours, root, now)
        expire_runs(caps.run_hours, root, now)
        prune_jobs(root, older_than=caps.run_hours * 3600.0)
        expire_workspaces(caps.run_hours, root, now, keep=class_teachers(root))
        expire_sets(workspace_ids(root), root)  # a learner's own classes go with their workspace
    if caps.hosted and caps.class_hours is not None:
        expire_classes(caps.class_hours, root, now)


def visible_runs() -> list[RunRecord]:
    """The runs this session may see: shipped defaults first, then its own (hosted) or all (local)."""
    upkeep()
    return list_runs(viewer=viewer())


def visible_store() -> StoreListing:
    """What the Models page lists: the runs this session may see and its damaged ones, in one look at the store."""
    upkeep()
    return scan_store(viewer=viewer())


def warm_workers() -> None:
    """Gets the training queue ready: locally, starts the store's warm workers if no process runs them yet.

    Called when the Train page opens: a visitor spends longer choosing settings than a worker
    takes to import TensorFlow (about 4 s), so the first run starts warm too.
    """
    training_queue().warm()


def enforce_upload_cap() -> None:
    """Makes Streamlit's own upload endpoint refuse files over the cap (hosted mode), on the server.

    The widgets' `max_upload_size` is enforced by the browser only: three 40 MB files sent straight to the
    server were accepted and held 120 MB for the session, under the config file's 200 MB for local use. The
    endpoint reads `server.maxUploadSize` on every request, so the hosted cap is set there once per process;
    `STREAMLIT_SERVER_MAX_UPLOAD_SIZE` or the config file may set it lower still.
    """
    caps = limits()
    if not caps.hosted:
        return
    from streamlit import config  # Streamlit's own config store; st.set_option refuses server options

    if config.get_option("server.maxUploadSize") > caps.upload_mb:
        config.set_option("server.maxUploadSize", caps.upload_mb, f"{CAPS['upload_mb'].variable} (hosted mode)")


def upload_limit() -> int:
    """Megabytes for `st.file_uploader(max_upload_size=...)`."""
    return limits().upload_mb


def upload_too_big(data: bytes) -> str | None:
    """Our own check of an upload's size (the widget's cap is enforced by the browser)."""
    caps = limits()
    if len(data) > caps.upload_bytes:
        return f"The file is {len(data) / 2**20:.1f} MB; this server takes files up to {caps.upload_mb} MB."
    return None


def sidebar_note() -> None:
    """The private link; in hosted mode also what a visitor's runs are and which caps apply."""
    if OWNER not in st.session_state:  # the projector view: no workspace, nothing of one to show
        return
    workspace_sidebar()
    caps = limits()
    if not caps.hosted:
        return
    with st.sidebar:
        st.caption(f"**Shared server.** Your runs belong to your private workspace and are kept for "
                   f"{caps.run_hours:g} hours; download any you want to keep.")
        # Sixteen caps read as a wall of text in the sidebar: one line each, behind a click.
        with st.expander("This server's limits", icon=":material/tune:", key="hosting_limits"):
            st.markdown("\n".join(f"- {phrase}" for phrase in caps.summary()))
