"""Looking inside a model (core.predict.inspection), checked against Keras' own outputs."""

from __future__ import annotations

import numpy as np
import pytest

from core.data.datasets import load_dataset
from core.model.architectures import build_model
from core.model.layers import Flatten, Rescale
from core.predict.inspection import activations, probabilities, saliency, verdict
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


def test_grad_cam_is_a_normalised_map_at_the_input_size(digits_model, images):
    result = saliency(digits_model, images[0], 3)
    assert result.method == "Grad-CAM" and result.layer and result.class_index == 3
    assert result.heat.shape == (8, 8) and result.heat.min() >= 0 and result.heat.max() <= 1


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
