"""`ui.tables`: one number format for metrics on every page."""

from __future__ import annotations

import pandas as pd
import pytest

from ui.tables import shown_metrics


def test_shares_are_percentages_losses_four_decimals_counts_grouped():
    frame = pd.DataFrame({"split": ["test"], "images": [10000], "loss": [0.0342], "accuracy": [0.9895],
                          "val accuracy": [None], "F1": [0.5], "parameters": [422154]})
    shown, config = shown_metrics(frame)
    assert shown["accuracy"].iloc[0] == pytest.approx(98.95) and frame["accuracy"].iloc[0] == 0.9895  # a copy
    assert pd.isna(shown["val accuracy"].iloc[0])
    assert config["accuracy"]["type_config"]["format"] == "%.2f%%"
    assert config["loss"]["type_config"]["format"] == "%.4f"
    assert config["images"]["type_config"]["format"] == "localized"
    assert config["parameters"]["type_config"]["format"] == "localized"
    assert "split" not in config
