"""Uploaded .keras files: the config is bounded before Keras builds anything; bad files get clear messages."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

keras = pytest.importorskip("keras")

from core.model.upload_check import ModelFileError, import_model, inspect_keras_file  # noqa: E402
from core.store.runs import list_runs  # noqa: E402


def save(model, path: Path) -> Path:
    model.save(path)
    return path


def small_model(shape=(8, 8, 1), classes=10):
    return keras.Sequential([keras.Input(shape), keras.layers.Rescaling(1 / 255), keras.layers.Conv2D(4, 3),
                             keras.layers.MaxPooling2D(), keras.layers.Flatten(),
                             keras.layers.Dense(classes, activation="softmax")])


def rewrite_config(source: Path, target: Path, change) -> Path:
    """Copies a .keras zip with its config.json edited, without Keras ever building the result."""
    with zipfile.ZipFile(source) as archive, zipfile.ZipFile(target, "w") as out:
        for item in archive.infolist():
            data = archive.read(item.filename)
            if item.filename == "config.json":
                config = json.loads(data)
                change(config)
                data = json.dumps(config).encode()
            out.writestr(item.filename, data)
    return target


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> Path:
    return save(small_model(), tmp_path_factory.mktemp("models") / "good.keras")


def test_a_good_model_is_read_with_its_parameter_count(good):
    report = inspect_keras_file(good)
    assert report.input_shape == (8, 8, 1) and report.num_classes == 10 and report.rescales
    assert report.parameters == small_model().count_params()
    assert [layer.kind for layer in report.spec] == ["Rescaling", "Conv2D", "Pooling2D", "Flatten"]


def test_batchnorm_momentum_is_read_and_a_bad_one_refused(tmp_path):
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Rescaling(1 / 255), keras.layers.Conv2D(4, 3),
                              keras.layers.BatchNormalization(momentum=0.9), keras.layers.Flatten(),
                              keras.layers.Dense(10, activation="softmax")])
    path = save(model, tmp_path / "norm.keras")
    assert inspect_keras_file(path).spec[2].momentum == pytest.approx(0.9)

    def bad_momentum(config):
        config["config"]["layers"][3]["config"]["momentum"] = "fast"

    with pytest.raises(ModelFileError, match="momentum must be a number"):
        inspect_keras_file(rewrite_config(path, tmp_path / "bad.keras", bad_momentum))


def test_a_huge_dense_is_refused_before_loading(good, tmp_path):
    def enlarge(config):
        config["config"]["layers"][-1]["config"]["units"] = 100_000

    with pytest.raises(ModelFileError, match="units"):
        inspect_keras_file(rewrite_config(good, tmp_path / "huge.keras", enlarge))

    def widen(config):  # within the unit cap, but 8,000 × 8,000 parameters
        layers = config["config"]["layers"]
        dense = json.loads(json.dumps(layers[-1]))
        dense["config"].update(units=8000, activation="relu", name="wide")
        layers.insert(-1, dense)
        layers.insert(-1, json.loads(json.dumps(dense)) | {"config": dense["config"] | {"name": "wide2"}})

    with pytest.raises(ModelFileError, match="past 20,000,000 parameters"):
        inspect_keras_file(rewrite_config(good, tmp_path / "wide.keras", widen))


def test_lambda_and_unknown_classes_are_refused(good, tmp_path):
    lambda_model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Lambda(lambda x: x * 2),
                                     keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")])
    with pytest.raises(ModelFileError, match="'Lambda' is not one the app can load"):
        inspect_keras_file(save(lambda_model, tmp_path / "lambda.keras"))

    def unknown(config):
        config["config"]["layers"][1]["class_name"] = "EvilLayer"

    with pytest.raises(ModelFileError, match="EvilLayer"):
        inspect_keras_file(rewrite_config(good, tmp_path / "unknown.keras", unknown))

    def custom_module(config):
        config["config"]["layers"][1]["module"] = "my_package.layers"

    with pytest.raises(ModelFileError, match="custom code is never loaded"):
        inspect_keras_file(rewrite_config(good, tmp_path / "custom.keras", custom_module))


@pytest.mark.parametrize(("content", "fragment"), [
    (b"", "not a .keras file"),
    (b"\x00\x01random bytes" * 100, "not a .keras file"),
    (b"\x89HDF\r\n\x1a\n" + b"\x00" * 100, "legacy HDF5"),
])
def test_damaged_and_foreign_files(content, fragment, tmp_path):
    path = tmp_path / "bad.keras"
    path.write_bytes(content)
    with pytest.raises(ModelFileError, match=fragment):
        inspect_keras_file(path)


def test_a_truncated_file_is_refused(good, tmp_path):
    path = tmp_path / "truncated.keras"
    path.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(ModelFileError):
        inspect_keras_file(path)


def test_a_functional_model_and_a_missing_softmax_are_refused(tmp_path):
    inputs = keras.Input((8, 8, 1))
    functional = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(keras.layers.Flatten()(inputs)))
    with pytest.raises(ModelFileError, match="Only Sequential"):
        inspect_keras_file(save(functional, tmp_path / "functional.keras"))
    logits = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(), keras.layers.Dense(10)])
    with pytest.raises(ModelFileError, match="softmax"):
        inspect_keras_file(save(logits, tmp_path / "logits.keras"))


def test_import_checks_the_dataset_shape_then_stores_with_test_accuracy(good, tmp_path):
    with pytest.raises(ModelFileError, match=r"takes \(8, 8, 1\) images"):
        import_model(good, "mnist", "wrong", tmp_path)
    result = import_model(good, "digits", "my upload", tmp_path)
    runs = list_runs(tmp_path)
    assert [run.run_id for run in runs] == [result["run_id"]]
    assert runs[0].status == "uploaded" and 0 <= result["test"]["accuracy"] <= 1
    assert runs[0].metrics["test"]["images"] == 360


def test_a_model_at_chance_on_its_assigned_dataset_is_warned_about(tmp_path, data_dir):
    # The shipped MNIST model, told it was trained on Fashion-MNIST: the shapes fit, the scores do not.
    from core.train.recipes import SHIPPED_RUN_IDS
    from tests.conftest import REPO_ROOT

    mnist_model = REPO_ROOT / "models" / "defaults" / SHIPPED_RUN_IDS["mnist"] / "model.keras"
    wrong = import_model(mnist_model, "fashion_mnist", "mnist model as fashion", tmp_path)
    assert wrong["test"]["accuracy"] < 0.2
    assert len(wrong["warnings"]) == 1 and "probably trained on another dataset" in wrong["warnings"][0]
    assert "probably trained on another dataset" in list_runs(tmp_path)[0].stop_reason
    right = import_model(mnist_model, "mnist", "mnist model as mnist", tmp_path)
    assert right["test"]["accuracy"] > 0.98 and right["warnings"] == []
