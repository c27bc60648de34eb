"""Larger photos shipped with the app, for kernels that need more than a 28×28 digit to show off."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.data.images import ColorMode, decode_image

PHOTO_DIR = Path(__file__).resolve().parents[2] / "assets" / "photos"


@dataclass(frozen=True)
class Photo:
    """A shipped photo.

    Args:
        name: Its key, used in links.
        file: The file name in assets/photos.
        title: The name shown in the picker.
        credit: Where it comes from and its licence.
    """

    name: str
    file: str
    title: str
    credit: str


PHOTOS: dict[str, Photo] = {photo.name: photo for photo in (
    Photo("camera", "camera.png", "Cameraman (grey, 512×512)",
          "scikit-image's `camera`, CC0 by the photographer, Lav Varshney"),
    Photo("chelsea", "chelsea.png", "Chelsea the cat (colour, 451×300)",
          "scikit-image's `chelsea`, CC0 by the photographer, Stefan van der Walt"),
)}


def load_photo(name: str, color_mode: ColorMode) -> np.ndarray:
    """Reads a shipped photo as uint8 (H, W, C).

    Raises:
        KeyError: If there is no photo of that name.
    """
    photo = PHOTOS[name]
    return decode_image((PHOTO_DIR / photo.file).read_bytes(), color_mode, name=photo.title)
