"""Convolution Playground: edit a kernel, slide it over an image, and see every multiply-and-add."""

import numpy as np
import streamlit as st

from core.conv.convolution import activate, conv_step, convolve2d, pool2d
from core.conv.links import SHAREABLE_SOURCES
from ui import palette
from ui.navigation import require_router
from ui.playground import figures as conv_figures
from ui.playground import state as pg
from ui.playground import views as playground_views
from ui.playground.inputs import choose_input, kernel_editor
from ui.text import plain

require_router()
pg.restore_from_link()  # a shared link's setup, applied before any widget exists

STEP_ROW, STEP_COL = pg.STEP_ROW, pg.STEP_COL
POOL_ROW, POOL_COL = pg.POOL_ROW, pg.POOL_COL
MAP_PIXELS = 300  # screen pixels across the input; the other maps use the same scale, so shrinking shows

st.title("Convolution Playground")
st.caption("Type a kernel, slide it over an image, and check every multiply-and-add against a Keras Conv2D "
           "and pooling layer. **Share this setup**, at the bottom, gives a link to exactly this setup.")
for name, problem in (st.session_state.pop(pg.URL_PROBLEMS, None) or {}).items():
    # The link's text, shown as text: never a link or an image (a name in code style only when it is a plain word).
    shown = f"`{name}`" if name.isascii() and name.replace("_", "").isalnum() and len(name) <= 20 else plain(name)
    st.warning(f"Part of the shared link could not be used and was left at its default: {shown}: "
               f"{plain(problem.rstrip('.'))}.",
               icon=":material/link_off:")

# A 7×7 kernel gets a wider column, so each of its 49 cells shows a whole number.
wide_kernel = st.session_state.get(pg.KERNEL_SIZE, 3) >= 7
input_column, kernel_column, layer_column = st.columns([1.1, 1.5, 0.9] if wide_kernel else [1.25, 1.1, 1],
                                                       gap="medium")
with input_column:
    source = choose_input()
with kernel_column:
    typed_kernel, kernel = kernel_editor()
with layer_column:
    layer = playground_views.layer_controls()
    formula_box = st.container()

if source is None or kernel is None:
    st.stop()
image = source.pixels  # (H, W, C)
height, width, channels = image.shape
try:
    formulas = playground_views.shape_formulas(height, width, kernel.shape[0], layer)
except ValueError as error:
    st.error(f"These settings leave no output: {error}", icon=":material/error:")
    st.stop()
with formula_box:
    st.markdown("**Output size** = (n + 2p − k) / s + 1, rounded down")
    for line in formulas:
        st.markdown(f"- {line}")

feature_raw = convolve2d(image, kernel, layer.stride, layer.padding, layer.bias)  # (OH, OW)
feature = activate(feature_raw, layer.activation)
pooled = pool2d(feature, layer.pool_size, layer.pool_stride, layer.pool) if layer.pool != "none" else None

# The step-by-step positions live in session state, so the maps above can outline them before the
# sliders further down are drawn.
# For a new input, start where the kernel responds most strongly rather than at a blank corner;
# a kernel edit keeps the position, so the same sum can be watched changing.
input_signature = (source.caption, image.shape)
if st.session_state.get(pg.STEP_INPUT) != input_signature:
    st.session_state[pg.STEP_INPUT] = input_signature
    for key in (STEP_ROW, STEP_COL, POOL_ROW, POOL_COL):
        st.session_state.pop(key, None)
strongest = np.unravel_index(np.argmax(np.abs(feature_raw)), feature.shape)
row = playground_views.clamp_position(STEP_ROW, feature.shape[0], int(strongest[0]))
col = playground_views.clamp_position(STEP_COL, feature.shape[1], int(strongest[1]))
step = conv_step(image, kernel, layer.stride, layer.padding, row, col, layer.bias)
input_boxes = [conv_figures.Box(step.window.rows, step.window.cols)]
feature_boxes = [conv_figures.Box((row, row + 1), (col, col + 1))]
pooled_boxes = []
if pooled is not None:
    pool_row = playground_views.clamp_position(POOL_ROW, pooled.shape[0], row // layer.pool_stride)
    pool_col = playground_views.clamp_position(POOL_COL, pooled.shape[1], col // layer.pool_stride)
    top, left = pool_row * layer.pool_stride, pool_col * layer.pool_stride
    feature_boxes.append(conv_figures.Box((top, top + layer.pool_size), (left, left + layer.pool_size),
                                          palette.POOL_WINDOW))
    pooled_boxes.append(conv_figures.Box((pool_row, pool_row + 1), (pool_col, pool_col + 1), palette.POOL_WINDOW))

pixel_size = MAP_PIXELS / max(height, width)
views = st.columns(3)
shown_input = image if channels == 3 else image[:, :, 0]
views[0].plotly_chart(conv_figures.map_figure(
    shown_input, f"Input {height}×{width}×{channels}", pixel_size, signed=False, value_range=source.value_range,
    boxes=input_boxes), width="content", key=pg.INPUT_FIGURE)
feature_title = f"Feature map {feature.shape[0]}×{feature.shape[1]}" + (" after ReLU" if layer.relu else "")
if feature.size <= conv_figures.MAX_CLICKABLE_CELLS:  # a tap or a click takes a cell apart
    views[1].altair_chart(conv_figures.tappable_map(feature, feature_title, pixel_size, boxes=feature_boxes),
                          width="content", key=pg.FEATURE_FIGURE, on_select=pg.pick_clicked_cell,
                          selection_mode=conv_figures.CELL)
else:
    views[1].plotly_chart(conv_figures.map_figure(feature, feature_title, pixel_size, signed=True,
                                                  boxes=feature_boxes), width="content", key=pg.FEATURE_FIGURE)
if pooled is not None:
    views[2].plotly_chart(conv_figures.map_figure(
        pooled, f"{layer.pool.title()}-pooled {pooled.shape[0]}×{pooled.shape[1]}", pixel_size, signed=True,
        boxes=pooled_boxes), width="content", key=pg.POOLED_FIGURE)
else:
    views[2].info("Pooling is off. Choose max or average to shrink the feature map.", icon=":material/info:")
st.caption(f"Input: {plain(source.caption)}. Feature maps use blue for negative values, white for 0 and red for "
           "positive, so what a kernel subtracts stays visible (on large maps the colours saturate at the 99.5th "
           "percentile; hover for exact values). The orange box is the window in the step-by-step view; green is "
           "the pooling window.")

# A segmented control rather than tabs: tabs would compute every panel on every rerun.
view = st.segmented_control("Show", pg.VIEWS, key=pg.VIEW, label_visibility="collapsed") or pg.VIEWS[0]
if view == pg.VIEWS[0]:
    click = " or click it on the feature map" if feature.size <= conv_figures.MAX_CLICKABLE_CELLS else ""
    st.markdown(f"**Convolution:** pick an output value with the sliders{click}, and see the sum that makes it.")
    pickers = st.columns(2)
    playground_views.position_picker("Feature-map row", feature.shape[0], STEP_ROW, pickers[0])
    playground_views.position_picker("Feature-map column", feature.shape[1], STEP_COL, pickers[1])
    playground_views.conv_step_view(step, layer)
    if pooled is not None:
        st.divider()
        st.markdown(f"**{layer.pool.title()} pooling:** pick a pooled value and see where it comes from.")
        pickers = st.columns(2)
        playground_views.position_picker("Pooled row", pooled.shape[0], POOL_ROW, pickers[0])
        playground_views.position_picker("Pooled column", pooled.shape[1], POOL_COL, pickers[1])
        playground_views.pool_step_view(feature, layer, pool_row, pool_col)
elif view == pg.VIEWS[1]:
    playground_views.filter_bank_view(image, kernel, layer)
elif view == pg.VIEWS[2]:
    playground_views.chain_view(image, kernel, layer)
else:
    st.markdown(playground_views.explanations(
        image.shape, kernel.shape[0], layer, feature.shape, None if pooled is None else pooled.shape))

setup = pg.current_settings(typed_kernel, source.image_index, source.grid)
pg.write_link(setup)
with st.expander("Share this setup", icon=":material/share:"):
    st.code(pg.share_link(setup), language=None, wrap_lines=True)
    st.caption("This link opens exactly this setup. It leaves out your private workspace key, which your address "
               "bar holds, so copy this one rather than the address.")
    if setup.source not in SHAREABLE_SOURCES:
        st.caption("Your drawing or upload stays in your session: the link opens this kernel and layer on the "
                   "page's first image instead.")
