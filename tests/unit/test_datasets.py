"""The built-in dataset loaders, against the real files in the data directory."""

from __future__ import annotations

import numpy as np
import pytest

import core.data.datasets as datasets
from core.data.datasets import BUILTIN_DATASETS, DatasetNotFoundError, load_dataset
from core.data.statistics import pixel_stats

EXPECTED = {  # name: (train count, test count, image shape)
    "mnist": (60_000, 10_000, (28, 28, 1)),
    "fashion_mnist": (60_000, 10_000, (28, 28, 1)),
    "cifar10": (50_000, 10_000, (32, 32, 3)),
}


@pytest.fixture(scope="module")
def loaded(data_dir):
    return {name: load_dataset(name, data_dir, allow_download=False) for name in EXPECTED}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_shapes_dtypes_and_label_ranges(loaded, name):
    dataset = loaded[name]
    train, test, shape = EXPECTED[name]
    assert dataset.x_train.shape == (train, *shape)
    assert dataset.x_test.shape == (test, *shape)
    assert dataset.x_train.dtype == np.uint8 and dataset.x_test.dtype == np.uint8
    assert dataset.y_train.shape == (train,) and dataset.y_test.shape == (test,)
    assert set(np.unique(dataset.y_train)) == set(range(10)) == set(np.unique(dataset.y_test))
    assert dataset.class_names == BUILTIN_DATASETS[name].class_names
    assert dataset.image_shape == shape == BUILTIN_DATASETS[name].image_shape
    assert "data directory" in dataset.source


def test_mnist_per_class_counts_and_train_statistics(loaded):
    mnist = loaded["mnist"]
    test_counts = np.bincount(mnist.y_test)
    assert test_counts[0] == 980
    np.testing.assert_array_equal(test_counts, [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009])
    assert np.bincount(mnist.y_train)[1] == 6742
    stats = pixel_stats(mnist.x_train)
    assert stats.mean == pytest.approx(33.318, abs=5e-4)
    assert stats.std == pytest.approx(78.567, abs=5e-4)
    # the first training image is the famous 5, and the first test image a 7
    assert mnist.y_train[0] == 5 and mnist.y_test[0] == 7


def test_fashion_and_cifar_are_balanced_with_named_classes(loaded):
    assert (np.bincount(loaded["fashion_mnist"].y_test) == 1000).all()
    assert (np.bincount(loaded["cifar10"].y_train) == 5000).all()
    assert loaded["fashion_mnist"].class_names[0] == "T-shirt/top"
    assert loaded["fashion_mnist"].class_names[-1] == "Ankle boot"
    assert loaded["cifar10"].class_names[0] == "airplane" and loaded["cifar10"].class_names[-1] == "truck"


def test_cifar_images_are_real_photos_not_blank(loaded):
    cifar = loaded["cifar10"]
    # JPEG copies of real photos: broad spread of values, colour channels differ.
    assert 100 < cifar.x_test.mean() < 140
    assert cifar.x_test.std() > 50
    assert np.abs(cifar.x_test[..., 0].astype(int) - cifar.x_test[..., 2]).mean() > 5


def test_digits_ships_with_scikit_learn():
    digits = load_dataset("digits", data_dir="/nonexistent")
    assert digits.x_train.shape == (1437, 8, 8, 1) and digits.x_test.shape == (360, 8, 8, 1)
    assert digits.x_train.max() == 255 and digits.x_train.dtype == np.uint8
    assert len(np.unique(digits.y_test)) == 10


def test_cifar_official_pickles_are_read(tmp_path):
    import pickle

    folder = tmp_path / "cifar10" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {b"data": rng.integers(0, 256, (4, 3072), dtype=np.uint8), b"labels": [0, 1, 2, 9]}
        (folder / name).write_bytes(pickle.dumps(batch))
    dataset = load_dataset("cifar10", tmp_path, allow_download=False)
    assert dataset.x_train.shape == (20, 32, 32, 3) and dataset.x_test.shape == (4, 32, 32, 3)
    # channel-first rows in the pickle become the last axis
    raw = pickle.loads((folder / "test_batch").read_bytes())[b"data"][0]
    np.testing.assert_array_equal(dataset.x_test[0, :, :, 1].ravel(), raw[1024:2048])


def test_offline_and_missing_names_the_files_and_where_to_put_them(tmp_path, monkeypatch):
    def no_network(name):
        raise Exception("URL fetch failure on https://storage.googleapis.com/: [Errno -3] name resolution")

    monkeypatch.setattr(datasets, "_download_with_keras", no_network)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    with pytest.raises(DatasetNotFoundError) as raised:
        load_dataset("fashion_mnist", tmp_path)
    message = str(raised.value)
    for expected in ("Fashion-MNIST", str(tmp_path / "fashion-mnist"), "train-images-idx3-ubyte.gz",
                     "t10k-labels-idx1-ubyte.gz", "CNNLAB_DATA_DIR", "Keras could not download", "name resolution"):
        assert expected in message


def test_no_data_dir_and_no_download_says_so(monkeypatch):
    monkeypatch.delenv("CNNLAB_DATA_DIR", raising=False)
    with pytest.raises(DatasetNotFoundError, match=r"(?s)No data directory is set.*cifar-10-batches-py"):
        load_dataset("cifar10", allow_download=False)


def test_partial_idx_folder_lists_the_missing_files(tmp_path):
    (tmp_path / "mnist").mkdir()
    (tmp_path / "mnist" / "train-images-idx3-ubyte.gz").write_bytes(b"")
    with pytest.raises(DatasetNotFoundError, match=r"missing: train-labels-idx1-ubyte\.gz, t10k-images"):
        load_dataset("mnist", tmp_path)


def test_data_dir_comes_from_the_environment(data_dir, monkeypatch):
    monkeypatch.setenv("CNNLAB_DATA_DIR", str(data_dir))
    assert datasets.find_local_copy("mnist") == data_dir / "mnist"
    assert not datasets.needs_download("mnist")
    monkeypatch.setenv("CNNLAB_DATA_DIR", "/nonexistent")
    monkeypatch.setenv("KERAS_HOME", "/nonexistent-keras")
    assert datasets.needs_download("mnist")
    assert not datasets.needs_download("digits")


def test_unknown_name_is_a_value_error():
    with pytest.raises(ValueError, match="Unknown dataset 'imagenet'"):
        load_dataset("imagenet")


@pytest.mark.parametrize("name", BUILTIN_DATASETS)
def test_each_builtin_dataset_knows_its_training_size_before_loading(name, data_dir):
    assert len(load_dataset(name).x_train) == BUILTIN_DATASETS[name].train_images
