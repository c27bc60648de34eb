"""What a test image shows, in words: the text alternative a screen reader reads for each gallery tile.

A sighted learner reads a tile's frame (green right, red wrong) and caption; these sentences say the
same for a learner who cannot see it (WCAG 2.1, 1.1.1 Non-text Content).
"""

from __future__ import annotations


def _article(name: str) -> str:
    """'a 4', 'an 8', 'an airplane': the article English puts before a class name."""
    return f"an {name}" if name[:1].lower() in "aeio8" or name in ("11", "18") else f"a {name}"


def describe_test_image(position: int, truth: str, guess: str, confidence: float) -> str:
    """One test image and the model's reading of it, e.g. "test image 412: a 4, read as 9 at 87%".

    Args:
        position: The image's index in the test set.
        truth: Its true class's name.
        guess: The model's predicted class's name.
        confidence: The model's probability for its guess, 0–1.

    Raises:
        ValueError: For a confidence outside 0–1.
    """
    if not 0.0 <= confidence <= 1.0:
        raise ValueError(f"A confidence must be between 0 and 1, got {confidence!r}.")
    verdict = "right" if truth == guess else "wrong"
    return (f"test image {position}: {_article(truth)}, read as {guess} at {confidence:.0%} ({verdict})")


def describe_dataset_image(position: int, split: str, name: str) -> str:
    """One dataset image, e.g. "training image 7: a 3"."""
    return f"{split} image {position}: {_article(name)}"


def probabilities_summary(probabilities, class_names) -> str:
    """The probability bars in a sentence: the top classes and their shares, e.g. "7 at 99.1%, then 1 at 0.6%".

    Args:
        probabilities: (K,) one image's probabilities.
        class_names: The K classes' names.
    """
    order = sorted(range(len(class_names)), key=lambda k: -float(probabilities[k]))
    shown = [k for k in order[:3] if float(probabilities[k]) >= 0.001] or order[:1]
    parts = [f"{class_names[k]} at {float(probabilities[k]):.1%}" for k in shown]
    return "Probabilities, highest first: " + ", then ".join(parts) + "; every other class lower."


def _best(rows: list[dict], key: str, lowest: bool) -> tuple[int, float] | None:
    values = [(int(row["epoch"]), float(row[key])) for row in rows if row.get(key) is not None]
    if not values:
        return None
    return (min if lowest else max)(values, key=lambda pair: pair[1])


def curves_summary(epoch_rows: list[dict], metric: str) -> str:
    """One metric's curves in a sentence, e.g. "Loss: validation lowest at epoch 6 (0.041); training 0.012 at
    epoch 8, the last."

    Args:
        epoch_rows: One dict per finished epoch, with "epoch" from 1 and the metrics Keras logged.
        metric: "loss" or "accuracy" (lower is better for loss, higher for the rest).
    """
    name = metric.capitalize()
    if not epoch_rows:
        return f"{name}: no epoch has finished yet."
    lowest = metric == "loss"
    shown = (lambda value: f"{value:.3g}") if lowest else (lambda value: f"{value:.1%}")
    parts = []
    if best := _best(epoch_rows, f"val_{metric}", lowest):
        parts.append(f"validation {'lowest' if lowest else 'highest'} at epoch {best[0]} ({shown(best[1])})")
    last = epoch_rows[-1]
    if last.get(metric) is not None:
        parts.append(f"training {shown(float(last[metric]))} at epoch {int(last['epoch'])}, the last")
    return f"{name}: " + ("; ".join(parts) if parts else "not measured") + "."


def confusion_summary(counts, class_names) -> str:
    """A confusion matrix (rows true, columns predicted) in a sentence: the share right and the commonest mistake."""
    total = int(sum(int(value) for row in counts for value in row))
    right = int(sum(int(counts[k][k]) for k in range(len(class_names))))
    mistakes = [(int(counts[t][p]), t, p) for t in range(len(class_names)) for p in range(len(class_names))
                if t != p and int(counts[t][p]) > 0]
    sentence = f"Right answers (the diagonal): {right:,} of {total:,} ({right / max(total, 1):.1%})."
    if mistakes:
        count, truth, guess = max(mistakes)
        sentence += (f" The commonest mistake: {_article(class_names[truth])} read as {class_names[guess]}, "
                     f"{count:,} time{'s' if count != 1 else ''}.")
    return sentence


def feature_maps_summary(layer: str, maps, per_row: int) -> str:
    """A layer's grid of feature maps in words: which filter is where, and which responded most.

    Args:
        layer: The layer's name.
        maps: (k, h, w) the maps shown, filter 0 first.
        per_row: Maps in each row of the grid.
    """
    count = len(maps)
    strongest = max(range(count), key=lambda k: float(maps[k].max()))
    return (f"Feature maps of layer {layer}: filters 0–{count - 1}, {per_row} to a row, left to right and top to "
            f"bottom. Filter {strongest} responds most (up to {float(maps[strongest].max()):.2f}).")


def feature_map_summary(layer: str, filter_index: int, values) -> str:
    """One feature map in words: its layer and filter, and where it responds most.

    Args:
        values: (h, w) the map.
    """
    flat = int(values.argmax())
    row, column = divmod(flat, values.shape[1])
    return (f"Feature map of layer {layer}, filter {filter_index}, {values.shape[0]}×{values.shape[1]}: strongest at "
            f"row {row}, column {column} ({float(values.max()):.2f}).")
