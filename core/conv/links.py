"""The Convolution Playground's setup as URL query parameters, so a teacher can share a link.

A link carries text anyone can edit, so decoding trusts nothing: each parameter is checked on
its own, a bad one is reported and left at its default, and the good ones still apply.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np

from core.conv.kernels import PRESETS, KernelError, format_weight, parse_cell, parse_kernel

SOURCES = ("dataset", "photo", "grid", "upload", "draw")
SHAREABLE_SOURCES = ("dataset", "photo", "grid")  # an upload or a drawing lives only in its own session
POOL_CHOICES = ("none", "max", "average")
STRIDE_RANGE = (1, 4)
POOL_SIZE_RANGE = (2, 4)
GRID_SIDE_RANGE = (1, 16)
MAX_GRID_VALUE = 255
MAX_BIAS = 1000.0
MAX_IMAGE_INDEX = 10_000_000


@dataclass(frozen=True)
class PlaygroundSettings:
    """Everything a shared link restores.

    Args:
        kernel: (k, k) weights as typed numbers.
        normalise: Divide the kernel by its sum before use.
        bias: Added to every feature-map value.
        stride: The convolution's stride.
        padding: "valid" or "same".
        relu: Apply ReLU to the feature map.
        pool: "none", "max" or "average".
        pool_size: The pooling window's side.
        pool_stride: The pooling stride.
        source: Where the input image comes from: "dataset", "photo", "grid", "upload" or "draw".
        dataset: A built-in dataset's key, for the "dataset" source.
        image_index: The image's position in that dataset's test split.
        photo: The built-in photo's name, for the "photo" source.
        grid: (n, n) the hand-edited pixel grid, for the "grid" source.
    """

    kernel: np.ndarray = field(default_factory=lambda: PRESETS["sharpen"].array())
    normalise: bool = False
    bias: float = 0.0
    stride: int = 1
    padding: str = "valid"
    relu: bool = False
    pool: str = "max"
    pool_size: int = 2
    pool_stride: int = 2
    source: str = "dataset"
    dataset: str = "digits"
    image_index: int = 0
    photo: str = "camera"
    grid: np.ndarray = field(default_factory=lambda: vertical_line_grid(5))


def vertical_line_grid(side: int) -> np.ndarray:
    """The lessons' example: a one-pixel vertical line of 1s down the middle of a square of 0s."""
    grid = np.zeros((side, side), dtype=np.int64)
    grid[:, side // 2] = 1
    return grid


def encode_matrix(matrix: np.ndarray) -> str:
    """Rows joined by ";" and cells by ",": "0,-1,0;-1,5,-1;0,-1,0"."""
    return ";".join(",".join(format_weight(float(value)) for value in row) for row in np.asarray(matrix))


def _split_matrix(text: str) -> list[list[str]]:
    return [row.split(",") for row in text.split(";")]


def encode(settings: PlaygroundSettings) -> dict[str, str]:
    """The query parameters for a setup; the source's own fields only when it can be shared."""
    params = {
        "kernel": encode_matrix(settings.kernel),
        "normalise": str(int(settings.normalise)),
        "bias": format_weight(settings.bias),
        "stride": str(settings.stride),
        "padding": settings.padding,
        "relu": str(int(settings.relu)),
        "pool": settings.pool,
        "pool_size": str(settings.pool_size),
        "pool_stride": str(settings.pool_stride),
    }
    if settings.source == "dataset":
        params.update(source="dataset", dataset=settings.dataset, index=str(settings.image_index))
    elif settings.source == "photo":
        params.update(source="photo", photo=settings.photo)
    elif settings.source == "grid":
        params.update(source="grid", grid=encode_matrix(settings.grid))
    return params


def _whole_number(text: str, low: int, high: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{text[:20]!r} is not a whole number") from None
    if not low <= value <= high:
        raise ValueError(f"{value} is outside {low}–{high}")
    return value


def _flag(text: str) -> bool:
    if text not in ("0", "1"):
        raise ValueError(f"{text[:20]!r} is not 0 or 1")
    return text == "1"


def _choice(options: tuple[str, ...]):
    def parse(text: str) -> str:
        if text not in options:
            raise ValueError(f"{text[:20]!r} is not one of {', '.join(options)}")
        return text
    return parse


def _bias(text: str) -> float:
    try:
        value = parse_cell(text)
    except KernelError as error:
        raise ValueError(str(error)) from None
    if not math.isfinite(value) or abs(value) > MAX_BIAS:
        raise ValueError(f"{value:g} is beyond ±{MAX_BIAS:g}")
    return value


def _kernel(text: str) -> np.ndarray:
    try:
        return parse_kernel(_split_matrix(text))
    except KernelError as error:
        raise ValueError(str(error)) from None


def _grid(text: str) -> np.ndarray:
    rows = _split_matrix(text)
    side = len(rows)
    if not GRID_SIDE_RANGE[0] <= side <= GRID_SIDE_RANGE[1] or any(len(row) != side for row in rows):
        low, high = GRID_SIDE_RANGE
        raise ValueError(f"the grid must be square, {low}×{low} to {high}×{high}")
    return np.array([[_whole_number(cell, 0, MAX_GRID_VALUE) for cell in row] for row in rows], dtype=np.int64)


# The longest value each parameter can have in a link the app writes: a 7×7 kernel of 12-character
# weights ("-1.23457e-05") with separators, and a 16×16 grid of 3-digit values. Longer is not ours.
MAX_LENGTHS = {"kernel": 7 * 7 * 13, "grid": 16 * 16 * 4}
MAX_OTHER_LENGTH = 40

_PARSERS = {
    "kernel": ("kernel", _kernel),
    "normalise": ("normalise", _flag),
    "bias": ("bias", _bias),
    "stride": ("stride", lambda text: _whole_number(text, *STRIDE_RANGE)),
    "padding": ("padding", _choice(("valid", "same"))),
    "relu": ("relu", _flag),
    "pool": ("pool", _choice(POOL_CHOICES)),
    "pool_size": ("pool_size", lambda text: _whole_number(text, *POOL_SIZE_RANGE)),
    "pool_stride": ("pool_stride", lambda text: _whole_number(text, *STRIDE_RANGE)),
    "source": ("source", _choice(SHAREABLE_SOURCES)),
    "dataset": ("dataset", str),  # checked against the registry by the caller, which knows the datasets
    "index": ("image_index", lambda text: _whole_number(text, 0, MAX_IMAGE_INDEX)),
    "photo": ("photo", str),  # likewise checked by the caller against the photos it ships
    "grid": ("grid", _grid),
}


def decode(params: Mapping[str, str],
           base: PlaygroundSettings | None = None) -> tuple[PlaygroundSettings, dict[str, str]]:
    """Reads query parameters over `base` (the defaults if None).

    Unknown parameters are ignored, since other parts of the app may add their own.

    Returns:
        The settings, and a message for each parameter that was present but not usable, by name.
    """
    settings = base or PlaygroundSettings()
    updates: dict[str, object] = {}
    problems: dict[str, str] = {}
    for name, (attribute, parse) in _PARSERS.items():
        if name not in params:
            continue
        text = str(params[name])
        limit = MAX_LENGTHS.get(name, MAX_OTHER_LENGTH)
        if len(text) > limit:  # refused unread: a hostile link costs no more than the largest one we make
            problems[name] = (f"{len(text):,} characters is longer than any link this app makes (at most "
                              f"{limit:,} for {name})")
            continue
        try:
            updates[attribute] = parse(text.strip())
        except ValueError as error:
            problems[name] = str(error)
    return replace(settings, **updates), problems
