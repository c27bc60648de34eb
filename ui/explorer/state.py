"""The Dataset Explorer's session-state keys, the ones it keeps across page changes, and their defaults."""

from __future__ import annotations

import streamlit as st

from ui.persist import KeptKeys

SPLIT = "explorer_split"  # "train" or "test"
IMAGE_INDEX = "explorer_image_index"  # the image shown in detail, a position in the split
SECTION = "explorer_section"
SECTIONS = ("Overview", "Samples", "Pixels & label", "Statistics", "Normalisation", "Augmentation")

# Widgets of the sections
CLASSES = "explorer_classes"  # the sample grid's class filter
SHUFFLE = "explorer_shuffle"
SEED = "explorer_seed"
GRID_PAGE = "explorer_page_"  # prefix: one pager per page count
INSPECT = "explorer_inspect"  # a grid image picked for a closer look…
INSPECT_GO = "explorer_inspect_go"  # …and the button that shows it
LOG_SCALE = "explorer_log"
CROP_ROWS, CROP_COLUMNS = "explorer_rows_", "explorer_cols_"  # prefixes: one slider per image size and colour
PER_CHANNEL = "explorer_per_channel"
AUGMENT = "explorer_aug_"  # prefix of the augmentation widgets: flip, rotation, zoom, translation, fill, count, seed

KEPT = KeptKeys("ui.explorer.state", keys=(SPLIT, IMAGE_INDEX, SECTION))
_DEFAULTS = {SPLIT: "train", IMAGE_INDEX: 0, SECTION: SECTIONS[0]}


def augment_key(name: str) -> str:
    """The key of one augmentation widget ("flip", "rotation", "zoom", …)."""
    return AUGMENT + name


def show_first_image() -> None:
    """Callback for a newly loaded dataset: its detail view starts at image 0."""
    st.session_state[IMAGE_INDEX] = 0


def init_explorer_state() -> None:
    """Sets the Explorer's defaults where they are missing."""
    for key, value in _DEFAULTS.items():
        if key not in st.session_state:
            st.session_state[key] = value
