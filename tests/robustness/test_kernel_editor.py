"""Bad kernel cells, an all-zero kernel, and a 1×1 kernel on a 1×1 image in the Convolution Playground."""

from __future__ import annotations

import pytest

from tests.app.harness import open_app, rerun
from tests.robustness.conftest import assert_clean, assert_says
from ui.playground import state as pg

PLAYGROUND = "pages/convolution_playground.py"
BAD_CELLS = {"text": ("five", "'five' is not a number"), "NaN": ("nan", "is NaN"), "inf": ("inf", "is infinite"),
             "1e308": ("1e308", "beyond ±1000"), "empty": ("", "is empty")}


def step_sum(app) -> str:
    return next(m.value for m in app.markdown if " = **" in m.value)


@pytest.mark.parametrize("case", list(BAD_CELLS))
def test_a_bad_cell_is_named_and_fixing_it_brings_the_maps_back(case):
    typed, words = BAD_CELLS[case]
    app = open_app(PLAYGROUND, query={"source": "grid"})
    cells = app.session_state[pg.KERNEL]
    cells[1][2] = typed
    app.session_state[pg.KERNEL] = cells
    rerun(app)
    assert_clean(app)
    assert_says(app, "row 2, column 3", words)
    assert not app.get("plotly_chart")
    cells[1][2] = "1"
    app.session_state[pg.KERNEL] = cells
    rerun(app)
    assert_clean(app)
    assert not app.error and app.get("plotly_chart")


def test_an_all_zero_kernel_gives_a_zero_map_and_normalising_it_is_explained():
    app = open_app(PLAYGROUND, query={"source": "grid", "kernel": "0,0,0;0,0,0;0,0,0", "pool": "none"})
    assert_clean(app)
    assert not app.error and app.get("plotly_chart")
    assert step_sum(app).endswith("= **0**")
    app.toggle(key=pg.NORMALISE).set_value(True)
    rerun(app)
    assert_clean(app)
    assert_says(app, "sum to 0")
    app.toggle(key=pg.NORMALISE).set_value(False)
    rerun(app)
    assert not app.error and app.get("plotly_chart")


def test_a_one_by_one_kernel_on_a_one_by_one_image():
    app = open_app(PLAYGROUND, query={"source": "grid", "grid": "200", "kernel": "2", "pool": "max"})
    assert_clean(app)
    assert_says(app, "pooling window does not fit in the 1×1 feature map")
    app.segmented_control(key=pg.POOL).set_value("none")
    rerun(app)
    assert_clean(app)
    assert not app.error
    assert [m.value for m in app.markdown if m.value.startswith("- ")] == [
        "- Feature-map height and width: (1 + 2×0 − 1) / 1 + 1 = 0 + 1 = 1"]
    assert step_sum(app).endswith("= **400**")  # 2 × 200
