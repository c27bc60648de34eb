"""The Convolution Playground's inputs: the image to convolve, and the kernel editor."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from core.conv.kernels import KERNEL_SIZES, PRESETS, KernelError, normalise_by_sum, parse_kernel
from core.conv.links import GRID_SIDE_RANGE, MAX_GRID_VALUE
from core.data.datasets import DatasetNotFoundError
from core.data.idx import IdxFormatError
from core.data.images import UPLOAD_TYPES, ImageDecodeError, decode_image, fit_within, to_grey
from core.data.photos import PHOTOS, load_photo
from core.predict.preprocessing import prepare_drawing
from ui import canvas, hosting, loaders
from ui.choices import offered
from ui.playground import state as pg
from ui.text import plain

MAX_UPLOAD_SIDE = 1024
SOURCE_LABELS = {"dataset": "Dataset", "photo": "Photo", "grid": "Grid", "upload": "Upload", "draw": "Draw"}


@dataclass(frozen=True)
class InputImage:
    """The image being convolved.

    Args:
        pixels: (H, W, C) values, C = 1 or 3.
        caption: What it is, for the page.
        value_range: The values drawn black and white.
        image_index: Its test-split index, for a dataset image (else 0).
        grid: The hand-edited grid, for the grid source (else None).
    """

    pixels: np.ndarray
    caption: str
    value_range: tuple[float, float] = (0.0, 255.0)
    image_index: int = 0
    grid: np.ndarray | None = None


@st.cache_data(show_spinner=False, max_entries=4)
def _photo(name: str) -> np.ndarray:
    return load_photo(name, "rgb")  # a grey photo has three equal channels, which _colour_choice folds into one


@st.cache_data(show_spinner="Decoding your image…", max_entries=4)
def _decode_upload(data: bytes, name: str, max_pixels: int) -> tuple[np.ndarray, tuple[int, int]]:
    """The upload shrunk to fit `MAX_UPLOAD_SIDE`, and its own (H, W).

    This cache is shared by every session, so it keeps only the shrunk image: a 165 KB PNG of 40 MP
    kept about 120 MB here when it held the full decode.
    """
    image = decode_image(data, "rgb", max_pixels=max_pixels, name=name)
    return fit_within(image, MAX_UPLOAD_SIDE), image.shape[:2]


def _colour_choice(image: np.ndarray) -> np.ndarray:
    """For a colour image, lets the user keep RGB or use grey; returns the image to use.

    A grey image stored as RGB (three equal channels, like many PNGs) is simply grey: no choice to offer.
    """
    if image.shape[2] == 1:
        return image
    if np.array_equal(image[:, :, 0], image[:, :, 1]) and np.array_equal(image[:, :, 0], image[:, :, 2]):
        return image[:, :, :1]
    colour = st.radio("Colour", ["grey", "RGB"], horizontal=True, key=pg.COLOUR,
                      help="RGB: the kernel is applied to R, G and B and the three results are added, "
                           "as one Conv2D filter with the same weights in every channel would.")
    return image if colour == "RGB" else to_grey(image)


def _dataset_image() -> InputImage | None:
    options = loaders.dataset_options()
    if st.session_state[pg.DATASET] not in options:
        st.session_state[pg.DATASET] = options[0]
    key = st.selectbox("Dataset", options, key=pg.DATASET, format_func=loaders.dataset_label)
    try:
        dataset = loaders.get_dataset(key)
    except (DatasetNotFoundError, IdxFormatError, KeyError) as error:
        st.error(plain(loaders.dataset_problem(key, error)), icon=":material/folder_off:")
        return None
    split = "test" if len(dataset.x_test) else "train"
    images, labels = dataset.split(split)
    pending = st.session_state.pop(pg.PENDING_INDEX, None)
    if pending is not None:
        if pending < len(images):
            st.session_state[pg.CLASS] = int(labels[pending])
            st.session_state[pg.NTH] = int(np.count_nonzero(labels[:pending] == labels[pending]))
        else:
            st.warning(f"The link asks for image {pending:,}, but this split has {len(images):,}; showing another.")
    if not offered(st.session_state.get(pg.CLASS), range(dataset.num_classes)):  # fewer classes, or the label
        st.session_state[pg.CLASS] = 0  # of another dataset's class came back as the value
    left, right = st.columns(2)
    label = left.selectbox("Class", range(dataset.num_classes), key=pg.CLASS,
                           format_func=lambda c: f"{c}: {dataset.class_names[c]}")
    positions = np.flatnonzero(labels == label)
    if not len(positions):
        st.warning(f"The {split} split has no images of this class; pick another.")
        return None
    st.session_state[pg.NTH] = min(st.session_state[pg.NTH], len(positions) - 1)
    nth = right.number_input(f"Image (0–{len(positions) - 1:,} of this class)", 0, len(positions) - 1, key=pg.NTH)
    index = int(positions[nth])
    pixels = _colour_choice(images[index])
    return InputImage(pixels, f"{split} image {index:,} of {loaders.dataset_label(key)}, a "
                              f"{dataset.class_names[label]}",
                      image_index=index)


def _photo_image() -> InputImage:
    name = st.selectbox("Photo", list(PHOTOS), key=pg.PHOTO, format_func=lambda n: PHOTOS[n].title)
    pixels = _colour_choice(_photo(name))
    return InputImage(pixels, f"{PHOTOS[name].title}; {PHOTOS[name].credit}")


def _uploaded_image() -> InputImage | None:
    upload = st.file_uploader("An image (PNG, JPEG, BMP, GIF, WebP or TIFF)", type=list(UPLOAD_TYPES),
                              key=pg.UPLOAD, max_upload_size=hosting.upload_limit())
    if upload is None:
        st.info("Upload an image to convolve it. Anything larger than "
                f"{MAX_UPLOAD_SIDE} pixels on a side is shrunk to fit, so the page stays quick.")
        return None
    data = upload.getvalue()
    if too_big := hosting.upload_too_big(data):
        st.error(too_big, icon=":material/broken_image:")
        return None
    try:
        fitted, (height, width) = _decode_upload(data, upload.name, hosting.limits().image_pixels)
    except ImageDecodeError as error:
        st.error(plain(error), icon=":material/broken_image:")  # it names the file: the user's text
        return None
    caption = f"your upload {upload.name}, {width}×{height}"
    if fitted.shape[:2] != (height, width):
        caption += f", shrunk to {fitted.shape[1]}×{fitted.shape[0]} to keep the page quick"
    return InputImage(_colour_choice(fitted), caption)


def _grid_image() -> InputImage | None:
    low, high = GRID_SIDE_RANGE
    st.selectbox("Grid size", range(low, high + 1), key=pg.GRID_SIDE, on_change=pg.apply_grid_side,
                 format_func=lambda n: f"{n}×{n}", help="Changing the size starts again from a vertical line.")
    frame = pg.grid_frame(pg.GRID)
    st.data_editor(frame, key=pg.editor_key(pg.GRID), on_change=pg.fold_edits, args=(pg.GRID,), num_rows="fixed",
                   # 34 px holds "255": the default width hid every column after the third of a 5×5 grid.
                   column_config={column: st.column_config.NumberColumn(min_value=0, max_value=MAX_GRID_VALUE, step=1,
                                                                        width=34)
                                  for column in frame.columns})
    cells = np.array(st.session_state[pg.GRID], dtype=object)
    bad = [(r + 1, c + 1) for r, c in np.ndindex(cells.shape) if not _is_pixel(cells[r, c])]
    if bad:
        where = ", ".join(f"row {r} column {c}" for r, c in bad[:5])
        st.error(f"Pixel values must be whole numbers from 0 to {MAX_GRID_VALUE}: fix {where}.",
                 icon=":material/error:")
        return None
    grid = cells.astype(np.int64)
    high_value = max(1, int(grid.max()))
    return InputImage(grid[:, :, None].astype(np.float64), f"a {len(grid)}×{len(grid)} grid you can edit",
                      value_range=(0.0, float(high_value)), grid=grid)


def _drawn_image() -> InputImage | None:
    """The learner's own drawing, prepared as MNIST's digits were (28×28, centred): what a digit network sees."""
    controls = st.container(horizontal=True, vertical_alignment="bottom", gap="small")
    width = controls.slider("Stroke width", 6, 40, 18, key=pg.DRAW_STROKE, width=160)
    canvas.buttons(pg.DRAW_KEYS, controls)
    rgba = canvas.drawing(width, pg.DRAW_KEYS)
    prepared = prepare_drawing(rgba) if rgba is not None else None
    if prepared is None:
        st.info("Draw on the canvas: a digit, a letter, a line. When you lift the pen it is prepared as MNIST's "
                "digits were (28×28, centred) and convolved.", icon=":material/draw:")
        return None
    return InputImage(prepared.image, "your drawing, prepared as MNIST's digits were (28×28, centred)")


def _is_pixel(value: object) -> bool:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return np.isfinite(number) and number == int(number) and 0 <= number <= MAX_GRID_VALUE


def choose_input() -> InputImage | None:
    """Shows the input picker; returns the image, or None after explaining what is missing."""
    # Five choices overflow the column at 1280 px (the first was scrolled out of sight): they wrap instead.
    source = st.segmented_control("Input image", list(SOURCE_LABELS), key=pg.SOURCE, wrap=True,
                                  format_func=SOURCE_LABELS.get) or "dataset"
    reader = {"dataset": _dataset_image, "photo": _photo_image, "grid": _grid_image, "upload": _uploaded_image,
              "draw": _drawn_image}
    return reader[source]()


PRESET_CAPTIONS = frozenset(preset.explanation for preset in PRESETS.values())


def kernel_cells() -> None:
    """The kernel as a k×k grid of text inputs: a click and typing enters a number; 7×7 fits a column.

    Widgets that Streamlit lays out itself rather than `st.data_editor`: its canvas grid scrolled a
    5×5 or 7×7 kernel sideways (hiding the centre weight), and swallowed the first keystroke of an edit.
    """
    rows = st.session_state[pg.KERNEL]
    # Narrow cells need their padding for digits: "-0.25" fits a 7×7 kernel's cell with this.
    st.html('<style>[class*="st-key-pg_cell_"] input {padding-left: 2px; padding-right: 2px; text-align: center;}'
            "</style>")
    for r, row in enumerate(rows):
        # A horizontal container, not st.columns: columns stack on a phone (under 640 px), which turned a 3×3
        # kernel into one column of 9 boxes; a row that does not wrap keeps the grid's shape at any width.
        line = st.container(horizontal=True, gap="small", wrap=False)
        for c, text in enumerate(row):
            key = pg.cell_key(r, c)
            # The kernel is the truth, sent with every run, not only when a preset or link just changed it: a run cut
            # short before the cells were drawn (the canvas mounting on a fresh server did it) made the browser drop
            # their values, show them empty, and send "" back, which emptied every cell of the kernel.
            st.session_state[key] = text
            line.text_input(f"Kernel row {r + 1}, column {c + 1}", key=key, label_visibility="collapsed",
                            on_change=pg.fold_cell, args=(r, c))


def kernel_editor() -> tuple[np.ndarray | None, np.ndarray | None]:
    """Shows the kernel editor.

    Returns:
        The kernel as typed and the kernel used (normalised if asked), or (None, None) when a cell is bad.
    """
    if st.session_state.get(pg.NOTE):
        st.info(st.session_state[pg.NOTE], icon=":material/input:")
    top = st.columns([3, 2])
    top[0].selectbox("Preset", [pg.CUSTOM, *PRESETS], key=pg.PRESET, on_change=pg.apply_preset)
    top[1].selectbox("Size", KERNEL_SIZES, key=pg.KERNEL_SIZE, on_change=pg.apply_kernel_size,
                     format_func=lambda k: f"{k}×{k}")
    # The caption of the preset the kernel came from stays while its cells are edited: a caption
    # that vanished on the first edit moved the grid up under the mouse.
    caption = st.session_state.get(pg.CAPTION)
    if caption and st.session_state.get(pg.PRESET) == pg.CUSTOM and caption in PRESET_CAPTIONS:
        # Edited away from its preset: the caption no longer claims the kernel, and is struck through rather than
        # reworded, so it keeps its lines and the grid does not move under the mouse between two keystrokes.
        caption = f"~~{caption}~~"
    st.caption(caption or "Your own kernel: type a number into any cell.")
    kernel_cells()
    st.button("Random kernel", on_click=pg.apply_random_kernel, icon=":material/casino:", key=pg.RANDOM)
    st.toggle("Divide by the weights' sum", key=pg.NORMALISE,  # a longer label was cut at 1280 px
              help="Blurs divide by the sum of their weights so the image keeps its brightness.")
    st.number_input("Bias (added to every output)", -1000.0, 1000.0, step=1.0, key=pg.BIAS)
    try:
        typed = parse_kernel(st.session_state[pg.KERNEL])
    except KernelError as error:
        st.error(f"{plain(error)} Numbers such as 2, -0.5, 1e-3 or 1/16 work.", icon=":material/error:")
        return None, None
    if not st.session_state[pg.NORMALISE]:
        return typed, typed
    try:
        used = normalise_by_sum(typed)
    except ValueError as error:
        st.info(f"{plain(error)} The kernel is used as typed.", icon=":material/info:")
        return typed, typed
    st.caption(f"The weights sum to {typed.sum():.4g}, so each is divided by {typed.sum():.4g}.")
    return typed, used
