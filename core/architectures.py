"""Declarative model specs: layers as plain data, their shapes and parameter counts, and the Keras model.

A spec is a list of layer specs, each a small frozen dataclass that turns into a dict for JSON and
back. The shapes and parameter counts of every layer are worked out here in plain Python, so a
page can show the `model.summary()` table and explain an impossible spec without importing
TensorFlow; `build_model` then makes the Keras model, and the tests check both agree.

Input convention: every model takes images as the dataset layer stores them, 0–255 in
(N, H, W, C), and rescales them inside itself, so `model.predict(dataset.x_test)` is the whole
inference path. The output layer, Dense(num_classes, softmax), is added by `build_model` and is
not part of the spec.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, ClassVar, Literal

from core.convolution import Padding, output_size

if TYPE_CHECKING:
    import keras

Shape = tuple[int, ...]  # without the batch axis: (H, W, C) for images, (units,) after Flatten
Activation = Literal["relu", "linear", "tanh", "sigmoid", "elu", "gelu"]
ACTIVATIONS: tuple[str, ...] = ("relu", "linear", "tanh", "sigmoid", "elu", "gelu")
MAX_UNITS = 8192  # Dense units or Conv2D filters: beyond this a CPU run is hopeless and memory balloons
MAX_KERNEL = 11


class SpecError(ValueError):
    """A model spec that cannot be built; the message names the layer and says what to change."""


@dataclass(frozen=True)
class Layer:
    """Base class of layer specs. Subclasses set `kind` and implement the shape rules."""

    kind: ClassVar[str] = ""
    needs_image: ClassVar[bool] = False  # the input must be (H, W, C)
    needs_vector: ClassVar[bool] = False  # the input must be flat (units,)

    def output_shape(self, shape: Shape) -> Shape:
        """The output shape for an input shape (both without the batch axis)."""
        return shape

    def parameter_counts(self, shape: Shape) -> tuple[int, int]:
        """(trainable, non-trainable) parameters for an input shape."""
        return 0, 0

    def label(self) -> str:
        """A short description for tables, e.g. "Conv2D 32@3×3 relu"."""
        return self.kind

    def to_dict(self) -> dict[str, object]:
        return {"kind": self.kind, **asdict(self)}

    def check(self) -> None:
        """Raises SpecError if the layer's own settings are out of range."""

    def keras_layer(self) -> keras.layers.Layer:
        raise NotImplementedError


def _positive(layer: Layer, name: str, value: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= high:
        raise SpecError(f"{layer.label()}: {name} must be a whole number from 1 to {high}, got {value!r}.")


def _regulariser(l2: float):
    import keras

    return keras.regularizers.L2(l2) if l2 else None


@dataclass(frozen=True)
class Rescale(Layer):
    """Multiplies the pixels by `scale` (1/255 maps 0–255 to 0–1): the model's own input normalisation."""

    kind: ClassVar[str] = "Rescaling"
    scale: float = 1 / 255
    offset: float = 0.0

    def label(self) -> str:
        return f"Rescaling ×1/{1 / self.scale:.4g}" if self.scale else "Rescaling"

    def keras_layer(self):
        import keras

        return keras.layers.Rescaling(self.scale, self.offset)


@dataclass(frozen=True)
class Conv(Layer):
    """A Conv2D layer."""

    kind: ClassVar[str] = "Conv2D"
    needs_image: ClassVar[bool] = True
    filters: int = 32
    kernel: int = 3
    stride: int = 1
    padding: Padding = "valid"
    activation: str = "relu"
    l2: float = 0.0

    def label(self) -> str:
        extra = "" if self.stride == 1 else f", stride {self.stride}"
        return f"Conv2D {self.filters}@{self.kernel}×{self.kernel} {self.padding} {self.activation}{extra}"

    def check(self) -> None:
        _positive(self, "filters", self.filters, MAX_UNITS)
        _positive(self, "kernel", self.kernel, MAX_KERNEL)
        _positive(self, "stride", self.stride, 4)
        if self.padding not in ("valid", "same") or self.activation not in ACTIVATIONS:
            raise SpecError(f"{self.label()}: padding must be valid/same and activation one of {ACTIVATIONS}.")

    def output_shape(self, shape: Shape) -> Shape:
        return (output_size(shape[0], self.kernel, self.stride, self.padding),
                output_size(shape[1], self.kernel, self.stride, self.padding), self.filters)

    def parameter_counts(self, shape: Shape) -> tuple[int, int]:
        return self.kernel * self.kernel * shape[2] * self.filters + self.filters, 0

    def keras_layer(self):
        import keras

        return keras.layers.Conv2D(self.filters, self.kernel, strides=self.stride, padding=self.padding,
                                   activation=self.activation, kernel_regularizer=_regulariser(self.l2))


@dataclass(frozen=True)
class Pool(Layer):
    """MaxPooling2D or AveragePooling2D; the stride defaults to the pool size, as in Keras."""

    kind: ClassVar[str] = "Pooling2D"
    needs_image: ClassVar[bool] = True
    mode: Literal["max", "average"] = "max"
    size: int = 2
    stride: int = 0  # 0: the pool size
    padding: Padding = "valid"

    @property
    def step(self) -> int:
        return self.stride or self.size

    def label(self) -> str:
        name = "MaxPooling2D" if self.mode == "max" else "AveragePooling2D"
        return f"{name} {self.size}×{self.size}" + (f", stride {self.step}" if self.step != self.size else "")

    def check(self) -> None:
        _positive(self, "size", self.size, 8)
        if self.stride:
            _positive(self, "stride", self.stride, 8)
        if self.mode not in ("max", "average") or self.padding not in ("valid", "same"):
            raise SpecError(f"{self.label()}: mode must be max/average and padding valid/same.")

    def output_shape(self, shape: Shape) -> Shape:
        return (output_size(shape[0], self.size, self.step, self.padding),
                output_size(shape[1], self.size, self.step, self.padding), shape[2])

    def keras_layer(self):
        import keras

        layer = keras.layers.MaxPooling2D if self.mode == "max" else keras.layers.AveragePooling2D
        return layer(self.size, strides=self.step, padding=self.padding)


@dataclass(frozen=True)
class BatchNorm(Layer):
    """BatchNormalization over the last axis: a learned scale and shift, plus running mean and variance."""

    kind: ClassVar[str] = "BatchNormalization"

    def parameter_counts(self, shape: Shape) -> tuple[int, int]:
        return 2 * shape[-1], 2 * shape[-1]

    def keras_layer(self):
        import keras

        return keras.layers.BatchNormalization()


@dataclass(frozen=True)
class Dropout(Layer):
    """Dropout: during training, zeroes a random `rate` of the values."""

    kind: ClassVar[str] = "Dropout"
    rate: float = 0.2

    def label(self) -> str:
        return f"Dropout {self.rate:g}"

    def check(self) -> None:
        if not 0.0 <= self.rate < 1.0:
            raise SpecError(f"{self.label()}: the rate must be at least 0 and below 1.")

    def keras_layer(self):
        import keras

        return keras.layers.Dropout(self.rate)


@dataclass(frozen=True)
class Flatten(Layer):
    """Flatten: an (H, W, C) block becomes one vector of H·W·C numbers."""

    kind: ClassVar[str] = "Flatten"
    needs_image: ClassVar[bool] = True

    def output_shape(self, shape: Shape) -> Shape:
        return (shape[0] * shape[1] * shape[2],)

    def keras_layer(self):
        import keras

        return keras.layers.Flatten()


@dataclass(frozen=True)
class GlobalAveragePool(Layer):
    """GlobalAveragePooling2D: each channel's mean, so (H, W, C) becomes (C,)."""

    kind: ClassVar[str] = "GlobalAveragePooling2D"
    needs_image: ClassVar[bool] = True

    def output_shape(self, shape: Shape) -> Shape:
        return (shape[2],)

    def keras_layer(self):
        import keras

        return keras.layers.GlobalAveragePooling2D()


@dataclass(frozen=True)
class Dense(Layer):
    """A Dense (fully connected) layer."""

    kind: ClassVar[str] = "Dense"
    needs_vector: ClassVar[bool] = True
    units: int = 128
    activation: str = "relu"
    l2: float = 0.0

    def label(self) -> str:
        return f"Dense {self.units} {self.activation}"

    def check(self) -> None:
        _positive(self, "units", self.units, MAX_UNITS)
        if self.activation not in ACTIVATIONS:
            raise SpecError(f"{self.label()}: activation must be one of {ACTIVATIONS}.")

    def output_shape(self, shape: Shape) -> Shape:
        return (self.units,)

    def parameter_counts(self, shape: Shape) -> tuple[int, int]:
        return shape[0] * self.units + self.units, 0

    def keras_layer(self):
        import keras

        return keras.layers.Dense(self.units, activation=self.activation, kernel_regularizer=_regulariser(self.l2))


@dataclass(frozen=True)
class RandomFlip(Layer):
    """Augmentation (training only): flips images at random."""

    kind: ClassVar[str] = "RandomFlip"
    needs_image: ClassVar[bool] = True
    mode: Literal["horizontal", "vertical", "horizontal_and_vertical"] = "horizontal"

    def label(self) -> str:
        return f"RandomFlip {self.mode}"

    def keras_layer(self):
        import keras

        return keras.layers.RandomFlip(self.mode)


@dataclass(frozen=True)
class RandomRotation(Layer):
    """Augmentation (training only): turns images by up to ±factor of a full circle."""

    kind: ClassVar[str] = "RandomRotation"
    needs_image: ClassVar[bool] = True
    factor: float = 0.05

    def label(self) -> str:
        return f"RandomRotation ±{self.factor * 360:.0f}°"

    def check(self) -> None:
        if not 0.0 < self.factor <= 0.5:
            raise SpecError(f"{self.label()}: the factor must be above 0 and at most 0.5.")

    def keras_layer(self):
        import keras

        return keras.layers.RandomRotation(self.factor, fill_mode="constant")


@dataclass(frozen=True)
class RandomZoom(Layer):
    """Augmentation (training only): zooms in or out by up to ±factor."""

    kind: ClassVar[str] = "RandomZoom"
    needs_image: ClassVar[bool] = True
    factor: float = 0.1

    def label(self) -> str:
        return f"RandomZoom ±{self.factor:.0%}"

    def check(self) -> None:
        if not 0.0 < self.factor < 1.0:
            raise SpecError(f"{self.label()}: the factor must be above 0 and below 1.")

    def keras_layer(self):
        import keras

        return keras.layers.RandomZoom(self.factor, fill_mode="constant")


@dataclass(frozen=True)
class RandomTranslation(Layer):
    """Augmentation (training only): shifts images by up to ±factor of their size."""

    kind: ClassVar[str] = "RandomTranslation"
    needs_image: ClassVar[bool] = True
    factor: float = 0.1

    def label(self) -> str:
        return f"RandomTranslation ±{self.factor:.0%}"

    def check(self) -> None:
        if not 0.0 < self.factor < 1.0:
            raise SpecError(f"{self.label()}: the factor must be above 0 and below 1.")

    def keras_layer(self):
        import keras

        return keras.layers.RandomTranslation(self.factor, self.factor, fill_mode="constant")


LAYER_TYPES: dict[str, type[Layer]] = {cls.kind: cls for cls in (
    Rescale, Conv, Pool, BatchNorm, Dropout, Flatten, GlobalAveragePool, Dense,
    RandomFlip, RandomRotation, RandomZoom, RandomTranslation,
)}
AUGMENTATION_KINDS = ("RandomFlip", "RandomRotation", "RandomZoom", "RandomTranslation")


def layer_from_dict(data: dict[str, object]) -> Layer:
    """Rebuilds a layer spec from `Layer.to_dict()` output.

    Raises:
        SpecError: For an unknown kind or unknown or badly typed settings.
    """
    values = dict(data)
    kind = values.pop("kind", None)
    if kind not in LAYER_TYPES:
        raise SpecError(f"Unknown layer kind {str(kind)[:40]!r}; known: {', '.join(LAYER_TYPES)}.")
    cls = LAYER_TYPES[kind]
    allowed = {f.name: f for f in fields(cls)}
    unknown = set(values) - set(allowed)
    if unknown:
        raise SpecError(f"{kind}: unknown settings {sorted(unknown)}.")
    for name, value in values.items():
        default = allowed[name].default
        if isinstance(default, bool) or type(value) is bool:
            ok = type(value) is type(default)
        elif isinstance(default, int) and not isinstance(default, bool):
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif isinstance(default, float):
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            if ok:
                values[name] = float(value)
        else:
            ok = isinstance(value, str)
        if not ok:
            raise SpecError(f"{kind}: {name} must be like {default!r}, got {str(value)[:40]!r}.")
    layer = cls(**values)
    layer.check()
    return layer


def spec_to_dicts(spec: list[Layer]) -> list[dict[str, object]]:
    """A spec as JSON-ready dicts."""
    return [layer.to_dict() for layer in spec]


def spec_from_dicts(data: object) -> list[Layer]:
    """A spec from JSON-ready dicts (see `spec_to_dicts`).

    Raises:
        SpecError: If the data is not a list of valid layer dicts.
    """
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise SpecError("A model spec must be a list of layer objects.")
    return [layer_from_dict(item) for item in data]


@dataclass(frozen=True)
class SummaryRow:
    """One row of the model summary: what `model.summary()` prints, worked out without Keras."""

    layer: str
    output_shape: Shape
    trainable: int
    non_trainable: int


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
                name: str = "cnnlab_model") -> keras.Model:
    """Builds the Keras model: the spec's layers, then Dense(num_classes, softmax).

    Raises:
        SpecError: If the spec cannot be built (checked before Keras is touched).
    """
    summarise(spec, input_shape, num_classes)
    import keras

    layers = [keras.Input(shape=input_shape)] + [layer.keras_layer() for layer in spec]
    layers.append(keras.layers.Dense(num_classes, activation="softmax", name="output"))
    return keras.Sequential(layers, name=name)
