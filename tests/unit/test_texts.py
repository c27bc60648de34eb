"""Texts that embed a number say what the numbers on screen say."""

from __future__ import annotations

import re

import numpy as np
import pytest

from core.data.numbers import percent
from core.data.statistics import balance_sentence


@pytest.mark.parametrize(("value", "decimals", "text"), [
    (977 / 980, 0, "99.7%"), (1.0, 0, "100%"), (0.0, 0, "0%"), (3 / 980, 0, "0.3%"), (0.5, 0, "50%"),
    (0.99996, 1, "99.996%"), (0.9214, 1, "92.1%"), (1 - 1e-9, 2, ">99.9999%"), (1e-9, 0, "<0.0001%"),
])
def test_a_percentage_reaches_100_or_0_only_when_exact(value, decimals, text):
    assert percent(value, decimals) == text


def test_balanced_classes_are_not_a_range_from_a_class_to_itself():
    names = ("airplane", "automobile", "bird")
    sentence = balance_sentence(np.array([5000, 5000, 5000]), names)
    assert sentence.startswith("Every class has 5,000 training images.") and "airplane" not in sentence
    assert "33.3%" in sentence
    uneven = balance_sentence(np.array([5923, 6742, 5421]), ("0", "1", "2"))
    assert uneven.startswith("Training images per class range from 5,421 (2) to 6,742 (1).")


def test_preset_captions_are_worked_out_for_the_dataset_on_screen():
    from core.model.presets import PRESETS

    fast = PRESETS["fast_digits"]
    assert "(28 → 14 → 7)" in fast.describe((28, 28, 1), 10) and "up to 2 pixels" in fast.describe((28, 28, 1), 10)
    digits = fast.describe((8, 8, 1), 10)
    assert "(8 → 4 → 2)" in digits and "28" not in digits and "less than a pixel" in digits
    assert "32 → 30 → 15 → 13 → 6, then 6·6·64 = 2,304 numbers" in PRESETS["two_conv_blocks"].describe((32, 32, 3), 10)
    simple = PRESETS["cifar_simple_cnn"].describe((32, 32, 3), 10)
    assert "99.8% of its 1,051,082 parameters" in simple
    for preset in PRESETS.values():  # every placeholder is filled for every built-in shape it fits
        for shape in ((28, 28, 1), (32, 32, 3)):
            assert "{" not in preset.describe(shape, 10)


def test_datasets_are_named_as_people_chose_them_never_by_internal_keys():
    from core.data.datasets import dataset_name
    from core.evaluate.comparison import comparison_table
    from tests.unit.test_store import record

    assert dataset_name("mnist") == "MNIST handwritten digits"
    assert dataset_name("folder:pets:c6468ecf70:32:rgb:0.2") == "pets (your upload, 32×32 RGB)"
    assert dataset_name("folder:scans:0a1b2c3d4e:28:grayscale:0.1") == "scans (your upload, 28×28 grey)"
    run = record()
    run.dataset = "folder:pets:c6468ecf70:32:rgb:0.2"
    assert comparison_table([run])["dataset"].tolist() == ["pets (your upload, 32×32 RGB)"]


@pytest.mark.parametrize("text", [
    "![pic](http://127.0.0.1:9/track.png) [link](javascript:alert(1))", "**bold** _em_ `tick` ~~gone~~",
    ":material/home: :red[alarm] $x^2$", "<b>tag</b> &amp; &lt;", "# heading", "- item", "1. item", "> quote",
    "back\\slash \\*", "www.example.com https://example.com", "a | table | row", "plain words, 3.5 × 2",
])
def test_plain_text_reads_back_as_typed_with_nothing_left_for_markdown(text):
    from tests.app.harness import rendered
    from ui.text import plain

    escaped = plain(text)
    assert rendered(escaped) == text  # a reader sees exactly the characters typed
    unescaped = re.sub(r"\\.", "", escaped)  # what Markdown could still act on
    assert not set(unescaped) & set("![]()*_`~<>&#|$\\") and ":m" not in unescaped and "www." not in unescaped


def test_plain_text_is_one_line_and_plotly_text_has_no_tags():
    from ui.text import plain, plot_text

    assert plain("first\nsecond\r\nthird\u2028fourth") == "first second third fourth"
    assert plot_text("<b>x</b> & <a href='y'>") == "&lt;b&gt;x&lt;/b&gt; &amp; &lt;a href='y'&gt;"


def test_run_names_in_a_curve_legend_are_text_not_plotly_html():
    from core.evaluate.comparison import curve_rows
    from tests.unit.test_store import record
    from ui.figures import comparison_curves

    hostile = record(name='<a href="http://evil.example">click</a><br>')
    hostile.history = {"loss": [0.5, 0.4], "accuracy": [0.8, 0.9]}
    names = [trace.name for trace in comparison_curves(curve_rows([hostile]), "loss").data]
    assert names and all("<" not in name and "&lt;a href" in name for name in names)
