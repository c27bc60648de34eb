"""The app's colours, in one place, so every chart speaks the same colour language.

Plotly's default ("D3") colours for series and right/wrong; Vega's softer ones for dataset splits
and normalisation stages, which sit beside each other and must not look like a right/wrong verdict.
"""

from __future__ import annotations

BLUE = "#1f77b4"
ORANGE = "#ff7f0e"
GREEN = "#2ca02c"
RED = "#d62728"
GREY = "#bbbbbb"  # a bar that is neither the guess nor the truth
DARK_GREY = "#555555"  # small print inside figures: tile numbers, the grey channel

SERIES = (BLUE, ORANGE, GREEN, RED, "#9467bd", "#8c564b", "#e377c2", "#17becf")  # one colour per compared run

# Verdicts: the model's guess, and whether it was right.
RIGHT, WRONG, GUESS = GREEN, RED, BLUE

CHANNELS = {"R": RED, "G": GREEN, "B": BLUE, "grey": DARK_GREY}
CURVES = {"train": BLUE, "validation": ORANGE}  # the live training curves
SPLITS = {"train": "#4c78a8", "test": "#f58518"}  # the class-balance bars
STAGES = ("#4c78a8", "#54a24b", "#e45756")  # the three normalisation stages' histograms
TABLE_MAXIMUM = "#c6e5b3"  # a table cell highlighted as its row's largest

# Outlines drawn over images and maps.
CROP = "#ffd400"  # the crop shown as numbers elsewhere
WINDOW = "#ffb000"  # the kernel's window on the input
POOL_WINDOW = GREEN  # the pooling window and the value it makes
PADDING = "#d9d9d9"  # cells added by "same" padding

# The drawing canvas: white ink on black, as MNIST's digits are.
INK, PAPER = "#FFFFFF", "#000000"


def rgb(colour: str) -> tuple[int, int, int]:
    """A "#rrggbb" colour as (red, green, blue) 0–255, for drawing into pixel arrays."""
    if len(colour) != 7 or not colour.startswith("#"):
        raise ValueError(f"Expected a colour as '#rrggbb', received {colour!r}.")
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)
