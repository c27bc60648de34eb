"""The sidebar dataset picker, with an upload of the user's own class folders."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import streamlit as st

from core.data.datasets import load_image_folder
from core.data.image_folder import FolderLimits, ImageFolderError
from ui import hosting, loaders, state
from ui.text import plain

UPLOAD_LIMITS = FolderLimits()
# A shared server holds every session's upload in memory: fewer files and smaller images, one upload
# per session. 5,000 images of 64×64×3 take 61 MB.
HOSTED_UPLOAD_LIMITS = FolderLimits(max_files=5_000, max_total_bytes=256 * 2**20)
SIDES, HOSTED_MAX_SIDE = (16, 28, 32, 48, 64, 96, 128), 64


def upload_limits() -> FolderLimits:
    return HOSTED_UPLOAD_LIMITS if hosting.limits().hosted else UPLOAD_LIMITS
UPLOADER = "dataset_upload_file"
UPLOAD_SIZE = "dataset_upload_size"
UPLOAD_MODE = "dataset_upload_mode"
UPLOAD_TEST = "dataset_upload_test_fraction"
UPLOAD_ERROR = "dataset_upload_error"
LOAD = "dataset_upload_load"  # the button that reads the zip


def _load_upload(on_load: Callable[[], None] | None) -> None:
    """Callback of the upload button: parses the zip and selects it, or records the error."""
    st.session_state[UPLOAD_ERROR] = None
    uploaded = st.session_state.get(UPLOADER)
    if uploaded is None:
        st.session_state[UPLOAD_ERROR] = "Choose a .zip file first."
        return
    data = uploaded.getvalue()
    if too_big := hosting.upload_too_big(data):
        st.session_state[UPLOAD_ERROR] = too_big
        return
    size = st.session_state[UPLOAD_SIZE]
    mode = "grayscale" if st.session_state[UPLOAD_MODE] == "grey" else "rgb"
    test_fraction = st.session_state[UPLOAD_TEST]
    name = Path(uploaded.name).stem or "my images"
    digest = hashlib.sha256(data).hexdigest()[:10]
    key = f"folder:{name}:{digest}:{size}:{mode}:{test_fraction}"
    try:
        dataset = load_image_folder(data, (size, size), mode, test_fraction, seed=0, limits=upload_limits(),
                                    name=name)
    except ImageFolderError as error:
        message = str(error)
        st.session_state[UPLOAD_ERROR] = message[:1].upper() + message[1:]
        return
    if hosting.limits().hosted:
        st.session_state[state.UPLOADED_DATASETS].clear()  # one upload per visitor in memory
    st.session_state[state.UPLOADED_DATASETS][key] = dataset
    st.session_state[state.DATASET] = key
    if on_load is not None:
        on_load()


def dataset_picker(on_load: Callable[[], None] | None = None) -> str:
    """Shows the dataset picker and upload form in the sidebar; returns the chosen dataset key.

    Args:
        on_load: Called after an uploaded zip becomes the dataset, e.g. to reset a page's image position.
    """
    options = loaders.dataset_options()
    if st.session_state.get(state.DATASET) not in options:
        st.session_state[state.DATASET] = options[0]
    with st.sidebar:
        key = st.selectbox("Dataset", options, key=state.DATASET, format_func=loaders.dataset_label)
        with st.expander("Use your own images (.zip)"):
            limits = upload_limits()
            st.caption(
                "A zip of class folders (cats/…, dogs/…), or of train/ and test/ folders that each hold class "
                f"folders. Up to {hosting.upload_limit()} MB, {limits.max_files:,} files, "
                f"{limits.max_total_bytes // 2**20} MB unpacked, {limits.max_image_pixels // 1_000_000} megapixels "
                "per image." + (" One upload per visitor on this shared server." if hosting.limits().hosted else "")
            )
            st.file_uploader("Zip of class folders", type=["zip"], key=UPLOADER,
                             max_upload_size=hosting.upload_limit())
            sides = [side for side in SIDES if not hosting.limits().hosted or side <= HOSTED_MAX_SIDE]
            st.select_slider("Resize images to", sides, value=32, key=UPLOAD_SIZE,
                             format_func=lambda side: f"{side}×{side}")
            st.radio("Colour", ["RGB", "grey"], horizontal=True, key=UPLOAD_MODE)
            st.slider("Test share (when there are no train/ and test/ folders)", 0.1, 0.5, 0.2, 0.05,
                      key=UPLOAD_TEST)
            st.button("Load these images", on_click=_load_upload, args=(on_load,), type="primary", key=LOAD)
            if st.session_state.get(UPLOAD_ERROR):
                st.error(plain(st.session_state[UPLOAD_ERROR]), icon=":material/error:")  # names the zip's files
    return key
