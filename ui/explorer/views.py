"""The Dataset Explorer's per-image views: pixel values, one-hot label, normalisation, augmentation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from core.data.augmentation import AugmentationSettings, augment_variants
from core.data.datasets import Dataset
from core.data.images import upscale_nearest
from core.data.labels import one_hot
from core.data.normalisation import normalisation_stages
from core.data.statistics import PixelStats
from core.evaluate.spreadsheet import spreadsheet_safe
from ui import figures, palette
from ui.explorer import figures as explorer_figures
from ui.explorer import state
from ui.keras_loader import import_keras
from ui.text import plain

NUMBERS_UP_TO = 40  # cells per side above which values are no longer written into the heatmap


def display_size(image_side: int, target: int = 96) -> int:
    """The integer zoom factor that brings an image side close to `target` pixels."""
    return max(1, target // max(image_side, 1))


def _crop_controls(height: int, width: int, colour: bool) -> tuple[slice, slice]:
    """Row and column range sliders; by default the whole image, or its centre when that is big."""
    side = 8 if colour else 28  # three channel grids share the width, so colour starts more zoomed in
    default_rows = (0, height - 1) if height <= side else ((height - side) // 2, (height + side) // 2 - 1)
    default_cols = (0, width - 1) if width <= side else ((width - side) // 2, (width + side) // 2 - 1)
    left, right = st.columns(2)
    rows = left.slider("Rows", 0, height - 1, default_rows, key=f"{state.CROP_ROWS}{height}_{colour}")
    cols = right.slider("Columns", 0, width - 1, default_cols, key=f"{state.CROP_COLUMNS}{width}_{colour}")
    return slice(rows[0], rows[1] + 1), slice(cols[0], cols[1] + 1)


def pixel_values(image: np.ndarray) -> None:
    """The image as numbers: a heatmap per channel with every value written in its cell."""
    height, width, channels = image.shape
    st.caption("Drag the sliders to zoom into a region; hover a cell for its position and value.")
    rows, cols = _crop_controls(height, width, channels == 3)
    crop = image[rows, cols]  # (h, w, C)
    numbers = max(crop.shape[:2]) <= NUMBERS_UP_TO
    if channels == 1:
        st.plotly_chart(figures.pixel_heatmap(crop[..., 0], "grey", row_offset=rows.start, col_offset=cols.start,
                                              numbers=numbers, height=620), key="explorer_heatmap")
        return
    composite, explanation = st.columns([1, 2])
    with composite:
        st.plotly_chart(explorer_figures.rgb_image(image, height=300, title="composite (yellow: the region below)",
                                          highlight=(rows, cols)), key="explorer_rgb")
    with explanation:
        st.markdown(
            "A colour image is three grids of numbers stacked together: how much **red**, **green** and "
            "**blue** light each pixel gives off, each 0–255. Your screen mixes them into the composite; "
            "a convolution layer reads all three at once. White is (255, 255, 255), black (0, 0, 0)."
        )
    for column, name, index in zip(st.columns(3), "RGB", range(3), strict=True):
        with column:
            st.plotly_chart(figures.pixel_heatmap(crop[..., index], name, row_offset=rows.start,
                                                  col_offset=cols.start, numbers=numbers, height=420,
                                                  title=f"{name} channel", showscale=False),
                            key=f"explorer_channel_{name}")


def label_view(dataset: Dataset, label: int) -> None:
    """The integer label beside its one-hot vector."""
    vector = one_hot(label, dataset.num_classes)
    st.markdown(f"Label **{label}** → class **{plain(dataset.class_names[label])}** → one-hot vector "
                f"`[{', '.join(f'{v:g}' for v in vector)}]`")
    columns = [name if name == str(i) else f"{i}: {name}" for i, name in enumerate(dataset.class_names)]
    frame = pd.DataFrame([vector.astype(int)], columns=columns, index=["one-hot"])
    st.dataframe(spreadsheet_safe(frame).style.highlight_max(axis=1, color=palette.TABLE_MAXIMUM), width="stretch")
    with st.expander("Why one-hot?"):
        st.markdown(
            f"The network ends in {dataset.num_classes} outputs, one probability per class. To compare its answer "
            "with the truth, the label is written the same way: a 1 at the true class and 0 everywhere else. "
            "Keeping the label as a single integer and using *sparse* categorical cross-entropy gives the same "
            "loss without building these vectors, which is why many Keras examples never show them."
        )


def normalisation_view(image: np.ndarray, stats: PixelStats, dataset_name: str) -> None:
    """The selected image on the raw, /255 and standardised scales, with the dataset's mean and std."""
    per_channel = False
    if len(stats.channel_mean) == 3:
        per_channel = st.toggle("Per channel (as keras.layers.Normalization does)", key=state.PER_CHANNEL)
    if per_channel:
        means = ", ".join(f"{name} {m:.3f}" for name, m in zip("RGB", stats.channel_mean, strict=True))
        stds = ", ".join(f"{name} {s:.3f}" for name, s in zip("RGB", stats.channel_std, strict=True))
        st.markdown(f"Training-set pixel **mean**: {means}; **std**: {stds} (0–255 scale).")
    else:
        st.markdown(f"Training-set pixel **mean {stats.mean:.3f}**, **std {stats.std:.3f}** on the 0–255 scale "
                    f"({stats.mean / 255:.4f} and {stats.std / 255:.4f} after dividing by 255).")
    stages = normalisation_stages(image, stats, per_channel)
    formulas = ("x", "x / 255", "(x − mean) / std")
    colours = palette.STAGES
    for column, stage, formula, colour in zip(st.columns(3), stages, formulas, colours, strict=True):
        with column:
            st.markdown(f"**{stage.name}**: `{formula}`")
            st.markdown(f"possible range **[{stage.possible_min:.3f}, {stage.possible_max:.3f}]**  \n"
                        f"this image: min {stage.values.min():.3f}, max {stage.values.max():.3f}, "
                        f"mean {stage.values.mean():.3f}")
            histogram = explorer_figures.value_histogram(stage.values, stage.possible_min, stage.possible_max, colour)
            st.plotly_chart(histogram,
                            key=f"explorer_norm_{stage.name}")
    with st.expander("Why normalise?"):
        st.markdown(
            f"The picture does not change, only the numbers. A network starts with small random weights and learns "
            f"by gradient steps of one shared size; inputs in the hundreds make the first layer's outputs and "
            f"gradients hundreds of times larger than inputs near 1, so training is unstable or slow. Dividing by 255 "
            f"is the common fix. Standardising goes one step further: over the whole {dataset_name} training set "
            f"the values then average 0 with spread 1. A pixel of 0 becomes {stages[2].possible_min:.3f} and a "
            f"pixel of 255 becomes {stages[2].possible_max:.3f}. Use the *training* set's mean and std for test "
            "images too: the model must see every image on the same scale."
        )


def augmentation_view(image: np.ndarray) -> None:
    """Sliders for Keras' random augmentation layers and the variants they make of the image."""
    controls, preview = st.columns([1, 2])
    with controls:
        flip = st.selectbox("RandomFlip", ["none", "horizontal", "vertical", "horizontal_and_vertical"],
                            key=state.augment_key("flip"))
        rotation = st.slider("RandomRotation factor (fraction of a full turn)", 0.0, 0.5, 0.1, 0.01,
                             key=state.augment_key("rotation"))
        zoom = st.slider("RandomZoom factor", 0.0, 0.5, 0.1, 0.01, key=state.augment_key("zoom"))
        translation = st.slider("RandomTranslation factor", 0.0, 0.5, 0.1, 0.01, key=state.augment_key("translation"))
        fill_mode = st.selectbox("fill_mode", ["constant", "reflect", "wrap", "nearest"], key=state.augment_key("fill"))
        count = st.slider("Variants", 4, 16, 8, key=state.augment_key("count"))
        seed = st.number_input("Seed", 0, 10_000, 0, key=state.augment_key("seed"))
    settings = AugmentationSettings(flip, rotation, zoom, translation, fill_mode)
    with preview:
        with st.spinner("Loading TensorFlow for the Keras layers (the first time takes a few seconds)…"):
            import_keras()  # the server's import, so its objects stay out of every rerun's gc.collect()
            variants = augment_variants(image, settings, count=count, seed=int(seed))
        factor = display_size(image.shape[0])
        shown = [upscale_nearest(image, factor)] + [upscale_nearest(v, factor) for v in variants]
        st.image(shown, caption=["original"] + [f"variant {i + 1}" for i in range(count)],
                 alt=["the original image"] + [f"augmented variant {i + 1} of the image" for i in range(count)])
        st.caption(f"±{rotation * 360:.0f}° rotation, up to {zoom:.0%} zoom, up to {translation:.0%} shift. "
                   "The same layers, placed at the start of a model, make a new variant of every image in every "
                   "epoch, and switch themselves off at prediction time.")
        st.code("\n".join(["augment = keras.Sequential(["] + [f"    {line}," for line in settings.layer_code()]
                          + ["])"]), language=None, wrap_lines=True)  # plain: highlighting failed AA contrast
    with st.expander("Why augment?"):
        st.markdown(
            "A model that has seen each training image many times can memorise them and still fail on new ones. "
            "Small random flips, turns, zooms and shifts make each epoch's copy slightly different while keeping "
            "its label true, so the model has to learn what the object looks like rather than where its pixels "
            "sit. Keep the changes realistic: a vertical flip turns a 6 into something like a 9, so flips that "
            "help on photos of cars can hurt on digits."
        )
