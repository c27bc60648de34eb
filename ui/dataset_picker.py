"""The sidebar dataset picker, with an upload of the user's own class folders."""

from __future__ import annotations

import hashlib
from pathlib import Path

import streamlit as st

from core.datasets import load_image_folder
from core.image_folder import FolderLimits, ImageFolderError
from ui import loaders, state

UPLOAD_LIMITS = FolderLimits()
_UPLOADER = "dataset_upload_file"
_UPLOAD_SIZE = "dataset_upload_size"
_UPLOAD_MODE = "dataset_upload_mode"
_UPLOAD_TEST = "dataset_upload_test_fraction"
_UPLOAD_ERROR = "dataset_upload_error"


def _load_upload() -> None:
    """Callback of the upload button: parses the zip and selects it, or records the error."""
    st.session_state[_UPLOAD_ERROR] = None
    uploaded = st.session_state.get(_UPLOADER)
    if uploaded is None:
        st.session_state[_UPLOAD_ERROR] = "Choose a .zip file first."
        return
    data = uploaded.getvalue()
    size = st.session_state[_UPLOAD_SIZE]
    mode = "grayscale" if st.session_state[_UPLOAD_MODE] == "grey" else "rgb"
    test_fraction = st.session_state[_UPLOAD_TEST]
    name = Path(uploaded.name).stem or "my images"
    digest = hashlib.sha256(data).hexdigest()[:10]
    key = f"folder:{name}:{digest}:{size}:{mode}:{test_fraction}"
    try:
        dataset = load_image_folder(data, (size, size), mode, test_fraction, seed=0, limits=UPLOAD_LIMITS, name=name)
    except ImageFolderError as error:
        st.session_state[_UPLOAD_ERROR] = str(error)
        return
    st.session_state[state.UPLOADED_DATASETS][key] = dataset
    st.session_state[state.DATASET] = key
    st.session_state[state.IMAGE_INDEX] = 0


def dataset_picker() -> str:
    """Shows the dataset picker and upload form in the sidebar; returns the chosen dataset key."""
    options = loaders.dataset_options()
    if st.session_state.get(state.DATASET) not in options:
        st.session_state[state.DATASET] = options[0]
    with st.sidebar:
        key = st.selectbox("Dataset", options, key=state.DATASET, format_func=loaders.dataset_label)
        with st.expander("Use your own images (.zip)"):
            st.caption(
                "A zip of class folders (cats/…, dogs/…), or of train/ and test/ folders that each hold class "
                f"folders. Up to {UPLOAD_LIMITS.max_files:,} files, {UPLOAD_LIMITS.max_total_bytes // 2**20} MB "
                f"unpacked, {UPLOAD_LIMITS.max_image_pixels // 1_000_000} megapixels per image."
            )
            st.file_uploader("Zip of class folders", type=["zip"], key=_UPLOADER)
            st.select_slider("Resize images to", [16, 28, 32, 48, 64, 96, 128], value=32, key=_UPLOAD_SIZE,
                             format_func=lambda side: f"{side}×{side}")
            st.radio("Colour", ["RGB", "grey"], horizontal=True, key=_UPLOAD_MODE)
            st.slider("Test share (when there are no train/ and test/ folders)", 0.1, 0.5, 0.2, 0.05,
                      key=_UPLOAD_TEST)
            st.button("Load these images", on_click=_load_upload, type="primary", key="dataset_upload_load")
            if st.session_state.get(_UPLOAD_ERROR):
                st.error(st.session_state[_UPLOAD_ERROR], icon=":material/error:")
    return key
