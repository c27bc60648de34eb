"""Export a run for phones and other runtimes (`core.model.export`), in a child process, with its parity check."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import streamlit as st

from core.jobs.slots import SlotLine
from core.model.export import FORMATS, PARITY_IMAGES, PARITY_TOLERANCE, snippet
from core.model.upload_check import CHECKS
from core.store.runs import MODEL_FILE, STORE_ROOT, RunRecord, StoreError, run_folder
from ui import guard, hosting
from ui.loaders import dataset_for_run
from ui.models.state import EXPORT_ERROR, EXPORT_FORMAT, EXPORT_GO, EXPORTS
from ui.text import plain

_REPO = Path(__file__).resolve().parents[2]
LABELS = {"tflite": "TensorFlow Lite / LiteRT (.tflite): phones", "onnx": "ONNX (.onnx): onnxruntime, the web"}
SUFFIX = {"tflite": ".tflite", "onnx": ".onnx"}
EXPORT_SECONDS = 300


def parity_images(record: RunRecord) -> tuple[np.ndarray, str]:
    """Up to 100 of the run's test images, or random images of its input shape when its dataset is not at hand."""
    dataset, _ = dataset_for_run(record)
    if dataset is not None:
        return np.asarray(dataset.x_test[:PARITY_IMAGES]), f"{min(len(dataset.x_test), PARITY_IMAGES)} test images"
    rng = np.random.default_rng(0)
    shape = (PARITY_IMAGES, *record.input_shape)
    return rng.integers(0, 256, shape, dtype=np.uint8), f"{PARITY_IMAGES} random images (its dataset is not at hand)"


def _export(record: RunRecord, fmt: str) -> None:
    """Converts in a child process (TensorFlow stays out of the server), one export at a time per server slot."""
    st.session_state[EXPORT_ERROR] = None
    try:
        model_path = run_folder(record.run_id, viewer=hosting.viewer()) / MODEL_FILE
    except StoreError:
        st.session_state[EXPORT_ERROR] = "This run is no longer in the store."
        return
    if too_many := guard.refused("upload"):
        st.session_state[EXPORT_ERROR] = too_many
        return
    images, what = parity_images(record)
    with tempfile.TemporaryDirectory(prefix="cnnlab-export-") as folder:
        images_path, out = Path(folder) / "images.npy", Path(folder) / f"model{SUFFIX[fmt]}"
        np.save(images_path, images)
        with SlotLine(STORE_ROOT / CHECKS, hosting.limits().model_checks).slot():
            try:
                done = subprocess.run([sys.executable, "-m", "core.model.export", str(model_path), str(images_path),
                                       fmt, str(out)], cwd=_REPO, capture_output=True, text=True,
                                      timeout=EXPORT_SECONDS,
                                      env={**os.environ, "PYTHONPATH": str(_REPO), "TF_CPP_MIN_LOG_LEVEL": "3"})
            except subprocess.TimeoutExpired:
                st.session_state[EXPORT_ERROR] = f"The export took more than {EXPORT_SECONDS // 60} minutes."
                return
        try:
            result = json.loads(done.stdout.strip().splitlines()[-1])
        except (IndexError, ValueError):
            st.session_state[EXPORT_ERROR] = "The export failed (the converting process stopped)."
            return
        if not result.get("ok"):
            st.session_state[EXPORT_ERROR] = f"Not exported: {result.get('error', 'unknown error')}"
            return
        st.session_state[EXPORTS] = {(record.run_id, fmt): (out.read_bytes(), {**result, "compared": what})}


def export_section(record: RunRecord) -> None:
    """Pick a format, export, and get the file with its check and a snippet that runs it."""
    fmt = st.radio("Format", list(FORMATS), key=EXPORT_FORMAT, format_func=LABELS.__getitem__, horizontal=True)
    # The button only raises a flag: the export itself runs in the script, under a spinner a callback cannot show.
    st.button("Export and check", key=EXPORT_GO, on_click=st.session_state.__setitem__,
              args=(f"{EXPORT_GO}_pressed", True), icon=":material/ios_share:",
              help="Converts the model in a separate process, then runs the file in its own runtime on up to "
                   f"{PARITY_IMAGES} test images and compares every probability with Keras'.")
    if st.session_state.pop(f"{EXPORT_GO}_pressed", False):
        with st.spinner("Converting, then checking the file against Keras (about 10 s)…"):
            _export(record, fmt)
    if error := st.session_state.get(EXPORT_ERROR):
        st.error(plain(error), icon=":material/block:")
    done = st.session_state.get(EXPORTS, {}).get((record.run_id, fmt))
    if done is None:
        return
    data, check = done
    file_name = f"{record.run_id}{SUFFIX[fmt]}"
    difference = float(check["max_difference"])
    summary = (f"{check['runtime']} ran the {len(data) / 1024:,.0f} KB file on {check['compared']}: "
               f"the largest difference from Keras in any probability is {difference:.1e}, and "
               f"{check['same_answers']} of {check['images']} answers are the same.")
    if check["passed"]:
        st.success(f"Checked: it matches Keras within {PARITY_TOLERANCE:g}. " + summary, icon=":material/verified:")
    else:
        st.warning(f"It does not match Keras within {PARITY_TOLERANCE:g}. " + summary + " (A model trained in "
                   "mixed bfloat16 computes in lower precision in Keras than the exported float32 file.)",
                   icon=":material/warning:")
    st.download_button(f"Download {file_name}", data, file_name=file_name, mime="application/octet-stream",
                       icon=":material/download:", key=f"export_download_{fmt}")
    st.caption("Run it like this (the model takes pixels on the 0–255 scale and scales them itself):")
    st.code(snippet(fmt, file_name, tuple(record.input_shape), list(record.class_names)), language=None,
            wrap_lines=True)
