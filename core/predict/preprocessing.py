"""Turning a drawing or an uploaded photo into what a stored model takes, the way MNIST was made.

MNIST's digits were scanned, cropped to their ink, scaled to fit a 20×20 box keeping their aspect
ratio (anti-aliasing adds the grey edge pixels), and placed in a 28×28 field so that their centre
of mass sits at the centre. A model trained on them expects exactly that: a digit drawn small in
a corner of a canvas and shrunk naively to 28×28 is a few grey pixels off to one side, which the
model has never seen. `prepare_drawing` repeats MNIST's steps and keeps every stage for display.

Everything here is NumPy, Pillow and SciPy: no TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage

from core.data.images import to_grey

SIDE, BOX = 28, 20  # MNIST: a 28×28 field, the digit scaled to fit 20×20
INK_LEVEL = 40  # grey level above which a pixel counts as ink (the canvas background is 0)
MIN_INK_FRACTION = 0.0005  # less ink than this share of the canvas (39 px of 280×280) is "nothing drawn"


@dataclass(frozen=True)
class DrawingStages:
    """Every stage of MNIST-style preprocessing, for the X-ray strip.

    Attributes:
        grey: (H, W) uint8, the drawing as grey levels.
        box: (top, left, bottom, right) of the ink, bottom and right exclusive.
        cropped: (h, w) uint8, the ink's bounding box.
        fitted: (h', w') uint8, scaled so the longer side is 20, anti-aliased.
        pasted: (28, 28) float32, the fitted digit in the middle of a 28×28 field.
        shift: (down, right) pixels that move the centre of mass to the centre.
        centred: (28, 28) float32 on the 0–255 scale: what the model gets.
    """

    grey: np.ndarray
    box: tuple[int, int, int, int]
    cropped: np.ndarray
    fitted: np.ndarray
    pasted: np.ndarray
    shift: tuple[int, int]
    centred: np.ndarray


def canvas_grey(rgba: np.ndarray) -> np.ndarray:
    """An (H, W, 4) canvas image as (H, W) uint8 grey, composited onto black.

    Raises:
        ValueError: If the array is not (H, W, 4) or (H, W, 3).
    """
    rgba = np.asarray(rgba)
    if rgba.ndim != 3 or rgba.shape[2] not in (3, 4) or rgba.shape[0] < 1 or rgba.shape[1] < 1:
        raise ValueError(f"A canvas image must be (H, W, 4) RGBA, got shape {rgba.shape}.")
    rgb = rgba[:, :, :3].astype(np.float32)
    grey = rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32)  # Pillow's luminance weights
    if rgba.shape[2] == 4:
        grey = grey * (rgba[:, :, 3].astype(np.float32) / 255.0)  # transparent = background (black)
    return np.clip(grey + 0.5, 0, 255).astype(np.uint8)


def ink_box(grey: np.ndarray, level: int = INK_LEVEL) -> tuple[int, int, int, int] | None:
    """(top, left, bottom, right) of the pixels brighter than `level`, or None with too little ink."""
    ink = grey > level
    if ink.sum() < max(1, MIN_INK_FRACTION * grey.size):
        return None
    rows, columns = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    return int(rows[0]), int(columns[0]), int(rows[-1]) + 1, int(columns[-1]) + 1


def centring_shift(image: np.ndarray) -> tuple[int, int]:
    """Whole-pixel (down, right) shift that brings the centre of mass nearest the field's centre.

    Whole pixels, because a fractional shift would blur every stroke by interpolation.
    """
    total = float(image.sum())
    if total <= 0:
        return 0, 0
    row, column = ndimage.center_of_mass(image)
    middle_row, middle_column = (image.shape[0] - 1) / 2, (image.shape[1] - 1) / 2  # 13.5: between two pixels
    return round(float(middle_row - row)), round(float(middle_column - column))


def prepare_grey(grey: np.ndarray, side: int = SIDE, box: int = BOX) -> DrawingStages | None:
    """MNIST-style preprocessing of a grey (H, W) uint8 image with light ink on a dark background.

    Args:
        grey: The image.
        side: The output field's side (28 for MNIST; 8 for scikit-learn's digits).
        box: The side of the box the ink is scaled to fit (20 for MNIST; 8 for the digits, which
            fill their field).

    Returns:
        The stages, or None when there is (almost) no ink.
    """
    if not 1 <= box <= side:
        raise ValueError(f"The ink box ({box}) must fit the field ({side}).")
    bounds = ink_box(grey)
    if bounds is None:
        return None
    top, left, bottom, right = bounds
    cropped = grey[top:bottom, left:right]  # (h, w)
    height, width = cropped.shape
    scale = box / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))  # Pillow wants (width, height)
    # LANCZOS averages many canvas pixels into each small one: the grey edges MNIST's anti-aliasing made.
    fitted = np.asarray(Image.fromarray(cropped).resize(size, Image.Resampling.LANCZOS), dtype=np.uint8)
    pasted = np.zeros((side, side), dtype=np.float32)
    row, column = (side - fitted.shape[0]) // 2, (side - fitted.shape[1]) // 2
    pasted[row:row + fitted.shape[0], column:column + fitted.shape[1]] = fitted
    shift = centring_shift(pasted)
    centred = ndimage.shift(pasted, shift, order=0, mode="constant", cval=0.0)  # whole pixels: exact values
    return DrawingStages(grey, bounds, cropped, fitted, pasted, shift, centred.astype(np.float32))


@dataclass(frozen=True)
class PreparedDrawing:
    """A canvas drawing made ready for a model, with what the Predict page shows about it.

    Attributes:
        image: (side, side, 1) float32 on the 0–255 scale: the model's input, `model.predict(image[None])`.
        stages: Every stage of the MNIST-style preparation, for the X-ray strip.
        naive: (side, side, 1) float32: the whole canvas shrunk, as most drawing demos do, to compare.
    """

    image: np.ndarray
    stages: DrawingStages
    naive: np.ndarray


def prepare_drawing(rgba: np.ndarray, side: int = SIDE, box: int | None = None) -> PreparedDrawing | None:
    """A canvas drawing (white ink on black) prepared as MNIST's digits were, for a model of this side.

    The one path from canvas to model: the Predict page, `bench/predict_latency.py` and the tests all
    call it.

    Args:
        rgba: (H, W, 4) uint8, as streamlit-drawable-canvas returns it.
        side: The model's input side: 28 for MNIST-like models, 8 for scikit-learn's digits.
        box: The side the ink is fitted into; `digit_box(side)` by default. A learner's own classes use
            `core.data.own_classes.drawing_box`, as their examples were prepared.

    Returns:
        The prepared drawing, or None for an empty or near-empty canvas.

    Raises:
        ValueError: If the array does not have an image's shape.
    """
    grey = canvas_grey(rgba)
    stages = prepare_grey(grey, side=side, box=digit_box(side) if box is None else box)
    if stages is None:
        return None
    return PreparedDrawing(stages.centred[:, :, None], stages, naive_resize(grey, side)[:, :, None])


def naive_resize(grey: np.ndarray, side: int = SIDE) -> np.ndarray:
    """The whole (H, W) image shrunk to side × side, as most drawing demos do: (side, side) float32."""
    small = Image.fromarray(grey).resize((side, side), Image.Resampling.BILINEAR)
    return np.asarray(small, dtype=np.float32)


@dataclass(frozen=True)
class PreparedUpload:
    """An uploaded image made ready for a model.

    Attributes:
        image: (H, W, C) float32 on the 0–255 scale, the model's input shape.
        inverted: True when dark ink on a light background was turned into light on dark.
        stages: The MNIST-style stages (digit models only), else None.
        note: What was done, in a sentence, for the page.
    """

    image: np.ndarray
    inverted: bool
    stages: DrawingStages | None
    note: str


def _border_level(grey: np.ndarray) -> float:
    """The median grey level of the image's outermost pixels: the background, for a centred subject."""
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    return float(np.median(border))


def _otsu(values: np.ndarray) -> float:
    """Otsu's threshold of grey levels 0–255: the level that best splits them into two groups."""
    counts = np.bincount(np.clip(values, 0, 255).astype(np.int64).ravel(), minlength=256).astype(np.float64)
    levels = np.arange(256, dtype=np.float64)
    below, mass_below = np.cumsum(counts), np.cumsum(counts * levels)
    above, mass_above = below[-1] - below, mass_below[-1] - mass_below
    with np.errstate(divide="ignore", invalid="ignore"):
        between = below * above * (mass_below / below - mass_above / above) ** 2
    return float(np.nanargmax(np.where(np.isfinite(between), between, np.nan))) if np.isfinite(between).any() else 0.0


def paper_level(grey: np.ndarray) -> np.ndarray:
    """The background's level at each pixel of an (H, W) picture of light ink on a darker ground: (H, W) float32.

    A photo of paper is lit unevenly: a shadow or a lamp makes one corner much lighter than another, and a
    single background level for the whole picture let the lighter part count as ink, so the "digit" cropped
    was the ink plus a patch of paper (a third of the photographed digits in `tests/unit/test_preprocessing.py`
    came out so). Light changes slowly across a page, so the level is a smooth surface (a quadratic in x and
    y) fitted to the paper alone: the pixels darker than Otsu's threshold, then those within three spreads of
    the fit, twice more. However bold the strokes, they are not paper, so they are never taken for light. It
    works on a copy at most 128 px a side.
    """
    height, width = grey.shape
    scale = min(1.0, 128 / max(height, width))
    small = np.asarray(Image.fromarray(grey.astype(np.float32), mode="F").resize(
        (max(1, round(width * scale)), max(1, round(height * scale))), Image.Resampling.BILINEAR), dtype=np.float64)

    def terms(rows: np.ndarray, columns: np.ndarray) -> np.ndarray:  # (..., 6): 1, x, y, x², xy, y² on −1…1
        return np.stack([np.ones_like(rows), columns, rows, columns ** 2, columns * rows, rows ** 2], axis=-1)

    rows, columns = np.meshgrid(np.linspace(-1, 1, small.shape[0]), np.linspace(-1, 1, small.shape[1]), indexing="ij")
    basis = terms(rows, columns)  # (h, w, 6)
    paper = small <= _otsu(small)
    coefficients = np.zeros(6)
    for _ in range(3):
        if paper.sum() < 12:  # almost no paper (the picture is all ink): nothing to measure the light by
            break
        coefficients = np.linalg.lstsq(basis[paper], small[paper], rcond=None)[0]
        residual = small - basis @ coefficients
        spread = 1.4826 * float(np.median(np.abs(residual[paper]))) + 1.0
        paper = residual < 3 * spread
    level = (basis @ coefficients).astype(np.float32)  # (h, w); a smooth surface loses nothing by enlarging
    return np.asarray(Image.fromarray(level, mode="F").resize((width, height), Image.Resampling.BILINEAR))


def prepare_upload(image: np.ndarray, input_shape: tuple[int, int, int], digit_style: bool) -> PreparedUpload | None:
    """Prepares a decoded upload, (H, W, C) uint8, for a model taking `input_shape` images.

    Digit models (28×28×1) get the drawing's MNIST-style pipeline. A photo of dark ink on paper is
    inverted first (the border is lighter than mid-grey), and its background level is subtracted
    and the ink stretched to full brightness, so paper grain does not count as ink. Other models
    get a plain resize to their input, in grey or colour as they expect.

    Returns:
        The prepared image, or None when a digit-style image holds no ink.

    Raises:
        ValueError: For an image or input shape that is not (H, W, C).
    """
    if image.ndim != 3 or len(input_shape) != 3:
        raise ValueError(f"Expected an (H, W, C) image and input shape, got {image.shape} and {input_shape}.")
    if problem := picture_problem(image.shape[0], image.shape[1]):
        raise ValueError(problem)
    height, width, channels = input_shape
    if digit_style:
        grey = to_grey(np.ascontiguousarray(image[:, :, :3], dtype=np.uint8))[:, :, 0].astype(np.float32)  # (H, W)
        inverted = _border_level(grey) > 127
        if inverted:
            grey = 255.0 - grey
        flat = grey - paper_level(grey)  # the paper's own level, place by place: uneven light is not ink
        background, peak = _border_level(flat), float(flat.max())
        stretched = np.clip((flat - background) / max(peak - background, 1.0) * 255.0, 0, 255)
        stages = prepare_grey((stretched + 0.5).astype(np.uint8), side=height, box=digit_box(height))
        if stages is None:
            return None
        note = "Dark ink on a light background: inverted to light on dark, as the dataset is. " if inverted else ""
        note += (f"Then cropped to the ink, fitted into {digit_box(height)}×{digit_box(height)} and centred by its "
                 "centre of mass, like the drawings.")
        return PreparedUpload(stages.centred[:, :, None], inverted, stages, note)
    colour = np.ascontiguousarray(image[:, :, 0] if image.shape[2] == 1 else image[:, :, :3])  # (H, W) or (H, W, 3)
    picture = Image.fromarray(colour).convert("L" if channels == 1 else "RGB")
    resized = np.asarray(picture.resize((width, height), Image.Resampling.LANCZOS), dtype=np.float32)
    note = (f"Resized from {image.shape[1]}×{image.shape[0]} to the model's {width}×{height}"
            f"{' in grey' if channels == 1 else ''}. The model only knows its dataset's kind of picture: "
            "expect an odd answer for anything else.")
    return PreparedUpload(resized.reshape(height, width, channels), False, None, note)  # (H, W, C)


MIN_SIDE = 8  # fewer pixels a side cannot hold a recognisable digit or object
MAX_ASPECT = 20  # a strip 20 times longer than wide is a line, not a picture


def picture_problem(height: int, width: int) -> str | None:
    """Why an image of this size cannot be read as a picture (too small, or a thin strip), or None."""
    if max(height, width) > MAX_ASPECT * min(height, width):
        return (f"The image is {width}×{height} pixels: a thin strip, not a picture. Crop it to the subject, no more "
                f"than {MAX_ASPECT} times longer than wide.")
    if min(height, width) < MIN_SIDE:
        return (f"The image is {width}×{height} pixels: too small to hold a digit or an object. Upload one at least "
                f"{MIN_SIDE}×{MIN_SIDE}; the model's input is larger anyway.")
    return None


def digit_box(side: int) -> int:
    """The box a digit's ink is fitted into for a field of this side: MNIST's 20 of 28, or the whole field."""
    return BOX if side == SIDE else side
