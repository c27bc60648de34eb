"""Convolution kernels: the classic presets, and turning what a person typed into a safe kernel."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

KERNEL_SIZES = (1, 3, 5, 7)  # 1×1: a per-pixel weight (channel mixing in real networks)
# Typed values beyond this are almost surely a slip (an extra zero, a pasted number) and would
# wash the feature map's colour scale out to one colour; real kernels stay far below it.
MAX_KERNEL_MAGNITUDE = 1000.0


class KernelError(ValueError):
    """A kernel as typed cannot be used; the message lists every bad cell."""


@dataclass(frozen=True)
class KernelPreset:
    """A named kernel.

    Args:
        name: The name shown in the picker.
        values: The weights as whole numbers, rows top to bottom.
        normalise: Divide by the sum when applied (blurs), so the image keeps its brightness.
        explanation: One sentence on what it does.
    """

    name: str
    values: tuple[tuple[int, ...], ...]
    normalise: bool
    explanation: str

    def array(self) -> np.ndarray:
        """The kernel as (k, k) float64, divided by its sum when the preset normalises."""
        weights = np.array(self.values, dtype=np.float64)
        return weights / weights.sum() if self.normalise else weights


def _gaussian_5x5() -> tuple[tuple[int, ...], ...]:
    binomial = np.array([1, 4, 6, 4, 1])  # row 4 of Pascal's triangle, a close whole-number Gaussian
    return tuple(tuple(int(v) for v in row) for row in np.outer(binomial, binomial))


PRESETS: dict[str, KernelPreset] = {preset.name: preset for preset in (
    KernelPreset("identity", ((0, 0, 0), (0, 1, 0), (0, 0, 0)), False,
                 "Copies the image: only the centre weight is non-zero."),
    KernelPreset("sharpen", ((0, -1, 0), (-1, 5, -1), (0, -1, 0)), False,
                 "Adds the difference between a pixel and its neighbours back onto it, so edges stand out."),
    KernelPreset("vertical lines", ((-1, 2, -1), (-1, 2, -1), (-1, 2, -1)), False,
                 "Large where a column is brighter than the columns either side: thin vertical lines."),
    KernelPreset("horizontal lines", ((-1, -1, -1), (2, 2, 2), (-1, -1, -1)), False,
                 "Large where a row is brighter than the rows above and below: thin horizontal lines."),
    KernelPreset("Sobel x", ((-1, 0, 1), (-2, 0, 2), (-1, 0, 1)), False,
                 "Right minus left: positive where brightness rises to the right, negative where it falls."),
    KernelPreset("Sobel y", ((-1, -2, -1), (0, 0, 0), (1, 2, 1)), False,
                 "Below minus above: positive where brightness rises downwards."),
    KernelPreset("Laplacian", ((0, 1, 0), (1, -4, 1), (0, 1, 0)), False,
                 "Neighbours minus the centre: zero on flat areas, large on both sides of every edge."),
    KernelPreset("outline", ((-1, -1, -1), (-1, 8, -1), (-1, -1, -1)), False,
                 "The centre minus all eight neighbours: flat areas go to 0 and outlines remain."),
    KernelPreset("box blur", ((1, 1, 1), (1, 1, 1), (1, 1, 1)), True,
                 "The average of the 3×3 neighbourhood."),
    KernelPreset("Gaussian blur 3×3", ((1, 2, 1), (2, 4, 2), (1, 2, 1)), True,
                 "A weighted average that trusts the centre most: a softer blur than the box."),
    KernelPreset("Gaussian blur 5×5", _gaussian_5x5(), True,
                 "The same idea over a 5×5 neighbourhood: a stronger blur."),
    KernelPreset("emboss", ((-2, -1, 0), (-1, 1, 1), (0, 1, 2)), False,
                 "Bottom-right minus top-left plus the pixel itself: edges look raised, as if lit from one side."),
)}


def parse_cell(value: object) -> float:
    """Reads one typed cell: a number, or text such as "-1", "0.25", "1e-2" or "1/16".

    Raises:
        KernelError: If the cell is empty, not a number, NaN, infinite or beyond ±MAX_KERNEL_MAGNITUDE.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        raise KernelError("is empty")
    if isinstance(value, bool):
        raise KernelError(f"{value!r} is not a number")
    if isinstance(value, numbers.Real):
        number = float(value)
    elif isinstance(value, str):
        text = value.strip().replace("−", "-")  # a minus sign pasted from a document
        if "," in text and "." not in text:
            text = text.replace(",", ".", 1)  # a decimal comma, as in "0,5"
        try:
            number = float(Fraction(text)) if "/" in text else float(text)
        except (ValueError, ZeroDivisionError, OverflowError):
            raise KernelError(f"{value.strip()[:20]!r} is not a number") from None
    else:
        raise KernelError(f"{str(value)[:20]!r} is not a number")
    if math.isnan(number):
        raise KernelError("is NaN (not a number)")
    if math.isinf(number):
        raise KernelError("is infinite")
    if abs(number) > MAX_KERNEL_MAGNITUDE:
        raise KernelError(f"{number:g} is beyond ±{MAX_KERNEL_MAGNITUDE:g}")
    return number


def parse_kernel(cells: Sequence[Sequence[object]], sizes: Sequence[int] = KERNEL_SIZES) -> np.ndarray:
    """Turns a square grid of typed cells into a (k, k) float64 kernel.

    Args:
        cells: Rows of cells, as `parse_cell` reads them.
        sizes: The allowed sides.

    Raises:
        KernelError: If the grid is not square with an allowed side, or any cell is bad. The message
            names every bad cell by row and column, counted from 1 as people count.
    """
    rows = [list(row) for row in cells]
    side = len(rows)
    if side not in sizes or any(len(row) != side for row in rows):
        shapes = f"{side}×{len(rows[0]) if rows else 0}" if len({len(row) for row in rows}) <= 1 else "ragged"
        allowed = ", ".join(f"{size}×{size}" for size in sizes)
        raise KernelError(f"A kernel must be square, {allowed}; got {shapes}.")
    kernel = np.zeros((side, side))
    problems = []
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            try:
                kernel[r, c] = parse_cell(cell)
            except KernelError as error:
                problems.append(f"row {r + 1}, column {c + 1}: {error}")
    if problems:
        shown = "; ".join(problems[:6]) + (f"; and {len(problems) - 6} more" if len(problems) > 6 else "")
        raise KernelError(f"Fix {len(problems)} kernel cell{'s' if len(problems) > 1 else ''}: {shown}.")
    return kernel


def normalise_by_sum(kernel: np.ndarray) -> np.ndarray:
    """Divides a kernel by the sum of its weights, so a flat image keeps its brightness.

    Raises:
        ValueError: If the weights sum to (nearly) zero, as edge detectors' do: there is nothing to divide by.
    """
    total = float(np.sum(kernel))
    if abs(total) < 1e-9:
        raise ValueError("The weights sum to 0 (as an edge detector's do), so there is nothing to divide by.")
    return kernel / total


def random_kernel(size: int, seed: int) -> np.ndarray:
    """A random (size, size) kernel with weights in [-1, 1], rounded to one decimal so the sums stay readable."""
    if size not in KERNEL_SIZES:
        raise ValueError(f"size must be one of {KERNEL_SIZES}, got {size!r}.")
    return np.round(np.random.default_rng(seed).uniform(-1.0, 1.0, (size, size)), 1) + 0.0  # + 0.0: no "-0"


def resize_kernel(kernel: np.ndarray, size: int, fill: object = 0) -> np.ndarray:
    """Grows a square kernel with a border of `fill`, or crops it, keeping it centred.

    Works on typed text too (an object array of cells, with fill "0").
    """
    current = kernel.shape[0]
    if size >= current:
        margin = (size - current) // 2
        grown = np.full((size, size), fill, dtype=kernel.dtype)
        grown[margin : margin + current, margin : margin + current] = kernel
        return grown
    margin = (current - size) // 2
    return kernel[margin : margin + size, margin : margin + size].copy()


def format_weight(value: float) -> str:
    """A weight as people would type it: "1", "-0.5", "0.0625" (no float noise such as 0.30000000000000004)."""
    text = f"{value:.6g}"
    return "0" if text in ("-0", "0") else text
