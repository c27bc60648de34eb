"""The Convolution Playground under AppTest: presets, edits, padding, bad cells, links and the way in."""

from __future__ import annotations

import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core.conv.kernels import PRESETS
from tests.app.harness import open_app, rendered, rerun
from ui.playground import state as pg

PLAYGROUND = "pages/convolution_playground.py"


def open_playground(query: dict[str, str] | None = None) -> AppTest:
    return open_app(PLAYGROUND, query=query)


def formulas(app: AppTest) -> list[str]:
    return [m.value for m in app.markdown if m.value.startswith("- ")]


def step_sum(app: AppTest) -> str:
    return next(m.value for m in app.markdown if " = **" in m.value and "×" in m.value)


def test_grid_source_shows_the_lessons_vertical_line_worked_example():
    app = open_playground({"source": "grid"})
    assert formulas(app) == ["- Feature-map height and width: (5 + 2×0 − 3) / 1 + 1 = 2 + 1 = 3",
                             "- Pooled height and width: ⌊(3 + 2×0 − 2) / 2⌋ + 1 = ⌊0.5⌋ + 1 = 1"]
    # the step view starts at the strongest response: on the line, 5·1 − 1 − 1 = 3
    assert step_sum(app).endswith("= **3**")
    assert app.session_state[pg.STEP_COL] == 1


def test_preset_cell_edit_and_padding_change_the_shapes_shown(data_dir):
    app = open_playground({"source": "dataset", "dataset": "mnist", "index": "0"})
    assert formulas(app)[0] == "- Feature-map height and width: (28 + 2×0 − 3) / 1 + 1 = 25 + 1 = 26"
    assert formulas(app)[1] == "- Pooled height and width: (26 + 2×0 − 2) / 2 + 1 = 12 + 1 = 13"

    app.selectbox(key=pg.PRESET).set_value("Gaussian blur 5×5")
    rerun(app)
    assert app.session_state[pg.KERNEL_SIZE] == 5 and app.session_state[pg.NORMALISE] is True
    assert formulas(app)[0] == "- Feature-map height and width: (28 + 2×0 − 5) / 1 + 1 = 23 + 1 = 24"
    assert any("sum to 256" in c.value for c in app.caption)

    # A typed cell, as the grid's editor writes it into the kept kernel.
    cells = app.session_state[pg.KERNEL]
    cells[2][2] = "0"
    app.session_state[pg.KERNEL] = cells
    rerun(app)
    assert any("sum to 220" in c.value for c in app.caption)

    app.segmented_control(key=pg.PADDING).set_value("same")
    rerun(app)
    assert formulas(app)[0] == "- Feature-map height and width: (28 + 2×2 − 5) / 1 + 1 = 27 + 1 = 28"
    assert formulas(app)[1] == "- Pooled height and width: (28 + 2×0 − 2) / 2 + 1 = 13 + 1 = 14"

    app.slider(key=pg.STRIDE).set_value(3)
    rerun(app)
    assert formulas(app)[0] == "- Feature-map height and width: (28 + 2×2 − 5) / 3 + 1 = 9 + 1 = 10"
    assert app.query_params["stride"] == "3" and app.query_params["padding"] == "same"


def test_bad_cells_show_a_message_and_no_maps():
    app = open_playground({"source": "grid"})
    cells = app.session_state[pg.KERNEL]
    cells[1][1], cells[0][2] = "five", "1e999"
    app.session_state[pg.KERNEL] = cells
    rerun(app)
    message = rendered(app.error[0].value)  # shown as text: its Markdown marks escaped
    assert "row 2, column 2: 'five' is not a number" in message and "row 1, column 3: is infinite" in message
    assert not app.get("plotly_chart")
    cells[1][1], cells[0][2] = "5", "0"
    app.session_state[pg.KERNEL] = cells
    rerun(app)
    assert not app.error and app.get("plotly_chart")


def test_settings_that_leave_no_output_say_so():
    app = open_playground({"source": "grid", "kernel": "0,0,0,0,0,0,0;" * 6 + "0,0,0,1,0,0,0"})
    assert app.session_state[pg.KERNEL_SIZE] == 7
    assert "does not fit in 5 pixels" in app.error[0].value
    app.segmented_control(key=pg.PADDING).set_value("same")
    rerun(app)
    assert not app.error


def test_a_shared_link_restores_the_setup_and_reports_bad_parts():
    app = open_playground({"kernel": "1,2,1;2,4,2;1,2,1", "normalise": "1", "stride": "2", "padding": "same",
                           "relu": "1", "pool": "average", "pool_size": "3", "pool_stride": "1",
                           "source": "photo", "photo": "camera", "bias": "oops"})
    state = app.session_state
    assert state[pg.PRESET] == "Gaussian blur 3×3" and state[pg.NORMALISE] is True
    assert (state[pg.STRIDE], state[pg.PADDING], state[pg.RELU]) == (2, "same", True)
    assert (state[pg.POOL], state[pg.POOL_SIZE], state[pg.POOL_STRIDE]) == ("average", 3, 1)
    assert state[pg.SOURCE] == "photo" and state[pg.BIAS] == 0.0
    assert formulas(app)[0] == "- Feature-map height and width: (512 + 0 + 1 − 3) / 2 + 1 = 255 + 1 = 256"
    assert len(app.warning) == 1 and "`bias`" in app.warning[0].value
    # the link is written back, so the address bar always holds the current setup
    assert app.query_params["kernel"] == "1,2,1;2,4,2;1,2,1" and app.query_params["photo"] == "camera"


def test_the_way_in_from_another_page(monkeypatch):
    class FakeStreamlit:
        def __init__(self):
            self.session_state = {key: value.copy() if isinstance(value, list) else value
                                  for key, value in pg._DEFAULTS.items()}
            self.switched_to = self.query_params = None

        def switch_page(self, page, query_params=None):
            self.switched_to, self.query_params = page, query_params

    fake = FakeStreamlit()
    monkeypatch.setattr(pg, "st", fake)
    monkeypatch.setattr(pg, "link_params", lambda **extra: {"ws": "K" * 32, **extra})  # this visitor's key
    learned = np.random.default_rng(0).normal(size=(5, 5, 1))
    pg.open_in_playground(learned, "Filter 3 of the first Conv2D layer", dataset="mnist", stride=2, padding="same")
    assert fake.switched_to == PLAYGROUND
    assert fake.session_state[pg.SOURCE] == "dataset" and fake.session_state[pg.DATASET] == "mnist"
    assert fake.session_state[pg.STRIDE] == 2 and fake.session_state[pg.PADDING] == "same"
    assert fake.session_state[pg.KERNEL_SIZE] == 5 and fake.session_state[pg.PRESET] == pg.CUSTOM
    assert fake.session_state[pg.NOTE] == "Filter 3 of the first Conv2D layer"
    typed = np.array(fake.session_state[pg.KERNEL], dtype=float)
    np.testing.assert_allclose(typed, learned[:, :, 0], atol=1e-5)  # six significant digits survive
    # It arrives with the address the page writes (one history entry): the kernel as typed, image 0.
    assert fake.query_params["kernel"] == ";".join(",".join(row) for row in fake.session_state[pg.KERNEL])
    assert fake.query_params["dataset"] == "mnist" and fake.query_params["index"] == "0"
    assert fake.query_params["ws"] == "K" * 32  # the workspace key goes along: the app's own link
    for bad in (np.ones((4, 4)), np.ones((3, 3, 3)), np.full((3, 3), np.nan)):
        with pytest.raises(ValueError):
            pg.open_in_playground(bad, "")


def test_a_kernel_sent_from_another_page_is_shown_with_its_note():
    app = open_playground({"source": "grid"})
    app.session_state[pg.KERNEL] = [["0.5", "-0.25", "0"], ["0", "1", "0"], ["0", "0", "0"]]
    app.session_state[pg.NOTE] = "Filter 1 of conv2d in run 7"
    rerun(app)
    assert app.info[0].value == "Filter 1 of conv2d in run 7"
    assert app.query_params["kernel"] == "0.5,-0.25,0;0,1,0;0,0,0"


def test_rgb_photo_sums_the_three_channels():
    app = open_playground({"source": "photo", "photo": "chelsea"})
    app.radio(key=pg.COLOUR).set_value("RGB")
    rerun(app)
    assert any(m.value.startswith("Sum over the channels:") for m in app.markdown)
    assert "Feature-map height: (300 + 2×0 − 3) / 1 + 1 = 297 + 1 = 298" in formulas(app)[0]


def test_a_new_input_starts_the_step_view_at_its_strongest_response():
    from core.conv.convolution import convolve2d
    from core.conv.kernels import PRESETS
    from core.data.photos import load_photo

    app = open_playground({"source": "grid"})
    assert (app.session_state[pg.STEP_ROW], app.session_state[pg.STEP_COL]) == (0, 1)
    app.slider(key=pg.STEP_ROW).set_value(2)
    rerun(app)
    cells = app.session_state[pg.KERNEL]
    cells[1][1] = "6"
    app.session_state[pg.KERNEL] = cells
    rerun(app)
    assert app.session_state[pg.STEP_ROW] == 2  # a kernel edit keeps the position being watched

    app.segmented_control(key=pg.SOURCE).set_value("photo")
    rerun(app)
    kernel = PRESETS["sharpen"].array()
    kernel[1, 1] = 6
    feature = convolve2d(load_photo("camera", "grayscale"), kernel)
    expected = np.unravel_index(np.argmax(np.abs(feature)), feature.shape)
    assert (app.session_state[pg.STEP_ROW], app.session_state[pg.STEP_COL]) == tuple(map(int, expected))


def test_bad_grid_cells_a_pool_too_big_and_bad_link_names_get_messages():
    app = open_playground({"source": "grid", "dataset": "../../etc/passwd", "photo": "nope"})
    assert len(app.warning) == 2
    assert "`dataset`" in app.warning[0].value and "`photo`" in app.warning[1].value
    grid = app.session_state[pg.GRID]
    grid[0][0] = None  # a cleared cell
    app.session_state[pg.GRID] = grid
    rerun(app)
    assert "Pixel values must be whole numbers from 0 to 255: fix row 1 column 1" in app.error[0].value
    grid[0][0] = 0
    app.session_state[pg.GRID] = grid
    app.slider(key=pg.POOL_SIZE).set_value(4)
    rerun(app)
    assert "the 4×4 pooling window does not fit in the 3×3 feature map" in app.error[0].value


def test_a_link_to_an_image_past_the_end_of_the_split_says_so(data_dir):
    app = open_playground({"source": "dataset", "dataset": "mnist", "index": "9999999"})
    assert "asks for image 9,999,999, but this split has 10,000" in app.warning[0].value
    assert app.get("plotly_chart")


def test_a_grey_photo_offers_no_colour_choice_and_a_colour_one_does():
    app = open_playground({"source": "photo", "photo": "camera"})
    input_figure = json.loads(app.get("plotly_chart")[0].proto.spec)
    assert not app.radio and input_figure["layout"]["title"]["text"] == "Input 512×512×1"
    app.selectbox(key=pg.PHOTO).set_value("chelsea")
    rerun(app)
    assert app.radio(key=pg.COLOUR).value == "grey"


def test_random_kernel_and_normalising_a_kernel_that_sums_to_zero():
    app = open_playground({"source": "grid"})
    app.button(key=pg.RANDOM).click()
    rerun(app)
    first = np.array(app.session_state[pg.KERNEL], dtype=float)
    assert first.shape == (3, 3) and np.abs(first).max() <= 1 and app.session_state[pg.PRESET] == pg.CUSTOM
    app.button(key=pg.RANDOM).click()
    rerun(app)
    assert not np.array_equal(np.array(app.session_state[pg.KERNEL], dtype=float), first)

    app.selectbox(key=pg.PRESET).set_value("Sobel x")
    rerun(app)
    app.toggle(key=pg.NORMALISE).set_value(True)
    rerun(app)
    assert "sum to 0" in app.info[0].value and "used as typed" in app.info[0].value
    app.slider(key=pg.STEP_COL).set_value(0)
    rerun(app)
    assert step_sum(app).endswith("= **4**")  # Sobel x as typed (right column 1+2+1), not divided by anything


def test_an_edited_preset_no_longer_claims_its_caption():
    # After every cell was retyped, the preset box read "(your own)" and the sharpen caption still explained it.
    app = open_playground({"source": "grid"})
    sharpen = next(c.value for c in app.caption if c.value == PRESETS["sharpen"].explanation)
    app.text_input(key=pg.cell_key(1, 1)).set_value("1")
    rerun(app)
    assert app.session_state[pg.PRESET] == pg.CUSTOM
    captions = [c.value for c in app.caption]
    assert sharpen not in captions and f"~~{sharpen}~~" in captions, captions  # struck through: no longer it


def test_ones_own_drawing_is_the_input_prepared_as_mnist_was():
    from core.predict.preprocessing import prepare_drawing
    from tests.unit.test_preprocessing import CASES

    app = open_playground()
    app.segmented_control(key=pg.SOURCE).set_value("draw")
    rerun(app)
    assert any("Draw on the canvas" in info.value for info in app.info)  # an empty canvas: a word, no maps
    assert not formulas(app)
    app.session_state[pg.DRAW_INJECTED] = CASES["centred seven"]  # what the canvas sends when the pen lifts
    rerun(app)
    assert not app.exception and not app.error
    assert formulas(app)[0].startswith("- Feature-map height and width: (28 + 2×0 − 3) / 1 + 1")
    assert any("your drawing, prepared as MNIST's digits were" in rendered(caption.value) for caption in app.caption)
    # the step view takes apart the drawing's pixels: its strongest response is on the prepared 7's ink
    row, col = app.session_state[pg.STEP_ROW], app.session_state[pg.STEP_COL]
    prepared = prepare_drawing(CASES["centred seven"]).image[:, :, 0]
    assert prepared[row:row + 3, col:col + 3].max() > 0
    assert any("stays in your session" in caption.value for caption in app.caption)  # the share link says so
    app.button(key=pg.DRAW_CLEAR).click()
    rerun(app)
    assert any("Draw on the canvas" in info.value for info in app.info)
    # Undo takes back the last stroke: the canvas after each stroke, injected as the browser would hold it
    app.session_state[pg.DRAW_INJECTED] = [CASES["centred seven"], CASES["a zero"]]
    rerun(app)
    zero_formulas = formulas(app)
    app.button(key=pg.DRAW_UNDO).click()
    rerun(app)
    assert not app.exception and formulas(app) == zero_formulas  # same shapes: the input is still a drawing
    assert app.session_state[pg.DRAW_INJECTED] == [CASES["centred seven"]]
    assert app.session_state[pg.DRAW_UNDO_COUNT] == 1  # what tells the browser's canvas to take one back


def test_every_run_sends_the_kernel_cells_their_values():
    # With the value sent only when a preset or link changed it, a run cut short before the cells were drawn made
    # the browser drop their values and send "" back: every cell of the kernel emptied (seen on a fresh server when
    # the Draw canvas first mounted). Each run now sends each cell its value.
    app = open_playground()
    for _ in range(2):  # the first run, and a plain rerun that changed nothing
        cells = [app.text_input(key=pg.cell_key(r, c)).proto for r in range(3) for c in range(3)]
        assert all(cell.set_value for cell in cells)
        assert [cell.value for cell in cells] == [text for row in app.session_state[pg.KERNEL] for text in row]
        rerun(app)
