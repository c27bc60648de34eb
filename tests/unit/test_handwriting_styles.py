"""The styles of real handwriting (`core.predict.styles`) and the typeset glyphs (`core.predict.glyphs`) that the
digit check trains and is judged on: each does what its name says, and every result reaches the model's path."""

from __future__ import annotations

import numpy as np
import pytest

from core.predict import glyphs, sketches, styles
from core.predict.preprocessing import ink_box, prepare_grey


@pytest.fixture(scope="module")
def four() -> np.ndarray:
    return sketches.render([[(170, 230), (170, 50), (80, 170), (210, 170)]], 14)


def ink_share(grey: np.ndarray) -> float:
    """The share of the ink's bounding box that is ink: a thicker pen fills more of it."""
    top, left, bottom, right = ink_box(grey)
    return float(np.mean(grey[top:bottom, left:right] > 127))


@pytest.mark.parametrize("style", styles.STYLES)
def test_every_style_gives_a_grey_drawing_the_model_path_takes(four, style):
    rng = np.random.default_rng(0)
    for _ in range(5):
        grey = styles.restyle(four, style, rng)
        assert grey.ndim == 2 and grey.dtype == np.uint8 and max(grey.shape) <= 400
        assert prepare_grey(grey) is not None


def test_a_thick_pen_fills_more_of_the_drawing_and_a_thin_one_less(four):
    rng = np.random.default_rng(1)
    plain = ink_share(four)
    assert min(ink_share(styles.thick(four, rng)) for _ in range(5)) > plain * 1.3
    assert max(ink_share(styles.thin(four, rng)) for _ in range(5)) < plain


def test_a_binarised_scan_is_black_and_white_in_blocks(four):
    scans = [styles.scanned(four, np.random.default_rng(seed), 16, binary=True) for seed in range(8)]
    blocky = [scan for scan in scans if set(np.unique(scan)) == {0, 255}]  # enlarged by nearest neighbour
    assert len(blocky) >= 3
    assert all(min(scan.shape) >= 128 for scan in scans)  # enlarged to about canvas size
    small = styles.scanned(four, np.random.default_rng(5), 8)
    assert max(small.shape) <= 280


def test_an_unknown_style_is_refused(four):
    with pytest.raises(ValueError, match="Unknown handwriting style 'smudged'"):
        styles.restyle(four, "smudged", np.random.default_rng(0))


def test_a_photo_is_dark_ink_on_light_paper(four):
    photo = styles.photographed(four, np.random.default_rng(3))
    assert photo.shape == (640, 640, 3) and photo.dtype == np.uint8
    grey = photo.mean(axis=2)
    assert np.median(grey) > 180 and grey.min() < 100  # mostly paper, some ink


def test_sklearn_digits_are_enlarged_to_canvas_size():
    from sklearn.datasets import load_digits

    grey = styles.sklearn_digit(load_digits().images[0], np.random.default_rng(0))
    assert 64 <= max(grey.shape) <= 280 and prepare_grey(grey) is not None


def test_a_missing_glyph_is_known_and_never_drawn():
    assert not glyphs.has_glyph("", glyphs.MISSING)
    assert glyphs.typeset(glyphs.MISSING, "", np.random.default_rng(0)) is None


def test_glyphs_come_from_the_given_fonts_or_pillows_own():
    rng = np.random.default_rng(4)
    grey, kind = glyphs.random_glyph(rng, (), "letter")  # no fonts: Pillow's built-in one
    assert kind == "letter" and grey.shape == (280, 280) and (grey > 40).sum() >= 40
    training, held = glyphs.split_fonts()
    assert not set(training) & set(held)
    assert all(path.stem.startswith(glyphs.HELD_OUT_FAMILIES) for path in held)


def test_no_glyph_is_a_digits_twin():
    twins = set("OoIlZzSsBGgqbij|/'\"(){}0123456789")
    assert not twins & set(glyphs.LETTERS + glyphs.SYMBOLS + glyphs.PICTOGRAMS)
