"""The Convolution Playground's session state: the editable grids, the shared link, and the way in from other pages.

The kernel and the pixel grid are edited in `st.data_editor`s. An editor keeps only its edits,
and Streamlit drops them when another page is shown, so each edit is folded into the grid kept
in session state and the editor is recreated under a new key (the version number).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import streamlit as st

from core.conv import links
from core.conv.kernels import KERNEL_SIZES, PRESETS, format_weight, parse_kernel, random_kernel, resize_kernel
from core.conv.links import PlaygroundSettings
from core.data.datasets import BUILTIN_DATASETS, DEFAULT_DATASET, needs_download
from core.data.photos import PHOTOS
from ui.canvas import CanvasKeys
from ui.persist import KeptKeys
from ui.workspace import WS_PARAM, address, link_params

PAGE_PATH = "pages/convolution_playground.py"
CUSTOM = "(your own)"  # the preset picker's entry for a kernel that is no preset

SOURCE = "pg_source"
DATASET = "pg_dataset"
CLASS = "pg_class"
NTH = "pg_nth"  # the n-th test image of the chosen class
PENDING_INDEX = "pg_pending_index"  # a link's test-split index, resolved once the dataset is loaded
PHOTO = "pg_photo"
COLOUR = "pg_colour"
GRID = "pg_grid"  # list of rows of ints
GRID_VERSION = "pg_grid_version"
GRID_SIDE = "pg_grid_side"
KERNEL = "pg_kernel"  # list of rows of str, as typed
KERNEL_VERSION = "pg_kernel_version"
KERNEL_SIZE = "pg_kernel_size"
PRESET = "pg_preset"
CAPTION = "pg_preset_caption"  # the explanation under the preset picker; kept while its cells are edited
CELL = "pg_cell"  # prefix of the kernel editor's cell inputs: pg_cell_<row>_<column>
NORMALISE = "pg_normalise"
BIAS = "pg_bias"
STRIDE = "pg_stride"
PADDING = "pg_padding"
RELU = "pg_relu"
POOL = "pg_pool"
POOL_SIZE = "pg_pool_size"
POOL_STRIDE = "pg_pool_stride"
BANK = "pg_bank"
CHAIN_KERNEL = "pg_chain_kernel"
STEP_ROW, STEP_COL = "pg_step_row", "pg_step_col"  # the feature-map value taken apart
POOL_ROW, POOL_COL = "pg_pool_row", "pg_pool_col"  # the pooled value taken apart
FEATURE_FIGURE = "pg_feature_figure"
VIEW = "pg_view"  # which lower panel is shown: only that one is computed
VIEWS = ("Step by step", "Filter bank", "Conv → pool chain", "What is going on")
NOTE = "pg_note"  # a message from the page that sent a kernel here
URL_CHECKED = "pg_url_checked"
URL_PROBLEMS = "pg_url_problems"
UPLOAD = "pg_upload"  # the picture uploader
# The "Draw" source: the learner's own drawing, on the same canvas as Predict's
DRAW_STROKE, DRAW_CLEAR, DRAW_UNDO = "pg_draw_stroke", "pg_draw_clear", "pg_draw_undo"
DRAW_UNDO_COUNT = "pg_draw_undo_count"  # the Undo button's clicks: the canvas takes back one stroke for each
DRAW_CANVAS, DRAW_GENERATION, DRAW_INJECTED = "pg_draw_canvas_", "pg_draw_generation", "pg_draw_injected"
DRAW_KEYS = CanvasKeys(DRAW_CANVAS, DRAW_GENERATION, DRAW_INJECTED, DRAW_UNDO_COUNT, DRAW_CLEAR, DRAW_UNDO)
RANDOM = "pg_random"  # the random-kernel button
STEP_INPUT = "pg_step_input"  # the input the step positions belong to: a new input starts them over
STEP_CHANNEL = "pg_step_channel"
# The charts: a chart's selection lives under its key.
INPUT_FIGURE, POOLED_FIGURE, STEP_FIGURE = "pg_input_figure", "pg_pooled_figure", "pg_step_figure"
POOL_STEP_FIGURE, BANK_FIGURE, CHAIN_FIGURE = "pg_pool_step_figure", "pg_bank_figure", "pg_chain_figure"

_DEFAULT = PlaygroundSettings()
_DEFAULTS: dict[str, object] = {
    SOURCE: "dataset", DATASET: DEFAULT_DATASET, CLASS: 0, NTH: 0, PHOTO: _DEFAULT.photo, COLOUR: "grey",
    GRID: _DEFAULT.grid.tolist(), GRID_VERSION: 0, GRID_SIDE: 5,
    KERNEL: [[format_weight(v) for v in row] for row in _DEFAULT.kernel], KERNEL_VERSION: 0, KERNEL_SIZE: 3,
    PRESET: "sharpen", CAPTION: PRESETS["sharpen"].explanation, NORMALISE: False, BIAS: 0.0, STRIDE: 1,
    PADDING: "valid", RELU: False,
    POOL: "max", POOL_SIZE: 2, POOL_STRIDE: 2, BANK: ["vertical lines", "horizontal lines", "Sobel x", "Sobel y"],
    CHAIN_KERNEL: "outline", VIEW: VIEWS[0],
}
# Widget values that must survive a visit to another page.
KEPT = KeptKeys("ui.playground.state", keys=(
    SOURCE, DATASET, CLASS, NTH, PHOTO, COLOUR, GRID_SIDE, KERNEL_SIZE, PRESET, NORMALISE, BIAS, STRIDE, PADDING, RELU,
    POOL, POOL_SIZE, POOL_STRIDE, BANK, CHAIN_KERNEL, VIEW))


def init_playground_state() -> None:
    """Sets the playground's defaults where they are missing; `ui.navigation.init_state` calls it every run."""
    if DATASET not in st.session_state:
        # MNIST's 28×28 digits show a kernel's effect better than the 8×8 default, when they need no download.
        st.session_state[DATASET] = "mnist" if not needs_download("mnist") else DEFAULT_DATASET
    for key, value in _DEFAULTS.items():
        if key not in st.session_state:
            st.session_state[key] = [list(row) for row in value] if key in (GRID, KERNEL) else value


def editor_key(grid: str) -> str:
    """The current key of a grid's data editor (KERNEL or GRID)."""
    version = KERNEL_VERSION if grid == KERNEL else GRID_VERSION
    return f"{grid}_editor_{st.session_state[version]}"


def grid_frame(grid: str) -> pd.DataFrame:
    """A grid as the editor shows it: columns named 1, 2, 3… so messages can say "column 2"."""
    rows = st.session_state[grid]
    return pd.DataFrame(rows, columns=[str(c + 1) for c in range(len(rows[0]))],
                        index=[str(r + 1) for r in range(len(rows))])


def fold_edits(grid: str) -> None:
    """Callback of a grid editor: writes its edits into the kept grid and starts a fresh editor."""
    edits = st.session_state.get(editor_key(grid), {}).get("edited_rows", {})
    rows = st.session_state[grid]
    for row, cells in edits.items():
        for column, value in cells.items():
            r, c = int(row), int(column) - 1
            if 0 <= r < len(rows) and 0 <= c < len(rows[r]):
                rows[r][c] = value
    if grid == KERNEL and edits:
        st.session_state[PRESET] = CUSTOM
    version = KERNEL_VERSION if grid == KERNEL else GRID_VERSION
    st.session_state[version] += 1


def cell_key(row: int, column: int) -> str:
    """The session key of one kernel cell's input, counted from 0."""
    return f"{CELL}_{row}_{column}"


def fold_cell(row: int, column: int) -> None:
    """Callback of a kernel cell: the typed text goes into the kernel; the preset becomes "your own".

    The cell's input keeps its key (no new editor per edit), so the next keystroke is never lost,
    and the caption under the picker stays, so nothing on the page moves while the user types.
    """
    rows = st.session_state[KERNEL]
    if row < len(rows) and column < len(rows[row]):
        rows[row][column] = str(st.session_state.get(cell_key(row, column), ""))
        st.session_state[PRESET] = CUSTOM


def set_kernel(kernel: np.ndarray, normalise: bool = False) -> None:
    """Puts a (k, k) kernel in the editor, replacing whatever was typed."""
    st.session_state[KERNEL] = [[format_weight(float(v)) for v in row] for row in kernel]
    st.session_state[KERNEL_SIZE] = kernel.shape[0]
    st.session_state[NORMALISE] = normalise
    st.session_state[KERNEL_VERSION] += 1


def apply_preset() -> None:
    """Callback of the preset picker: the preset's whole-number weights, with its normalise setting."""
    if st.session_state[PRESET] not in PRESETS:
        return
    preset = PRESETS[st.session_state[PRESET]]
    set_kernel(np.array(preset.values, dtype=np.float64), preset.normalise)
    st.session_state[CAPTION] = preset.explanation


def apply_kernel_size() -> None:
    """Callback of the size picker: pads or crops the typed kernel, keeping it centred and the cells' text."""
    text = np.array(st.session_state[KERNEL], dtype=object)  # (k, k) cells as typed, bad ones included
    st.session_state[KERNEL] = resize_kernel(text, st.session_state[KERNEL_SIZE], fill="0").tolist()
    st.session_state[KERNEL_VERSION] += 1


def apply_random_kernel() -> None:
    """Callback of the random button: a new random kernel of the current size on each click."""
    seed = int(np.random.default_rng().integers(2**32))  # fresh entropy: each click and session differs
    set_kernel(random_kernel(st.session_state[KERNEL_SIZE], seed))
    st.session_state[PRESET] = CUSTOM
    st.session_state[CAPTION] = "A random kernel: what does it pick out? Edit any cell."


def pick_clicked_cell() -> None:
    """Callback of the feature map: a tapped or clicked cell becomes the one taken apart step by step."""
    from ui.playground.figures import CELL  # the chart's selection name, not a session key

    cells = st.session_state[FEATURE_FIGURE].selection.get(CELL) or []
    if cells:
        row, col = int(cells[0]["row"]), int(cells[0]["col"])
        st.session_state[STEP_ROW], st.session_state[STEP_COL] = row, col
        # the pooling window that starts nearest the clicked cell (the page clamps it to the pooled map)
        stride = st.session_state[POOL_STRIDE]
        st.session_state[POOL_ROW], st.session_state[POOL_COL] = row // stride, col // stride
        st.session_state[VIEW] = VIEWS[0]


def preset_name(kernel: np.ndarray) -> str:
    """The preset whose whole-number weights these are, or CUSTOM."""
    for name, preset in PRESETS.items():
        if kernel.shape == (len(preset.values),) * 2 and np.array_equal(kernel, preset.values):
            return name
    return CUSTOM


def apply_grid_side() -> None:
    """Callback of the grid-size picker: the lessons' vertical line at the new size."""
    st.session_state[GRID] = links.vertical_line_grid(st.session_state[GRID_SIDE]).tolist()
    st.session_state[GRID_VERSION] += 1


def restore_from_link() -> None:
    """Applies a shared link's query parameters, once per session, before any widget is drawn.

    Bad parameters are kept in URL_PROBLEMS (name → message) for the page to report; the good ones still apply.
    """
    if st.session_state.get(URL_CHECKED):
        return
    st.session_state[URL_CHECKED] = True
    params = {name: value for name, value in st.query_params.to_dict().items() if name != WS_PARAM}
    if not params:
        return
    settings, problems = links.decode(params)
    if "dataset" in params and settings.dataset not in BUILTIN_DATASETS:
        problems["dataset"] = f"{settings.dataset[:30]!r} is not one of {', '.join(BUILTIN_DATASETS)}"
        settings = replace(settings, dataset=DEFAULT_DATASET)
    if "photo" in params and settings.photo not in PHOTOS:
        problems["photo"] = f"{settings.photo[:30]!r} is not one of {', '.join(PHOTOS)}"
        settings = replace(settings, photo=_DEFAULT.photo)
    if "kernel" in params and "kernel" not in problems:
        set_kernel(settings.kernel, settings.normalise)
        st.session_state[PRESET] = preset_name(settings.kernel)
        chosen = PRESETS.get(st.session_state[PRESET])
        st.session_state[CAPTION] = chosen.explanation if chosen else None
    st.session_state.update({
        NORMALISE: settings.normalise, BIAS: settings.bias, STRIDE: settings.stride, PADDING: settings.padding,
        RELU: settings.relu, POOL: settings.pool, POOL_SIZE: settings.pool_size, POOL_STRIDE: settings.pool_stride,
        SOURCE: settings.source, DATASET: settings.dataset, PHOTO: settings.photo,
    })
    if "index" in params:
        st.session_state[PENDING_INDEX] = settings.image_index
    if "grid" in params and "grid" not in problems:
        st.session_state[GRID] = settings.grid.tolist()
        st.session_state[GRID_SIDE] = len(settings.grid)
        st.session_state[GRID_VERSION] += 1
    st.session_state[URL_PROBLEMS] = problems


def current_settings(kernel: np.ndarray, image_index: int, grid: np.ndarray | None) -> PlaygroundSettings:
    """The setup on screen, for the shared link."""
    state = st.session_state
    source = state[SOURCE]
    if source == "dataset" and state[DATASET] not in BUILTIN_DATASETS:
        source = "upload"  # an uploaded dataset lives only in this session, so the link leaves it out
    return PlaygroundSettings(
        kernel=kernel, normalise=state[NORMALISE], bias=float(state[BIAS]), stride=state[STRIDE],
        padding=state[PADDING], relu=state[RELU], pool=state[POOL], pool_size=state[POOL_SIZE],
        pool_stride=state[POOL_STRIDE], source=source, dataset=state[DATASET], image_index=image_index,
        photo=state[PHOTO], grid=grid if grid is not None else _DEFAULT.grid,
    )


def write_link(settings: PlaygroundSettings) -> None:
    """Puts the setup in the address bar (beside the workspace key), so a reload keeps it."""
    params = link_params(**links.encode(settings))
    if st.query_params.to_dict() != params:
        st.query_params.from_dict(params)


def share_link(settings: PlaygroundSettings) -> str:
    """The setup as a link for someone else: without the workspace key, which must stay private."""
    return address(links.encode(settings))


def open_in_playground(kernel: np.ndarray, note: str, dataset: str | None = None, stride: int | None = None,
                       padding: str | None = None, bias: float | None = None, relu: bool | None = None) -> None:
    """Opens the playground with a given kernel, e.g. a learned first-layer filter from the Evaluate page.

    Args:
        kernel: (k, k) or (k, k, 1) weights, k in KERNEL_SIZES. For a colour filter (k, k, 3), pass one
            channel's slice; the editor holds a single 2-D kernel.
        note: Shown above the editor, e.g. "Filter 3 of conv2d in run 2024-…".
        dataset: A built-in dataset whose test images to apply it to (others keep the current input).
        stride, padding: The layer's own stride (1–4) and padding, to slide the kernel as the layer did.
        bias, relu: The layer's bias, in the playground's 0–255 pixel units, and whether a ReLU follows: the
            layer's whole computation, not the multiply-and-add alone.

    Raises:
        ValueError: If the kernel's shape or values cannot go in the editor.
    """
    weights = np.asarray(kernel, dtype=np.float64)
    if weights.ndim == 3 and weights.shape[2] == 1:
        weights = weights[:, :, 0]
    if weights.ndim != 2 or weights.shape[0] != weights.shape[1] or weights.shape[0] not in KERNEL_SIZES:
        raise ValueError(f"The playground edits square kernels of side {KERNEL_SIZES}; got shape {weights.shape}.")
    if not np.isfinite(weights).all():
        raise ValueError("The kernel contains NaN or infinity.")
    set_kernel(weights)
    st.session_state[PRESET] = CUSTOM
    st.session_state[CAPTION] = None
    st.session_state[NOTE] = note
    index = 0
    if dataset in BUILTIN_DATASETS:
        st.session_state[SOURCE], st.session_state[DATASET] = "dataset", dataset
        st.session_state[PENDING_INDEX] = index  # the first test image, which the link below names too
    if stride in (1, 2, 3, 4):
        st.session_state[STRIDE] = stride
    if padding in ("valid", "same"):
        st.session_state[PADDING] = padding
    if bias is not None and np.isfinite(bias):
        st.session_state[BIAS] = float(np.clip(round(bias, 4), -1000.0, 1000.0))  # the bias field's range
    if relu is not None:
        st.session_state[RELU] = bool(relu)
    st.session_state[URL_CHECKED] = True  # this session's setup wins over any older link
    # Arrive with the address the page will write: a second address would be a second history entry,
    # and Back would need two presses to return to the page that sent the kernel.
    grid = np.array(st.session_state[GRID], dtype=np.int64) if st.session_state[SOURCE] == "grid" else None
    source_index = index if st.session_state[SOURCE] == "dataset" else 0
    typed = parse_kernel(st.session_state[KERNEL])  # the weights as the editor shows them, as the page links them
    st.switch_page(PAGE_PATH, query_params=link_params(**links.encode(current_settings(typed, source_index, grid))))
