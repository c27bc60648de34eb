"""Session-state keys shared across pages, and their initialisation.

Streamlit forgets a widget's value when the page that shows it is not rendered in a run, so
values that must survive a visit to another page are kept by `ui.persist.keep` on every run.
"""

from __future__ import annotations

import uuid

import streamlit as st

from core.data.datasets import DEFAULT_DATASET
from ui.persist import keep, keys_with_prefix
from ui.playground.state import init_playground_state

DATASET = "dataset"  # the chosen dataset's key: a built-in name or an uploaded folder's key
SPLIT = "explorer_split"  # "train" or "test"
IMAGE_INDEX = "explorer_image_index"  # the image shown in detail, a position in the split
SECTION = "explorer_section"
UPLOADED_DATASETS = "uploaded_datasets"  # dict: key → core.data.datasets.Dataset, this session's uploads only
OWNER = "session_owner"  # a random id naming this session as the owner of its training jobs

_DEFAULTS = {DATASET: DEFAULT_DATASET, SPLIT: "train", IMAGE_INDEX: 0, SECTION: "Overview", UPLOADED_DATASETS: {}}
_KEPT_ACROSS_PAGES = (DATASET, SPLIT, IMAGE_INDEX, SECTION)
# The Train page's widgets (hyperparameters, layer settings, preset, run name) and the Evaluate
# page's run and view, by key prefix.
_KEPT_PREFIXES = ("hp_", "layer_", "train_preset", "train_add_kind", "train_run_name", "eval_run", "eval_view",
                  "predict_run", "predict_source")


def init_state() -> None:
    """Keeps cross-page widget values alive and sets defaults for missing keys. Call once per run."""
    keep([*_KEPT_ACROSS_PAGES, *keys_with_prefix(_KEPT_PREFIXES)])
    for key, value in _DEFAULTS.items():
        if key not in st.session_state:
            st.session_state[key] = value.copy() if isinstance(value, dict) else value
    if OWNER not in st.session_state:
        st.session_state[OWNER] = uuid.uuid4().hex
    init_playground_state()
