"""The lessons' model architectures as specs, ready to train or to edit in the layer builder."""

from __future__ import annotations

from dataclasses import dataclass

from core.data.numbers import percent
from core.model.architectures import summarise, trainable_parameters
from core.model.layers import (
    BatchNorm,
    Conv,
    Dense,
    Dropout,
    Flatten,
    GlobalAveragePool,
    Layer,
    Pool,
    RandomFlip,
    RandomRotation,
    RandomTranslation,
    RandomZoom,
    Rescale,
    SpecError,
)


@dataclass(frozen=True)
class ModelPreset:
    """A named architecture.

    Args:
        key: Its name in links, the store and the CLI.
        title: The name shown in the picker.
        layers: The spec (the output layer is added when the model is built).
        lesson: Where it comes from and what it teaches, in one sentence. Numbers that depend on
            the input are placeholders, filled in by `describe`: {sides}, {flat}, {params},
            {dense_share} and {shift}.
    """

    key: str
    title: str
    layers: tuple[Layer, ...]
    lesson: str

    def spec(self) -> list[Layer]:
        return list(self.layers)

    def describe(self, input_shape: tuple[int, int, int], num_classes: int) -> str:
        """The lesson with its numbers worked out for this input: 28 → 14 → 7 on MNIST, 8 → 4 → 2 on digits."""
        rows = summarise(self.spec(), input_shape, num_classes)
        sides = [input_shape[0]]
        for row in rows:
            if len(row.output_shape) == 3 and row.output_shape[0] != sides[-1]:
                sides.append(row.output_shape[0])
        flat = next((row.output_shape[0] for row in rows if row.layer.startswith("Flatten")), 0)
        before = next((rows[i - 1].output_shape for i, row in enumerate(rows) if row.layer.startswith("Flatten")
                       and i > 0), input_shape)
        total = sum(row.trainable for row in rows)
        dense = max((row.trainable for row in rows if row.layer.startswith("Dense")), default=0)
        factor = next((layer.factor for layer in self.layers if isinstance(layer, RandomTranslation)), 0.0)
        pixels = int(factor * input_shape[0])
        return self.lesson.format(
            sides=" → ".join(map(str, sides)), flat="·".join(map(str, before)) + f" = {flat:,}",
            params=f"{total:,}", dense_share=percent(dense / total) if total else "none",
            shift=f"up to {pixels} pixel{'' if pixels == 1 else 's'}" if pixels else "less than a pixel")


def _conv_block(filters: int, l2: float = 0.0, dropout: float = 0.0) -> tuple[Layer, ...]:
    block: tuple[Layer, ...] = (Conv(filters, 3, padding="same", l2=l2), BatchNorm(),
                                Conv(filters, 3, padding="same", l2=l2), BatchNorm(), Pool("max", 2))
    return (*block, Dropout(dropout)) if dropout else block


def _pooled_pair(filters: int, l2: float) -> tuple[Layer, ...]:
    """airbench's conv group, with BatchNorm after each ReLU: conv, pool, norm, conv, norm.

    airbench puts BatchNorm between the conv and its activation (GELU). Here each Conv keeps its
    fused ReLU, which made a step 1.8× faster than GELU on this CPU, and BatchNorm follows it.
    """
    return (Conv(filters, 3, padding="same", l2=l2), Pool("max", 2), BatchNorm(0.9),
            Conv(filters, 3, padding="same", l2=l2), BatchNorm(0.9))


# fast_digits' and drawn_digits' layers after their augmentation: 28 → 14 → 7 by strided convs.
_STRIDED_DIGITS = (Rescale(), Conv(32, 5, stride=2, padding="same"), Conv(64, 3, stride=2, padding="same"),
                   Flatten(), Dropout(0.3), Dense(128))
PRESETS: dict[str, ModelPreset] = {preset.key: preset for preset in (
    ModelPreset("dense", "Dense layers only",
                (Rescale(), Flatten(), Dense(128), Dense(128)),
                "Two hidden Dense layers on the flattened pixels: no idea that neighbouring pixels belong together."),
    ModelPreset("dense_dropout", "Dense + Dropout",
                (Rescale(), Flatten(), Dense(128), Dropout(0.2)),
                "One hidden layer, with Dropout switching off a fifth of its units at random while training."),
    ModelPreset("one_conv", "One conv layer",
                (Rescale(), Conv(32, 3), Flatten(), Dense(128)),
                "32 learned 3×3 kernels in front of the Dense layers: features instead of raw pixels."),
    ModelPreset("two_conv_blocks", "Two conv blocks",
                (Rescale(), Conv(64, 3), Pool("max", 2), Conv(64, 3), Pool("max", 2), Flatten(), Dense(128)),
                "Conv and pool twice: {sides}, then {flat} numbers into the Dense layer."),
    ModelPreset("cifar_dense", "Dense baseline for photos",
                (Rescale(), Flatten(), Dense(256)),
                "What Dense layers alone can do on small colour photos: the baseline to beat."),
    ModelPreset("cifar_simple_cnn", "Simple CNN for photos",
                (Rescale(), Conv(64, 3, padding="same"), Pool("max", 2), Flatten(), Dense(64)),
                "One conv block; {dense_share} of its {params} parameters sit in the Dense layer after a large "
                "Flatten."),
    ModelPreset("cifar_three_blocks", "Three conv blocks for photos",
                (Rescale(), Conv(64, 3, padding="same"), Pool("max", 2), Conv(64, 3, padding="same"),
                 Pool("max", 2), Conv(64, 3, padding="same"), Pool("max", 2), Flatten(), Dense(64)),
                "Three blocks shrink {sides} before Flatten: fewer parameters than one block, and better."),
    ModelPreset("regularised_cnn", "BatchNorm + Dropout + L2 CNN",
                (Rescale(), *_conv_block(32, 1e-4, 0.2), *_conv_block(64, 1e-4, 0.3), *_conv_block(128, 1e-4, 0.4),
                 Flatten(), Dense(128, l2=1e-4), BatchNorm(), Dropout(0.5)),
                "Pairs of convs with BatchNorm, growing Dropout and L2 weight decay: the lesson's fight "
                "against overfitting."),
    # Measured on MNIST (bench/time_to_accuracy.py): strided convs instead of conv + pool ran about
    # 1.5× more images per second than two 16/32 conv + pool blocks and scored higher; whole-pixel
    # shifts stop the overfitting that left a 10-epoch run without them at 99.1%. BatchNorm was
    # dropped: Keras' BatchNormalization made each MNIST epoch 50% slower here (14.5 s against
    # 9.6 s), and Dropout before the Dense layer regularises as well for far less.
    ModelPreset("fast_digits", "Fast small-image CNN (CNN Lab default)",
                (RandomTranslation(0.08, interpolation="nearest"), *_STRIDED_DIGITS),
                "Shifts of {shift}, then two strided conv layers ({sides}) and Dropout: "
                "the best accuracy per CPU-second we measured on MNIST, "
                "and the default for Fashion-MNIST and the 8×8 digits too."),
    # The shipped MNIST model for the Predict page: people's drawings are turned, scaled and drawn
    # with other pens than MNIST's, so it also learns from turns, zooms and (a training setting,
    # not a layer) stroke thickness. Bilinear, because the preprocessed drawings are anti-aliased.
    ModelPreset("drawn_digits", "CNN for drawn digits (Predict's default)",
                (RandomRotation(0.03), RandomZoom(0.1), RandomTranslation(0.08), *_STRIDED_DIGITS),
                "Turns of up to ±11°, zooms of ±10% and shifts of {shift}, then fast_digits' layers: "
                "sturdier on drawings than on MNIST's own scans."),
    # The learner's own classes (`core.data.own_classes`): a few dozen drawings or photos of 32 or 64 pixels.
    # Turns, zooms and shifts make each example many; three small conv + pool blocks, so 48 examples train it in
    # seconds (bench/own_classes.py). Measured on 3 drawn shapes, 80 epochs of batch 16, 3 seeds: this Flatten +
    # Dense head read 100% of new drawings each time; global pooling instead read 50–100% (it loses where the
    # corners are).
    ModelPreset("own_classes", "Small CNN for your own classes (CNN Lab default)",
                (RandomRotation(0.06), RandomZoom(0.15), RandomTranslation(0.1), Rescale(),
                 Conv(16, 3, padding="same"), Pool("max", 2), Conv(32, 3, padding="same"), Pool("max", 2),
                 Conv(64, 3, padding="same"), Pool("max", 2), Flatten(), Dropout(0.3), Dense(64)),
                "Turns, zooms and shifts of {shift} make each of your examples many; then three small conv + "
                "max-pool blocks ({sides}): {params} parameters, trained in seconds."),
    # Measured on CIFAR-10: under mixed bfloat16 (this CPU has AMX), dropping BatchNorm took the
    # 64/128/256 net from about 1,000 to 2,260 images/s, and 71.9% came after 191 s instead of 372 s.
    ModelPreset("fast_cifar", "Fast CNN for photos",
                (RandomFlip("horizontal"), RandomTranslation(0.1), Rescale(),
                 Conv(64, 3, padding="same"), Pool("max", 2), Conv(128, 3, padding="same"), Pool("max", 2),
                 Conv(256, 3, padding="same"), Pool("max", 2), Flatten(), Dropout(0.3), Dense(128)),
                "Flips and shifts for augmentation, three conv + max-pool blocks ({sides}): "
                "CNN Lab's CIFAR-10 default until December 2026, trained in mixed bfloat16."),
    # The CIFAR-10 default: airbench's layout (github.com/KellerJordan/cifar10-airbench), a plain
    # stack with no skip connections. A 2×2 conv on the raw pixels (airbench fixes it to whitening
    # filters; here it is learned), then three conv groups ({sides}), global pooling, no Dense.
    ModelPreset("speed_cifar", "Speed-record CNN for photos (CNN Lab default)",
                (RandomFlip("horizontal"), RandomTranslation(0.0625), Rescale(), Conv(24, 2),
                 *_pooled_pair(48, 2.5e-4), *_pooled_pair(192, 2.5e-4), *_pooled_pair(192, 2.5e-4),
                 GlobalAveragePool()),
                "Flips and shifts of {shift}, then the CIFAR-10 speed records' layout: a 2×2 conv, three "
                "groups of conv, pool, BatchNorm, conv, BatchNorm ({sides}) and global pooling: the CIFAR-10 "
                "default, trained with label smoothing."),
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


def presets_left_out(input_shape: tuple[int, int, int], num_classes: int) -> dict[str, str]:
    """Each preset that does not fit this input, with why (the builder's own message), so a page can say so."""
    reasons = {}
    for key, preset in PRESETS.items():
        try:
            trainable_parameters(preset.spec(), input_shape, num_classes)
        except SpecError as error:
            reasons[key] = str(error)
    return reasons
