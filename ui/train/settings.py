"""Hyperparameter sliders and callback toggles; they read into a `TrainConfig`."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import streamlit as st

from core.data.labels import one_hot
from core.store.hosting import current_limits
from core.train.config import MONITORS, PRECISIONS, TrainConfig
from core.train.recipes import DEFAULT_RUNS, default_config, preset_config, settings_line
from ui.text import plain
from ui.train import model_builder, state

BATCH_SIZES = (4, 8, 16, 32, 64, 128, 256, 512, 1024)  # 4: the own-classes recipe (48 examples)
# A log grid; every default run's rate is on it too (0.008 was not, and the slider showed 1e-05).
LEARNING_RATES = tuple(sorted({1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 2e-3, 3e-3, 5e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1.0,
                               *(run.learning_rate for run in DEFAULT_RUNS.values())}))
# Coarse steps where a target is rough, fine ones near 100%: a keyboard crosses it in a few presses.
TARGETS = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.92, 0.94, 0.95, 0.96, 0.97, 0.98, 0.985, 0.99, 0.995, 0.998, 0.999)
LABEL_SMOOTHINGS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3)
_CALLBACK_DEFAULTS = {"early_patience": 3, "early_min_delta": 0.0, "early_restore": True, "target_accuracy": 0.99,
                      "reduce_factor": 0.5, "reduce_patience": 2}
_OPTIMIZER_NAMES = {"adam": "Adam", "sgd": "SGD + momentum 0.9", "rmsprop": "RMSprop"}
# TrainConfig fields set by a widget of this page, and the widget's key when it is not the field's name.
_WIDGET_FIELDS = ("epochs", "batch_size", "learning_rate", "optimizer", "schedule", "validation_split", "subset",
                  "seed", "loss", "engine", "precision", "early_stopping", "early_monitor", "early_patience",
                  "early_min_delta", "early_restore_best", "target_accuracy", "target_monitor", "reduce_lr",
                  "reduce_monitor", "reduce_factor", "reduce_patience", "label_smoothing")
_KEYS = {"early_restore_best": "early_restore"}
_ALL_IMAGES = 0  # the subset slider's value for "every image the run may use", resolved when it is drawn


def setting_key(name: str) -> str:
    """The key of the widget that sets `name` (a TrainConfig field, or "target_on")."""
    return f"{state.SETTING}{_KEYS.get(name, name)}"


def _fitted(config: TrainConfig, max_epochs: int | None = None) -> TrainConfig:
    """A recipe as this server trains it: its epochs within the server's cap (`current_limits()` by default).

    The one place a recipe meets the cap. The digits recipe's 30 epochs met every hosted student with "30 epochs
    are more than this server allows; set to 20." on arrival, and its caption still said 30.
    """
    cap = current_limits().max_epochs if max_epochs is None else max_epochs
    return replace(config, epochs=cap) if cap is not None and config.epochs > cap else config


def _state_for(config: TrainConfig) -> dict[str, object]:
    """The session-state values that make this page's widgets show `config`, within the server's epoch cap."""
    config = _fitted(config)
    values = {setting_key(name): getattr(config, name) for name in _WIDGET_FIELDS}
    values[setting_key("subset")] = config.subset or _ALL_IMAGES
    values[setting_key("target_on")] = config.target_accuracy > 0
    values[setting_key("target_accuracy")] = config.target_accuracy or _CALLBACK_DEFAULTS["target_accuracy"]
    return values


def apply_recommended(dataset: str) -> None:
    """Sets the model and every setting to the dataset's strong default (`default_config`)."""
    config = default_config(dataset)
    st.session_state.update(_state_for(config))
    model_builder.load_preset(config.model_key)
    st.session_state[state.SETTINGS_FOR] = dataset


def apply_preset(dataset: str) -> None:
    """The preset picker's callback: the picked preset's layers, with the settings it brings (`preset_config`)."""
    preset = st.session_state[state.PRESET]
    if preset == "custom":
        return
    st.session_state.update(_state_for(preset_config(dataset, preset)))
    model_builder.load_preset(preset)
    st.session_state[state.SETTINGS_FOR] = dataset


def apply_lesson(dataset: str) -> None:
    """The lessons' settings (Adam 0.001, batch 64, 5 epochs…) for the model as it is now."""
    st.session_state.update(_state_for(default_config(dataset, "dense")))
    st.session_state[state.SETTINGS_FOR] = dataset


def settings_origin(dataset: str, max_epochs: int | None = None) -> str:
    """Where the page's settings come from now: "lesson", "tuned" or "own" (edited)."""
    current = {name: st.session_state.get(setting_key(name)) for name in _SETTINGS_SHOWN}
    for origin, recipe in (("tuned", default_config(dataset)), ("lesson", default_config(dataset, "dense"))):
        wanted = _fitted(recipe, max_epochs)  # a hosted server's cap lowered the epochs: still the same settings
        if current == {name: getattr(wanted, name) for name in _SETTINGS_SHOWN}:
            return origin
    return "own"


def settings_note(dataset: str, max_epochs: int | None = None) -> None:
    """Says which settings the model will train with, and warns when tuned ones meet another model."""
    origin = settings_origin(dataset, max_epochs)
    tuned_for = default_config(dataset).model_key
    if origin == "lesson":
        st.caption(f"Trains with **the lessons' settings**: "
                   f"{settings_line(_fitted(default_config(dataset, 'dense'), max_epochs))}.")
    elif origin == "tuned":
        note = "" if st.session_state.get(state.PRESET) == tuned_for else (
            f" They were tuned for `{tuned_for}`: on another model they may train poorly; **Lesson settings** "
            "suit every model.")
        st.caption(f"Trains with **the settings tuned for this dataset**: "
                   f"{settings_line(_fitted(default_config(dataset), max_epochs))}." + note)
    else:
        st.caption("Trains with **your own settings** (tab 2).")

def settings_buttons(dataset: str, where: str) -> None:
    """"Lesson settings" and "Tuned settings", side by side: both one click away from any model."""
    lesson, tuned = st.columns(2)
    lesson.button("Lesson settings", key=f"{state.LESSON_BUTTON}{where}", on_click=apply_lesson, args=(dataset,),
                  icon=":material/school:", width="stretch",
                  help="The lessons' settings for the model as it is: "
                       f"{settings_line(default_config(dataset, 'dense'))}. Compare architectures with these.")
    tuned.button("Tuned settings", key=f"{state.TUNED_BUTTON}{where}", on_click=apply_recommended, args=(dataset,),
                 icon=":material/speed:", width="stretch",
                 help="This dataset's recommended model with the settings tuned for it, the best accuracy per "
                      f"CPU-second here: {settings_line(default_config(dataset))}.")


# The settings a preset brings (`preset_config`), compared to tell lesson from tuned from edited.
_SETTINGS_SHOWN = ("epochs", "batch_size", "learning_rate", "optimizer", "schedule", "precision", "loss",
                   "label_smoothing")


def _comparable(config: TrainConfig) -> TrainConfig:
    """The config without what the page fills in by itself (the dataset key and the run name)."""
    return replace(config, dataset="", name="")


def is_recommended(config: TrainConfig | None, dataset: str, max_epochs: int | None = None,
                   max_images: int | None = None) -> bool:
    """Whether `config` is the dataset's recommended config, as far as a server's caps allow."""
    if config is None:
        return False
    wanted = _fitted(default_config(dataset), max_epochs)
    return _comparable(replace(config, subset=0 if max_images and config.subset == max_images else config.subset)) \
        == _comparable(wanted)


def init_settings(dataset: str, max_epochs: int | None = None, max_images: int | None = None) -> None:
    """Starts a dataset from its own recommended model and settings, unless the user edited them.

    On the first visit, and when the dataset changes while the settings are still the previous
    dataset's recommended ones, the new dataset's are taken. Edited settings are kept; `offer_recommended`
    then offers the new dataset's in one click.
    """
    previous = st.session_state.get(state.SETTINGS_FOR)
    first_visit = previous is None or setting_key("epochs") not in st.session_state
    untouched = previous != dataset and is_recommended(st.session_state.get(state.LAST_CONFIG), previous, max_epochs,
                                                       max_images)
    if first_visit or untouched:
        apply_recommended(dataset)


def offer_recommended(dataset: str, label: str, config: TrainConfig | None, max_epochs: int | None,
                      max_images: int | None) -> None:
    """After a dataset change that kept edited settings: says so, with a button for the recommended ones."""
    if st.session_state.get(state.SETTINGS_FOR) == dataset or is_recommended(config, dataset, max_epochs, max_images):
        return
    with st.container(border=True):
        st.markdown(f"You switched to **{plain(label)}** and your edited model and settings are kept. This dataset's "
                    "recommended ones may suit it better.")  # an upload's label holds its zip's name
        st.button(f"Use the recommended model and settings for {plain(label)}", icon=":material/restart_alt:",
                  on_click=apply_recommended, args=(dataset,), key=state.TAKE_RECOMMENDED)


def _options(choices: tuple, key: str) -> tuple:
    """A select_slider's options, with the session's value added."""
    return model_builder.options_with(choices, st.session_state.get(key))


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
    if st.session_state.get(setting_key("epochs"), 1) > top_epochs:
        st.info(f"{st.session_state[setting_key('epochs')]} epochs are more than this server allows; "
                f"set to {top_epochs}.", icon=":material/info:")
        st.session_state[setting_key("epochs")] = top_epochs
    values: dict[str, object] = {
        "epochs": left.slider("Epochs", 1, top_epochs, key=setting_key("epochs"),
                              help="One epoch is one pass over every training image."),
        "batch_size": left.select_slider("Batch size", _options(BATCH_SIZES, setting_key("batch_size")),
                                         key=setting_key("batch_size"),
                                         help="Images per gradient step; bigger is faster per image."),
        "learning_rate": left.select_slider("Learning rate (log scale)",
                                            _options(LEARNING_RATES, setting_key("learning_rate")),
                                            key=setting_key("learning_rate"), format_func=lambda rate: f"{rate:g}"),
        "optimizer": left.selectbox("Optimizer", list(_OPTIMIZER_NAMES), key=setting_key("optimizer"),
                                    format_func=_OPTIMIZER_NAMES.get),
        "schedule": left.radio("Learning-rate schedule", ("constant", "cosine"), key=setting_key("schedule"),
                               horizontal=True, help="Cosine: a short warm-up, then a smooth decay to 0 by the "
                                                    "last batch. It usually gives the best final accuracy."),
    }
    st.session_state.setdefault(setting_key("validation_split"), 0.1)
    st.session_state.setdefault(setting_key("seed"), 0)
    values["validation_split"] = right.slider("Validation split", 0.0, 0.9, step=0.05,
                                              key=setting_key("validation_split"),
                                              help="Held out from the training images, never trained on.")
    top_images = min(train_size, max_images or train_size)
    subsets = sorted({size for size in (10, 50, 100, 500, 1000, 2000, 5000, 10_000, 20_000) if size < top_images}
                     | {top_images})
    if st.session_state.get(setting_key("subset")) not in subsets:  # a new dataset: start from all it may use
        st.session_state[setting_key("subset")] = top_images
    chosen = right.select_slider("Training images (subset for quick runs)", subsets, key=setting_key("subset"),
                                 format_func=lambda size: f"{size:,}")
    values["subset"] = 0 if chosen >= train_size else int(chosen)
    values["seed"] = int(right.number_input("Seed", 0, 2**31 - 1, key=setting_key("seed"),
                                            help="Same seed, same subset, split, shuffles and initial weights."))
    values["loss"] = right.radio("Loss", ("sparse", "categorical"), key=setting_key("loss"), horizontal=True,
                                 format_func=lambda loss: f"{loss} categorical cross-entropy" if loss == "sparse"
                                 else "categorical cross-entropy (one-hot)")
    st.session_state.setdefault(setting_key("label_smoothing"), 0.0)
    smoothing = right.select_slider(
        "Label smoothing", _options(LABEL_SMOOTHINGS, setting_key("label_smoothing")),
        key=setting_key("label_smoothing"), disabled=values["loss"] != "categorical",
        format_func=lambda share: "off" if not share else f"{share:g}",
        help="Softens the one-hot targets: with 0.2 and 10 classes the true class's target is 0.82 and every "
             "other class's 0.02, so the network is never pushed to 100% certainty. It needs the categorical "
             "loss. The CIFAR-10 speed records use 0.2.")
    values["label_smoothing"] = float(smoothing) if values["loss"] == "categorical" else 0.0
    values["engine"] = right.radio("Training engine", ("fit", "tape"), key=setting_key("engine"), horizontal=True,
                                   format_func=lambda engine: "model.fit" if engine == "fit"
                                   else "tf.GradientTape loop (lesson)")
    values["precision"] = right.radio(
        "Precision", PRECISIONS, key=setting_key("precision"), horizontal=True,
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
        st.session_state.setdefault(setting_key(name), default)
    early, target, reduce = st.columns(3)
    values["early_stopping"] = early.toggle("EarlyStopping", key=setting_key("early_stopping"))
    if values["early_stopping"]:
        values["early_monitor"] = early.selectbox("Monitor", MONITORS, key=setting_key("early_monitor"))
        values["early_patience"] = early.slider("Patience (epochs)", 0, 10, key=setting_key("early_patience"))
        values["early_min_delta"] = early.number_input("Min delta", 0.0, 1.0, step=0.001, format="%.3f",
                                                       key=setting_key("early_min_delta"))
        values["early_restore_best"] = early.checkbox("Restore best weights", key=setting_key("early_restore"))
    values["target_accuracy"] = 0.0
    if target.toggle("Stop at a target accuracy", key=setting_key("target_on"),
                     help="The lessons' callback: 'Reached 99.8% accuracy so cancelling training!'"):
        values["target_accuracy"] = target.select_slider("Target", _options(TARGETS, setting_key("target_accuracy")),
                                                         key=setting_key("target_accuracy"),
                                                         format_func=lambda share: f"{share:.1%}")
        values["target_monitor"] = target.selectbox("Watch", ("accuracy", "val_accuracy"),
                                                    key=setting_key("target_monitor"))
    values["reduce_lr"] = reduce.toggle("ReduceLROnPlateau", key=setting_key("reduce_lr"))
    if values["reduce_lr"]:
        values["reduce_monitor"] = reduce.selectbox("Monitor ", MONITORS, key=setting_key("reduce_monitor"))
        values["reduce_factor"] = reduce.slider("Factor", 0.1, 0.9, step=0.1, key=setting_key("reduce_factor"))
        values["reduce_patience"] = reduce.slider("Patience (epochs) ", 0, 10, key=setting_key("reduce_patience"))
    return values

