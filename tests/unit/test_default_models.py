"""The shipped default models: small enough, and each reproduces its stated test accuracy on the real test set."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.data.datasets import load_dataset
from core.train.recipes import SHIPPED_RUN_IDS
from tests.conftest import REPO_ROOT

DEFAULTS = REPO_ROOT / "models" / "defaults"


@pytest.mark.parametrize("dataset", SHIPPED_RUN_IDS)
def test_each_default_reproduces_its_stated_test_accuracy(dataset, data_dir):
    import keras

    folder = DEFAULTS / SHIPPED_RUN_IDS[dataset]
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["dataset"] == dataset and meta["status"] == "finished"
    assert (folder / "model.keras").stat().st_size < 5_000_000
    model = keras.saving.load_model(folder / "model.keras", safe_mode=True, compile=False)
    data = load_dataset(dataset)
    probabilities = model.predict(data.x_test, batch_size=512, verbose=0)  # (N, classes), raw 0–255 input
    accuracy = float(np.mean(probabilities.argmax(axis=1) == data.y_test))
    assert abs(accuracy - meta["metrics"]["test"]["accuracy"]) <= 0.002
    if dataset == "mnist":
        assert accuracy >= 0.993
    if dataset == "cifar10":  # speed_cifar; fast_cifar, the default before it, scored 81.04%
        assert accuracy >= 0.855
