"""Datasets and predictions are held once per server process, read-only, and shared by every session."""

from __future__ import annotations

import numpy as np
import pytest

from tests.app.harness import open_app


def test_a_builtin_dataset_is_one_read_only_copy_for_every_session():
    first, second = open_app("pages/dataset_explorer.py"), open_app("pages/dataset_explorer.py")
    del first, second  # two sessions have opened the Explorer; the loader is then called from here
    from ui.loaders import get_dataset

    one, other = get_dataset("digits"), get_dataset("digits")
    assert one.x_train is other.x_train  # st.cache_data would hand each call its own copy
    for array in (one.x_train, one.y_train, one.x_test, one.y_test):
        assert not array.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        one.x_train[0, 0, 0, 0] = np.uint8(1)
