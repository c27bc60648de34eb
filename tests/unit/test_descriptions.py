"""Text alternatives for test and dataset images (core.evaluate.descriptions)."""

from __future__ import annotations

import pytest

from core.evaluate.descriptions import describe_dataset_image, describe_test_image


def test_a_wrong_reading_says_what_the_image_is_and_what_it_was_read_as():
    assert describe_test_image(412, "4", "9", 0.87) == "test image 412: a 4, read as 9 at 87% (wrong)"


def test_a_right_reading_says_so_and_articles_follow_the_sound():
    assert describe_test_image(3, "8", "8", 0.999) == "test image 3: an 8, read as 8 at 100% (right)"
    assert describe_test_image(0, "airplane", "bird", 0.5).startswith("test image 0: an airplane")
    assert describe_dataset_image(7, "training", "3") == "training image 7: a 3"


@pytest.mark.parametrize("confidence", [-0.1, 1.5])
def test_a_confidence_outside_zero_to_one_is_refused(confidence):
    with pytest.raises(ValueError, match="between 0 and 1"):
        describe_test_image(0, "1", "1", confidence)
