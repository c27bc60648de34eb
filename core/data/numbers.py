"""Numbers in words: shares shown as percentages that never round to a claim the data does not make."""

from __future__ import annotations

_MAX_DECIMALS = 4


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """A count with its noun in the right number: "1 mistake", "2 mistakes", "1,204 images"."""
    return f"{count:,} {noun if count == 1 else plural or noun + 's'}"


def percent(value: float, decimals: int = 0) -> str:
    """`value` (a share, 0–1) as a percentage; 100% and 0% only when exact.

    977 of 980 is 99.7%, not "100%": the decimals grow until the rounding no longer reaches an end.

    Args:
        value: The share.
        decimals: The decimals to show when they are enough.
    """
    value = float(value)
    text = f"{value:.{decimals}%}"
    while 0 < value < 1 and decimals < _MAX_DECIMALS and text in (f"{1:.{decimals}%}", f"{0:.{decimals}%}"):
        decimals += 1
        text = f"{value:.{decimals}%}"
    if 0 < value < 1 and text in (f"{1:.{decimals}%}", f"{0:.{decimals}%}"):  # closer to an end than 0.0001%
        smallest = 10.0 ** -(decimals + 2)
        return f">{1 - smallest:.{decimals}%}" if value > 0.5 else f"<{smallest:.{decimals}%}"
    return text
