"""Declarative model specs: their summary table, and the Keras model they describe.

A spec is a list of layer specs (`core.model.layers`). `summarise` works out every layer's output shape
and parameters in plain Python, so a page can show the `model.summary()` table and explain an
impossible spec without importing TensorFlow; `build_model` then makes the Keras model, and the
tests check both agree.

Input convention: every model takes images as the dataset layer stores them, 0–255 in
(N, H, W, C), and rescales them inside itself, so `model.predict(dataset.x_test)` is the whole
inference path. The output layer, Dense(num_classes, softmax), is added by `build_model` and is
not part of the spec.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.model.layers import Conv, Dense, Layer, Rescale, Shape, SpecError

if TYPE_CHECKING:
    import keras


@dataclass(frozen=True)
class SummaryRow:
    """One row of the model summary: what `model.summary()` prints, worked out without Keras."""

    layer: str
    output_shape: Shape
    trainable: int
    non_trainable: int


@dataclass(frozen=True)
class ShapeStep:
    """The shape after one layer of a chain, (height, width, channels)."""

    layer: str
    shape: tuple[int, int, int]

    @property
    def values(self) -> int:
        """How many numbers the layer outputs: what Flatten would turn into one vector."""
        return self.shape[0] * self.shape[1] * self.shape[2]


def shape_chain(input_shape: tuple[int, int, int], layers: Sequence[Layer]) -> list[ShapeStep]:
    """Follows (H, W, C) through image layers (convolutions, pooling); the first step is the input itself.

    Raises:
        SpecError: If a layer's window no longer fits (the message names the layer).
    """
    shape = tuple(input_shape)
    steps = [ShapeStep("input", shape)]
    for layer in layers:
        try:
            shape = layer.output_shape(shape)
        except ValueError as error:
            raise SpecError(f"{layer.label()} after {shape[0]}×{shape[1]}: {error}") from None
        steps.append(ShapeStep(layer.label(), shape))
    return steps


def summarise(spec: list[Layer], input_shape: tuple[int, int, int], num_classes: int) -> list[SummaryRow]:
    """Every layer's output shape and parameters, the output layer last.

    Raises:
        SpecError: If the spec cannot be built; the message names the layer (by position, from 1).
    """
    if not spec:
        raise SpecError("The model has no layers. Add at least a Rescaling and a Flatten, or pick a preset.")
    rows = []
    shape: Shape = tuple(input_shape)
    seen_rescale = False
    for position, layer in enumerate(spec, start=1):
        where = f"Layer {position} ({layer.label()})"
        layer.check()
        if layer.needs_image and len(shape) != 3:
            raise SpecError(f"{where} needs an image-shaped (H, W, C) input, but it gets a flat vector of "
                            f"{shape[0]}. Put it before the Flatten or GlobalAveragePooling2D.")
        if layer.needs_vector and len(shape) != 1:
            raise SpecError(f"{where} gets an image-shaped {shape} input. Add a Flatten or "
                            "GlobalAveragePooling2D before it.")
        if isinstance(layer, Conv | Dense) and not seen_rescale:
            raise SpecError(f"{where} comes before any Rescaling: the model would learn from raw 0–255 values. "
                            "Put a Rescaling layer first (after any augmentation).")
        seen_rescale = seen_rescale or isinstance(layer, Rescale)
        try:
            new_shape = layer.output_shape(shape)
        except ValueError as error:
            raise SpecError(f"{where} gets a {shape[0]}×{shape[1]} input and would shrink it below 1×1: "
                            f"{error}") from None
        trainable, frozen = layer.parameter_counts(shape)
        shape = new_shape
        rows.append(SummaryRow(layer.label(), shape, trainable, frozen))
    if len(shape) != 1:
        raise SpecError(f"The last layer outputs an image-shaped {shape}; add a Flatten or "
                        "GlobalAveragePooling2D so the output layer gets a vector.")
    rows.append(SummaryRow(f"Dense {num_classes} softmax (output)", (num_classes,),
                           shape[0] * num_classes + num_classes, 0))
    return rows


def trainable_parameters(spec: list[Layer], input_shape: tuple[int, int, int], num_classes: int) -> int:
    """The model's trainable parameter count."""
    return sum(row.trainable for row in summarise(spec, input_shape, num_classes))


def build_model(spec: list[Layer], input_shape: tuple[int, int, int], num_classes: int,
                name: str = "cnnlab_model", precision: str = "float32") -> keras.Model:
    """Builds the Keras model: the spec's layers, then Dense(num_classes, softmax).

    Args:
        precision: Every spec layer's dtype policy: "float32", or "mixed_bfloat16" (compute in
            bfloat16, keep float32 weights). Set per layer, never globally, so one process can
            build both kinds.

    Raises:
        SpecError: If the spec cannot be built (checked before Keras is touched).
    """
    summarise(spec, input_shape, num_classes)
    import keras

    layers = [keras.Input(shape=input_shape)] + [layer.keras_layer(precision) for layer in spec]
    # float32 even under a mixed-precision policy: a softmax in bfloat16 rounds small probabilities to 0.
    layers.append(keras.layers.Dense(num_classes, activation="softmax", dtype="float32", name="output"))
    return keras.Sequential(layers, name=name)
