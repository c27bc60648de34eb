"""Looking inside a trained model for one image: probabilities, every layer's activations, and saliency (HiResCAM).

Works on the app's Sequential models (built by `core.model.architectures` or uploaded and checked by
`core.model.upload_check`). The model is only called, never changed: the Predict page shares one cached
model between all sessions. Keras is imported lazily, so importing this module costs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from core.data.numbers import percent

SPATIAL_KINDS = ("Conv2D", "MaxPooling2D", "AveragePooling2D")


def _batch(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image, dtype=np.float32)
    if image.ndim != 3:
        raise ValueError(f"Expected one (H, W, C) image, got shape {image.shape}.")
    return image[None]  # (1, H, W, C)


def check_input(model, image: np.ndarray) -> None:
    """Raises ValueError, in words, when the image's shape is not what the model takes."""
    expected = tuple(model.input_shape[1:])
    if tuple(np.shape(image)) != expected:
        raise ValueError(f"This model takes {'×'.join(map(str, expected))} images; "
                         f"this one is {'×'.join(map(str, np.shape(image)))}.")


def probabilities(model, image: np.ndarray) -> np.ndarray:
    """The model's class probabilities for one (H, W, C) image on the 0–255 scale: (classes,) float64.

    A direct call rather than `model.predict`, which builds a data pipeline per call (tens of ms).
    """
    check_input(model, image)
    output = model(_batch(image), training=False)  # (1, classes)
    return np.asarray(output, dtype=np.float64)[0]


@dataclass(frozen=True)
class Activation:
    """One layer's output for one image.

    Attributes:
        index: The layer's position in the model.
        name: The layer's name, e.g. "conv2d_1".
        kind: Its class name, e.g. "Conv2D", "MaxPooling2D", "Dense".
        values: (H, W, C) for conv and pooling layers, (units,) for Dense layers, float32.
    """

    index: int
    name: str
    kind: str
    values: np.ndarray

    @property
    def spatial(self) -> bool:
        return self.values.ndim == 3


def activations(model, image: np.ndarray) -> list[Activation]:
    """The outputs of every conv, pooling and Dense layer for one image, in model order.

    Layers are called one after another in inference mode, so augmentation layers pass the
    image through unchanged, as they do at prediction time.
    """
    check_input(model, image)
    x = _batch(image)
    found = []
    for index, layer in enumerate(model.layers):
        x = layer(x, training=False)
        kind = type(layer).__name__
        if kind in SPATIAL_KINDS or kind == "Dense":
            found.append(Activation(index, layer.name, kind, np.asarray(x, dtype=np.float32)[0]))
    return found


FLAT_SHARE = 0.6  # a map whose heat is at least half its peak over this share of the image singles nothing out
COARSE_CELLS = 3  # a conv map this small or smaller (per side) can only point at coarse parts of the image


@dataclass(frozen=True)
class Saliency:
    """Where in the image the evidence for a class lies.

    Attributes:
        heat: (H, W) float32 in 0–1, at the input's size; 1 marks the strongest evidence.
        method: "HiResCAM" or "gradient × input".
        layer: The conv layer the map comes from, or "" for gradient × input.
        class_index: The class explained.
        note: Why the map says little, or "" when it singles out a region (`uninformative`).
        cells: The conv map's (height, width), or the input's for gradient × input.
    """

    heat: np.ndarray
    method: str
    layer: str
    class_index: int
    note: str = ""
    cells: tuple[int, int] = (0, 0)


def upsample(cam: np.ndarray, height: int, width: int) -> np.ndarray:
    """A conv map scaled up to the input's size, each cell's centre over the centre of the input area it covers.

    `ndimage.zoom`'s default pins the corners instead, which slid a 7×7 map by up to 1.5 input pixels.
    """
    return ndimage.zoom(cam, (height / cam.shape[0], width / cam.shape[1]), order=1, grid_mode=True,
                        mode="nearest")[:height, :width]


def uninformative(cam: np.ndarray, heat: np.ndarray) -> str:
    """Why a map says little, in one sentence, or "".

    Args:
        cam: The map before scaling up: (h, w), positive part only, not normalised.
        heat: The map at the input's size, normalised to 0–1.
    """
    if not cam.size or float(cam.max()) <= 0:
        return ("No part of the image counts for this class: every location argues against it, so the map is "
                "empty.")
    if max(cam.shape) <= COARSE_CELLS:
        return (f"The last conv layer's map is only {cam.shape[0]}×{cam.shape[1]}: it can point at coarse parts of "
                "the image, not at strokes.")
    if float((heat >= 0.5).mean()) > FLAT_SHARE:
        return "The evidence is spread over most of the image: the map does not single out a region."
    return ""


def saliency(model, image: np.ndarray, class_index: int) -> Saliency:
    """HiResCAM on the last conv layer, or gradient × input for a model without one.

    Both differentiate the class's score before the softmax (its logit): the probability itself saturates near
    100%, where its gradient all but vanishes. HiResCAM (Draelos & Carin, 2020) multiplies each of the last conv
    layer's activations by the score's gradient at that very place and sums over the channels, keeping the
    positive part (evidence for the class), scaled up to the input's size.

    Why not Grad-CAM, which first averages each channel's gradient over the whole map: behind a global average
    pooling the gradient is the same everywhere, and the two maps are equal (`tests/unit/test_inspection.py` checks
    this against Keras' own Grad-CAM example). Behind Flatten → Dense, as in the lessons' models, every place has
    its own weights, and the average mixed them up: on the first 20 fives of MNIST's test set, read rightly by
    the shipped model, Grad-CAM put 0–14% of its heat on the ink (median 1%; the ink covers 9–22% of the image)
    and lit up the left edge; HiResCAM puts 24–53% there (median 35%). HiResCAM is exact behind a single
    Flatten → Dense layer (the map is each place's share of the score) and first-order behind deeper heads.

    Gradient × input multiplies each pixel by the gradient at it: how much the score would move if that pixel faded.

    Raises:
        ValueError: For a class index out of range or an image of the wrong shape.
    """
    import tensorflow as tf

    check_input(model, image)
    classes = model.output_shape[-1]
    if not 0 <= class_index < classes:
        raise ValueError(f"Class {class_index} is out of range: the model has {classes} classes.")
    conv_positions = [i for i, layer in enumerate(model.layers) if type(layer).__name__ == "Conv2D"]
    x = tf.convert_to_tensor(_batch(image))
    height, width = image.shape[:2]
    with tf.GradientTape() as tape:
        tape.watch(x)
        watched = x
        last = len(model.layers) - 1
        for index, layer in enumerate(model.layers):
            if index == last:  # the output Dense: its score before softmax, which saturates near 100%
                kernel, bias = (tf.cast(weight, tf.float32) for weight in (layer.kernel, layer.bias))
                score = (tf.cast(watched, tf.float32) @ kernel + bias)[0, class_index]
                break
            watched = layer(watched, training=False)
            if conv_positions and index == conv_positions[-1]:
                tape.watch(watched)
                feature_maps = watched  # (1, h, w, k)
    if conv_positions:
        gradient = np.asarray(tf.cast(tape.gradient(score, feature_maps), tf.float32))[0]  # (h, w, k)
        maps = np.asarray(tf.cast(feature_maps, tf.float32))[0]  # (h, w, k)
        cam = np.maximum((maps * gradient).sum(axis=-1), 0.0)  # (h, w)
        heat = upsample(cam, height, width)
        method, layer_name = "HiResCAM", model.layers[conv_positions[-1]].name
    else:
        gradient = np.asarray(tape.gradient(score, x), dtype=np.float32)[0]  # (H, W, C)
        cam = heat = np.maximum((gradient * image).sum(axis=-1), 0.0)
        method, layer_name = "gradient × input", ""
    heat = np.asarray(heat, dtype=np.float32)[:height, :width]
    top = float(heat.max())
    heat = heat / top if top > 0 else heat
    return Saliency(heat, method, layer_name, class_index, uninformative(np.asarray(cam), heat),
                    tuple(int(n) for n in np.shape(cam)[:2]))


def verdict(probabilities_: np.ndarray, class_names: list[str], unsure_below: float = 0.6) -> str:
    """A sentence on the top class: confident, or honestly unsure with the runner-up named."""
    order = np.argsort(probabilities_)[::-1]
    top, second = int(order[0]), int(order[1]) if len(order) > 1 else int(order[0])
    confidence = float(probabilities_[top])
    if confidence >= unsure_below:
        return f"It reads **{class_names[top]}**, with {percent(confidence, 1)} of the probability."
    return (f"Not sure: **{class_names[top]}** gets only {percent(confidence, 1)}, and {class_names[second]} "
            f"{percent(probabilities_[second], 1)}. The model spreads its bets when the input looks unlike "
            "its training images.")
