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


def test_curves_say_where_validation_was_best_and_where_training_ended():
    from core.evaluate.descriptions import curves_summary

    rows = [{"epoch": 1, "loss": 0.3, "val_loss": 0.09, "accuracy": 0.9, "val_accuracy": 0.97},
            {"epoch": 2, "loss": 0.1, "val_loss": 0.041, "accuracy": 0.97, "val_accuracy": 0.987},
            {"epoch": 3, "loss": 0.05, "val_loss": 0.05, "accuracy": 0.985, "val_accuracy": 0.985}]
    assert curves_summary(rows, "loss") == ("Loss: validation lowest at epoch 2 (0.041); training 0.05 at epoch 3, "
                                            "the last.")
    assert curves_summary(rows, "accuracy") == ("Accuracy: validation highest at epoch 2 (98.7%); training 98.5% at "
                                                "epoch 3, the last.")
    assert curves_summary([], "loss") == "Loss: no epoch has finished yet."


def test_a_confusion_matrix_names_its_share_right_and_its_commonest_mistake():
    import numpy as np

    from core.evaluate.descriptions import confusion_summary

    counts = np.array([[50, 2, 0], [1, 40, 12], [0, 3, 30]])
    assert confusion_summary(counts, ["0", "1", "8"]) == (
        "Right answers (the diagonal): 120 of 138 (87.0%). The commonest mistake: a 1 read as 8, 12 times.")
    assert confusion_summary(np.eye(2, dtype=int) * 5, ["cat", "dog"]).endswith("10 of 10 (100.0%).")


def test_probabilities_name_the_top_classes_highest_first():
    import numpy as np

    from core.evaluate.descriptions import probabilities_summary

    summary = probabilities_summary(np.array([0.001, 0.006, 0.0, 0.993]), ["a", "b", "c", "d"])
    assert summary == ("Probabilities, highest first: d at 99.3%, then b at 0.6%, then a at 0.1%; "
                       "every other class lower.")


def test_feature_maps_are_described_by_layer_and_filter():
    import numpy as np

    from core.evaluate.descriptions import feature_map_summary, feature_maps_summary

    maps = np.zeros((3, 4, 5))
    maps[2, 1, 3] = 0.9
    assert feature_maps_summary("conv2d", maps, 8) == ("Feature maps of layer conv2d: filters 0–2, 8 to a row, left to "
                                                       "right and top to bottom. Filter 2 responds most (up to 0.90).")
    assert feature_map_summary("conv2d", 2, maps[2]) == ("Feature map of layer conv2d, filter 2, 4×5: strongest at "
                                                         "row 1, column 3 (0.90).")
