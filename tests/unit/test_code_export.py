"""The exported script and notebook run with plain Keras and rebuild the run's model."""

import ast
import importlib.util
import json
import sys

import numpy as np
import pytest

from core.evaluate.code_export import export_notebook, export_script, file_stem, layer_code
from core.model.architectures import trainable_parameters
from core.model.layers import BatchNorm, Conv, Pool, spec_from_dicts, spec_to_dicts
from core.model.presets import PRESETS
from core.store.runs import RunRecord
from core.train.recipes import default_config


def make_record(dataset: str, preset: str, input_shape: list[int], **settings) -> RunRecord:
    config = default_config(dataset, preset)
    hyperparameters = {**config.hyperparameters(), "epochs": 1, "batch_size": 32, "validation_split": 0.25,
                       **settings}
    return RunRecord(run_id="20261121-120000-abcdef", name="export test", dataset=dataset,
                     spec=spec_to_dicts(PRESETS[preset].spec()), hyperparameters=hyperparameters,
                     history={}, metrics={"test": {"accuracy": 0.5}}, training_seconds=1.0,
                     input_shape=input_shape, class_names=[f"class {i}" for i in range(10)])


def import_script(source: str, tmp_path, name: str):
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclass-free, but keeps tracebacks readable
    spec.loader.exec_module(module)
    return module


def tiny_data(shape, count=96, seed=0):
    generator = np.random.default_rng(seed)
    images = generator.integers(0, 256, size=(count, *shape), dtype=np.uint8)
    return images, np.arange(count) % 10


def test_layer_code_is_the_builders_call():
    assert layer_code(Conv(32, 5, stride=2, padding="same").keras_call()) == (
        'keras.layers.Conv2D(32, 5, strides=2, padding="same", activation="relu")')
    assert layer_code(Conv(8, 3, l2=1e-4).keras_call()).endswith('kernel_regularizer=keras.regularizers.L2(0.0001))')
    assert layer_code(Pool("average", 3, stride=1).keras_call()) == "keras.layers.AveragePooling2D(3, strides=1)"
    assert layer_code(BatchNorm(0.9).keras_call()) == "keras.layers.BatchNormalization(momentum=0.9)"
    assert layer_code(BatchNorm().keras_call()) == "keras.layers.BatchNormalization()"


@pytest.mark.parametrize(("dataset", "preset", "shape", "settings"), [
    ("mnist", "fast_digits", [28, 28, 1], {"early_stopping": True, "early_monitor": "val_loss"}),
    ("cifar10", "regularised_cnn", [32, 32, 3],
     {"loss": "categorical", "optimizer": "sgd", "schedule": "constant", "target_accuracy": 0.99,
      "reduce_lr": True, "engine": "tape"}),
    ("cifar10", "speed_cifar", [32, 32, 3],
     {"loss": "categorical", "label_smoothing": 0.2, "optimizer": "sgd", "learning_rate": 0.2}),
])
def test_exported_script_rebuilds_the_model_and_trains_one_epoch(tmp_path, dataset, preset, shape, settings, capsys):
    record = make_record(dataset, preset, shape, **settings)
    source = export_script(record)
    assert "cnnlab" not in "".join(line for line in source.splitlines() if line.startswith(("import", "from")))
    ast.parse(source)
    module = import_script(source, tmp_path, f"exported_{preset}")
    train, test = tiny_data(tuple(shape)), tiny_data(tuple(shape), 40, seed=1)
    module.load_data = lambda data_dir=None: (train, test)  # keras.datasets cannot download here

    model, history = module.main(["--epochs", "1", "--subset", "80"])

    expected = trainable_parameters(spec_from_dicts(record.spec), tuple(shape), 10)
    assert sum(int(np.prod(weight.shape)) for weight in model.trainable_weights) == expected
    assert len(history.history["loss"]) == 1 and "val_accuracy" in history.history  # 20 held out
    assert "Test loss" in capsys.readouterr().out


def test_mixed_precision_runs_export_the_policy(tmp_path):
    import keras

    record = make_record("cifar10", "fast_cifar", [32, 32, 3], precision="mixed_bfloat16")
    source = export_script(record)
    assert 'keras.config.set_dtype_policy("mixed_bfloat16")' in source and 'dtype="float32"' in source
    module = import_script(source, tmp_path, "exported_mixed")
    try:
        model = module.build_model()
        assert model.layers[1].dtype_policy.name == "mixed_bfloat16"
        assert model.layers[-1].dtype_policy.name == "float32"
    finally:
        keras.config.set_dtype_policy("float32")  # the script sets it for its whole process


def test_script_loads_the_real_dataset_the_app_way(tmp_path):
    source = export_script(make_record("digits", "fast_digits", [8, 8, 1]))
    module = import_script(source, tmp_path, "exported_digits")
    (x_train, _), (_, y_test) = module.load_data()
    from core.data.datasets import load_dataset

    app = load_dataset("digits")
    assert np.array_equal(x_train, app.x_train) and np.array_equal(y_test, app.y_test)
    assert x_train.dtype == np.uint8 and x_train.shape[1:] == (8, 8, 1)
    assert "keras.datasets.mnist.load_data()" in export_script(make_record("mnist", "dense", [28, 28, 1]))


def test_notebook_is_valid_json_whose_code_runs_as_the_script(tmp_path):
    record = make_record("mnist", "two_conv_blocks", [28, 28, 1])
    notebook = json.loads(export_notebook(record))
    assert notebook["nbformat"] == 4
    assert all(cell["id"] and cell["cell_type"] in ("markdown", "code") for cell in notebook["cells"])
    code_cells = ["".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert code_cells[-1] == "model, history = main([])"
    source = "\n\n".join(code_cells[:-1])
    assert "__main__" not in source
    module = import_script(source, tmp_path, "exported_notebook")
    model = module.build_model()
    assert model.count_params() == trainable_parameters(spec_from_dicts(record.spec), (28, 28, 1), 10)


def test_file_stem():
    stem = file_stem(make_record("folder:my pets", "dense", [32, 32, 3]))
    assert stem == "cnnlab_folder_my_pets_20261121-120000-abcdef"


def test_stroke_thickness_runs_export_the_augmentation_and_train(tmp_path, capsys):
    record = make_record("mnist", "drawn_digits", [28, 28, 1], stroke_thickness=0.3)
    source = export_script(record)
    assert "STROKE_THICKNESS = 0.3" in source and "with_thickness(x, y)" in source
    module = import_script(source, tmp_path, "exported_thickness")
    module.load_data = lambda data_dir=None: (tiny_data((28, 28, 1)), tiny_data((28, 28, 1), 40, seed=1))
    _, history = module.main(["--epochs", "1", "--subset", "80"])
    assert len(history.history["loss"]) == 1 and "Test loss" in capsys.readouterr().out
    images = np.zeros((40, 5, 5, 1), np.uint8)
    images[:, 2, 2] = 200  # one dot per image
    module.STROKE_THICKNESS = 1.0  # every image changes: a 3×3 block of 200, or the dot halved
    varied, _ = module.vary_thickness(images, None)
    outcomes = {(int((image > 0).sum()), int(image.max())) for image in varied.numpy()}
    assert outcomes == {(9, 200), (1, 100)}
    assert "STROKE_THICKNESS" not in export_script(make_record("mnist", "fast_digits", [28, 28, 1]))


def test_label_smoothing_is_exported_in_the_loss_and_trains(tmp_path, capsys):
    record = make_record("mnist", "one_conv", [28, 28, 1], loss="categorical", label_smoothing=0.2)
    source = export_script(record)
    assert "LABEL_SMOOTHING = 0.2" in source
    assert "loss=keras.losses.CategoricalCrossentropy(label_smoothing=LABEL_SMOOTHING)" in source
    module = import_script(source, tmp_path, "exported_smoothing")
    module.load_data = lambda data_dir=None: (tiny_data((28, 28, 1)), tiny_data((28, 28, 1), 40, seed=1))
    model, history = module.main(["--epochs", "1", "--subset", "80"])
    assert model.loss.get_config()["label_smoothing"] == pytest.approx(0.2)
    assert len(history.history["loss"]) == 1 and "Test loss" in capsys.readouterr().out
    plain = export_script(make_record("mnist", "one_conv", [28, 28, 1], loss="categorical"))
    assert "LABEL_SMOOTHING" not in plain and 'loss="categorical_crossentropy"' in plain


@pytest.mark.parametrize(("dataset", "shape"), [("mnist", [28, 28, 1]), ("fashion_mnist", [28, 28, 1]),
                                                ("cifar10", [32, 32, 3])])
def test_data_dir_reads_the_apps_data_folder_with_numpy_and_pillow(dataset, shape, data_dir, tmp_path):
    from core.data.datasets import load_dataset

    record = make_record(dataset, "dense", shape)
    record.class_names = list(load_dataset(dataset).class_names)
    source = export_script(record)
    assert "keras.datasets" in source and "import keras" in source
    module = import_script(source, tmp_path, f"exported_{dataset}")
    (x_train, y_train), (x_test, y_test) = module.load_data(str(data_dir))
    app = load_dataset(dataset, data_dir)
    for mine, theirs in ((x_train, app.x_train), (y_train, app.y_train), (x_test, app.x_test), (y_test, app.y_test)):
        assert mine.dtype == theirs.dtype and np.array_equal(mine, theirs)


def test_an_uploaded_folders_script_reads_class_folders(tmp_path):
    from PIL import Image

    root = tmp_path / "pets"
    for label, name in enumerate(("cat", "dog")):
        (root / name).mkdir(parents=True)
        for i in range(10):
            Image.fromarray(np.full((20, 30, 3), 40 + 100 * label + i, np.uint8)).save(root / name / f"{i}.png")
    record = make_record("mnist", "dense", [16, 16, 3])
    record.dataset, record.class_names = "folder:pets:abc:16:rgb:0.2", ["cat", "dog"]
    module = import_script(export_script(record), tmp_path, "exported_pets")
    (x_train, y_train), (x_test, y_test) = module.load_data(str(root))
    assert len(y_train) == len(x_train)
    assert x_train.shape == (16, 16, 16, 3) and x_test.shape == (4, 16, 16, 3)
    assert sorted(np.bincount(y_test).tolist()) == [2, 2] and x_train.dtype == np.uint8


def test_the_exported_script_trains_offline_on_the_data_folder(data_dir, tmp_path):
    import subprocess

    path = tmp_path / "mnist_run.py"
    path.write_text(export_script(make_record("mnist", "dense", [28, 28, 1])))
    done = subprocess.run([sys.executable, str(path), "--data-dir", str(data_dir), "--epochs", "1", "--subset", "2000"],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "KERAS_HOME": str(tmp_path / "k")})
    assert done.returncode == 0, done.stderr[-2000:]
    accuracy = float(done.stdout.split("test accuracy ")[1].split("%")[0])
    assert accuracy > 80  # 2,000 MNIST images, one epoch of a Dense net: it learned from the real files
    assert not (tmp_path / "k" / "datasets").exists()  # nothing was downloaded
