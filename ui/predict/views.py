"""The Predict page's parts: the input sources, the prediction panel, the X-ray strip, feature maps, saliency."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from PIL import Image
from plotly.subplots import make_subplots

from core.data import own_classes
from core.data.images import UPLOAD_TYPES, ImageDecodeError, decode_image
from core.data.numbers import percent
from core.evaluate.descriptions import feature_map_summary, feature_maps_summary, probabilities_summary
from core.predict import inspection, preprocessing, rejection
from core.store.runs import RunRecord
from ui import canvas, hosting, palette
from ui.chart_text import probability_table, text_alternative
from ui.choices import keep_if_offered
from ui.figures import pixel_heatmap, probability_bars, tile_mosaic
from ui.loaders import dataset_for_run
from ui.predict.state import (
    CAMERA,
    CANVAS_KEYS,
    CHECK,
    FILTER,
    INDEX,
    INJECTED_PHOTO,
    LAYER,
    QUICK_ANSWER,
    RANDOM,
    SALIENCY_CLASS,
    STROKE,
    UPLOAD,
)
from ui.text import plain, plot_text

MAX_MAPS = 32  # feature maps drawn per layer in the overview grid
MAPS_PER_ROW = 8  # of that grid; its text alternative says so


def drawable(record: RunRecord) -> bool:
    """Drawing makes sense for grey, square models (digits and clothes), and for a learner's own classes."""
    height, width, channels = record.input_shape
    return height == width and (channels == 1 or own_classes.is_own_key(record.dataset))


def own_model(record: RunRecord) -> bool:
    """Whether the run was trained on a learner's own classes (drawn and photographed examples)."""
    return own_classes.is_own_key(record.dataset)


def draw_source(record: RunRecord) -> tuple[np.ndarray | None, preprocessing.DrawingStages | None, np.ndarray | None,
                                          object]:
    """The canvas; returns (model input, MNIST-style stages, naive 28×28) for the drawing, or Nones, and the place
    under the canvas where a phone gets the answer in one line (`quick_answer`): a phone stacks the columns, and
    the full answer sat below the canvas's controls, off screen after every stroke."""
    controls, board = st.columns([1, 2])
    with controls:
        width = st.slider("Stroke width", 6, 40, 18, key=STROKE)
        canvas.buttons(CANVAS_KEYS)
        thing = "one example of one of your classes" if own_model(record) else "one digit"
        st.caption(f"Draw {thing}, large or small, anywhere. Undo, or {canvas.UNDO_SHORTCUT}, takes back the last "
                   "stroke. The prediction updates at the end of each stroke, "
                   "when you lift the mouse or your finger.")
    with board:
        rgba = canvas.drawing(width, CANVAS_KEYS, "one example of one of your classes" if own_model(record)
                              else "one digit")
        quick = st.container(key=QUICK_ANSWER)
        st.html(f"<style>@media (min-width: 640px) {{.st-key-{QUICK_ANSWER} {{display: none;}}}}</style>")
    if rgba is None:
        return None, None, None, quick
    side, channels = record.input_shape[0], record.input_shape[2]
    box = own_classes.drawing_box(side) if own_model(record) else None  # as the set's drawn examples were made
    prepared = preprocessing.prepare_drawing(rgba, side=side, box=box)
    if prepared is None:
        return None, None, None, quick
    if channels == 3:  # a colour model of one's own classes: the drawing's grey in all three channels
        return np.repeat(prepared.image, 3, axis=2), prepared.stages, np.repeat(prepared.naive, 3, axis=2), quick
    return prepared.image, prepared.stages, prepared.naive, quick


def camera_source(record: RunRecord) -> tuple[np.ndarray | None, preprocessing.DrawingStages | None]:
    """A photo from the camera, prepared as an upload is (`picture_input`)."""
    photo = st.camera_input("Take a photo", key=CAMERA)
    data = st.session_state.pop(INJECTED_PHOTO, None) or (photo.getvalue() if photo is not None else None)
    if data is None:
        st.caption("Take a photo: the model reads it at once. If the browser blocks the camera, allow it from the "
                   "address bar, or use Upload.")
        return None, None
    try:
        image = decode_image(data, "rgb", max_pixels=hosting.limits().image_pixels, name="camera photo")
    except ImageDecodeError as error:
        st.error(plain(error), icon=":material/error:")
        return None, None
    return picture_input(record, image)


def upload_source(record: RunRecord) -> tuple[np.ndarray | None, preprocessing.DrawingStages | None]:
    """An uploaded image, prepared for the model: MNIST-style for digit models, resized otherwise."""
    upload = st.file_uploader("An image (PNG, JPEG, BMP, GIF, WebP or TIFF)", type=list(UPLOAD_TYPES),
                              key=UPLOAD, max_upload_size=hosting.upload_limit())
    if upload is None:
        return None, None
    if too_big := hosting.upload_too_big(upload.getvalue()):
        st.error(too_big, icon=":material/error:")
        return None, None
    try:
        image = decode_image(upload.getvalue(), "rgb", max_pixels=hosting.limits().image_pixels, name=upload.name)
    except ImageDecodeError as error:
        st.error(plain(error), icon=":material/error:")
        return None, None
    return picture_input(record, image)


def picture_input(record: RunRecord, image: np.ndarray) -> tuple[np.ndarray | None, preprocessing.DrawingStages | None]:
    """A decoded photo or upload (H, W, C) uint8 as the model's input, with a caption saying what was done.

    A model of one's own classes gets the photo's middle square, resized, as its examples were made; a digit
    model MNIST's preparation; any other a resize.
    """
    height, width, channels = record.input_shape
    if own_model(record):
        try:
            square = own_classes.prepare_photo(image, height, "rgb" if channels == 3 else "grayscale")
        except own_classes.ClassSetError as error:
            st.error(plain(error), icon=":material/error:")
            return None, None
        if height != width:  # a model of another shape: the square, stretched to it
            picture = Image.fromarray(square[:, :, 0] if channels == 1 else square).resize((width, height))
            square = np.asarray(picture).reshape(height, width, channels)
        st.caption(f"Cropped to the middle square and resized to {width}×{height}, as the examples of your classes "
                   "were.")
        return square.astype(np.float32), None
    digit_style = drawable(record) and record.dataset in ("mnist", "digits")
    try:
        prepared = preprocessing.prepare_upload(image, tuple(record.input_shape), digit_style)
    except ValueError as error:  # too small, or a thin strip
        st.error(plain(error), icon=":material/error:")
        return None, None
    if prepared is None:
        st.warning("No ink found in this image: it looks blank.", icon=":material/warning:")
        return None, None
    st.caption(prepared.note)
    return prepared.image, prepared.stages


def test_image_source(record: RunRecord) -> tuple[np.ndarray | None, int | None]:
    """A test image by index or at random (lesson 003's `predict(i)`); returns it and its true class.

    The dataset loads only here, when a test image is asked for; (None, None) with a message when
    it is not available or its images do not fit the model.
    """
    dataset, problem = dataset_for_run(record)
    if dataset is None:
        st.warning(problem, icon=":material/warning:")
        return None, None
    count = len(dataset.x_test)
    asked = st.session_state.get(INDEX)
    if isinstance(asked, int) and asked > count - 1:  # from a link, or kept from a dataset with more test images
        st.warning(f"There is no test image #{asked:,} here: this test set has {count:,} (0–{count - 1:,}). "
                   "Showing #0.", icon=":material/warning:")
    _forget_beyond(INDEX, count - 1)  # another dataset may have fewer test images
    pick, shuffle = st.columns([3, 1], vertical_alignment="bottom")
    index = pick.number_input(f"Test image (0–{count - 1})", 0, count - 1, key=INDEX)
    shuffle.button("Random", icon=":material/casino:", key=RANDOM,
                   on_click=lambda: st.session_state.update({INDEX: int(np.random.default_rng().integers(count))}))
    return dataset.x_test[index].astype(np.float32), int(dataset.y_test[index])


def xray(stages: preprocessing.DrawingStages, naive: np.ndarray | None) -> None:
    """Each preprocessing stage side by side, then the model's input with its pixel values."""
    panels = [("1. grey", stages.grey), ("2. cropped to the ink", stages.cropped),
              (f"3. fitted into {max(stages.fitted.shape)}×{max(stages.fitted.shape)}", stages.fitted),
              ("4. pasted in the field", stages.pasted),
              (f"5. centred (moved {stages.shift[0]:+d}, {stages.shift[1]:+d} px)", stages.centred)]
    if naive is not None:
        panels.append(("naive resize, for comparison", naive[:, :, 0]))
    figure = make_subplots(rows=1, cols=len(panels), subplot_titles=[title for title, _ in panels],
                           horizontal_spacing=0.02)
    for column, (_, image) in enumerate(panels, start=1):
        figure.add_trace(go.Heatmap(z=np.asarray(image, dtype=np.float32), colorscale="gray", zmin=0, zmax=255,
                                    showscale=False, hovertemplate="row %{y}, col %{x}: %{z:.0f}<extra></extra>"),
                         row=1, col=column)
        figure.update_yaxes(autorange="reversed", scaleanchor=f"x{column}", showticklabels=False, row=1, col=column)
        figure.update_xaxes(showticklabels=False, row=1, col=column)
        # Each image's edge drawn: a dash cropped to its ink is all ink, and was white on the white page.
        height, width = np.asarray(image).shape[:2]
        figure.add_shape(type="rect", x0=-0.5, y0=-0.5, x1=width - 0.5, y1=height - 0.5, row=1, col=column,
                         line={"color": palette.ORANGE, "width": 1})
    figure.update_layout(height=230, margin={"l": 5, "r": 5, "t": 40, "b": 5})
    figure.update_annotations(font_size=11)
    st.plotly_chart(figure, key="predict_xray")
    top, left, bottom, right = stages.box
    st.caption(f"The ink spans rows {top}–{bottom - 1} and columns {left}–{right - 1} of the input. Its longer "
               f"side is scaled to {max(stages.fitted.shape)} pixels with anti-aliasing (the grey edge pixels), "
               "then the digit is moved whole pixels so its centre of mass sits in the middle: MNIST's own recipe.")


def digit_check(check, image: np.ndarray) -> rejection.Judgement | None:
    """The digit check's switch and its judgement of the drawing; None when it is off or unavailable.

    Args:
        check: `ui.model_cache.load_digit_check()`: (model, threshold), or None when its files are missing.
        image: The drawing prepared MNIST's way, (28, 28, 1).
    """
    if check is None:
        st.caption("The digit check is not available on this server, so every drawing gets a digit.")
        return None
    if not st.toggle("Say when it is not a digit", value=True, key=CHECK,
                     help="A second, small network judges whether the drawing looks like a digit at all. Turn it "
                          "off to see only the raw guess of a network that knows nothing but digits."):
        return None
    return rejection.judge(check[0], check[1], image)


def prediction(model, image: np.ndarray, class_names: list[str], true_class: int | None = None,
               judgement: rejection.Judgement | None = None) -> np.ndarray:
    """The verdict, the probability bars and, for a test image, expected vs guess; returns the probabilities.

    A drawing the digit check flags gets "not a digit" instead of the verdict; its bars still show the raw guess.
    """
    probabilities = inspection.probabilities(model, image)
    guess = int(np.argmax(probabilities))
    if judgement is not None and judgement.flagged:
        st.markdown(":orange[**Not a digit?**] " + rejection.EXPLANATION)
        st.caption(f"The check gives it {percent(judgement.not_digit, 1)} of being something else. The bars are "
                   f"the raw guess: **{plain(class_names[guess])}** at {percent(probabilities[guess], 1)}.")
    else:
        st.markdown(inspection.verdict(probabilities, [plain(name) for name in class_names]))
    if true_class is not None:
        mark = ":green[**right**]" if guess == true_class else ":red[**wrong**]"
        st.markdown(f"Expected **{plain(class_names[true_class])}**, guessed **{plain(class_names[guess])}**: {mark}.")
    st.plotly_chart(probability_bars(probabilities, class_names, true_class), key="predict_bars")
    text_alternative(probabilities_summary(probabilities, class_names), probability_table(probabilities, class_names),
                     "The probabilities")
    return probabilities


def quick_answer(probabilities: np.ndarray, class_names: list[str], judgement: rejection.Judgement | None) -> None:
    """The answer in one line, for the place under the canvas that only a phone shows (`draw_source`)."""
    guess = int(np.argmax(probabilities))
    # Worded apart from the full answer ("It reads…", "Not a digit?"), which the page also holds.
    if judgement is not None and judgement.flagged:
        st.markdown(f":orange[**Probably not a digit**] · raw guess {plain(class_names[guess])} "
                    f"({percent(probabilities[guess], 1)}) · the full answer is below")
    else:
        st.markdown(f"**Reads {plain(class_names[guess])}** · {percent(probabilities[guess], 1)} · "
                    "the full answer is below")


def input_pixels(image: np.ndarray) -> None:
    channel = image[:, :, 0] if image.shape[2] == 1 else image.mean(axis=2)
    # A short title: plotly cuts a long one at the figure's edge ("…it rescales to 0–1 its").
    st.plotly_chart(pixel_heatmap(channel, numbers=image.shape[0] <= 28, height=520, title="What the model receives"),
                    key="predict_pixels")
    st.caption("Pixel values 0–255, as the datasets store them; the model's first layer rescales them to 0–1.")


def _forget_beyond(key: str, highest: int) -> None:
    """Drops a kept number that the current range no longer allows, so its widget starts over."""
    value = st.session_state.get(key, 0)
    if not isinstance(value, int | float) or value > highest:
        st.session_state.pop(key, None)


def feature_maps(model, image: np.ndarray) -> None:
    """Every conv and pooling layer's maps, one layer and filter up close, and Dense activations as bars."""
    found = inspection.activations(model, image)
    spatial = [a for a in found if a.spatial]
    if not spatial:
        st.info("This model has no conv or pooling layers: it looks at every pixel separately, so there are no "
                "feature maps, only the Dense activations below.", icon=":material/info:")
    else:
        names = [f"{a.name} ({a.kind}, {a.values.shape[0]}×{a.values.shape[1]}×{a.values.shape[2]})" for a in spatial]
        keep_if_offered(LAYER, range(len(spatial)))  # another model: other layers, other labels
        chosen = st.selectbox("Layer", range(len(spatial)), format_func=names.__getitem__, key=LAYER)
        layer = spatial[chosen]
        maps = layer.values  # (h, w, k)
        shown = np.moveaxis(maps[:, :, :MAX_MAPS], -1, 0)  # (k, h, w)
        low, high = min(0.0, float(shown.min())), float(shown.max())
        mosaic = tile_mosaic(shown, MAPS_PER_ROW, "viridis", low, high if high > low else low + 1, "map", "activation")
        st.plotly_chart(mosaic, key="predict_maps")
        note = f" (the first {MAX_MAPS} of {maps.shape[2]})" if maps.shape[2] > MAX_MAPS else ""
        st.caption(f"{plain(layer.name)}: {maps.shape[2]} maps of {maps.shape[0]}×{maps.shape[1]}{note}. Bright = the "
                   "filter found its pattern there. Early layers respond to edges and strokes; deeper, smaller "
                   "maps respond to combinations of them. "
                   + plain(feature_maps_summary(layer.name, shown, MAPS_PER_ROW)))
        _forget_beyond(FILTER, maps.shape[2] - 1)  # or fewer filters
        k = st.slider("Filter", 0, maps.shape[2] - 1, 0, key=FILTER) if maps.shape[2] > 1 else 0
        st.plotly_chart(pixel_heatmap(maps[:, :, k], zmin=float(maps.min()), zmax=float(maps.max()) or 1.0,
                                      numbers=maps.shape[0] <= 16, height=420, number_format="%{z:.1f}",
                                      colorscale="viridis", title=plot_text(f"{layer.name}, filter {k}")),
                        key="predict_one_map")
        st.caption(plain(feature_map_summary(layer.name, k, maps[:, :, k])))
    for activation in (a for a in found if not a.spatial):
        values = activation.values
        figure = go.Figure(go.Bar(y=values, hovertemplate="unit %{x}: %{y:.3f}<extra></extra>"))
        figure.update_layout(height=200, margin={"l": 5, "r": 5, "t": 30, "b": 5},
                             title=f"{activation.name} ({activation.kind}, {len(values)} units)")
        st.plotly_chart(figure, key=f"predict_dense_{activation.index}")


def saliency(model, image: np.ndarray, class_names: list[str], probabilities: np.ndarray) -> None:
    """A heat map of the evidence for the predicted class, or any class picked."""
    guess = int(np.argmax(probabilities))
    # Labels that stay put from one image to the next (a probability in them made every new image's label
    # differ, and the browser's old label came back as the value): the probability goes in the caption.
    keep_if_offered(SALIENCY_CLASS, range(len(class_names)))
    explained = st.selectbox("Explain the class", range(len(class_names)), index=guess,
                             format_func=class_names.__getitem__, key=SALIENCY_CLASS)
    result = inspection.saliency(model, image, explained)
    shown = image[:, :, 0] if image.shape[2] == 1 else image.mean(axis=2)
    title = f"{result.method} for {plot_text(class_names[explained])}"
    figure = make_subplots(rows=1, cols=2, subplot_titles=["input", title], horizontal_spacing=0.04)
    figure.add_trace(go.Heatmap(z=shown, colorscale="gray", zmin=0, zmax=255, showscale=False), row=1, col=1)
    figure.add_trace(go.Heatmap(z=shown, colorscale="gray", zmin=0, zmax=255, showscale=False), row=1, col=2)
    figure.add_trace(go.Heatmap(z=result.heat, colorscale="hot", zmin=0, zmax=1, opacity=0.6,
                                hovertemplate="evidence %{z:.2f}<extra></extra>"), row=1, col=2)
    figure.update_yaxes(autorange="reversed", showticklabels=False)
    figure.update_xaxes(showticklabels=False)
    figure.update_layout(height=360, margin={"l": 5, "r": 5, "t": 40, "b": 5})
    st.plotly_chart(figure, key="predict_saliency")
    st.caption(f"The model gives {plain(class_names[explained])} {percent(probabilities[explained], 1)}.")
    if result.note:
        st.info(f"**This map says little.** {result.note}", icon=":material/info:")
    if result.method == "HiResCAM":
        side = f"{result.cells[0]}×{result.cells[1]}"
        st.caption(f"HiResCAM on {plain(result.layer)}, the last conv layer ({side}): each "
                   f"place's activations times how much they raise the score of {plain(class_names[explained])} "
                   "(before the softmax) at that place, positive part only, scaled up to the input. It is Grad-CAM "
                   "without Grad-CAM's averaging, which behind Flatten → Dense lit up the image's edges instead of "
                   "the strokes. Empty areas can be evidence too: no ink where another class would have some. Pick "
                   "another class to see where the evidence for it would be.")
    else:
        st.caption("This model has no conv layer, so the map is gradient × input: each pixel times how much the "
                   f"score of {plain(class_names[explained])} (before the softmax) changes with it.")
