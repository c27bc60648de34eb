"""How an image's shape changes through a stack of convolution and pooling layers."""

from __future__ import annotations

from dataclasses import dataclass

from core.conv.convolution import Padding, output_size


@dataclass(frozen=True)
class ConvLayer:
    """A Conv2D layer: `filters` kernels of side `kernel`."""

    filters: int
    kernel: int = 3
    stride: int = 1
    padding: Padding = "valid"

    @property
    def name(self) -> str:
        return f"Conv2D({self.filters}, {self.kernel}×{self.kernel}, stride {self.stride}, {self.padding})"


@dataclass(frozen=True)
class PoolLayer:
    """A pooling layer with a square window; Keras' default stride is the window's side."""

    size: int = 2
    stride: int | None = None
    padding: Padding = "valid"

    @property
    def name(self) -> str:
        stride = self.size if self.stride is None else self.stride
        return f"Pooling {self.size}×{self.size}, stride {stride}, {self.padding}"


@dataclass(frozen=True)
class ShapeStep:
    """The shape after one layer, (height, width, channels)."""

    layer: str
    shape: tuple[int, int, int]

    @property
    def values(self) -> int:
        """How many numbers the layer outputs: what Flatten would turn into one vector."""
        return self.shape[0] * self.shape[1] * self.shape[2]


def shape_chain(input_shape: tuple[int, int, int], layers: list[ConvLayer | PoolLayer]) -> list[ShapeStep]:
    """Follows (H, W, C) through the layers; the first step is the input itself.

    Raises:
        ValueError: If a layer's window no longer fits (the message names the layer).
    """
    height, width, channels = input_shape
    steps = [ShapeStep("input", (height, width, channels))]
    for layer in layers:
        try:
            if isinstance(layer, ConvLayer):
                kernel, stride, channels = layer.kernel, layer.stride, layer.filters
            else:
                kernel, stride = layer.size, layer.size if layer.stride is None else layer.stride
            height = output_size(height, kernel, stride, layer.padding)
            width = output_size(width, kernel, stride, layer.padding)
        except ValueError as error:
            raise ValueError(f"{layer.name} after {steps[-1].shape[:2]}: {error}") from None
        steps.append(ShapeStep(layer.name, (height, width, channels)))
    return steps
