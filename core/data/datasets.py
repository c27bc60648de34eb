"""The dataset layer: built-in datasets, where their files are found, and user image folders.

Every loader returns the same `Dataset`: uint8 images shaped (N, H, W, C) on the 0–255 scale
and int64 labels (N,). Nothing is normalised here: models do that inside themselves, and the
explorer shows the steps.

Look-up order for the built-in datasets: the data directory (an argument, else the
`CNNLAB_DATA_DIR` environment variable) in the public file formats; then Keras' own cache and
download. Files in the data directory are parsed here and never handed to `keras.datasets`,
which deletes files whose hash it does not recognise.
"""

from __future__ import annotations

import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np

from core.data.idx import read_idx
from core.data.image_folder import FolderContent, FolderLimits, read_image_folder
from core.data.images import ColorMode

DATA_DIR_ENV = "CNNLAB_DATA_DIR"
IDX_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
_DIGIT_CLASSES = tuple(str(digit) for digit in range(10))


class DatasetNotFoundError(FileNotFoundError):
    """A built-in dataset is neither in the data directory nor downloadable; the message says how to fix it."""


@dataclass(frozen=True)
class DatasetInfo:
    """What the app knows about a built-in dataset before loading it.

    Args:
        name: The identifier used in code, e.g. "fashion_mnist".
        display_name: The name shown to people.
        description: One or two sentences on what the images are.
        image_shape: (H, W, C) of every image.
        class_names: Class names in label order.
        folder: The sub-folder of the data directory that holds its files.
        download_size: A human-readable size of Keras' download, for the status message.
        train_images: Images in its training split, known before loading (for the queue's estimates).
    """

    name: str
    display_name: str
    description: str
    image_shape: tuple[int, int, int]
    class_names: tuple[str, ...]
    folder: str
    download_size: str
    train_images: int


BUILTIN_DATASETS: dict[str, DatasetInfo] = {
    info.name: info
    for info in (
        DatasetInfo(
            "digits", "Digits (scikit-learn, 8×8)",
            "1,797 handwritten digits scanned at 8×8 pixels with 17 grey levels, shipped inside scikit-learn. "
            "Tiny and always available, so it is the default; shown here rescaled from 0–16 to 0–255.",
            (8, 8, 1), _DIGIT_CLASSES, "", "none (bundled)", 1437,
        ),
        DatasetInfo(
            "mnist", "MNIST handwritten digits",
            "70,000 handwritten digits, 28×28 grey, white ink on black, each digit centred by its centre of mass "
            "in a 20×20 box. The 'hello world' of image classification.",
            (28, 28, 1), _DIGIT_CLASSES, "mnist", "11 MB", 60_000,
        ),
        DatasetInfo(
            "fashion_mnist", "Fashion-MNIST clothing",
            "70,000 greyscale 28×28 photos of clothes and shoes from Zalando in 10 classes. Same format as MNIST "
            "but clearly harder: shirts, T-shirts and pullovers look alike.",
            (28, 28, 1), FASHION_MNIST_CLASSES, "fashion-mnist", "30 MB", 60_000,
        ),
        DatasetInfo(
            "cifar10", "CIFAR-10 small photos",
            "60,000 colour photos, 32×32 RGB, of 10 everyday classes (planes, cars, animals, ships, trucks). "
            "Objects vary in pose, background and colour, so dense networks struggle and convolutions shine.",
            (32, 32, 3), CIFAR10_CLASSES, "cifar10", "170 MB", 50_000,
        ),
    )
}
DEFAULT_DATASET = "digits"


@dataclass(frozen=True, eq=False)
class Dataset:
    """Train and test images with integer labels.

    Args:
        name: Identifier, e.g. "mnist" or "folder:pets".
        display_name: Name shown to people.
        description: What the images are.
        class_names: Class names in label order.
        x_train: uint8 images (N, H, W, C), values 0–255.
        y_train: int64 labels (N,), in [0, num_classes).
        x_test: uint8 images (M, H, W, C).
        y_test: int64 labels (M,).
        source: Where the data was read from, for display.
        notes: Remarks from loading (skipped files and the like).
    """

    name: str
    display_name: str
    description: str
    class_names: tuple[str, ...]
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        for split in ("train", "test"):
            x, y = self.split(split)
            if x.dtype != np.uint8 or x.ndim != 4:
                raise ValueError(f"{split} images must be uint8 (N, H, W, C); got {x.dtype} {x.shape}.")
            if y.shape != (len(x),):
                raise ValueError(f"{split} labels must be shaped ({len(x)},); got {y.shape}.")
            if len(y) and (y.min() < 0 or y.max() >= len(self.class_names)):
                raise ValueError(f"{split} labels must lie in [0, {len(self.class_names)}).")

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(H, W, C) of every image."""
        return tuple(self.x_train.shape[1:])  # type: ignore[return-value]

    @property
    def num_classes(self) -> int:
        """How many classes there are."""
        return len(self.class_names)

    @property
    def is_color(self) -> bool:
        """Whether the images have three channels."""
        return self.image_shape[2] == 3

    def read_only(self) -> Dataset:
        """Turns off its arrays' write flag and returns it, so it can be shared by every session.

        A server holds one copy of each built-in dataset for all its visitors (CIFAR-10 is 184 MB);
        code that needs to change images copies them first, and a forgotten copy fails loudly.
        """
        for array in (self.x_train, self.y_train, self.x_test, self.y_test):
            array.flags.writeable = False
        return self

    def split(self, which: str) -> tuple[np.ndarray, np.ndarray]:
        """Returns (images, labels) of the "train" or "test" split."""
        if which == "train":
            return self.x_train, self.y_train
        if which == "test":
            return self.x_test, self.y_test
        raise ValueError(f"split must be 'train' or 'test', got {which!r}.")


def resolve_data_dir(data_dir: str | Path | None = None) -> Path | None:
    """Returns the data directory: the argument, else `$CNNLAB_DATA_DIR`, else None."""
    chosen = data_dir if data_dir is not None else os.environ.get(DATA_DIR_ENV) or None
    return Path(chosen).expanduser() if chosen is not None else None


def _keras_home() -> Path:
    # Mirrors keras.src.backend.config.keras_home() without importing Keras (and TensorFlow).
    return Path(os.environ.get("KERAS_HOME") or Path("~/.keras").expanduser())


def _keras_cache_paths(name: str) -> list[Path]:
    datasets = _keras_home() / "datasets"
    return {
        "mnist": [datasets / "mnist.npz"],
        "fashion_mnist": [datasets / "fashion-mnist" / file for file in IDX_FILES],
        "cifar10": [datasets / "cifar-10-batches-py-target" / "cifar-10-batches-py" / "test_batch"],
    }.get(name, [])


def _cifar_candidates(data_dir: Path) -> list[Path]:
    """The places a CIFAR-10 copy may be in the data directory, most direct first."""
    roots = [data_dir / "cifar10", data_dir / "cifar10-jpg", data_dir / "cifar-10", data_dir]
    names = ["cifar-10-batches-py", "cifar-10-images-jpg", "cifar-10-images-jpg.tar.gz"]
    return [root / name for root in roots for name in names] + [roots[0]]


def _find_cifar(data_dir: Path) -> Path | None:
    for candidate in _cifar_candidates(data_dir):
        if candidate.name == "cifar-10-batches-py" and (candidate / "test_batch").is_file():
            return candidate
        if candidate.is_file() and candidate.name.endswith(".tar.gz"):
            return candidate
        if candidate.is_dir() and (candidate / "train").is_dir() and (candidate / "test").is_dir():
            return candidate
    return None


def find_local_copy(name: str, data_dir: str | Path | None = None) -> Path | None:
    """Returns where a built-in dataset lies in the data directory, or None.

    Args:
        name: A key of `BUILTIN_DATASETS`.
        data_dir: The data directory; defaults to `$CNNLAB_DATA_DIR`.
    """
    info = _info(name)
    root = resolve_data_dir(data_dir)
    if info.name == "digits":
        return None
    if root is None:
        return None
    if info.name == "cifar10":
        return _find_cifar(root)
    folder = root / info.folder
    return folder if any((folder / file).is_file() for file in IDX_FILES) else None


def needs_download(name: str, data_dir: str | Path | None = None) -> bool:
    """Whether loading `name` will have to download it (it is neither local nor in Keras' cache)."""
    if _info(name).name == "digits" or find_local_copy(name, data_dir) is not None:
        return False
    return not all(path.is_file() for path in _keras_cache_paths(name))


def _info(name: str) -> DatasetInfo:
    if name not in BUILTIN_DATASETS:
        raise ValueError(f"Unknown dataset {name!r}; choose one of {sorted(BUILTIN_DATASETS)}.")
    return BUILTIN_DATASETS[name]


def _as_nhwc(images: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    return images.reshape((len(images), *shape))  # (N, H, W, C)


def _load_idx_folder(folder: Path, info: DatasetInfo) -> tuple[np.ndarray, ...]:
    missing = [file for file in IDX_FILES if not (folder / file).is_file()]
    if missing:
        raise DatasetNotFoundError(
            f"{info.display_name}: {folder} holds only some of the four IDX files; missing: {', '.join(missing)}. "
            f"Put all four ({', '.join(IDX_FILES)}) there."
        )
    x_train, y_train, x_test, y_test = (
        read_idx(folder / file, expected_ndim=3 if "images" in file else 1) for file in IDX_FILES
    )
    return _as_nhwc(x_train, info.image_shape), y_train, _as_nhwc(x_test, info.image_shape), y_test


def _load_cifar_batches(folder: Path) -> tuple[np.ndarray, ...]:
    # The official files are Python pickles; like Keras we read them only from the user's own data folder.
    def read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
        with open(path, "rb") as handle:
            batch = pickle.load(handle, encoding="bytes")
        images = np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
        return images, np.asarray(batch[b"labels"])

    train = [read_batch(folder / f"data_batch_{i}") for i in range(1, 6)]
    x_test, y_test = read_batch(folder / "test_batch")
    return np.concatenate([x for x, _ in train]), np.concatenate([y for _, y in train]), x_test, y_test


def _load_local(info: DatasetInfo, location: Path) -> tuple[np.ndarray, ...]:
    if info.name != "cifar10":
        return _load_idx_folder(location, info)
    if location.name == "cifar-10-batches-py":
        return _load_cifar_batches(location)
    limits = FolderLimits(max_files=100_000, max_total_bytes=4 * 2**30)
    content = read_image_folder(location, (32, 32), "rgb", limits=limits, class_names=CIFAR10_CLASSES)
    if not content.had_split_folders:
        raise DatasetNotFoundError(f"{location}: expected train/<class>/ and test/<class>/ folders.")
    return content.x_train, content.y_train, content.x_test, content.y_test


def _download_with_keras(name: str) -> tuple[np.ndarray, ...]:
    """Loads a dataset through `keras.datasets`, which downloads it on first use."""
    import keras  # Imported here: it brings in TensorFlow (seconds, hundreds of MB).

    module = {"mnist": keras.datasets.mnist, "fashion_mnist": keras.datasets.fashion_mnist,
              "cifar10": keras.datasets.cifar10}[name]
    (x_train, y_train), (x_test, y_test) = module.load_data()
    return x_train, y_train, x_test, y_test


def _missing_message(info: DatasetInfo, root: Path | None, reason: str) -> str:
    if info.name == "cifar10":
        wanted = "one of: cifar-10-batches-py/ (the official Python pickles), or a cifar-10-images-jpg/ folder " \
                 "(or .tar.gz) with train/<class>/*.jpg and test/<class>/*.jpg"
        target = "cifar10/"
    else:
        wanted = f"the four gzipped IDX files {', '.join(IDX_FILES)}"
        target = f"{info.folder}/"
    where = (f"The data directory {root} has no copy of it (looked in {root / target})."
             if root is not None else f"No data directory is set (the environment variable {DATA_DIR_ENV} is empty).")
    return (
        f"{info.display_name} is not available. {where} {reason}\n"
        f"To fix this, either put {wanted} into <data dir>/{target} and start the app with "
        f"{DATA_DIR_ENV}=<data dir>, or connect to the internet once so that Keras can download it "
        f"({info.download_size}) into {_keras_home() / 'datasets'}."
    )


def load_dataset(name: str, data_dir: str | Path | None = None, allow_download: bool = True) -> Dataset:
    """Loads a built-in dataset.

    Args:
        name: One of `BUILTIN_DATASETS`: "digits", "mnist", "fashion_mnist" or "cifar10".
        data_dir: The data directory; defaults to `$CNNLAB_DATA_DIR`.
        allow_download: Whether to fall back to Keras' cache and download.

    Returns:
        The dataset, uint8 images (N, H, W, C) and int64 labels.

    Raises:
        ValueError: If `name` is unknown.
        DatasetNotFoundError: If it is neither local nor downloadable; the message says where to put the files.
        core.data.idx.IdxFormatError: If a local IDX file is corrupt.
    """
    info = _info(name)
    if info.name == "digits":
        return _load_digits(info)
    root = resolve_data_dir(data_dir)
    location = find_local_copy(name, root)
    if location is not None:
        arrays = _load_local(info, location)
        source = f"data directory: {location}"
    elif not allow_download:
        raise DatasetNotFoundError(_missing_message(info, root, "Downloading is switched off."))
    else:
        try:
            arrays = _download_with_keras(info.name)
        except Exception as error:  # Keras raises a bare Exception for network failures.
            raise DatasetNotFoundError(
                _missing_message(info, root, f"Keras could not download it either: {error}")
            ) from error
        source = f"Keras cache: {_keras_home() / 'datasets'}"
    return _build(info, arrays, source)


def source_kind(source: str) -> str:
    """Where a dataset came from without the place: "data directory" for "data directory: /srv/…/mnist".

    A hosted server shows visitors this, not its own paths.
    """
    return source.split(":", 1)[0].strip()


def _build(info: DatasetInfo, arrays: tuple[np.ndarray, ...], source: str) -> Dataset:
    x_train, y_train, x_test, y_test = arrays
    x_train, x_test = (_as_nhwc(np.asarray(x, dtype=np.uint8), info.image_shape) for x in (x_train, x_test))
    y_train, y_test = (np.asarray(y, dtype=np.int64).reshape(-1) for y in (y_train, y_test))
    return Dataset(info.name, info.display_name, info.description, info.class_names,
                   x_train, y_train, x_test, y_test, source)


def _load_digits(info: DatasetInfo) -> Dataset:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    bunch = load_digits()
    # 0–16 grey levels → 0–255, so every dataset in the app shares one scale.
    images = np.rint(bunch.images * (255.0 / 16.0)).astype(np.uint8)[..., None]  # (1797, 8, 8, 1)
    x_train, x_test, y_train, y_test = train_test_split(
        images, bunch.target, test_size=0.2, random_state=0, stratify=bunch.target
    )
    return _build(info, (x_train, y_train, x_test, y_test), "scikit-learn (bundled, 80/20 split with seed 0)")


def load_image_folder(
    path_or_zip: str | Path | bytes | BinaryIO,
    image_size: tuple[int, int] = (32, 32),
    color_mode: ColorMode = "rgb",
    test_fraction: float = 0.2,
    seed: int = 0,
    limits: FolderLimits | None = None,
    name: str = "my images",
) -> Dataset:
    """Loads the user's own images from a folder or archive of class sub-folders.

    Args:
        path_or_zip: A folder, a .zip or .tar.gz path, or an archive's bytes or file object.
        image_size: (height, width) every image is resized to.
        color_mode: "grayscale" or "rgb".
        test_fraction: Share of each class held out when there are no train/ and test/ folders.
        seed: Seed of that split.
        limits: Limits on file count, size and image dimensions.
        name: A name to show for the dataset.

    Returns:
        The dataset, with notes on anything skipped.

    Raises:
        core.data.image_folder.ImageFolderError: If the folder is unusable; the message says why.
    """
    content = read_image_folder(path_or_zip, image_size, color_mode, test_fraction, seed, limits)
    return folder_dataset(content, image_size, color_mode, test_fraction, seed, name)


def folder_dataset(content: FolderContent, image_size: tuple[int, int], color_mode: ColorMode, test_fraction: float,
                   seed: int, name: str) -> Dataset:
    """The dataset of arrays read from a class-folder tree, described for the page (see `load_image_folder`)."""
    split = "the archive's own train/ and test/ folders" if content.had_split_folders else (
        f"a {1 - test_fraction:.0%}/{test_fraction:.0%} split per class with seed {seed}")
    description = (f"Your images: {len(content.class_names)} classes, resized to {image_size[0]}×{image_size[1]} "
                   f"{'RGB' if color_mode == 'rgb' else 'grey'}; train and test come from {split}.")
    return Dataset(f"folder:{name}", name, description, content.class_names, content.x_train, content.y_train,
                   content.x_test, content.y_test, "uploaded folder", content.notes)


def dataset_name(key: str) -> str:
    """A dataset key as people read it: "MNIST handwritten digits", or "pets (your upload, 32×32 RGB)".

    Upload keys are "folder:<name>:<digest>:<side>:<mode>:<test share>", internal to the app; the
    name and the size the images were resized to are what a person chose.
    """
    if key in BUILTIN_DATASETS:
        return BUILTIN_DATASETS[key].display_name
    if key.startswith("folder:"):
        parts = key.split(":")
        name = parts[1] if len(parts) > 1 and parts[1] else "your images"
        if len(parts) >= 5 and parts[3].isdigit():
            colour = "RGB" if parts[4] == "rgb" else "grey"
            return f"{name} (your upload, {parts[3]}×{parts[3]} {colour})"
        return f"{name} (your upload)"
    if key.startswith("own:"):
        from core.data.class_sets import describe_key  # the set's names live in the store, beside its examples

        return describe_key(key)
    return key
