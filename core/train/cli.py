"""Headless training, the same engine as the app: `python -m core.train --dataset mnist --model two_conv_blocks`.

    python -m core.train --list-models
    python -m core.train --dataset mnist --model default --epochs 3 --subset 2000 --store models/

Progress goes to stdout; the run is saved to the store like any run trained in the app.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from core.data.datasets import BUILTIN_DATASETS, load_dataset
from core.model.presets import PRESETS, presets_for
from core.store.runs import STORE_ROOT
from core.train.config import ENGINES, LOSSES, OPTIMIZERS, SCHEDULES, TrainConfig
from core.train.recipes import DEFAULT_RUNS, PLANS, default_config


def list_models() -> str:
    """Every preset with its trainable parameter count on each dataset it fits."""
    lines = []
    counts = {name: presets_for(info.image_shape, len(info.class_names)) for name, info in BUILTIN_DATASETS.items()}
    for key, preset in PRESETS.items():
        fits = [f"{name} {fitting[key]:,}" for name, fitting in counts.items() if key in fitting]
        lines.append(f"{key:22} {preset.title}\n{'':22} params: {'; '.join(fits) or 'fits no built-in dataset'}")
    lines.append("default                the per-dataset strong default: " + ", ".join(
        f"{name} → {run.preset}" for name, run in DEFAULT_RUNS.items()))
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m core.train", description=__doc__.splitlines()[0])
    parser.add_argument("--list-models", action="store_true", help="list the presets and their parameter counts")
    parser.add_argument("--dataset", choices=sorted(BUILTIN_DATASETS), default="mnist")
    parser.add_argument("--model", default="default", help="a preset key, or 'default' (see --list-models)")
    parser.add_argument("--plan", choices=PLANS, default="fast",
                        help="with --model default: fast (the quickest to a good accuracy) or best (the most accurate "
                             "in about 3 minutes here; MNIST has one)")
    parser.add_argument("--epochs", type=int, help="default: the preset's recommended number")
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--learning-rate", type=float)
    parser.add_argument("--optimizer", choices=OPTIMIZERS)
    parser.add_argument("--schedule", choices=SCHEDULES)
    parser.add_argument("--loss", choices=LOSSES)
    parser.add_argument("--label-smoothing", type=float,
                        help="0 (off) to 0.5, with --loss categorical; --loss sparse alone turns it off")
    parser.add_argument("--engine", choices=ENGINES)
    parser.add_argument("--validation-split", type=float)
    parser.add_argument("--subset", type=int, help="train on this many training images (default: all)")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--name")
    parser.add_argument("--store", type=Path, default=STORE_ROOT, help="the store root (default: models/)")
    return parser


def config_from_arguments(arguments: argparse.Namespace) -> TrainConfig:
    """The preset's (or default's) settings, overridden by every option given."""
    config = default_config(arguments.dataset, arguments.model, arguments.plan)
    for option in ("epochs", "batch_size", "learning_rate", "optimizer", "schedule", "loss", "label_smoothing",
                   "engine", "validation_split", "subset", "seed", "name"):
        value = getattr(arguments, option)
        if value is not None:
            setattr(config, option, value)
    if arguments.loss == "sparse" and arguments.label_smoothing is None:
        config.label_smoothing = 0.0  # integer labels cannot be smoothed: asking for them turns it off, as on the page
    return config


class Printer:
    """Prints an epoch's line at its end, and a batch line at most every two seconds."""

    def __init__(self):
        self.last = 0.0

    def __call__(self, event: dict) -> None:
        kind = event["type"]
        if kind == "start":
            print(f"training on {event['train_size']:,} images, validating on {event['validation_size']:,}; "
                  f"{event['steps_per_epoch']} batches of {event['batch_size']} per epoch", flush=True)
        elif kind == "batch" and time.monotonic() - self.last > 2:
            self.last = time.monotonic()
            print(f"  epoch {event['epoch'] + 1} batch {event['step']}: loss {event['loss']:.4f} "
                  f"accuracy {event['accuracy']:.4f} ({event['images_per_second']:,.0f} images/s)", flush=True)
        elif kind == "epoch":
            metrics = " ".join(f"{key} {value:.4f}" for key, value in event.items()
                               if key not in ("type", "epoch", "partial", "steps", "elapsed") and value is not None)
            stopped = f", stopped after batch {event['steps']}" if event.get("partial") else ""
            print(f"epoch {event['epoch'] + 1} ({event['elapsed']:.1f} s training{stopped}): {metrics}", flush=True)
        elif kind == "end":
            print(f"{event['status']}: run {event['run_id']}. {event['stop_reason']}".strip(), flush=True)
            for split, values in event["metrics"].items():
                print(f"  {split:10} loss {values['loss']:.4f}  accuracy {values['accuracy']:.4f}  "
                      f"({values['images']:,} images)", flush=True)


def main(argv: list[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    if arguments.list_models:
        print(list_models())
        return 0
    try:
        config = config_from_arguments(arguments)
        from core.train.engine import train_and_store  # TensorFlow loads here

        record = train_and_store(config, load_dataset(arguments.dataset), Printer(), root=arguments.store)
    except (ValueError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"saved to {arguments.store / 'runs' / record.run_id}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
