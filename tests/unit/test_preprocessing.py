"""MNIST-style preprocessing of drawings and uploads (core.predict.preprocessing), on synthetic strokes."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw
from scipy import ndimage

from core.predict.preprocessing import (
    canvas_grey,
    naive_resize,
    prepare_drawing,
    prepare_grey,
    prepare_upload,
)


def canvas(strokes: list[list[tuple[int, int]]], width: int = 18, side: int = 280,
           ink: tuple[int, int, int, int] = (255, 255, 255, 255)) -> np.ndarray:
    """A (side, side, 4) RGBA canvas, black, with white polyline strokes of the given width."""
    image = Image.new("RGBA", (side, side), (0, 0, 0, 255))
    draw = ImageDraw.Draw(image)
    for stroke in strokes:
        draw.line(stroke, fill=ink, width=width, joint="curve")
    return np.asarray(image)  # (H, W, 4)


SEVEN = [[(60, 60), (200, 60), (110, 230)]]
CASES = {
    "centred seven": canvas(SEVEN),
    "off-centre, top-left": canvas([[(10, 15), (70, 15), (35, 100)]], width=8),
    "tiny in a corner": canvas([[(250, 250), (262, 250), (254, 268)]], width=3),
    "huge, edge to edge": canvas([[(0, 0), (279, 0), (140, 279)]], width=30),
    "thick one": canvas([[(140, 30), (140, 250)]], width=60),
    "thin one": canvas([[(140, 30), (140, 250)]], width=2),
    "touching the border": canvas([[(0, 100), (0, 279), (120, 279)]], width=12),
    "a zero": canvas([[(140, 40), (200, 90), (200, 190), (140, 240), (80, 190), (80, 90), (140, 40)]]),
}


def image_of(rgba: np.ndarray) -> np.ndarray:
    """The (28, 28) model input prepared from a drawing."""
    return prepare_drawing(rgba).image[:, :, 0]


def ink_bounds(image: np.ndarray) -> tuple[int, int]:
    rows, columns = np.flatnonzero(image.any(axis=1)), np.flatnonzero(image.any(axis=0))
    return rows[-1] - rows[0] + 1, columns[-1] - columns[0] + 1


@pytest.mark.parametrize("name", CASES)
def test_ink_fits_20_by_20_and_its_centre_of_mass_is_at_the_centre(name):
    x = image_of(CASES[name])
    assert x is not None and x.shape == (28, 28) and x.dtype == np.float32
    assert x.min() >= 0 and x.max() <= 255 and x.max() > 200  # the dataset's scale, with full-strength ink
    height, width = ink_bounds(x > 0)
    assert max(height, width) == 20 and min(height, width) >= 1  # the longer side fills the box
    row, column = ndimage.center_of_mass(x)
    assert abs(row - 14) <= 1 and abs(column - 14) <= 1


def test_aspect_ratio_is_kept():
    x = image_of(CASES["thin one"])  # 2 px wide, 220 tall: scaled to about 1 × 20
    height, width = ink_bounds(x > 0)
    assert height == 20 and width <= 2


def test_the_same_digit_anywhere_and_at_any_size_gives_nearly_the_same_image():
    big = canvas([[(40, 40), (240, 40), (120, 250)]], width=24)
    small = canvas([[(200, 190), (260, 190), (224, 253)]], width=7)
    a, b = image_of(big), image_of(small)
    assert np.abs(a - b).mean() < 25  # out of 255: the naive resize below differs far more
    naive_a, naive_b = naive_resize(canvas_grey(big)), naive_resize(canvas_grey(small))
    assert np.abs(naive_a - naive_b).mean() > 2 * np.abs(a - b).mean()


@pytest.mark.parametrize("strokes, width", [([], 10), ([[(100, 100), (101, 100)]], 2), ([[(5, 5), (7, 7)]], 3)])
def test_empty_and_near_empty_canvases_give_none(strokes, width):
    assert prepare_drawing(canvas(strokes, width=width)) is None


def test_transparent_canvas_counts_as_black():
    rgba = CASES["a zero"].copy()
    rgba[:, :, 3] = np.where(rgba[:, :, 0] > 0, 255, 0)  # a transparent background, white ink
    rgba[rgba[:, :, 3] == 0, :3] = 255  # whatever colour transparent pixels carry must not count
    np.testing.assert_array_equal(image_of(rgba), image_of(CASES["a zero"]))


def test_the_prepared_drawing_carries_its_stages_and_the_naive_resize_for_any_side():
    for side in (28, 8):
        prepared = prepare_drawing(CASES["a zero"], side=side)
        assert prepared.image.shape == prepared.naive.shape == (side, side, 1)
        np.testing.assert_array_equal(prepared.image[:, :, 0], prepared.stages.centred)
        np.testing.assert_array_equal(prepared.naive[:, :, 0], naive_resize(canvas_grey(CASES["a zero"]), side))
    assert max(prepare_drawing(CASES["a zero"], side=8).stages.fitted.shape) == 8  # the digits fill their field


def test_stages_are_consistent():
    stages = prepare_grey(canvas_grey(CASES["off-centre, top-left"]))
    top, left, bottom, right = stages.box
    assert stages.cropped.shape == (bottom - top, right - left)
    assert max(stages.fitted.shape) == 20
    np.testing.assert_array_equal(np.roll(stages.pasted, stages.shift, axis=(0, 1)), stages.centred)


def test_a_bad_canvas_shape_is_a_clear_error():
    with pytest.raises(ValueError, match="RGBA"):
        prepare_drawing(np.zeros((28, 28), dtype=np.uint8))


def test_dark_ink_on_paper_is_inverted_and_read_like_a_drawing():
    drawing = canvas_grey(CASES["centred seven"])  # (H, W) light on dark
    paper = (235 - drawing.astype(np.float32) * 0.8).clip(0, 255).astype(np.uint8)  # grey ink on off-white
    prepared = prepare_upload(np.repeat(paper[:, :, None], 3, axis=2), (28, 28, 1), digit_style=True)
    assert prepared.inverted and prepared.image.shape == (28, 28, 1)
    assert "inverted" in prepared.note
    assert np.abs(prepared.image[:, :, 0] - image_of(CASES["centred seven"])).mean() < 10
    same_way = prepare_upload(drawing[:, :, None], (28, 28, 1), digit_style=True)
    assert not same_way.inverted


def test_a_blank_upload_for_a_digit_model_gives_none():
    assert prepare_upload(np.full((50, 40, 3), 240, np.uint8), (28, 28, 1), digit_style=True) is None


def test_digits_sized_models_get_the_whole_8_by_8_field():
    prepared = prepare_upload(canvas_grey(CASES["a zero"])[:, :, None], (8, 8, 1), digit_style=True)
    assert prepared.image.shape == (8, 8, 1)
    assert max(ink_bounds(prepared.image[:, :, 0] > 0)) == 8


def test_photo_models_get_a_plain_resize_in_their_colours():
    photo = np.random.default_rng(0).integers(0, 256, (50, 70, 3), dtype=np.uint8)
    prepared = prepare_upload(photo, (32, 32, 3), digit_style=False)
    assert prepared.image.shape == (32, 32, 3) and prepared.stages is None and not prepared.inverted
    assert "70×50" in prepared.note
    grey = prepare_upload(photo, (28, 28, 1), digit_style=False)
    assert grey.image.shape == (28, 28, 1) and "grey" in grey.note


def _likeness(upload, drawing) -> float:
    from core.predict.preprocessing import prepare_upload

    prepared = prepare_upload(upload, (28, 28, 1), digit_style=True).image[:, :, 0]
    return float(np.corrcoef(prepared.ravel(), prepare_grey(drawing).centred.ravel())[0, 1])


def test_a_photo_of_a_digit_under_uneven_light_is_prepared_like_the_drawing_itself():
    """Paper lit unevenly used to count as ink: the crop took the digit and a patch of paper, and a third of these
    photos came out unlike the digit (likeness under 0.7). The paper's level is now measured place by place."""
    from core.predict import sketches, styles

    rng = np.random.default_rng(11)
    likeness = []
    for _ in range(30):
        drawing = sketches.drawn_digit(int(rng.integers(10)), rng)
        likeness.append(_likeness(styles.photographed(drawing, rng), drawing))
    assert np.mean(np.array(likeness) < 0.7) <= 0.04, np.round(sorted(likeness)[:5], 2)


@pytest.mark.parametrize("width", [30, 60])
def test_a_bold_digit_keeps_its_strokes_when_uploaded(width):
    """The paper's level is measured over windows wider than a stroke: a marker's bold strokes are not taken for it."""
    from core.predict import sketches

    drawing = sketches.render([[(175, 240), (175, 40), (70, 175), (225, 175)]], width)
    assert _likeness(np.dstack([drawing] * 3), drawing) > 0.97
    assert _likeness(np.dstack([255 - drawing] * 3), drawing) > 0.97  # dark ink on white, inverted
