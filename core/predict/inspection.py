"""Looking inside a trained model for one image: probabilities, every layer's activations, and saliency.

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


@dataclass(frozen=True)
class Saliency:
    """Where in the image the evidence for a class lies.

    Attributes:
        heat: (H, W) float32 in 0–1, at the input's size; 1 marks the strongest evidence.
        method: "Grad-CAM" or "gradient × input".
        layer: The conv layer Grad-CAM used, or "" for gradient × input.
        class_index: The class explained.
    """

    heat: np.ndarray
    method: str
    layer: str
    class_index: int


def saliency(model, image: np.ndarray, class_index: int) -> Saliency:
    """Grad-CAM on the last conv layer, or gradient × input for a model without one.

    Both differentiate the class's score before the softmax (its logit): the probability itself
    saturates near 100%, where its gradient all but vanishes. Grad-CAM weights each of the last conv layer's
    feature maps by the mean of that gradient over the map, sums them, and keeps the positive part
    (evidence for the class), scaled up to the input's size. Gradient × input multiplies each
    pixel by the gradient at it: how much the score would move if that pixel faded.

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
        gradient = tf.cast(tape.gradient(score, feature_maps), tf.float32)[0]  # (h, w, k)
        maps = tf.cast(feature_maps, tf.float32)[0]
        weights = tf.reduce_mean(gradient, axis=(0, 1))  # (k,)
        cam = np.maximum(np.asarray(tf.reduce_sum(maps * weights, axis=-1)), 0.0)  # (h, w)
        heat = ndimage.zoom(cam, (height / cam.shape[0], width / cam.shape[1]), order=1)
        method, layer_name = "Grad-CAM", model.layers[conv_positions[-1]].name
    else:
        gradient = np.asarray(tape.gradient(score, x), dtype=np.float32)[0]  # (H, W, C)
        heat = np.maximum((gradient * image).sum(axis=-1), 0.0)
        method, layer_name = "gradient × input", ""
    heat = np.asarray(heat, dtype=np.float32)[:height, :width]
    top = float(heat.max())
    return Saliency(heat / top if top > 0 else heat, method, layer_name, class_index)


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
