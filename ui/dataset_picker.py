"""The sidebar dataset picker, with an upload of the user's own class folders."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import streamlit as st

from core.data.datasets import folder_dataset
from core.data.image_folder import FolderLimits, ImageFolderError
from core.data.unpacking import budget_for, read_upload
from ui import guard, hosting, loaders, state
from ui.text import plain
from ui.workspace import link_params

SIDES, HOSTED_MAX_SIDE = (16, 28, 32, 48, 64, 96, 128), 64


def upload_limits() -> FolderLimits:
    """The limits on an uploaded zip: the server's pixel caps, and in hosted mode fewer files.

    A shared server holds every session's upload in memory: fewer files and smaller images, one upload
    per session. 5,000 images of 64×64×3 take 61 MB.
    """
    caps = hosting.limits()
    files = FolderLimits(max_files=5_000, max_total_bytes=256 * 2**20) if caps.hosted else FolderLimits()
    return replace(files, max_image_pixels=caps.image_pixels, max_total_pixels=caps.upload_megapixels * 1_000_000)

UPLOADER = "dataset_upload_file"
UPLOAD_SIZE = "dataset_upload_size"
UPLOAD_MODE = "dataset_upload_mode"
UPLOAD_TEST = "dataset_upload_test_fraction"
UPLOAD_ERROR = "dataset_upload_error"
LOAD = "dataset_upload_load"  # the button that reads the zip
PENDING = "dataset_upload_pending"  # True from the button's click to the run that reads the zip
CANCEL = "dataset_upload_cancel"
EXPANDER = "dataset_upload_open"
# Seconds one reading may take (in a child process; `core.data.unpacking`). The pixel caps keep an honest
# hosted upload to a few seconds; this stops a decoder that is slower than the headers promise.
HOSTED_READ_SECONDS, LOCAL_READ_SECONDS = 60.0, 600.0


def _request_load() -> None:
    """Callback of the upload button: checks there is a file, and asks the next run to read it.

    The reading itself runs in the page's script, not here, so that a click elsewhere or Cancel can stop it
    (Streamlit interrupts a script between two of its calls, never a callback).
    """
    st.session_state[UPLOAD_ERROR] = None
    uploaded = st.session_state.get(UPLOADER)
    if uploaded is None:
        st.session_state[UPLOAD_ERROR] = "Choose a .zip file first."
        return
    if too_big := hosting.upload_too_big(uploaded.getvalue()):
        st.session_state[UPLOAD_ERROR] = too_big
        return
    if too_many := guard.refused("upload"):
        st.session_state[UPLOAD_ERROR] = too_many
        return
    st.session_state[PENDING] = True


def _read_upload(on_load: Callable[[], None] | None) -> None:
    """Reads the chosen zip in a child process with a progress line and a Cancel button; selects it, or
    records the error."""
    uploaded = st.session_state.get(UPLOADER)
    if uploaded is None:
        return
    data = uploaded.getvalue()
    size = st.session_state[UPLOAD_SIZE]
    mode = "grayscale" if st.session_state[UPLOAD_MODE] == "grey" else "rgb"
    test_fraction = st.session_state[UPLOAD_TEST]
    name = Path(uploaded.name).stem or "my images"
    digest = hashlib.sha256(data).hexdigest()[:10]
    key = f"folder:{name}:{digest}:{size}:{mode}:{test_fraction}"
    limits = upload_limits()
    budget = budget_for(limits, (size, size), 1 if mode == "grayscale" else 3,
                        HOSTED_READ_SECONDS if hosting.limits().hosted else LOCAL_READ_SECONDS)
    box = st.sidebar.empty()
    with box.container():
        line = st.empty()
        st.button("Cancel", key=CANCEL, help="Stops reading the zip.")  # any click reruns, which stops the reading
    st.session_state[UPLOAD_ERROR] = "Reading the zip was stopped."  # what is left if a click interrupts it

    def waiting(done: int, total: int, seconds: float) -> None:
        shown = f"{done:,} of {total:,} images" if total else "checking the files"
        line.caption(f"Reading your zip: {shown}, {seconds:.0f} s")

    try:
        content = read_upload(data, (size, size), mode, test_fraction, 0, limits, budget, waiting)
    except ImageFolderError as error:
        box.empty()
        message = str(error)
        st.session_state[UPLOAD_ERROR] = message[:1].upper() + message[1:]
        return
    st.session_state[UPLOAD_ERROR] = None
    dataset = folder_dataset(content, (size, size), mode, test_fraction, 0, name)
    if hosting.limits().hosted:
        st.session_state[state.UPLOADED_DATASETS].clear()  # one upload per visitor in memory
    st.session_state[state.UPLOADED_DATASETS][key] = dataset
    st.session_state[state.DATASET] = key
    if on_load is not None:
        on_load()
    st.rerun()  # the progress line and Cancel go; the page draws the new dataset


def dataset_picker(on_load: Callable[[], None] | None = None) -> str:
    """Shows the dataset picker and upload form in the sidebar; returns the chosen dataset key.

    Args:
        on_load: Called after an uploaded zip becomes the dataset, e.g. to reset a page's image position.
    """
    if st.session_state.pop(PENDING, False):
        _read_upload(on_load)
    options = loaders.dataset_options()
    if st.session_state.get(state.DATASET) not in options:
        st.session_state[state.DATASET] = options[0]
    with st.sidebar:
        key = st.selectbox("Dataset", options, key=state.DATASET, format_func=loaders.dataset_label)
        st.page_link("pages/my_classes.py", label="Teach it your own classes: draw or photograph them",
                     icon=":material/category:", query_params=link_params())
        # Keyed so it stays open when the sidebar above it changes (the reading's progress line comes and goes
        # there); `workspace_sidebar` keeps its one-time notes in a fixed slot for the same reason.
        with st.expander("Use your own images (.zip)", key=EXPANDER):
            limits = upload_limits()
            st.caption(
                "A zip of class folders (cats/…, dogs/…), or of train/ and test/ folders that each hold class "
                f"folders. Up to {hosting.upload_limit()} MB, {limits.max_files:,} files, "
                f"{limits.max_total_bytes // 2**20} MB unpacked, {limits.max_image_pixels // 1_000_000} megapixels "
                f"per image and {limits.max_total_pixels // 1_000_000:,} in all."
                + (" One upload per visitor on this shared server." if hosting.limits().hosted else "")
            )
            st.file_uploader("Zip of class folders", type=["zip"], key=UPLOADER,
                             max_upload_size=hosting.upload_limit())
            sides = [side for side in SIDES if not hosting.limits().hosted or side <= HOSTED_MAX_SIDE]
            st.select_slider("Resize images to", sides, value=32, key=UPLOAD_SIZE,
                             format_func=lambda side: f"{side}×{side}")
            st.radio("Colour", ["RGB", "grey"], horizontal=True, key=UPLOAD_MODE)
            st.slider("Test share (when there are no train/ and test/ folders)", 0.1, 0.5, 0.2, 0.05,
                      key=UPLOAD_TEST)
            st.button("Load these images", on_click=_request_load, type="primary", key=LOAD)
            if st.session_state.get(UPLOAD_ERROR):
                st.error(plain(st.session_state[UPLOAD_ERROR]), icon=":material/error:")  # names the zip's files
    return key
