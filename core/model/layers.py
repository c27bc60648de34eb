"""Layer specs: each Keras layer a model may use, as a small frozen dataclass.

A spec turns into a dict for JSON and back (`layer_from_dict` trusts nothing it reads), knows its
output shape and parameter counts for an input shape in plain Python, and makes its Keras layer
on demand. Keras is imported only inside `keras_layer`, so reading and checking specs is free.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, ClassVar, Literal

from core.conv.convolution import Padding, output_size

if TYPE_CHECKING:
    import keras

Shape = tuple[int, ...]  # without the batch axis: (H, W, C) for images, (units,) after Flatten
Activation = Literal["relu", "linear", "tanh", "sigmoid", "elu", "gelu"]
ACTIVATIONS: tuple[str, ...] = ("relu", "linear", "tanh", "sigmoid", "elu", "gelu")
Interpolation = Literal["bilinear", "nearest"]
INTERPOLATIONS: tuple[str, ...] = ("bilinear", "nearest")
MAX_UNITS = 8192  # Dense units or Conv2D filters: beyond this a CPU run is hopeless and memory balloons
MAX_KERNEL = 11


class SpecError(ValueError):
    """A model spec that cannot be built; the message names the layer and says what to change."""


@dataclass(frozen=True)
class L2:
    """An L2 weight penalty as a plain value: `keras_layer` turns it into `keras.regularizers.L2`."""

    factor: float


@dataclass(frozen=True)
class KerasCall:
    """How a layer spec becomes Keras: `keras.layers.<name>(*args, **kwargs)`.

    One description serves both the model builder and the code export, so an exported script
    builds exactly the layers the app trained.
    """

    name: str
    args: tuple[object, ...] = ()
    kwargs: dict[str, object] = field(default_factory=dict)


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

    def keras_call(self) -> KerasCall:
        """The Keras constructor call; by default `keras.layers.<kind>()`, for layers without settings."""
        return KerasCall(self.kind)

    def keras_layer(self, precision: str = "float32") -> keras.layers.Layer:
        """The Keras layer `keras_call` describes, with a dtype policy ("float32" or "mixed_bfloat16")."""
        import keras

        call = self.keras_call()
        kwargs = {name: keras.regularizers.L2(value.factor) if isinstance(value, L2) else value
                  for name, value in call.kwargs.items()}
        if precision != "float32":
            kwargs["dtype"] = precision
        return getattr(keras.layers, call.name)(*call.args, **kwargs)


def _positive(layer: Layer, name: str, value: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= high:
        raise SpecError(f"{layer.label()}: {name} must be a whole number from 1 to {high}, got {value!r}.")


def _regulariser(l2: float) -> dict[str, object]:
    return {"kernel_regularizer": L2(l2)} if l2 else {}


@dataclass(frozen=True)
class Rescale(Layer):
    """Multiplies the pixels by `scale` (1/255 maps 0–255 to 0–1): the model's own input normalisation."""

    kind: ClassVar[str] = "Rescaling"
    scale: float = 1 / 255
    offset: float = 0.0

    def label(self) -> str:
        return f"Rescaling ×1/{1 / self.scale:.4g}" if self.scale else "Rescaling"

    def keras_call(self) -> KerasCall:
        return KerasCall("Rescaling", (self.scale,), {"offset": self.offset} if self.offset else {})


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

    def keras_call(self) -> KerasCall:
        settings = {"strides": self.stride} if self.stride != 1 else {}
        return KerasCall("Conv2D", (self.filters, self.kernel), {
            **settings, "padding": self.padding, "activation": self.activation, **_regulariser(self.l2)})


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

    def keras_call(self) -> KerasCall:
        settings = {"strides": self.step} if self.step != self.size else {}
        if self.padding != "valid":
            settings["padding"] = self.padding
        return KerasCall("MaxPooling2D" if self.mode == "max" else "AveragePooling2D", (self.size,), settings)


@dataclass(frozen=True)
class BatchNorm(Layer):
    """BatchNormalization over the last axis: a learned scale and shift, plus running mean and variance."""

    kind: ClassVar[str] = "BatchNormalization"
    # How much of the running mean and variance is kept at each step. Keras' 0.99 averages over
    # about 100 steps; a short run at a high learning rate moves the weights faster than that, and
    # the test-time statistics lag behind (the CIFAR-10 default uses 0.9, as airbench uses 0.6).
    momentum: float = 0.99

    def label(self) -> str:
        return self.kind if self.momentum == 0.99 else f"{self.kind} momentum {self.momentum:g}"

    def check(self) -> None:
        if isinstance(self.momentum, bool) or not isinstance(self.momentum, int | float) \
                or not 0 <= self.momentum < 1:
            raise SpecError(f"BatchNormalization: momentum must be at least 0 and below 1, got {self.momentum!r}.")

    def parameter_counts(self, shape: Shape) -> tuple[int, int]:
        return 2 * shape[-1], 2 * shape[-1]

    def keras_call(self) -> KerasCall:
        return KerasCall(self.kind, (), {} if self.momentum == 0.99 else {"momentum": self.momentum})


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

    def keras_call(self) -> KerasCall:
        return KerasCall("Dropout", (self.rate,))


@dataclass(frozen=True)
class Flatten(Layer):
    """Flatten: an (H, W, C) block becomes one vector of H·W·C numbers."""

    kind: ClassVar[str] = "Flatten"
    needs_image: ClassVar[bool] = True

    def output_shape(self, shape: Shape) -> Shape:
        return (shape[0] * shape[1] * shape[2],)


@dataclass(frozen=True)
class GlobalAveragePool(Layer):
    """GlobalAveragePooling2D: each channel's mean, so (H, W, C) becomes (C,)."""

    kind: ClassVar[str] = "GlobalAveragePooling2D"
    needs_image: ClassVar[bool] = True

    def output_shape(self, shape: Shape) -> Shape:
        return (shape[2],)


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

    def keras_call(self) -> KerasCall:
        return KerasCall("Dense", (self.units,), {"activation": self.activation, **_regulariser(self.l2)})


@dataclass(frozen=True)
class RandomFlip(Layer):
    """Augmentation (training only): flips images at random."""

    kind: ClassVar[str] = "RandomFlip"
    needs_image: ClassVar[bool] = True
    mode: Literal["horizontal", "vertical", "horizontal_and_vertical"] = "horizontal"

    def label(self) -> str:
        return f"RandomFlip {self.mode}"

    def keras_call(self) -> KerasCall:
        return KerasCall("RandomFlip", (self.mode,))


@dataclass(frozen=True)
class _FactorAugmentation(Layer):
    """Base of the augmentation layers set by one factor, which must lie in (0, limit)."""

    needs_image: ClassVar[bool] = True
    limit: ClassVar[float] = 1.0
    limit_allowed: ClassVar[bool] = False  # may the factor equal the limit?
    factor: float = 0.1
    # "nearest" moves whole pixels and keeps strokes sharp; "bilinear" blurs every moved image a
    # little, so training images look softer than the test images. On MNIST, bilinear shifts,
    # turns and zooms stayed at 99.2% where whole-pixel shifts alone reached 99.5%.
    interpolation: Interpolation = "bilinear"

    def check(self) -> None:
        within = self.factor <= self.limit if self.limit_allowed else self.factor < self.limit
        if not (self.factor > 0.0 and within):
            bound = f"at most {self.limit:g}" if self.limit_allowed else f"below {self.limit:g}"
            raise SpecError(f"{self.label()}: the factor must be above 0 and {bound}.")
        if self.interpolation not in INTERPOLATIONS:
            raise SpecError(f"{self.label()}: interpolation must be one of {INTERPOLATIONS}.")

    def label(self) -> str:
        extra = ", nearest" if self.interpolation == "nearest" else ""
        return f"{self.kind} ±{self.factor:.0%}{extra}"

    def keras_call(self) -> KerasCall:
        # fill_mode="constant" fills with 0, the black background of the digit datasets.
        return KerasCall(self.kind, self._factors(), {"fill_mode": "constant", "interpolation": self.interpolation})

    def _factors(self) -> tuple[float, ...]:
        return (self.factor,)


@dataclass(frozen=True)
class RandomRotation(_FactorAugmentation):
    """Augmentation (training only): turns images by up to ±factor of a full circle."""

    kind: ClassVar[str] = "RandomRotation"
    limit: ClassVar[float] = 0.5
    limit_allowed: ClassVar[bool] = True
    factor: float = 0.05

    def label(self) -> str:
        extra = ", nearest" if self.interpolation == "nearest" else ""
        return f"RandomRotation ±{self.factor * 360:.0f}°{extra}"


@dataclass(frozen=True)
class RandomZoom(_FactorAugmentation):
    """Augmentation (training only): zooms in or out by up to ±factor."""

    kind: ClassVar[str] = "RandomZoom"


@dataclass(frozen=True)
class RandomTranslation(_FactorAugmentation):
    """Augmentation (training only): shifts images by up to ±factor of their size, both ways."""

    kind: ClassVar[str] = "RandomTranslation"

    def _factors(self) -> tuple[float, ...]:
        return self.factor, self.factor  # height and width


LAYER_TYPES: dict[str, type[Layer]] = {cls.kind: cls for cls in (
    Rescale, Conv, Pool, BatchNorm, Dropout, Flatten, GlobalAveragePool, Dense,
    RandomFlip, RandomRotation, RandomZoom, RandomTranslation,
)}
# The layers active in training only: the exported code marks them, and summaries can tell them apart.
AUGMENTATION_KINDS = tuple(cls.kind for cls in (RandomFlip, RandomRotation, RandomZoom, RandomTranslation))


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
