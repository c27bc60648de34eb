"""Letters and symbols typeset in real fonts, as white-on-black drawings, for the digit check.

Handwritten letters drawn by code (`core.predict.sketches`) are one hand's letters. A learner uploads a
typed letter, or writes one the way a font taught them; the check must flag those as well. Every
font on the machine (Debian's DejaVu and Liberation, and Pillow's own) gives its own shapes: serifs,
bold, italic, condensed, monospace.

Left out on purpose: letters and signs that are digits' twins in some hand (O, o, I, l, Z, z, S,
s, B, G, g, q, b, i, j, the upright marks | / ' " ( ) { }, and the circle), since calling them "not a
digit" would teach the check to flag real 0s, 1s, 2s, 5s, 6s, 8s and 9s.

Pillow only: no TensorFlow.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

LETTERS = "ACEFHJKLMNPQRTUVWXYacdefhkmnprtuvwxy"
SYMBOLS = "#$%&@*+=?!<>~^.,:;-_§¶©®€£¥πΣΩλμ"
PICTOGRAMS = "★☆♥♡♦♣♠●■□▲△▼◆◇✓✗✔✘→←↑↓↔⇒∞☺☹☼♪♫✿❤☀☁☂☃⌂✚✦✱⚑✈⚓"
FONT_FOLDERS = (Path("/usr/share/fonts"),)
# Families kept out of training, to measure the check on fonts it has never seen.
HELD_OUT_FAMILIES = ("LiberationSerif", "DejaVuSansMono")
MISSING = "\U0010fffd"  # a private-use code point: no font draws it, so its mask is the font's "missing" box


@cache
def font_files() -> tuple[Path, ...]:
    """Every TrueType or OpenType font in the font folders, sorted (an empty tuple when there are none)."""
    found: list[Path] = []
    for folder in FONT_FOLDERS:
        if folder.is_dir():
            found += [path for path in folder.rglob("*") if path.suffix.lower() in (".ttf", ".otf")]
    return tuple(sorted(found))


def split_fonts() -> tuple[tuple[Path, ...], tuple[Path, ...]]:
    """(fonts to train on, fonts held out) by family name."""
    held = tuple(path for path in font_files() if path.stem.startswith(HELD_OUT_FAMILIES))
    return tuple(path for path in font_files() if path not in held), held


@cache
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size) if path == "" else ImageFont.truetype(path, size)


@cache
def has_glyph(path: str, character: str) -> bool:
    """Whether the font draws `character` itself, rather than its box for a missing one."""
    font = _font(path, 64)
    mask, missing = np.asarray(font.getmask(character)), np.asarray(font.getmask(MISSING))
    return mask.size > 0 and mask.any() and not (mask.shape == missing.shape and np.array_equal(mask, missing))


def typeset(character: str, font_path: str, rng: np.random.Generator, side: int = 280) -> np.ndarray | None:
    """One character in one font, at a random size, boldness, place and tilt: (side, side) uint8, or None.

    Args:
        font_path: A font file, or "" for Pillow's built-in font.

    Returns:
        White ink on black, or None when the font lacks the character.
    """
    if not has_glyph(font_path, character):
        return None
    size = int(rng.integers(110, 230))
    font = _font(font_path, size - size % 10)  # sizes in tens, so the font cache stays small
    image = Image.new("L", (side, side), 0)
    draw = ImageDraw.Draw(image)
    stroke = int(rng.choice([0, 0, 0, 2, 4, 7]))  # sometimes bolder than the font, as a marker writes
    draw.text((side / 2, side / 2), character, fill=255, font=font, anchor="mm", stroke_width=stroke, stroke_fill=255)
    turned = image.rotate(rng.uniform(-12, 12), Image.Resampling.BILINEAR)
    grey = np.asarray(turned, dtype=np.uint8)
    return grey if (grey > 40).sum() >= 40 else None


def random_glyph(rng: np.random.Generator, fonts: tuple[Path, ...], kind: str | None = None) -> tuple[np.ndarray, str]:
    """A random letter, symbol or pictogram from one of `fonts` (or Pillow's font when there are none).

    Returns:
        The drawing and its kind: "letter", "symbol" or "pictogram".
    """
    paths = [str(path) for path in fonts] or [""]
    for _ in range(50):
        chosen = kind or str(rng.choice(["letter", "letter", "symbol", "pictogram"]))
        pool = {"letter": LETTERS, "symbol": SYMBOLS, "pictogram": PICTOGRAMS}[chosen]
        grey = typeset(str(rng.choice(list(pool))), str(rng.choice(paths)), rng)
        if grey is not None:
            return grey, chosen
    grey = typeset("A", "", rng)  # Pillow's built-in font has A: never None
    assert grey is not None
    return grey, "letter"
