"""Model specs: the lessons' parameter counts, agreement with Keras, and clear messages for bad specs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.model.architectures import build_model, summarise, trainable_parameters
from core.model.layers import (
    LAYER_TYPES,
    BatchNorm,
    Conv,
    Dense,
    Flatten,
    Pool,
    RandomFlip,
    Rescale,
    SpecError,
    layer_from_dict,
    spec_from_dicts,
    spec_to_dicts,
)
from core.model.presets import PRESETS, presets_for

MNIST, CIFAR = (28, 28, 1), (32, 32, 3)


@pytest.mark.parametrize("key, shape, count", [
    ("dense", MNIST, 118_282),
    ("cifar_dense", CIFAR, 789_258),
    ("cifar_simple_cnn", CIFAR, 1_051_082),
    ("cifar_three_blocks", CIFAR, 141_898),
])
def test_preset_parameter_counts_are_the_lessons(key, shape, count):
    assert trainable_parameters(PRESETS[key].spec(), shape, 10) == count


def test_two_conv_blocks_shapes_are_the_lessons_chain():
    rows = summarise(PRESETS["two_conv_blocks"].spec(), MNIST, 10)
    sides = [row.output_shape[0] for row in rows if len(row.output_shape) == 3]
    assert sides == [28, 26, 13, 11, 5]  # Rescaling keeps 28, then conv, pool, conv, pool
    assert (1600,) in [row.output_shape for row in rows]


@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


@pytest.mark.parametrize("key", list(PRESETS))
@pytest.mark.parametrize("shape", [MNIST, CIFAR], ids=["mnist", "cifar"])
def test_summary_agrees_with_the_keras_model(keras, key, shape):
    rows = summarise(PRESETS[key].spec(), shape, 10)
    model = build_model(PRESETS[key].spec(), shape, 10)
    assert [tuple(layer.output.shape[1:]) for layer in model.layers] == [row.output_shape for row in rows]
    trainable = sum(int(weight.numpy().size) for weight in model.trainable_weights)
    frozen = sum(int(weight.numpy().size) for weight in model.non_trainable_weights)
    assert trainable == sum(row.trainable for row in rows)
    assert frozen == sum(row.non_trainable for row in rows)


def test_every_preset_fits_both_image_sizes():
    assert set(presets_for(MNIST, 10)) == set(PRESETS) == set(presets_for(CIFAR, 10))
    assert presets_for((8, 8, 1), 10)["dense"] > 0
    assert "two_conv_blocks" not in presets_for((8, 8, 1), 10)  # 8 → 6 → 3 → 1, and a 2×2 pool cannot follow


@pytest.mark.parametrize("spec, message", [
    ([], "no layers"),
    ([Rescale(), Dense(10)], "Layer 2 (Dense 10 relu) gets an image-shaped (28, 28, 1) input. Add a Flatten"),
    ([Rescale(), Flatten(), Conv(8)], "Layer 3 (Conv2D 8@3×3 valid relu) needs an image-shaped"),
    ([Rescale(), Pool(size=2), Pool(size=2), Pool(size=2), Pool(size=2), Pool(size=2), Flatten()],
     "Layer 6 (MaxPooling2D 2×2) gets a 1×1 input and would shrink it below 1×1"),
    ([Rescale(), Conv(8, 3)], "last layer outputs an image-shaped (26, 26, 8)"),
    ([Flatten(), Dense(10)], "comes before any Rescaling"),
    ([Rescale(), Conv(0)], "filters must be a whole number from 1 to 8192"),
    ([Rescale(), Flatten(), Dense(10**6)], "units must be a whole number from 1 to 8192"),
])
def test_impossible_specs_are_explained_naming_the_layer(spec, message):
    with pytest.raises(SpecError, match=message.replace("(", r"\(").replace(")", r"\)")):
        summarise(spec, MNIST, 10)


def test_augmentation_may_come_before_rescaling_and_batchnorm_counts_both_kinds():
    rows = summarise([RandomFlip(), Rescale(), Conv(4), BatchNorm(), Flatten()], MNIST, 10)
    assert rows[3].trainable == 8 and rows[3].non_trainable == 8


def test_specs_round_trip_through_json():
    for preset in PRESETS.values():
        data = json.loads(json.dumps(spec_to_dicts(preset.spec())))
        assert spec_from_dicts(data) == preset.spec()


@pytest.mark.parametrize("data, message", [
    ({"kind": "Lambda", "function": "os.system"}, "Unknown layer kind"),
    ({"kind": "Dense", "units": 10, "secret": 1}, "unknown settings"),
    ({"kind": "Dense", "units": "10"}, "units must be like 128"),
    ({"kind": "Dense", "units": True}, "units must be like 128"),
    ({"kind": "Conv2D", "filters": 8, "padding": "full"}, "padding must be valid/same"),
    ({"kind": "Dropout", "rate": 1.5}, "rate must be at least 0 and below 1"),
    ({"kind": "RandomTranslation", "factor": 0.1, "interpolation": "cubic"}, "interpolation must be one of"),
    ({"kind": "BatchNormalization", "momentum": 1.0}, "momentum must be at least 0 and below 1, got 1.0"),
    ({"kind": "BatchNormalization", "momentum": "0.9"}, "momentum must be like 0.99"),
])
def test_bad_layer_dicts_are_refused(data, message):
    with pytest.raises(SpecError, match=message):
        layer_from_dict(data)
    with pytest.raises(SpecError, match="list of layer objects"):
        spec_from_dicts({"kind": "Dense"})


def test_mixed_precision_is_set_per_layer_and_the_output_stays_float32(keras):
    spec = PRESETS["fast_cifar"].spec()
    model = build_model(spec, CIFAR, 10, precision="mixed_bfloat16")
    assert {layer.dtype_policy.name for layer in model.layers[:-1]} == {"mixed_bfloat16"}
    assert model.layers[-1].dtype_policy.name == "float32"
    assert all(weight.dtype == "float32" for weight in model.trainable_weights)  # weights stay float32
    images = np.random.default_rng(0).integers(0, 256, (2, *CIFAR)).astype("uint8")
    probabilities = model.predict(images, verbose=0)
    assert probabilities.dtype == np.float32 and np.allclose(probabilities.sum(axis=1), 1, atol=1e-5)
    # nothing global changed: the next model is float32 throughout
    assert {layer.dtype_policy.name for layer in build_model(spec, CIFAR, 10).layers} == {"float32"}


def test_batchnorm_momentum_reaches_keras_and_the_default_stays_keras_own(keras):
    assert BatchNorm().keras_layer().momentum == 0.99 and BatchNorm().label() == "BatchNormalization"
    layer = layer_from_dict({"kind": "BatchNormalization", "momentum": 0.9}).keras_layer()
    assert layer.momentum == pytest.approx(0.9)
    assert BatchNorm(0.9).label() == "BatchNormalization momentum 0.9"
    assert layer_from_dict({"kind": "BatchNormalization"}) == BatchNorm()  # specs stored before momentum existed


def test_every_layer_type_has_a_keras_layer(keras):
    for kind, cls in LAYER_TYPES.items():
        assert cls().keras_layer() is not None, kind


def test_nearest_translation_moves_whole_pixels_and_bilinear_blends_them(keras):
    import numpy as np

    image = np.zeros((1, 28, 28, 1), "float32")
    image[0, 10:18, 12:14] = 255.0  # a bar: only the values 0 and 255
    seen = {}
    for interpolation in ("nearest", "bilinear"):
        layer = layer_from_dict({"kind": "RandomTranslation", "factor": 0.1, "interpolation": interpolation})
        assert layer.keras_layer().interpolation == interpolation
        keras.utils.set_random_seed(3)
        moved = np.concatenate([np.asarray(layer.keras_layer()(image, training=True)) for _ in range(8)])
        seen[interpolation] = set(np.unique(np.round(moved, 3)).tolist())
    assert seen["nearest"] <= {0.0, 255.0}
    assert seen["bilinear"] - {0.0, 255.0}  # in-between grey values: the blur
