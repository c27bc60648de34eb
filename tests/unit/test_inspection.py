"""Looking inside a model (core.predict.inspection), checked against Keras' own outputs."""

from __future__ import annotations

import numpy as np
import pytest

from core.data.datasets import load_dataset
from core.model.architectures import build_model
from core.model.layers import Flatten, Rescale
from core.predict.inspection import activations, probabilities, saliency, uninformative, upsample, verdict
from core.train.recipes import SHIPPED_RUN_IDS
from tests.conftest import REPO_ROOT

DIGITS_DEFAULT = REPO_ROOT / "models" / "defaults" / SHIPPED_RUN_IDS["digits"] / "model.keras"


@pytest.fixture(scope="module")
def digits_model():
    import keras

    return keras.saving.load_model(DIGITS_DEFAULT, safe_mode=True, compile=False)


@pytest.fixture(scope="module")
def images():
    return load_dataset("digits").x_test[:5].astype(np.float32)  # (5, 8, 8, 1)


def test_probabilities_equal_model_predict(digits_model, images):
    expected = digits_model.predict(images, verbose=0)
    for image, row in zip(images, expected, strict=True):
        np.testing.assert_allclose(probabilities(digits_model, image), row, atol=1e-5)


def test_activations_are_each_layers_output(digits_model, images):
    import keras

    found = activations(digits_model, images[0])
    assert [a.kind for a in found] == ["Conv2D", "Conv2D", "Dense", "Dense"]
    assert found[0].values.shape == (4, 4, 32) and found[1].values.shape == (2, 2, 64)
    probe = keras.Model(digits_model.inputs, [digits_model.layers[a.index].output for a in found])
    for activation, output in zip(found, probe.predict(images[:1], verbose=0), strict=True):
        np.testing.assert_allclose(activation.values, output[0], atol=1e-5)
    np.testing.assert_allclose(found[-1].values, probabilities(digits_model, images[0]), atol=1e-5)


def test_the_map_is_a_normalised_map_at_the_input_size_and_says_when_it_is_coarse(digits_model, images):
    result = saliency(digits_model, images[0], 3)
    assert result.method == "HiResCAM" and result.layer and result.class_index == 3
    assert result.heat.shape == (8, 8) and result.heat.min() >= 0 and result.heat.max() <= 1
    assert result.cells == (2, 2) and "only 2×2" in result.note  # 8×8 digits, two stride-2 convs: a 2×2 map


def small_convnet(head: str, seed: int = 0):
    """Rescaling → Conv2D(4, 3×3, same, relu) → [GlobalAveragePooling2D | Flatten] → Dense(3, softmax), random."""
    import keras

    keras.utils.set_random_seed(seed)
    return keras.Sequential([  # the app's models are Sequential stacks
        keras.Input((12, 12, 1)), keras.layers.Rescaling(1 / 255),
        keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="conv"),
        keras.layers.GlobalAveragePooling2D() if head == "gap" else keras.layers.Flatten(),
        keras.layers.Dense(3, activation="softmax")])


def keras_example_grad_cam(model, image: np.ndarray, class_index: int) -> np.ndarray:
    """Grad-CAM as Keras' own example writes it (keras.io/examples/vision/grad_cam), on the score before the
    softmax as the example does by removing it: the reference implementation."""
    import keras
    import tensorflow as tf

    conv = model.get_layer("conv")
    logits = keras.Model(model.inputs, [conv.output, model.layers[-1].input])
    with tf.GradientTape() as tape:
        conv_output, before_dense = logits(image[None])
        scores = before_dense @ model.layers[-1].kernel + model.layers[-1].bias
        class_channel = scores[:, class_index]
    grads = tape.gradient(class_channel, conv_output)
    pooled_grads = tf.reduce_mean(grads, axis=(0, 1, 2))
    heatmap = tf.squeeze(conv_output[0] @ pooled_grads[..., tf.newaxis])
    heatmap = tf.maximum(heatmap, 0) / tf.math.reduce_max(heatmap)
    return np.asarray(heatmap)


def test_behind_global_pooling_the_map_is_grad_cam_as_keras_example_computes_it():
    model = small_convnet("gap")
    image = np.random.default_rng(1).integers(0, 256, (12, 12, 1)).astype(np.float32)
    compared = 0
    for class_index in range(3):
        reference = keras_example_grad_cam(model, image, class_index)
        if not np.isfinite(reference).all() or reference.max() <= 0:
            continue  # no positive evidence for this class: nothing to compare
        result = saliency(model, image, class_index)
        np.testing.assert_allclose(result.heat, upsample(reference, 12, 12) / upsample(reference, 12, 12).max(),
                                   atol=1e-5)
        compared += 1
    assert compared >= 1


def test_behind_flatten_the_map_is_each_places_share_of_the_score():
    # Behind Flatten → Dense the score is Σ W·A + b, so each place's share is exact: Σ_k W[(i, j, k), c] · A[i, j, k].
    import keras

    model = small_convnet("flatten")
    image = np.random.default_rng(2).integers(0, 256, (12, 12, 1)).astype(np.float32)
    maps = np.asarray(keras.Model(model.inputs, model.get_layer("conv").output)(image[None]))[0]  # (12, 12, 4)
    weights = np.asarray(model.layers[-1].kernel)[:, 1].reshape(12, 12, 4)
    share = np.maximum((maps * weights).sum(axis=-1), 0)
    result = saliency(model, image, 1)
    np.testing.assert_allclose(result.heat, share / share.max(), atol=1e-5)


def test_a_map_with_no_evidence_or_none_singled_out_says_so():
    assert "no part of the image counts" in uninformative(np.zeros((7, 7)), np.zeros((28, 28))).lower()
    flat = np.ones((7, 7))
    assert "spread over most of the image" in uninformative(flat, upsample(flat, 28, 28))
    spot = np.zeros((7, 7))
    spot[3, 3] = 1.0
    assert uninformative(spot, upsample(spot, 28, 28)) == ""


def test_scaling_up_puts_each_cells_centre_over_the_area_it_covers():
    cell = np.zeros((7, 7))
    cell[3, 3] = 1.0  # covers input rows and columns 12–15 of 28
    heat = upsample(cell, 28, 28)
    rows, columns = np.nonzero(heat)
    assert heat.shape == (28, 28) and rows.mean() == pytest.approx(13.5) and columns.mean() == pytest.approx(13.5)


def test_gradient_times_input_for_a_dense_model_matches_the_weights():
    """For Rescale → Flatten → Dense(softmax), d(logit_c)/d(pixel) is W[pixel, c] / 255 exactly."""
    model = build_model([Rescale(), Flatten()], (3, 3, 1), 2)
    image = np.arange(9, dtype=np.float32).reshape(3, 3, 1) * 20
    result = saliency(model, image, 1)
    assert result.method == "gradient × input"
    kernel = np.asarray(model.layers[-1].kernel)[:, 1].reshape(3, 3)
    expected = np.maximum(kernel / 255 * image[:, :, 0], 0)
    np.testing.assert_allclose(result.heat, expected / expected.max(), atol=1e-5)


def test_bad_inputs_are_clear_errors(digits_model, images):
    with pytest.raises(ValueError, match="out of range"):
        saliency(digits_model, images[0], 10)
    with pytest.raises(ValueError, match="takes 8×8×1"):
        probabilities(digits_model, np.zeros((28, 28, 1), np.float32))


def test_verdict_is_honest_when_unsure():
    names = [str(i) for i in range(3)]
    assert verdict(np.array([0.9, 0.05, 0.05]), names).startswith("It reads **0**")
    unsure = verdict(np.array([0.4, 0.35, 0.25]), names)
    assert unsure.startswith("Not sure") and "40.0%" in unsure and "1 35.0%" in unsure
