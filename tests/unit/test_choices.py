"""`ui.choices`: a picker's kept value against the choices it offers now."""

from __future__ import annotations

import numpy as np

from ui.choices import offered


def test_a_label_that_came_back_as_the_value_is_not_an_option():
    # What Streamlit returns when the browser's label matches no option: the label, a str.
    assert not offered("conv2d (Conv2D, 14×14×32)", range(2))
    assert not offered("3", range(10))  # a digit's label is not the index 3


def test_options_of_the_same_kind_are_offered():
    assert offered(1, range(2))
    assert offered(np.int64(1), range(2))  # numpy's numbers equal Python's
    assert offered("run-b", ["run-a", "run-b"])
    assert offered(0.001, (0.0001, 0.001, 0.01))
    assert not offered(5, range(2))


def test_a_multiselect_keeps_its_value_only_if_every_item_is_offered():
    assert offered([0, 3], range(10))
    assert not offered([0, "3: cat"], range(10))
    assert offered([], range(10))
