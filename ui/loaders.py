"""Cached access to datasets and to statistics derived from them.

Built-in datasets are cached with `st.cache_resource`, so each is read from disk once per server
process and one read-only copy is shared by every session (`st.cache_data` would hand every call
its own copy: 184 MB per CIFAR-10 rerun). Uploaded folders belong to the session that uploaded them
and live in its session state. Derived statistics are cached under the dataset's key; the
dataset itself is passed with a leading underscore so Streamlit does not hash its arrays.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import streamlit as st

from core.data import own_classes, statistics
from core.data.datasets import (
    BUILTIN_DATASETS,
    Dataset,
    DatasetNotFoundError,
    dataset_name,
    load_dataset,
    needs_download,
    resolve_data_dir,
)
from core.store.hosting import current_limits
from core.store.records import RunRecord
from core.store.runs import STORE_ROOT
from core.store.workspaces import read_workspace
from ui import state
from ui.text import plain

_log = logging.getLogger(__name__)


def dataset_problem(key: str, error: Exception) -> str:
    """Why a dataset cannot be loaded, as a visitor is told it: in full on one's own machine (the message says
    where to put the files); on a hosted server without its paths, which go to the operator's log instead."""
    if not current_limits().hosted:
        return str(error)
    _log.warning("dataset %s is not available: %s", key, error)
    return (f"{dataset_name(key)} is not available on this server right now: its files are missing or damaged "
            "(the server's log says which). Pick another dataset; scikit-learn's Digits always works.")


def _loading_note(name: str) -> str:
    """What the spinner says while a dataset loads: how long, for the one that takes a while."""
    if name == "cifar10":
        return "Loading CIFAR-10… (it decodes 60,000 JPEGs: about 10 s, once per server)"
    return f"Loading {BUILTIN_DATASETS[name].display_name}… (once per server)"


@st.cache_resource(show_spinner=False, max_entries=4)  # the caller's spinner names the dataset (`_loading_note`)
def _cached_builtin(name: str, data_dir: str | None) -> Dataset:
    return load_dataset(name, data_dir).read_only()


def _load_builtin(name: str, data_dir: str | None) -> Dataset:
    # st.spinner shows only after half a second: a cached dataset returns before, with no spinner.
    with st.spinner(_loading_note(name)):
        return _cached_builtin(name, data_dir)


def own_sets() -> list[own_classes.ClassSet]:
    """The class sets this workspace may train on: its own, then those its class's teacher shared."""
    owner = st.session_state.get(state.OWNER)
    if not owner:
        return []
    workspace = read_workspace(owner, STORE_ROOT)
    mine, shared = own_classes.readable_sets(owner, workspace.class_id if workspace is not None else "", STORE_ROOT)
    return [*mine, *shared]


def dataset_options() -> list[str]:
    """The keys the dataset picker offers: the built-ins, the class sets ready to train, then this session's
    uploads."""
    ready = [one.key for one in own_sets() if own_classes.readiness(one) is None]
    return [*BUILTIN_DATASETS, *ready, *st.session_state.get(state.UPLOADED_DATASETS, {})]


@st.cache_resource(show_spinner=False, max_entries=32)
def _cached_set(set_id: str, version: int, root: str) -> Dataset:
    """A class set's arrays, read once per change (its version) and shared read-only."""
    class_set = own_classes.read_set(set_id, Path(root))
    if class_set is None:
        raise KeyError(set_id)
    return own_classes.to_dataset(class_set, Path(root)).read_only()


def own_dataset(key: str) -> Dataset:
    """A class set this workspace may read, as a dataset.

    Raises:
        KeyError: If the set is gone, not this workspace's (nor shared with its class), or not ready to train.
    """
    try:
        set_id = own_classes.set_id_of(key)
    except own_classes.ClassSetError:
        raise KeyError(key) from None
    class_set = next((one for one in own_sets() if one.set_id == set_id), None)
    if class_set is None or own_classes.readiness(class_set) is not None:
        raise KeyError(key)
    return _cached_set(set_id, class_set.version, str(STORE_ROOT))


def dataset_label(key: str) -> str:
    """A human name for a dataset key, noting a built-in that would need downloading."""
    if key in BUILTIN_DATASETS:
        label = BUILTIN_DATASETS[key].display_name
        return f"{label} (download)" if needs_download(key) else label
    # The label comes from the key alone, so this works wherever Streamlit calls it, even outside a script run.
    return dataset_name(key)


def get_dataset(key: str) -> Dataset:
    """Returns the dataset for a key, loading built-ins through the cache.

    A built-in that Keras must download first shows a visible status while it does.

    Raises:
        KeyError: If the key is an upload this session no longer holds, or a class set it may not read.
        core.data.datasets.DatasetNotFoundError: If a built-in is missing and cannot be downloaded.
    """
    if key in BUILTIN_DATASETS:
        data_dir = resolve_data_dir()
        data_dir_text = str(data_dir) if data_dir is not None else None
        if needs_download(key):
            info = BUILTIN_DATASETS[key]
            with st.status(f"Downloading {info.display_name} with Keras ({info.download_size}, first time only)…",
                           expanded=True) as status:
                dataset = _load_builtin(key, data_dir_text)
                status.update(label=f"Downloaded {info.display_name}.", state="complete", expanded=False)
            return dataset
        return _load_builtin(key, data_dir_text)
    if own_classes.is_own_key(key):
        return own_dataset(key)
    return st.session_state[state.UPLOADED_DATASETS][key]


@st.cache_data(show_spinner=False, max_entries=16)
def class_counts(key: str, split: str, _dataset: Dataset) -> np.ndarray:
    """Images per class in a split (cached per dataset key)."""
    _, labels = _dataset.split(split)
    return statistics.class_counts(labels, _dataset.num_classes)


@st.cache_data(show_spinner="Averaging the images of each class…", max_entries=16)
def mean_images(key: str, split: str, _dataset: Dataset) -> np.ndarray:
    """Per-class mean images (cached per dataset key)."""
    images, labels = _dataset.split(split)
    return statistics.mean_images_by_class(images, labels, _dataset.num_classes)


@st.cache_data(show_spinner=False, max_entries=16)
def histogram(key: str, split: str, _dataset: Dataset) -> np.ndarray:
    """Pixel-value histogram per channel (cached per dataset key)."""
    images, _ = _dataset.split(split)
    return statistics.intensity_histogram(images)


@st.cache_data(show_spinner=False, max_entries=16)
def train_pixel_stats(key: str, _dataset: Dataset) -> statistics.PixelStats:
    """The training split's pixel mean and std (cached per dataset key)."""
    return statistics.pixel_stats(_dataset.x_train)


def dataset_for_run(record: RunRecord) -> tuple[Dataset | None, str]:
    """This run's dataset with test images its model takes, or None and why not (Markdown, user text escaped).

    Why not: an uploaded folder this session no longer holds, a built-in dataset that is not on
    this machine, images of another shape than the model takes, or an empty test split.
    """
    try:
        dataset = get_dataset(record.dataset)
    except KeyError:
        if own_classes.is_own_key(record.dataset):
            return None, (f"This run was trained on a set of classes, “{plain(dataset_name(record.dataset))}”, that "
                          "is deleted, not yours, or now has a class with too few examples; its test images "
                          "cannot be shown.")
        return None, (f"This run was trained on an uploaded folder, “{plain(dataset_name(record.dataset))}”, that "
                      "this session no longer holds: upload it again on the Dataset Explorer page to see its test "
                      "images.")
    except DatasetNotFoundError as error:
        return None, plain(dataset_problem(record.dataset, error))
    if dataset.image_shape != tuple(record.input_shape):
        return None, (f"The model takes {tuple(record.input_shape)} images but {plain(dataset.display_name)} has "
                      f"{dataset.image_shape}, so its test images cannot go through it.")
    if not len(dataset.x_test):
        return None, f"{plain(dataset.display_name)} has no test images."
    return dataset, ""
