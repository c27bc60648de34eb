"""The model store's table and actions: rename, delete, download, upload."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from core.data.datasets import BUILTIN_DATASETS, dataset_name
from core.data.numbers import percent
from core.jobs.slots import SlotLine
from core.model.upload_check import CHECKS, MAX_FILE_BYTES, ModelFileError, check_fits, inspect_keras_file
from core.store.access import may_change
from core.store.hosting import QuotaError, check_store_quota
from core.store.runs import (
    MODEL_FILE,
    RUNS,
    STORE_ROOT,
    DamagedRun,
    RunRecord,
    StoreError,
    delete_damaged,
    delete_run,
    rename_run,
    run_folder,
)
from ui import guard, hosting
from ui.models.state import ACTION_MESSAGE, ADDED, PENDING, TABLE, UPLOAD, UPLOAD_DATASET, UPLOAD_GO, WARNED
from ui.tables import metrics_dataframe
from ui.text import plain

_REPO = Path(__file__).resolve().parents[2]  # the checkout: ui/models/views.py → ../../


def runs_frame(records: list[RunRecord]) -> pd.DataFrame:
    """One row per run: what a sortable store table shows."""
    rows = []
    for record in records:
        test = record.metrics.get("test", {})
        validation = record.metrics.get("validation", {})
        # What a learner compares first, first: at 1280 px the columns after "dataset" are off screen.
        rows.append({
            "name": record.name, "test accuracy": test.get("accuracy"), "validation accuracy": validation.get(
                "accuracy"), "epochs": record.epochs_trained, "dataset": dataset_name(record.dataset),
            "model": record.hyperparameters.get("model_key", "uploaded" if record.status == "uploaded" else "custom"),
            "status": record.status,
            "training s": record.training_seconds, "created": record.created.replace("T", " ")[:16],
            "kind": "shipped default" if record.source == "defaults" else "your run", "id": record.run_id})
    frame = pd.DataFrame(rows)
    if len(frame):  # a run without validation (or test) images shows an empty cell, not "None"
        for column in ("test accuracy", "validation accuracy", "training s"):
            frame[column] = pd.to_numeric(frame[column], errors="coerce")
    return frame


def run_details(record: RunRecord) -> None:
    """Metrics by split, hyperparameters and the spec of one run."""
    if record.metrics:
        frame = pd.DataFrame(record.metrics).T.reset_index(names="split")
        metrics_dataframe(frame, hide_index=True, width="stretch")
    if record.stop_reason:
        st.caption(plain(record.stop_reason))
    with st.expander("Hyperparameters and layers"):
        # Open two levels deep: collapsed, it showed only "{...}".
        st.json({"hyperparameters": record.hyperparameters, "layers": record.spec}, expanded=2)




def _rename(run_id: str) -> None:
    try:
        renamed = rename_run(run_id, st.session_state[f"rename_{run_id}"], viewer=hosting.viewer())
        st.session_state[f"rename_{run_id}"] = renamed.name  # as stored: spaces trimmed and collapsed
        st.session_state[ACTION_MESSAGE] = ("success", f"Renamed to “{plain(renamed.name)}”.")
    except StoreError as error:
        st.session_state[ACTION_MESSAGE] = ("error", plain(error))


def _delete(run_id: str, name: str) -> None:
    try:
        delete_run(run_id, viewer=hosting.viewer())
        st.session_state.pop(TABLE, None)  # the selected row would now point at another run
        st.session_state[ACTION_MESSAGE] = ("success", f"Deleted “{plain(name)}”.")
    except StoreError as error:
        st.session_state[ACTION_MESSAGE] = ("error", plain(error))


def _delete_damaged(run_id: str) -> None:
    try:
        delete_damaged(run_id, viewer=hosting.viewer())
        st.session_state[ACTION_MESSAGE] = ("success", f"Deleted the damaged run {run_id}.")
    except (StoreError, OSError) as error:
        st.session_state[ACTION_MESSAGE] = ("error", plain(error))


def damaged_runs(damaged: list[DamagedRun]) -> None:
    """Runs whose files cannot be used, with the reason and a Delete button; every other page skips them."""
    if not damaged:
        return
    with st.container(border=True):
        st.markdown(f"**{len(damaged)} damaged run{'' if len(damaged) == 1 else 's'}**: left out of every other "
                    "page until deleted or repaired. One damaged run never affects the others.")
        for item in damaged:
            left, right = st.columns([5, 1], vertical_alignment="center")
            left.text(f"{item.run_id}: {item.reason}")  # plain text: the reason may quote the file's content
            if item.source == RUNS:
                right.button("Delete", key=f"delete_damaged_{item.run_id}", icon=":material/delete:",
                             on_click=_delete_damaged, args=(item.run_id,))
            else:
                right.caption("shipped default")


def action_message() -> None:
    """The last rename's or delete's outcome, once."""
    kind, text = st.session_state.pop(ACTION_MESSAGE, (None, ""))
    if kind == "error":
        st.error(text, icon=":material/block:")
    elif kind:
        st.success(text, icon=":material/check_circle:")


def actions(record: RunRecord) -> None:
    """Download, and for the user's own runs rename and delete.

    Rename and delete run as button callbacks, before the page is drawn again, so the table
    above already shows their result.
    """
    try:
        path = run_folder(record.run_id, viewer=hosting.viewer()) / MODEL_FILE
        data = path.read_bytes()
    except (StoreError, OSError):  # deleted meanwhile (by another tab, or expired)
        st.warning("This run is no longer in the store.", icon=":material/warning:")
        return
    left, middle, right = st.columns([1.2, 2, 1], vertical_alignment="bottom")
    left.download_button("Download .keras", data, file_name=f"{record.run_id}.keras",
                         mime="application/zip", icon=":material/download:", key=f"download_{record.run_id}")
    if record.source == "defaults":
        middle.caption("A shipped default model: it cannot be renamed or deleted.")
        return
    if not may_change(hosting.viewer(), record.owner):
        middle.caption("A run from your class (a student's, or one your teacher shared): only the workspace that "
                       "trained it can rename or delete it.")
        return
    key = f"rename_{record.run_id}"
    st.session_state.setdefault(key, record.name)
    new_name = middle.text_input("Rename to", max_chars=80, key=key)
    middle.button("Rename", key=f"do_rename_{record.run_id}", on_click=_rename, args=(record.run_id,),
                  disabled=new_name == record.name)
    if right.toggle("Delete…", key=f"confirm_{record.run_id}"):
        right.button("Delete for good", type="primary", key=f"delete_{record.run_id}", on_click=_delete,
                     args=(record.run_id, record.name))




def upload_result() -> None:
    """The last upload's success, once (outside the expander, which the rerun may close)."""
    if st.session_state.get(ADDED):
        st.success(st.session_state.pop(ADDED), icon=":material/check_circle:")
    if st.session_state.get(WARNED):
        st.warning(st.session_state.pop(WARNED), icon=":material/warning:")


def upload_form(root: Path = STORE_ROOT) -> None:
    """Upload a .keras file: checked without TensorFlow first, then imported in a child process."""
    # .h5 is accepted only to be explained: Streamlit itself would refuse an unlisted extension without a word.
    uploaded = st.file_uploader("A .keras model file", type=["keras", "h5", "hdf5"], key=UPLOAD,
                                max_upload_size=hosting.upload_limit(),
                                help="Saved with model.save('name.keras'); Sequential models of the layers "
                                     "the app knows, taking 0–255 images of a built-in dataset.")
    dataset = st.selectbox("Dataset it was trained on", list(BUILTIN_DATASETS), key=UPLOAD_DATASET,
                           format_func=lambda key: BUILTIN_DATASETS[key].display_name)
    # The button only raises a flag (a callback): a plain button's True is lost if the run restarts
    # before reaching it (require_router's rerun on a session's first run), and the upload with it.
    st.button("Check and add to the store", key=UPLOAD_GO, disabled=uploaded is None,
              on_click=st.session_state.__setitem__, args=(PENDING, True))
    if not st.session_state.pop(PENDING, False) or uploaded is None:
        return
    data = uploaded.getvalue()
    too_big = hosting.upload_too_big(data) or (
        f"The file is larger than {MAX_FILE_BYTES // 2**20} MB." if len(data) > MAX_FILE_BYTES else None)
    if too_big:
        st.error(f"Not added: {plain(too_big)}", icon=":material/block:")
        return
    try:
        check_store_quota(hosting.owner(), hosting.limits(), root)
    except QuotaError as error:
        st.error(f"Not added: {plain(error)}", icon=":material/block:")
        return
    if too_many := guard.refused("upload"):
        st.error(f"Not added: {plain(too_many)}", icon=":material/block:")
        return
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "upload.keras"
        path.write_bytes(data)
        try:
            report = inspect_keras_file(path)
            check_fits(report, dataset)
        except ModelFileError as error:
            st.error(f"Not added: {plain(error)}", icon=":material/block:")
            return
        name = Path(uploaded.name).stem[:80] or "uploaded model"
        line = st.empty()

        def waiting(ahead: int) -> None:
            line.info(f"Waiting in line: {ahead} model check{'s' if ahead > 1 else ''} ahead of yours. Each loads "
                      "TensorFlow, so this server checks a few at a time.", icon=":material/hourglass:")

        with SlotLine(root / CHECKS, hosting.limits().model_checks).slot(waiting):
            line.empty()
            with st.spinner(f"Loading in safe mode and measuring test accuracy ({report.parameters:,} parameters)…"):
                try:
                    done = subprocess.run([sys.executable, "-m", "core.model.upload_check", str(path), dataset, name,
                                           str(root), hosting.owner()],
                                          cwd=_REPO, capture_output=True, text=True, timeout=300,
                                          env={**os.environ, "PYTHONPATH": str(_REPO), "TF_CPP_MIN_LOG_LEVEL": "3"})
                except subprocess.TimeoutExpired:
                    st.error("Not added: checking the model took more than 5 minutes.", icon=":material/block:")
                    return
    try:
        result = json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        st.error("The model could not be loaded (the checking process failed).", icon=":material/block:")
        return
    if not result["ok"]:
        st.error(f"Not added: {plain(result['error'])}", icon=":material/block:")
        return
    st.session_state[ADDED] = " ".join([f"Added as run {result['run_id']}: test accuracy "
                                         f"{percent(result['test']['accuracy'], 2)}.", *result["notes"]])
    st.session_state[WARNED] = " ".join(result.get("warnings", []))
    st.rerun()  # so the table above lists the new run
