"""Training settings checked before anything is built, the data split, and the progress arithmetic."""

from __future__ import annotations

import numpy as np
import pytest

from core.model.presets import PRESETS
from core.train.config import ConfigError, TrainConfig, check_config, config_notes, split_indices
from core.train.progress import ProgressView, fold, format_duration, status_line
from core.train.recipes import BEST_RUNS, DEFAULT_RUNS, default_config


def config(**changes) -> TrainConfig:
    return TrainConfig(dataset="mnist", spec=[{"kind": "Rescaling"}, {"kind": "Flatten"}], **changes)


def test_sizes_follow_subset_split_and_batch():
    sizes = check_config(config(subset=2000, validation_split=0.1, batch_size=64), 60_000)
    assert (sizes.train, sizes.validation, sizes.steps_per_epoch) == (1800, 200, 29)
    sizes = check_config(config(subset=0, validation_split=0.0, batch_size=128), 60_000)
    assert (sizes.train, sizes.validation, sizes.steps_per_epoch) == (60_000, 0, 469)


@pytest.mark.parametrize(("changes", "fragment"), [
    ({"subset": 1, "validation_split": 0.9}, "no image is left to train on"),
    ({"subset": 3, "validation_split": 0.1}, "holds out no image"),
    ({"validation_split": 0.0, "early_stopping": True, "early_monitor": "val_loss"}, "validation split is 0"),
    ({"validation_split": 0.0, "target_accuracy": 0.9, "target_monitor": "val_accuracy"}, "validation split is 0"),
    ({"reduce_lr": True, "schedule": "cosine"}, "pick one"),
    ({"epochs": 0}, "Epochs must be a whole number from 1"),
    ({"batch_size": 10_000}, "Batch size must be"),
    ({"learning_rate": float("nan")}, "learning rate"),
    ({"validation_split": 1.0}, "validation split"),
    ({"optimizer": "adagrad"}, "Optimizer must be one of"),
    ({"reduce_factor": 1.0}, "factor"),
    ({"precision": "float16"}, "Precision must be one of float32, mixed_bfloat16"),
    ({"loss": "categorical", "label_smoothing": 0.6}, "Label smoothing must lie between 0 .off. and 0.5, got 0.6"),
    ({"loss": "categorical", "label_smoothing": -0.1}, "Label smoothing must lie between"),
    ({"loss": "categorical", "label_smoothing": "0.2"}, "Label smoothing must lie between"),
    ({"loss": "sparse", "label_smoothing": 0.2}, "choose the categorical loss"),
])
def test_impossible_settings_are_named(changes, fragment):
    with pytest.raises(ConfigError, match=fragment):
        check_config(config(**changes), 60_000)


def test_batch_larger_than_training_set_is_a_note_not_an_error():
    setting = config(subset=10, validation_split=0.0, batch_size=64)
    sizes = check_config(setting, 60_000)
    assert sizes.steps_per_epoch == 1
    assert any("larger than the 10 training images" in note for note in config_notes(setting, sizes))


def test_label_smoothing_is_noted_with_the_lowest_loss_it_allows():
    import keras

    from core.train.config import smoothed_loss_floor

    setting = config(loss="categorical", label_smoothing=0.2)
    notes = config_notes(setting, check_config(setting, 60_000), num_classes=10)
    assert any("cannot fall below 0.87" in note for note in notes)
    assert not any("smoothing" in note for note in config_notes(config(), check_config(config(), 60_000)))
    # The floor is Keras' own loss when the prediction is the smoothed target itself.
    targets = np.full((1, 4), 0.1 / 4)
    targets[0, 2] += 0.9
    floor = keras.losses.CategoricalCrossentropy(label_smoothing=0.1)(np.eye(4)[[2]], targets)
    assert smoothed_loss_floor(0.1, 4) == pytest.approx(float(floor), rel=1e-5)
    assert smoothed_loss_floor(0.0, 10) == 0.0


def test_split_is_seeded_disjoint_and_sized():
    train, validation = split_indices(1000, 300, 0.2, seed=3)
    again_train, again_validation = split_indices(1000, 300, 0.2, seed=3)
    assert np.array_equal(train, again_train) and np.array_equal(validation, again_validation)
    assert (len(train), len(validation)) == (240, 60)
    assert not set(train) & set(validation)
    other, _ = split_indices(1000, 300, 0.2, seed=4)
    assert not np.array_equal(train, other)


def test_config_round_trips_and_rejects_unknown_keys():
    setting = config(epochs=3)
    assert TrainConfig.from_dict(__import__("json").loads(setting.to_json())) == setting
    with pytest.raises(ConfigError, match="Unknown training settings: colour"):
        TrainConfig.from_dict({"dataset": "mnist", "spec": [], "colour": 1})


def test_default_configs_use_existing_presets_and_lesson_settings():
    for dataset, run in DEFAULT_RUNS.items():
        made = default_config(dataset)
        assert made.model_key == run.preset in PRESETS and made.epochs == run.epochs
    lesson = default_config("mnist", "two_conv_blocks")
    assert (lesson.epochs, lesson.batch_size, lesson.learning_rate, lesson.schedule) == (5, 64, 1e-3, "constant")
    with pytest.raises(ValueError, match="Unknown model"):
        default_config("mnist", "resnet152")


def test_the_best_plan_is_its_own_run_where_a_dataset_has_one_and_the_fast_one_elsewhere():
    best = default_config("mnist", plan="best")
    assert (best.epochs, best.batch_size, best.learning_rate, best.precision) == (
        BEST_RUNS["mnist"].epochs, BEST_RUNS["mnist"].batch_size, BEST_RUNS["mnist"].learning_rate,
        BEST_RUNS["mnist"].precision)
    assert best.epochs > default_config("mnist").epochs
    assert default_config("cifar10", plan="best") == default_config("cifar10")
    with pytest.raises(ValueError, match="Unknown plan 'slow'; choose from fast, best"):
        default_config("mnist", plan="slow")
    from core.train.cli import _parser, config_from_arguments

    assert config_from_arguments(_parser().parse_args(["--plan", "best"])) == best
    assert config_from_arguments(_parser().parse_args([])) == default_config("mnist")
    cifar = config_from_arguments(_parser().parse_args(["--dataset", "cifar10"]))
    assert (cifar.loss, cifar.label_smoothing) == ("categorical", 0.2)
    sparse = config_from_arguments(_parser().parse_args(["--dataset", "cifar10", "--loss", "sparse"]))
    assert (sparse.loss, sparse.label_smoothing) == ("sparse", 0.0)
    check_config(sparse, 50_000)  # a usable config, not a ConfigError
    softer = config_from_arguments(_parser().parse_args(["--dataset", "cifar10", "--label-smoothing", "0.1"]))
    assert softer.label_smoothing == 0.1


def test_progress_fold_position_speed_and_eta():
    view = fold(ProgressView(), [
        {"type": "start", "epochs": 2, "steps_per_epoch": 10, "train_size": 1000, "validation_size": 0,
         "batch_size": 100},
        {"type": "batch", "epoch": 0, "step": 5, "seen": 500, "loss": 1.0, "accuracy": 0.5, "elapsed": 2.0,
         "images_per_second": 250.0},
    ])
    assert view.fraction == pytest.approx(0.25)
    assert view.eta_seconds == pytest.approx(6.0)  # 1,500 images left at 250 per second
    assert status_line(view) == "Epoch 1/2 · batch 5/10 · 250 images/s · ETA 0:06"
    assert view.batch_points == [(0.5, 1.0, 0.5)]
    fold(view, [{"type": "epoch", "epoch": 0, "loss": 0.9, "val_loss": None},
                {"type": "batch", "epoch": 1, "step": 10, "seen": 2000, "loss": 0.5, "accuracy": 0.8,
                 "elapsed": 8.0, "images_per_second": 250.0},
                {"type": "end", "status": "finished", "run_id": "x", "stop_reason": "", "metrics": {}}])
    assert view.fraction == 1.0 and view.phase == "ended" and view.epoch_rows[0]["epoch"] == 1


def test_format_duration():
    assert [format_duration(s) for s in (None, 5, 65, 3723)] == ["–", "0:05", "1:05", "1:02:03"]


def test_a_preset_brings_the_lessons_settings_unless_it_is_the_datasets_tuned_model():
    from core.train.recipes import preset_config

    lesson = preset_config("cifar10", "cifar_dense")
    assert (lesson.optimizer, lesson.learning_rate, lesson.batch_size) == ("adam", 1e-3, 64)
    assert lesson.label_smoothing == 0.0
    tuned = preset_config("cifar10", DEFAULT_RUNS["cifar10"].preset)
    assert (tuned.optimizer, tuned.learning_rate, tuned.batch_size) == ("sgd", 0.2, 512)
    with pytest.raises(ValueError, match="nope"):
        preset_config("mnist", "nope")


def test_settings_are_said_in_a_few_words():
    from core.train.recipes import settings_line

    lesson = "Adam 0.001 · batch 64 · 5 epochs · constant rate · float32"
    assert settings_line(default_config("mnist", "dense")) == lesson
    assert settings_line(default_config("cifar10")).endswith("one-hot labels, smoothing 0.2")
