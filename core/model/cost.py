"""What a model costs to train, counted from its spec before Keras is touched.

A shared server must refuse a run that would hold its only worker for hours before it starts: the
settings check accepted a 664-million-parameter digits model (two 1024-filter 11×11 Conv2D layers,
then Dense 8192) at about 12 minutes an epoch, and a 76.8-billion-parameter one that died inside the
worker with TensorFlow's out-of-memory error. Parameters bound the memory; floating-point operations
(FLOP) bound the time.

Counting follows the usual convention: a multiply-add is 2 FLOP; a training step costs about three
forward passes (the backward pass computes two gradients per weight use); elementwise layers cost
one FLOP per output value. It is an estimate for a cap, not a profile.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from core.model.architectures import summarise
from core.model.layers import Conv, Dense, Layer, Pool, Shape

TRAINING_PASSES = 3  # a training step ≈ forward + backward (twice the forward's work)


class CostError(ValueError):
    """A run would cost more than this server allows; the message says how much and what to change."""


def forward_flops(spec: list[Layer], input_shape: tuple[int, int, int], num_classes: int) -> int:
    """Floating-point operations of one image's forward pass, the output layer included.

    Args:
        spec: The model's layers, without the output layer.
        input_shape: (H, W, C).
        num_classes: Units of the softmax output layer.

    Raises:
        core.model.layers.SpecError: If the spec cannot be built.
    """
    summarise(spec, input_shape, num_classes)  # checks the spec, so every shape below is defined
    shape: Shape = tuple(input_shape)
    total = 0
    for layer in spec:
        out = layer.output_shape(shape)
        if isinstance(layer, Conv):
            total += 2 * layer.kernel * layer.kernel * shape[2] * math.prod(out)  # (H', W', F) outputs
        elif isinstance(layer, Dense):
            total += 2 * shape[0] * layer.units
        elif isinstance(layer, Pool):
            total += layer.size * layer.size * math.prod(out)
        else:
            total += math.prod(out)
        shape = out
    return total + 2 * shape[0] * num_classes


@dataclass(frozen=True)
class RunCost:
    """A run's size, for its check and the Train page's caption.

    Args:
        parameters: Trainable and non-trainable parameters.
        forward_flops: FLOP of one image's forward pass.
        epoch_flops: FLOP of one epoch: training steps on the training images, one forward pass on the validation ones.
        run_flops: `epoch_flops` × epochs.
    """

    parameters: int
    forward_flops: int
    epoch_flops: int
    run_flops: int


def run_cost(spec: list[Layer], input_shape: tuple[int, int, int], num_classes: int, train_images: int,
             validation_images: int, epochs: int) -> RunCost:
    """Counts a run's parameters and FLOP (see the module's note on the counting)."""
    rows = summarise(spec, input_shape, num_classes)
    forward = forward_flops(spec, input_shape, num_classes)
    epoch = TRAINING_PASSES * forward * train_images + forward * validation_images
    return RunCost(sum(row.trainable + row.non_trainable for row in rows), forward, epoch, epoch * epochs)


def flop_text(flops: float) -> str:
    """"70 TFLOP", "3.2 GFLOP": three significant figures at most, in the largest unit that fits."""
    for unit, scale in (("PFLOP", 1e15), ("TFLOP", 1e12), ("GFLOP", 1e9), ("MFLOP", 1e6)):
        if flops >= scale:
            return f"{flops / scale:,.3g} {unit}"
    return f"{flops:,.0f} FLOP"


def check_cost(cost: RunCost, max_parameters: int | None, max_run_tflop: float | None) -> None:
    """Raises CostError if a run is larger than the server's caps (None: uncapped).

    Args:
        cost: The run's cost.
        max_parameters: The most parameters a model may have.
        max_run_tflop: The most TFLOP a whole run may cost.
    """
    if max_parameters is not None and cost.parameters > max_parameters:
        raise CostError(f"This model has {cost.parameters:,} parameters; this server allows {max_parameters:,}. "
                        "Use fewer filters or units, or pool before the Flatten.")
    if max_run_tflop is not None and cost.run_flops > max_run_tflop * 1e12:
        raise CostError(f"This run needs about {flop_text(cost.epoch_flops)} per epoch, "
                        f"{flop_text(cost.run_flops)} in all; this server allows {flop_text(max_run_tflop * 1e12)} "
                        "a run. Use fewer epochs, a smaller training subset, or a smaller model.")
