"""The layer builder: a model spec held in session state, edited row by row, with its live summary.

The spec is a list of layer dicts (`core.model.layers.Layer.to_dict`) under `SPEC`. Each layer also has
a stable id (`SPEC_IDS`) that its widgets' keys include, so moving or deleting a layer never
hands one layer's widget values to another.
"""

from __future__ import annotations

import uuid

import pandas as pd
import streamlit as st

from core.model.architectures import SummaryRow, summarise
from core.model.layers import ACTIVATIONS, INTERPOLATIONS, LAYER_TYPES, Layer, SpecError, layer_from_dict, spec_to_dicts
from core.model.presets import PRESETS
from ui.train.state import ADD_KIND, PRESET, SPEC, SPEC_IDS, layer_key

_CHOICES: dict[str, tuple] = {
    "kernel": (1, 3, 5, 7), "stride": (1, 2, 3, 4), "padding": ("valid", "same"), "activation": ACTIVATIONS,
    "mode": ("max", "average"), "size": (2, 3, 4), "interpolation": INTERPOLATIONS,
}
_FLIP_MODES = ("horizontal", "vertical", "horizontal_and_vertical")
_DESCRIPTIONS = {
    "Rescaling": "multiplies pixels by 1/255, so the model takes 0–255 images itself",
    "Conv2D": "learned kernels slide over the image", "Pooling2D": "keeps the max (or mean) of each window",
    "BatchNormalization": "re-centres each channel; trains faster", "Dropout": "switches off units at random",
    "Flatten": "turns H×W×C into one vector", "GlobalAveragePooling2D": "one mean per channel",
    "Dense": "every input connected to every unit", "RandomFlip": "augmentation: mirror images",
    "RandomRotation": "augmentation: turn images", "RandomZoom": "augmentation: zoom in or out",
    "RandomTranslation": "augmentation: shift images",
}


def load_preset(key: str) -> None:
    """Replaces the spec with a preset's layers."""
    st.session_state[SPEC] = spec_to_dicts(PRESETS[key].spec())
    st.session_state[SPEC_IDS] = [uuid.uuid4().hex[:8] for _ in st.session_state[SPEC]]
    st.session_state[PRESET] = key


def init_builder(default_preset: str) -> None:
    if SPEC not in st.session_state:
        load_preset(default_preset)


def sync_preset() -> None:
    """Shows "custom" in the preset picker once the spec differs from the preset it came from.

    Worked out from the spec itself, before the picker is drawn, rather than in each edit's
    callback: Streamlit may re-fire a kept widget's callback when its page is shown again.
    """
    key = st.session_state.get(PRESET)
    if key in PRESETS and st.session_state[SPEC] != spec_to_dicts(PRESETS[key].spec()):
        st.session_state[PRESET] = "custom"


def _set(uid: str, name: str, cast: type) -> None:
    position = st.session_state[SPEC_IDS].index(uid)
    st.session_state[SPEC][position][name] = cast(st.session_state[layer_key(uid, name)])


def _move(uid: str, offset: int) -> None:
    ids, spec = st.session_state[SPEC_IDS], st.session_state[SPEC]
    here = ids.index(uid)
    there = here + offset
    if 0 <= there < len(ids):
        ids[here], ids[there] = ids[there], ids[here]
        spec[here], spec[there] = spec[there], spec[here]


def _remove(uid: str) -> None:
    here = st.session_state[SPEC_IDS].index(uid)
    del st.session_state[SPEC_IDS][here], st.session_state[SPEC][here]


def _add() -> None:
    kind = st.session_state[ADD_KIND]
    layer = LAYER_TYPES[kind]()
    spec = st.session_state[SPEC]
    # New layers go before the first Dense/Flatten for image layers, else at the end: the usual place.
    position = len(spec)
    if layer.needs_image:
        position = next((i for i, item in enumerate(spec) if item["kind"] in ("Flatten", "GlobalAveragePooling2D",
                                                                                "Dense")), len(spec))
    spec.insert(position, layer.to_dict())
    st.session_state[SPEC_IDS].insert(position, uuid.uuid4().hex[:8])


def options_with(choices: tuple, value: object) -> tuple:
    """A picker's choices with `value` added: a selectbox or select_slider shows a value it lacks as its first
    choice (speed_cifar's 2×2 kernel showed as 1, a learning rate of 0.008 as 1e-05)."""
    if value is None or value in choices:
        return choices
    return tuple(sorted({*choices, value}))


def _widget(uid: str, layer: dict, name: str, column) -> None:
    key = layer_key(uid, name)
    value = layer[name]
    args = {"key": key, "on_change": _set}
    if key not in st.session_state:
        st.session_state[key] = value
    if name in _CHOICES or (name == "mode" and layer["kind"] == "RandomFlip"):
        options = _FLIP_MODES if layer["kind"] == "RandomFlip" else _CHOICES[name]
        if layer["kind"] == "Pooling2D" and name == "stride":
            options = (0, 1, 2, 3, 4)
        column.selectbox(name, options_with(options, value), args=(uid, name, type(value)),
                         format_func=lambda v: "= size" if (name == "stride" and v == 0) else str(v), **args)
    elif name in ("filters", "units"):
        column.number_input(name, 1, 8192, step=8, args=(uid, name, int), **args)
    elif name == "rate":
        column.number_input("rate", 0.0, 0.95, step=0.05, args=(uid, name, float), **args)
    elif name == "factor":
        column.number_input("factor", 0.01, 0.5, step=0.01, format="%g", args=(uid, name, float), **args)
    elif name == "momentum":
        column.number_input("momentum", 0.0, 0.999, step=0.01, format="%.3f", args=(uid, name, float),
                            help="Share of the running mean and variance kept at each step (Keras: 0.99)", **args)
    elif name == "l2":
        column.number_input("L2", 0.0, 0.1, step=1e-4, format="%.5f", args=(uid, name, float),
                            help="L2 weight decay (0 = off)", **args)


_EDITABLE = ("filters", "units", "kernel", "size", "mode", "stride", "padding", "activation", "rate", "factor",
             "interpolation", "l2", "momentum")


def _line(position: int, layer: dict) -> str:
    """The layer as its row reads, e.g. "2 · Conv2D 32@3×3 same relu" (its kind alone while a setting is bad)."""
    try:
        label = layer_from_dict(layer).label()
    except SpecError:
        label = str(layer["kind"])
    return f"{position} · {label}"


def layer_rows() -> None:
    """One line per layer: the layer as it reads, which opens what it does and its settings, and move and delete
    buttons; then an "add layer" row.

    A line, not a row of widgets: at 1280 px eleven columns cut their labels ("interpolatio n"), and on a phone
    Streamlit stacks columns, so every widget took a full-width row (a page about 5,400 px long).
    """
    spec, ids = st.session_state[SPEC], st.session_state[SPEC_IDS]
    for position, (uid, layer) in enumerate(zip(ids, spec, strict=True), start=1):
        editable = [name for name in _EDITABLE if name in layer]
        with st.container(horizontal=True, vertical_alignment="center", gap="small", wrap=False,
                          key=f"layer_row_{uid}"):
            # Keyed, so that it stays open while its line changes with each edit.
            with st.popover(_line(position, layer), icon=":material/tune:", width="stretch", wrap=True,
                            key=f"layer_settings_{uid}", help=f"What layer {position} does, and its settings"):
                st.caption(f"{layer['kind']}: {_DESCRIPTIONS.get(str(layer['kind']), '')}"
                           + ("" if editable else ". It has no settings."))
                for name in editable:
                    _widget(uid, layer, name, st)
            with st.container(horizontal=True, gap="small", wrap=False, width="content"):
                # Named for a screen reader ("Move layer 3 up"), the name hidden on screen by ICON_ONLY_CSS:
                # a label-less button was read by its icon's name, "arrow_upward".
                st.button(f"Move layer {position} up", key=f"up_{uid}", on_click=_move, args=(uid, -1),
                          help="move up", icon=":material/arrow_upward:", disabled=position == 1)
                st.button(f"Move layer {position} down", key=f"down_{uid}", on_click=_move, args=(uid, 1),
                          help="move down", icon=":material/arrow_downward:", disabled=position == len(spec))
                st.button(f"Remove layer {position}", key=f"del_{uid}", on_click=_remove, args=(uid,),
                          help="remove this layer", icon=":material/delete:")
    st.html(ICON_ONLY_CSS)
    add, button = st.columns([3, 1], vertical_alignment="bottom")
    add.selectbox("Add a layer", list(LAYER_TYPES), key=ADD_KIND,
                  format_func=lambda kind: f"{kind}: {_DESCRIPTIONS[kind]}")
    button.button("Add layer", on_click=_add, icon=":material/add:", width="stretch")


# The layer buttons show only their icons; their names stay for screen readers (the usual visually-hidden rule).
ICON_ONLY_CSS = """<style>
[class*="st-key-up_"] button [data-testid="stMarkdownContainer"],
[class*="st-key-down_"] button [data-testid="stMarkdownContainer"],
[class*="st-key-del_"] button [data-testid="stMarkdownContainer"] {
  position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap;
}
</style>"""


def current_spec() -> tuple[list[Layer] | None, str | None]:
    """The spec as layers, or None and a message naming the first bad layer."""
    layers = []
    for position, data in enumerate(st.session_state[SPEC], start=1):
        try:
            layers.append(layer_from_dict(data))
        except SpecError as error:
            return None, f"Layer {position}: {error}"
    return layers, None


def summary_table(rows: list[SummaryRow]) -> None:
    """The `model.summary()` table as a dataframe, with totals."""
    frame = pd.DataFrame({
        "#": range(1, len(rows) + 1), "layer": [row.layer for row in rows],
        "output shape": ["(None, " + ", ".join(map(str, row.output_shape)) + ")" for row in rows],
        "trainable": [row.trainable for row in rows], "non-trainable": [row.non_trainable for row in rows],
    })
    st.dataframe(frame, hide_index=True, width="stretch",
                 column_config={name: st.column_config.NumberColumn(format="localized")
                                for name in ("trainable", "non-trainable")})
    trainable, frozen = frame["trainable"].sum(), frame["non-trainable"].sum()
    st.caption(f"Total params: **{trainable + frozen:,}** · trainable **{trainable:,}** · non-trainable "
               f"{frozen:,} (BatchNorm's running means and variances: updated, not learned).")


def model_summary(input_shape: tuple[int, int, int], num_classes: int) -> list[Layer] | None:
    """Shows the summary, or the reason the spec cannot be built; returns the spec if it can."""
    layers, problem = current_spec()
    if layers is not None:
        try:
            summary_table(summarise(layers, input_shape, num_classes))
            return layers
        except SpecError as error:
            problem = str(error)
    st.error(f"This model cannot be built: {problem}", icon=":material/error:")
    return None
