"""Decoding untrusted image bytes into uint8 arrays, and small display helpers."""

from __future__ import annotations

import io
import warnings
from typing import Literal

import numpy as np
from PIL import Image, UnidentifiedImageError

ColorMode = Literal["grayscale", "rgb"]

# Pillow refuses images above twice this many pixels and only warns below that; we check our own,
# lower limit from the header before decoding, so a decompression bomb never reaches the decoder.
DEFAULT_MAX_PIXELS = 40_000_000
# Pillow's own guard, set explicitly rather than trusted to its default (about 89 MP): above twice
# this it refuses at `Image.open`, before any pixel is decoded.
Image.MAX_IMAGE_PIXELS = DEFAULT_MAX_PIXELS
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif")  # what image_dataset_from_directory reads
# What the image uploaders accept. SVG is listed so that it reaches our message (a vector format
# needs rasterising first) instead of Streamlit's refusal of an unlisted extension.
UPLOAD_TYPES = ("png", "jpg", "jpeg", "bmp", "gif", "webp", "tif", "tiff", "svg")


class ImageDecodeError(ValueError):
    """An image could not be decoded, or is too large to decode safely."""


def channels_for(color_mode: ColorMode) -> int:
    """Returns the number of channels of a colour mode: 1 for grayscale, 3 for RGB."""
    if color_mode not in ("grayscale", "rgb"):
        raise ValueError(f"color_mode must be 'grayscale' or 'rgb', got {color_mode!r}.")
    return 1 if color_mode == "grayscale" else 3


def _to_8bit(image: Image.Image) -> Image.Image:
    """Converts 16- and 32-bit integer modes to 8 bits by scaling, not clipping.

    Pillow's own `convert("L")` clips a 16-bit PNG, which turns most of it white.
    """
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        values = np.asarray(image, dtype=np.float64)
        top = 65535.0 if image.mode.startswith("I;16") or values.max(initial=0) > 255 else 255.0
        return Image.fromarray(np.clip(values / top * 255.0 + 0.5, 0, 255).astype(np.uint8), mode="L")
    if image.mode == "F":
        values = np.asarray(image, dtype=np.float64)
        span = float(values.max(initial=0) - values.min(initial=0)) or 1.0
        return Image.fromarray(((values - values.min()) / span * 255.0).astype(np.uint8), mode="L")
    return image


def declared_size(data: bytes, name: str = "image") -> tuple[int, int]:
    """The (width, height) an image's header declares, read without decoding a pixel.

    Budgets are checked against this before any decoding starts: a 154 KB PNG can declare 40 MP.

    Args:
        data: The file's bytes, or a prefix of them long enough to hold the header.
        name: A name for the image, used in error messages.

    Raises:
        ImageDecodeError: If no image header can be read from `data`.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                return image.size
    except Image.DecompressionBombError as error:
        raise ImageDecodeError(f"{name}: refused as a possible decompression bomb ({error}).") from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as error:
        raise ImageDecodeError(f"{name}: not an image file this app can read.") from error


def decode_image(
    data: bytes,
    color_mode: ColorMode,
    size: tuple[int, int] | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    name: str = "image",
) -> np.ndarray:
    """Decodes image bytes into a uint8 array, optionally resized.

    Palette, alpha, CMYK, 16-bit and animated images are accepted (the first frame is used;
    transparency is composited onto black, the background of MNIST-style data).

    Args:
        data: The encoded file content (PNG, JPEG, BMP, GIF, ...).
        color_mode: "grayscale" for (H, W, 1) output or "rgb" for (H, W, 3).
        size: Optional (height, width) to resize to, with Pillow's antialiasing filter.
        max_pixels: Refuse images whose header declares more pixels than this.
        name: A name for the image, used in error messages.

    Returns:
        A uint8 array shaped (H, W, C).

    Raises:
        ImageDecodeError: If the data is not a readable image, or is too large.
    """
    channels = channels_for(color_mode)
    if not data:
        raise ImageDecodeError(f"{name}: the file is empty.")
    head = data[:512].lstrip().lower()
    if head.startswith((b"<?xml", b"<svg", b"<!doctype svg")) and b"<svg" in data[:4096].lower():
        raise ImageDecodeError(f"{name}: an SVG is a vector drawing, not pixels. Export it as a PNG first.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            width, height = image.size
            if width * height > max_pixels:
                raise ImageDecodeError(
                    f"{name}: {width}×{height} pixels is more than the limit of {max_pixels:,} pixels."
                )
            image.seek(0)
            image.load()
    except ImageDecodeError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageDecodeError(f"{name}: refused as a possible decompression bomb ({error}).") from error
    except UnidentifiedImageError as error:
        raise ImageDecodeError(f"{name}: not an image file this app can read (PNG, JPEG, BMP, GIF, WebP or TIFF "
                               "expected). Is it another kind of file renamed?") from error
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise ImageDecodeError(f"{name}: the image is damaged or truncated ({error}).") from error

    image = _to_8bit(image)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
        image = Image.alpha_composite(background, rgba)
    image = image.convert("L" if channels == 1 else "RGB")
    if size is not None:
        height, width = size
        if image.size != (width, height):
            image = image.resize((width, height), Image.Resampling.BILINEAR, reducing_gap=3.0)
    array = np.asarray(image, dtype=np.uint8)
    return array.reshape(array.shape[0], array.shape[1], channels)  # (H, W, C)


def upscale_nearest(image: np.ndarray, factor: int) -> np.ndarray:
    """Enlarges an (H, W) or (H, W, C) image by an integer factor with hard pixel edges.

    Browsers smooth small images when they scale them up, which hides the pixels a lesson
    wants to show, so the app enlarges them itself.

    Args:
        image: The image to enlarge.
        factor: The integer scale factor, at least 1.

    Returns:
        The enlarged image, same dtype, shape (H * factor, W * factor[, C]).
    """
    if factor < 1:
        raise ValueError(f"factor must be at least 1, got {factor}.")
    return np.repeat(np.repeat(image, factor, axis=0), factor, axis=1)


def fit_within(image: np.ndarray, max_side: int) -> np.ndarray:
    """Shrinks a uint8 (H, W, C) image so its longer side is at most `max_side`, keeping its shape.

    Returns the image itself when it already fits.
    """
    if max_side < 1:
        raise ValueError(f"max_side must be at least 1, got {max_side}.")
    height, width, channels = image.shape
    scale = max_side / max(height, width)
    if scale >= 1:
        return image
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    resized = Image.fromarray(image[:, :, 0] if channels == 1 else image).resize(size, Image.Resampling.LANCZOS)
    return np.asarray(resized, dtype=np.uint8).reshape(size[1], size[0], channels)  # (H, W, C)


def to_grey(image: np.ndarray) -> np.ndarray:
    """An (H, W, 3) image as (H, W, 1) luminance with Pillow's weights (0.299 R + 0.587 G + 0.114 B).

    A grey (H, W, 1) image is returned unchanged.
    """
    if image.shape[2] == 1:
        return image
    grey = np.asarray(Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8)).convert("L"), dtype=np.uint8)
    return grey[:, :, None]  # (H, W, 1)


def framed_tile(image: np.ndarray, colour: tuple[int, int, int] | None, side: int = 84, border: int = 3) -> np.ndarray:
    """A gallery tile: an (H, W, C) uint8 image enlarged with hard pixel edges, as RGB, in a coloured frame.

    Args:
        image: The image, grey (C = 1) or RGB (C = 3).
        colour: The frame's RGB colour (e.g. green for right, red for wrong), or None for no frame.
        side: The tile's approximate inner size in pixels; the enlargement is a whole factor.
        border: The frame's width in pixels.

    Returns:
        (H·f + 2·border, W·f + 2·border, 3) uint8.
    """
    factor = max(1, side // max(image.shape[0], image.shape[1]))
    rgb = np.repeat(image, 3, axis=2) if image.shape[2] == 1 else image
    tile = upscale_nearest(np.asarray(rgb, dtype=np.uint8), factor)  # (H·f, W·f, 3)
    if colour is None:
        return tile
    framed = np.empty((tile.shape[0] + 2 * border, tile.shape[1] + 2 * border, 3), dtype=np.uint8)
    framed[:] = colour
    framed[border:-border, border:-border] = tile
    return framed
