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
