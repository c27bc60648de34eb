"""Session-state keys more than one page reads, and their defaults.

Each page's own keys live in its ui package's `state` module (`ui.explorer.state`, `ui.train.state`,
…), with the keys it keeps across page changes; `ui.navigation.init_state` keeps and initialises
them all on every run.
"""

from __future__ import annotations

import streamlit as st

from core.data.datasets import DEFAULT_DATASET
from ui.persist import KeptKeys

DATASET = "dataset"  # the chosen dataset's key: a built-in name or an uploaded folder's key (Explorer and Train)
UPLOADED_DATASETS = "uploaded_datasets"  # dict: key → core.data.datasets.Dataset, this session's uploads only
OWNER = "session_owner"  # the workspace id (`core.store.workspaces.workspace_id`): the owner of its jobs and runs
WORKSPACE_KEY = "workspace_key"  # the workspace's secret key, as in the address's `?ws=`
WORKSPACE_PROBLEM = "workspace_problem"  # why the address's key was not used, shown once
WORKSPACE_NOTICE = "workspace_notice"  # True until the new workspace's notice has been shown once

KEPT = KeptKeys("ui.state", keys=(DATASET,))
REMEMBERED = KeptKeys("ui.state", keys=(DATASET,))  # kept on disk with the workspace (`ui.navigation.remember`)
RESTORED = "settings_restored"  # the workspace whose remembered settings this session took
SAVED = "settings_saved"  # the remembered settings as last written, so an unchanged run writes nothing


def init_shared_state() -> None:
    """Sets the shared keys' defaults where they are missing."""
    if DATASET not in st.session_state:
        st.session_state[DATASET] = DEFAULT_DATASET
    if UPLOADED_DATASETS not in st.session_state:
        st.session_state[UPLOADED_DATASETS] = {}
