"""Hyperparameter sliders and callback toggles; they read into a `TrainConfig`."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from core.labels import one_hot
from core.model_presets import DEFAULT_RUNS
from core.training_config import MONITORS, PRECISIONS

BATCH_SIZES = (8, 16, 32, 64, 128, 256, 512, 1024)
LEARNING_RATES = (1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 2e-3, 3e-3, 5e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1.0)
_PREFIX = "hp_"
_CALLBACK_DEFAULTS = {"early_patience": 3, "early_min_delta": 0.0, "early_restore": True, "target_accuracy": 0.998,
                      "reduce_factor": 0.5, "reduce_patience": 2}
_OPTIMIZER_NAMES = {"adam": "Adam", "sgd": "SGD + momentum 0.9", "rmsprop": "RMSprop"}


def apply_recommended(dataset: str) -> None:
    """Sets the sliders to the dataset's strong default."""
    run = DEFAULT_RUNS.get(dataset, DEFAULT_RUNS["mnist"])
    st.session_state.update({_key("epochs"): run.epochs, _key("batch_size"): run.batch_size,
                             _key("learning_rate"): run.learning_rate, _key("optimizer"): run.optimizer,
                             _key("schedule"): run.schedule, _key("precision"): run.precision})


def init_settings(dataset: str) -> None:
    if _key("epochs") not in st.session_state:
        apply_recommended(dataset)


def _key(name: str) -> str:
    return f"{_PREFIX}{name}"


def hyperparameters(train_size: int, max_epochs: int | None = None,
                    max_images: int | None = None) -> dict[str, object]:
    """Epochs, batch, learning rate, optimizer, schedule, loss, engine, split, subset and seed.

    Args:
        train_size: Training images in the dataset.
        max_epochs: A hosted server's epoch cap (the slider stops there).
        max_images: A hosted server's cap on training images (the subset slider stops there).
    """
    left, right = st.columns(2)
    top_epochs = min(50, max_epochs or 50)
    if st.session_state.get(_key("epochs"), 1) > top_epochs:
        st.session_state[_key("epochs")] = top_epochs
    values: dict[str, object] = {
        "epochs": left.slider("Epochs", 1, top_epochs, key=_key("epochs"),
                              help="One epoch is one pass over every training image."),
        "batch_size": left.select_slider("Batch size", BATCH_SIZES, key=_key("batch_size"),
                                         help="Images per gradient step; bigger is faster per image."),
        "learning_rate": left.select_slider("Learning rate (log scale)", LEARNING_RATES, key=_key("learning_rate"),
                                            format_func=lambda rate: f"{rate:g}"),
        "optimizer": left.selectbox("Optimizer", list(_OPTIMIZER_NAMES), key=_key("optimizer"),
                                    format_func=_OPTIMIZER_NAMES.get),
        "schedule": left.radio("Learning-rate schedule", ("constant", "cosine"), key=_key("schedule"),
                               horizontal=True, help="Cosine: a short warm-up, then a smooth decay to 0 by the "
                                                    "last batch. It usually gives the best final accuracy."),
    }
    st.session_state.setdefault(_key("validation_split"), 0.1)
    st.session_state.setdefault(_key("seed"), 0)
    values["validation_split"] = right.slider("Validation split", 0.0, 0.9, step=0.05, key=_key("validation_split"),
                                              help="Held out from the training images, never trained on.")
    top_images = min(train_size, max_images or train_size)
    subsets = sorted({size for size in (10, 50, 100, 500, 1000, 2000, 5000, 10_000, 20_000) if size < top_images}
                     | {top_images})
    if st.session_state.get(_key("subset")) not in subsets:  # a new dataset: start from all it may use
        st.session_state[_key("subset")] = top_images
    chosen = right.select_slider("Training images (subset for quick runs)", subsets, key=_key("subset"),
                                 format_func=lambda size: f"{size:,}")
    values["subset"] = 0 if chosen >= train_size else int(chosen)
    values["seed"] = int(right.number_input("Seed", 0, 2**31 - 1, key=_key("seed"),
                                            help="Same seed, same subset, split, shuffles and initial weights."))
    values["loss"] = right.radio("Loss", ("sparse", "categorical"), key=_key("loss"), horizontal=True,
                                 format_func=lambda loss: f"{loss} categorical cross-entropy" if loss == "sparse"
                                 else "categorical cross-entropy (one-hot)")
    values["engine"] = right.radio("Training engine", ("fit", "tape"), key=_key("engine"), horizontal=True,
                                   format_func=lambda engine: "model.fit" if engine == "fit"
                                   else "tf.GradientTape loop (lesson)")
    values["precision"] = right.radio(
        "Precision", PRECISIONS, key=_key("precision"), horizontal=True,
        format_func=lambda name: "float32" if name == "float32" else "mixed bfloat16",
        help="Mixed bfloat16 computes each layer in 16-bit floats and keeps the weights in float32. On CPUs "
             "with bfloat16 units (AMX, AVX-512 BF16) convolutions run 2× faster or more; elsewhere slower.")
    return values


def one_hot_example(labels: np.ndarray, class_names: tuple[str, ...]) -> None:
    """What categorical loss trains against: the first labels, one-hot."""
    shown = labels[:4]
    frame = pd.DataFrame(one_hot(shown, len(class_names)).astype(int), columns=list(class_names),
                         index=[f"image {i + 1}: label {int(label)} ({class_names[int(label)]})"
                                for i, label in enumerate(shown)])
    st.caption("With categorical loss the labels become one-hot vectors, one column per class; the first "
               "training labels:")
    st.dataframe(frame, width="stretch")


def callbacks() -> dict[str, object]:
    """The callback toggles and their settings."""
    values: dict[str, object] = {}
    # Defaults go into session state, not the widgets: the keys outlive the page (ui.state), and a
    # widget given both a default and a session-state value makes Streamlit warn.
    for name, default in _CALLBACK_DEFAULTS.items():
        st.session_state.setdefault(_key(name), default)
    early, target, reduce = st.columns(3)
    values["early_stopping"] = early.toggle("EarlyStopping", key=_key("early_stopping"))
    if values["early_stopping"]:
        values["early_monitor"] = early.selectbox("Monitor", MONITORS, key=_key("early_monitor"))
        values["early_patience"] = early.slider("Patience (epochs)", 0, 10, key=_key("early_patience"))
        values["early_min_delta"] = early.number_input("Min delta", 0.0, 1.0, step=0.001, format="%.3f",
                                                       key=_key("early_min_delta"))
        values["early_restore_best"] = early.checkbox("Restore best weights", key=_key("early_restore"))
    values["target_accuracy"] = 0.0
    if target.toggle("Stop at a target accuracy", key=_key("target_on"),
                     help="The lessons' callback: 'Reached 99.8% accuracy so cancelling training!'"):
        values["target_accuracy"] = target.slider("Target", 0.5, 1.0, step=0.001, format="%.3f",
                                                  key=_key("target_accuracy"))
        values["target_monitor"] = target.selectbox("Watch", ("accuracy", "val_accuracy"), key=_key("target_monitor"))
    values["reduce_lr"] = reduce.toggle("ReduceLROnPlateau", key=_key("reduce_lr"))
    if values["reduce_lr"]:
        values["reduce_monitor"] = reduce.selectbox("Monitor ", MONITORS, key=_key("reduce_monitor"))
        values["reduce_factor"] = reduce.slider("Factor", 0.1, 0.9, step=0.1, key=_key("reduce_factor"))
        values["reduce_patience"] = reduce.slider("Patience (epochs) ", 0, 10, key=_key("reduce_patience"))
    return values

