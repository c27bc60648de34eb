"""Loaded Keras models, cached per server process (`st.cache_resource`), keyed by file path and mtime.

A cached model is shared by every session: callers must never train, compile or otherwise mutate
it. Keying by mtime means a file replaced on disk is loaded afresh. TensorFlow is imported only
when a model is first loaded, by the pages that need one (Evaluate, Predict).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from core.store.records import model_file_problem
from core.store.runs import MODEL_FILE, StoreError, run_folder
from ui.hosting import viewer
from ui.keras_loader import import_keras


def model_key(run_id: str) -> tuple[str, float]:
    """(path, mtime) of a run's model file: the cache key.

    Raises:
        core.store.runs.StoreError: If there is no such run.
    """
    path = run_folder(run_id, viewer=viewer()) / MODEL_FILE
    return str(path), path.stat().st_mtime


@st.cache_resource(max_entries=6, show_spinner="Loading the model…")
def load_model_at(path: str, mtime: float):
    """The model in a file, cached by (path, mtime): pass `model_key`'s result."""
    keras = import_keras()
    return keras.saving.load_model(Path(path), safe_mode=True, compile=False)


def load_problem(run_id: str, error: Exception) -> str:
    """Why a run's model could not be loaded or run, naming the real problem when it is the file.

    Keras answers a truncated .keras file with "File not found", although the file is there.
    """
    try:
        problem = model_file_problem(run_folder(run_id, viewer=viewer()) / MODEL_FILE)
    except StoreError:
        problem = "The run is no longer in the store."
    return problem or f"{type(error).__name__}: {str(error)[:300]}"


def load_run_model(run_id: str):
    """The run's Keras model, shared and read-only."""
    return load_model_at(*model_key(run_id))


@st.cache_resource(show_spinner=False)
def load_digit_check():
    """The digit check's model and threshold, shared by every session; None when its files are missing or damaged.

    Predict then works as before, without the check, and says so.
    """
    import_keras()
    from core.predict import rejection

    try:
        return rejection.load_check(), rejection.read_threshold()
    except Exception:  # a missing or damaged check must not take the Predict page down
        return None
