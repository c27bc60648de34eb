"""The lessons' model architectures as specs, ready to train or to edit in the layer builder."""

from __future__ import annotations

from dataclasses import dataclass

from core.architectures import trainable_parameters
from core.layers import BatchNorm, Conv, Dense, Dropout, Flatten, Layer, Pool, Rescale, SpecError


@dataclass(frozen=True)
class ModelPreset:
    """A named architecture.

    Args:
        key: Its name in links, the store and the CLI.
        title: The name shown in the picker.
        layers: The spec (the output layer is added when the model is built).
        lesson: Where it comes from and what it teaches, in one sentence.
    """

    key: str
    title: str
    layers: tuple[Layer, ...]
    lesson: str

    def spec(self) -> list[Layer]:
        return list(self.layers)


def _conv_block(filters: int, l2: float = 0.0, dropout: float = 0.0) -> tuple[Layer, ...]:
    block: tuple[Layer, ...] = (Conv(filters, 3, padding="same", l2=l2), BatchNorm(),
                                Conv(filters, 3, padding="same", l2=l2), BatchNorm(), Pool("max", 2))
    return (*block, Dropout(dropout)) if dropout else block


PRESETS: dict[str, ModelPreset] = {preset.key: preset for preset in (
    ModelPreset("dense", "Dense, MNIST lesson (002)",
                (Rescale(), Flatten(), Dense(128), Dense(128)),
                "Two hidden Dense layers on the flattened pixels: no idea that neighbouring pixels belong together."),
    ModelPreset("dense_dropout", "Dense + Dropout (000)",
                (Rescale(), Flatten(), Dense(128), Dropout(0.2)),
                "One hidden layer, with Dropout switching off a fifth of its units at random while training."),
    ModelPreset("one_conv", "One conv layer (000)",
                (Rescale(), Conv(32, 3), Flatten(), Dense(128)),
                "32 learned 3×3 kernels in front of the Dense layers: features instead of raw pixels."),
    ModelPreset("two_conv_blocks", "Two conv blocks (001)",
                (Rescale(), Conv(64, 3), Pool("max", 2), Conv(64, 3), Pool("max", 2), Flatten(), Dense(128)),
                "Conv and pool twice: 28 → 26 → 13 → 11 → 5, then 5·5·64 = 1,600 numbers into the Dense layer."),
    ModelPreset("cifar_dense", "CIFAR dense baseline (004)",
                (Rescale(), Flatten(), Dense(256)),
                "What Dense layers alone can do on small colour photos: the baseline to beat."),
    ModelPreset("cifar_simple_cnn", "CIFAR simple CNN (004)",
                (Rescale(), Conv(64, 3, padding="same"), Pool("max", 2), Flatten(), Dense(64)),
                "One conv block; most of its million parameters sit in the Dense layer after a large Flatten."),
    ModelPreset("cifar_three_blocks", "CIFAR three conv blocks (004)",
                (Rescale(), Conv(64, 3, padding="same"), Pool("max", 2), Conv(64, 3, padding="same"),
                 Pool("max", 2), Conv(64, 3, padding="same"), Pool("max", 2), Flatten(), Dense(64)),
                "Three blocks shrink 32 → 4 before Flatten: fewer parameters than one block, and better."),
    ModelPreset("regularised_cnn", "BatchNorm + Dropout + L2 CNN (004, final)",
                (Rescale(), *_conv_block(32, 1e-4, 0.2), *_conv_block(64, 1e-4, 0.3), *_conv_block(128, 1e-4, 0.4),
                 Flatten(), Dense(128, l2=1e-4), BatchNorm(), Dropout(0.5)),
                "Pairs of convs with BatchNorm, growing Dropout and L2 weight decay: the lesson's fight "
                "against overfitting."),
)}


def presets_for(input_shape: tuple[int, int, int], num_classes: int) -> dict[str, int]:
    """Each preset that fits this input, with its trainable parameter count."""
    counts = {}
    for key, preset in PRESETS.items():
        try:
            counts[key] = trainable_parameters(preset.spec(), input_shape, num_classes)
        except SpecError:
            continue
    return counts
