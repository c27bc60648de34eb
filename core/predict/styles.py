"""The ways real handwriting reaches the canvas, made from any drawing: thick, thin, slanted, broken, and scanned.

The digit check was first trained on one style: MNIST's digits and clean strokes drawn by code. Real
people's digits arrive in others, and the check flagged one in five of them (issue 32):

- **scanned small and enlarged**: a postal scan at 16×16 (USPS), or a binarised one (Semeion), or
  scikit-learn's 8×8 digits, blown up to the canvas. The strokes come out blocky and, relative to the
  digit, two to three times as thick as MNIST's;
- **a thick or a thin pen**, a **slant**, and **broken strokes** (a pen that skips).

`restyle` turns any white-on-black drawing (a canvas drawing, an MNIST digit, a font's letter) into one
of these styles, so the check trains and is calibrated on digits *and* non-digits in every style:
it must then tell them apart by shape, not by the look of the pen.

NumPy, Pillow and SciPy only: no TensorFlow.
"""

from __future__ import annotations

import numpy as np
from PIL import Image
from scipy import ndimage

from core.predict.preprocessing import ink_box

STYLES = ("plain", "thick", "thin", "slanted", "broken", "scan16", "scan16_binary", "scan8")
WORK = 64  # the thick/thin/broken styles work at this size: stroke widths are relative to the drawing


def _crop(grey: np.ndarray) -> np.ndarray:
    bounds = ink_box(grey)
    if bounds is None:
        return grey
    top, left, bottom, right = bounds
    return grey[top:bottom, left:right]


def _fit(grey: np.ndarray, side: int, stretch: bool = False, resample=Image.Resampling.BOX) -> np.ndarray:
    """The ink scaled to fit side × side (both sides filled when `stretch`): (h, w) uint8."""
    height, width = grey.shape
    if stretch:
        size = (side, side)
    else:
        scale = side / max(height, width)
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.asarray(Image.fromarray(grey).resize(size, resample), dtype=np.uint8)


def _centred(small: np.ndarray, side: int) -> np.ndarray:
    field = np.zeros((side, side), np.uint8)
    row, column = (side - small.shape[0]) // 2, (side - small.shape[1]) // 2
    field[row:row + small.shape[0], column:column + small.shape[1]] = small
    return field


def _disk(radius: int) -> np.ndarray:
    span = np.arange(-radius, radius + 1)
    return span[:, None] ** 2 + span[None, :] ** 2 <= radius ** 2 + 0.5


def enlarge(small: np.ndarray, rng: np.random.Generator, margin: bool = True) -> np.ndarray:
    """A small image blown up to about canvas size, blocky (nearest) or smooth, as an upload or a test set would be.

    Returns:
        (H, W) uint8, H and W between 128 and 280.
    """
    factor = int(rng.integers(8, 18)) if max(small.shape) <= 24 else 4  # a scan's field, with its margin
    factor = min(factor, 280 // max(small.shape))
    resample = Image.Resampling.NEAREST if rng.random() < 0.6 else (
        Image.Resampling.BILINEAR if rng.random() < 0.5 else Image.Resampling.BICUBIC)
    big = np.asarray(Image.fromarray(small).resize((small.shape[1] * factor, small.shape[0] * factor), resample),
                     dtype=np.uint8)
    if margin and rng.random() < 0.5:
        pad = int(rng.integers(0, 40))
        big = np.pad(big, pad)
    return big


def scanned(grey: np.ndarray, rng: np.random.Generator, side: int = 16, binary: bool = False) -> np.ndarray:
    """A drawing as a small scan of it, enlarged: USPS's 16×16 grey, Semeion's 16×16 black and white, or 8×8.

    The ink is cropped and scaled to fill the small field (stretched to both sides sometimes, as some
    scanned sets were), thickened sometimes at 16×16 (scans of felt pens), binarised if `binary`, then
    enlarged. At 8×8 a thickened or stretched 1 is a solid block, which would teach the check that
    blocks are digits.
    """
    ink = _crop(grey)
    # Stretched to fill both sides, as some scanned sets were; never a narrow drawing (a 1 would become a block).
    squat = 0.5 <= ink.shape[1] / ink.shape[0] <= 2
    small = _fit(ink, side, stretch=squat and rng.random() < 0.3)
    if side >= 16 and rng.random() < (0.6 if binary else 0.3):  # a thick pen, or a scanner's blur, at 16×16
        small = ndimage.grey_dilation(small, footprint=np.ones((2, 2), bool) if rng.random() < 0.7 else _disk(1))
    margin = int(rng.integers(0, 3)) if side >= 16 else 0
    field = _centred(small, side + 2 * margin)  # (side + 2m, side + 2m)
    if binary:
        level = rng.uniform(0.2, 0.55) * max(int(field.max()), 1)
        field = np.where(field > level, 255, 0).astype(np.uint8)
    else:
        peak = max(int(field.max()), 1)
        field = np.clip(field.astype(np.float32) * (255.0 / peak), 0, 255).astype(np.uint8)  # a scan's full range
    return enlarge(field, rng)


def thick(grey: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The drawing redrawn with a pen up to a quarter of its size wide: (WORK-ish, WORK-ish) uint8."""
    small = _fit(_crop(grey), WORK, resample=Image.Resampling.LANCZOS)
    radius = int(rng.integers(2, 6))  # 4–11 px of 64: MNIST's strokes are about 6 of 64
    return enlarge(ndimage.grey_dilation(np.pad(small, radius + 1), footprint=_disk(radius)), rng, margin=False)


def thin(grey: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The drawing with its strokes thinned (a fine pen), keeping at least some of its ink."""
    small = _fit(_crop(grey), WORK, resample=Image.Resampling.LANCZOS)
    thinned = ndimage.grey_erosion(small, footprint=_disk(int(rng.integers(1, 3))))
    keep = thinned if (thinned > 128).sum() >= 0.4 * (small > 128).sum() else small
    return enlarge(keep, rng, margin=False)


def slanted(grey: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The drawing sheared by up to about 25° either way, and turned a little."""
    ink = np.pad(_crop(grey), 8)
    height, width = ink.shape
    shear = rng.uniform(0.25, 0.5) * rng.choice([-1.0, 1.0])
    out_width = int(width + abs(shear) * height) + 2
    offset = -shear * height if shear > 0 else 0.0
    # Pillow's affine maps output (x, y) to input (a x + b y + c, d x + e y + f).
    sheared = Image.fromarray(ink).transform((out_width, height), Image.Transform.AFFINE,
                                             (1, shear, offset, 0, 1, 0), Image.Resampling.BILINEAR)
    turned = sheared.rotate(rng.uniform(-8, 8), Image.Resampling.BILINEAR, expand=True)
    return np.asarray(turned, dtype=np.uint8)


def broken(grey: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The drawing with one or two small gaps in its strokes, as a pen that skips leaves."""
    small = _fit(_crop(grey), WORK, resample=Image.Resampling.LANCZOS).copy()
    ink_rows, ink_columns = np.nonzero(small > 128)
    if len(ink_rows) == 0:
        return small
    for _ in range(int(rng.integers(1, 3))):
        pick = int(rng.integers(len(ink_rows)))
        row, column, radius = ink_rows[pick], ink_columns[pick], int(rng.integers(2, 4))
        small[max(0, row - radius):row + radius + 1, max(0, column - radius):column + radius + 1] = 0
    return enlarge(small, rng, margin=False)


def restyle(grey: np.ndarray, style: str, rng: np.random.Generator) -> np.ndarray:
    """One drawing in one style, as white ink on black: (H, W) uint8, ready for `prepare_grey`.

    Args:
        grey: (H, W) uint8, light ink on a dark background (a canvas drawing or an MNIST digit).
        style: One of `STYLES`; "plain" returns the drawing as it is.

    Raises:
        ValueError: For an unknown style.
    """
    grey = np.asarray(grey, dtype=np.uint8)
    if style == "plain":
        return grey
    if style == "thick":
        return thick(grey, rng)
    if style == "thin":
        return thin(grey, rng)
    if style == "slanted":
        return slanted(grey, rng)
    if style == "broken":
        return broken(grey, rng)
    if style == "scan16":
        return scanned(grey, rng, 16)
    if style == "scan16_binary":
        return scanned(grey, rng, 16, binary=True)
    if style == "scan8":
        return scanned(grey, rng, 8)
    raise ValueError(f"Unknown handwriting style {style!r}; choose from {', '.join(STYLES)}.")


def sklearn_digit(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One of scikit-learn's 8×8 digits (0–16 per pixel) enlarged to canvas size: (H, W) uint8."""
    small = np.clip(np.asarray(image, dtype=np.float32).reshape(8, 8) * 16, 0, 255).astype(np.uint8)
    return enlarge(small, rng)



def photographed(grey: np.ndarray, rng: np.random.Generator, side: int = 640) -> np.ndarray:
    """A drawing as a phone photo of it in dark ink on paper: (side, side, 3) uint8 RGB.

    Off-white paper under uneven light, a blue-black or grey pen, a little blur and sensor noise, and
    JPEG's compression: what a learner uploads after writing a digit on paper. It reaches a model
    through `prepare_upload`, which inverts it back to light ink on dark.
    """
    import io

    ink = _fit(_crop(grey), round(rng.uniform(0.35, 0.7) * side), resample=Image.Resampling.BILINEAR)
    ink = ink.astype(np.float32) / 255.0  # (h, w): 1 where the pen was
    field = np.zeros((side, side), np.float32)
    top = int(rng.integers(0, side - ink.shape[0] + 1))
    left = int(rng.integers(0, side - ink.shape[1] + 1))
    field[top:top + ink.shape[0], left:left + ink.shape[1]] = ink
    field = ndimage.gaussian_filter(field, rng.uniform(0.5, 1.5))  # focus
    rows, columns = np.mgrid[0:side, 0:side] / side
    light = 1.0 - rng.uniform(0.0, 0.25) * (rows * rng.uniform(-1, 1) + columns * rng.uniform(-1, 1)) ** 2
    paper = np.array([rng.uniform(225, 250), rng.uniform(220, 245), rng.uniform(205, 235)], np.float32)
    pen = np.array([rng.uniform(20, 60), rng.uniform(20, 60), rng.uniform(40, 110)], np.float32)
    picture = paper * (1 - field[..., None]) + pen * field[..., None]  # (side, side, 3)
    picture = picture * light[..., None] + rng.normal(0, 4, picture.shape)
    buffer = io.BytesIO()
    Image.fromarray(np.clip(picture, 0, 255).astype(np.uint8)).save(buffer, "JPEG", quality=int(rng.integers(60, 92)))
    return np.asarray(Image.open(buffer).convert("RGB"), dtype=np.uint8)
