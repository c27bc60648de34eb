"""The data loaders written into an exported script: NumPy and Pillow code that reads the app's data folder.

They read the same files the app reads (IDX files, CIFAR-10's pickles or JPEG tree, class folders,
as a folder or a .tar.gz), so an exported run trains offline and on the user's own images.
"""

from __future__ import annotations

from core.data.datasets import BUILTIN_DATASETS

# Readers written into the script, so it runs on the same files the app reads (CNNLAB_DATA_DIR's layout)
# with NumPy and Pillow alone: no download, and never through keras.datasets, which deletes files
# whose hash it does not know.
_IDX_READER = '''def read_idx(path):
    """One IDX file, gzipped or not: a big-endian header (magic, then one uint32 per dimension), then uint8."""
    with (gzip.open if str(path).endswith(".gz") else open)(path, "rb") as handle:
        data = handle.read()
    if data[:3] != b"\\x00\\x00\\x08":
        raise ValueError(f"{path} is not an IDX file of unsigned bytes")
    dims = data[3]
    shape = struct.unpack(f">{dims}I", data[4:4 + 4 * dims])
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)


def load_idx_folder(folder):
    """The four IDX files of MNIST or Fashion-MNIST: (N, 28, 28, 1) uint8 images, integer labels."""
    names = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
    paths = [next((p for p in (Path(folder) / (n + ".gz"), Path(folder) / n) if p.is_file()), None) for n in names]
    missing = [name for name, path in zip(names, paths) if path is None]
    if missing:
        raise FileNotFoundError(f"{folder} lacks {', '.join(missing)} (.gz or plain)")
    x_train, y_train, x_test, y_test = (read_idx(path) for path in paths)
    return (x_train[..., None], y_train.astype(np.int64)), (x_test[..., None], y_test.astype(np.int64))
'''

_FOLDER_READER = '''IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")


def image_files(location):
    """(folder names, a function that opens the file) for every image in a folder or a .tar.gz, in name order."""
    location = Path(location)
    if location.is_file():
        archive = tarfile.open(location)
        members = sorted((m for m in archive.getmembers() if m.isfile() and m.name.lower().endswith(IMAGE_SUFFIXES)),
                         key=lambda member: member.name)
        for member in members:
            yield Path(member.name).parts[:-1], Path(member.name).parts, (lambda m=member: archive.extractfile(m))
        return
    for path in sorted(location.rglob("*")):
        if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES:
            parts = path.relative_to(location).parts
            yield parts[:-1], parts, (lambda p=path: open(p, "rb"))


def read_image(handle, height, width, channels):
    """One image as the app decodes it: the first frame, alpha on black, grey or RGB, resized if needed."""
    with Image.open(handle) as image:
        image.seek(0)
        if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
            image = Image.alpha_composite(Image.new("RGBA", image.size, (0, 0, 0, 255)), image.convert("RGBA"))
        image = image.convert("L" if channels == 1 else "RGB")
        if image.size != (width, height):
            image = image.resize((width, height), Image.Resampling.BILINEAR, reducing_gap=3.0)
        return np.asarray(image, np.uint8).reshape(height, width, channels)  # (H, W, C)


def load_class_folders(location, shape, test_share=0.2, seed=0):
    """Images in class folders (<class>/x.png), or in train/<class>/ and test/<class>/, folder or .tar.gz.

    Without train/ and test/ folders, a seeded share of each class becomes the test set.
    """
    found = {"train": [], "test": [], "": []}
    for folders, parts, open_file in image_files(location):
        at = [i for i, name in enumerate(folders) if name in ("train", "test") and i + 1 < len(folders)]
        split, name = (folders[at[-1]], folders[at[-1] + 1]) if at else ("", folders[-1] if folders else None)
        if name in CLASS_NAMES:
            with open_file() as handle:
                found[split].append((CLASS_NAMES.index(name), parts, read_image(handle, *shape)))
    if found[""] and not found["test"]:
        rng = np.random.default_rng(seed)
        for label in range(len(CLASS_NAMES)):
            mine = [item for item in found[""] if item[0] == label]
            held = set(rng.permutation(len(mine))[:round(len(mine) * test_share)].tolist())
            for position, item in enumerate(mine):
                found["test" if position in held else "train"].append(item)
    if not found["train"] or not found["test"]:
        raise FileNotFoundError(f"no images of the classes {CLASS_NAMES} in {location}")

    def arrays(items):
        items = sorted(items, key=lambda item: item[:2])  # by class, then by name, as the app orders them
        return np.stack([item[2] for item in items]), np.array([item[0] for item in items], np.int64)

    return arrays(found["train"]), arrays(found["test"])
'''

_CIFAR_PLACES = '''def find_cifar(data_dir):
    """Where CIFAR-10 lies in a data folder: the official pickles, or a JPEG tree (folder or .tar.gz)."""
    roots = [Path(data_dir) / name for name in ("cifar10", "cifar10-jpg", "cifar-10", "")]
    for root in roots:
        for name in ("cifar-10-batches-py", "cifar-10-images-jpg", "cifar-10-images-jpg.tar.gz"):
            place = root / name
            if (place / "test_batch").is_file() or (place.is_file() and place.name.endswith(".tar.gz")) or (
                    (place / "train").is_dir() and (place / "test").is_dir()):
                return place
    raise FileNotFoundError(f"no CIFAR-10 copy in {data_dir}")


def load_cifar_batches(folder):
    """The official Python pickles: (N, 32, 32, 3) uint8 images, integer labels."""
    def batch(name):
        with open(Path(folder) / name, "rb") as handle:
            data = pickle.load(handle, encoding="bytes")
        images = np.asarray(data[b"data"], np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
        return images, np.asarray(data[b"labels"], np.int64)

    train = [batch(f"data_batch_{i}") for i in range(1, 6)]
    return (np.concatenate([x for x, _ in train]), np.concatenate([y for _, y in train])), batch("test_batch")
'''

_IDX_FOLDERS = {"mnist": "mnist", "fashion_mnist": "fashion-mnist"}


def data_code(dataset: str, input_shape: list[int]) -> tuple[str, str, str]:
    """(helpers, the body of `load_data(data_dir)`, extra imports) for the run's dataset."""
    if dataset == "digits":
        return "", '''    """8×8 digits, 0–16 → 0–255, 80/20 split per class, seed 0, as in the app. They ship with
    scikit-learn, so no data folder is needed."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    bunch = load_digits()
    images = np.rint(bunch.images * (255.0 / 16.0)).astype(np.uint8)[..., None]  # (1797, 8, 8, 1)
    x_train, x_test, y_train, y_test = train_test_split(
        images, bunch.target, test_size=0.2, random_state=0, stratify=bunch.target)
    return (x_train, y_train), (x_test, y_test)
''', ""
    if dataset in BUILTIN_DATASETS:
        grey = input_shape[-1] == 1
        add_axis = ("\n    x_train, x_test = x_train[..., None], x_test[..., None]  # (N, H, W) → (N, H, W, 1)"
                    if grey else "")
        if dataset == "cifar10":
            local = '''        place = find_cifar(data_dir)
        if place.name == "cifar-10-batches-py":
            return load_cifar_batches(place)
        return load_class_folders(place, (32, 32, 3))'''
            helpers, imports = _CIFAR_PLACES + "\n\n" + _FOLDER_READER, "import pickle\nimport tarfile\n"
        else:
            local = (f'''        folder = Path(data_dir) / {_IDX_FOLDERS[dataset]!r}
        return load_idx_folder(folder if folder.is_dir() else data_dir)''')
            helpers, imports = _IDX_READER, "import gzip\nimport struct\n"
        return helpers, f'''    """uint8 images (N, H, W, C) and integer labels: from a data folder laid out as the app
    reads it (--data-dir, e.g. the folder CNNLAB_DATA_DIR names), else Keras' copy (downloaded once
    to ~/.keras/datasets)."""
    if data_dir:
{local}
    (x_train, y_train), (x_test, y_test) = keras.datasets.{dataset}.load_data(){add_axis}
    return (x_train, y_train.reshape(-1)), (x_test, y_test.reshape(-1))
''', imports
    height, width, channels = input_shape
    return _FOLDER_READER, f'''    """Your images: one sub-folder per class (or train/ and test/ folders of them), in a
    folder or a .tar.gz. Pass --data-dir, or set DATA_DIR. Without train/ and test/ folders the split
    is this loader's own, so the numbers differ a little from the app's."""
    return load_class_folders(data_dir or DATA_DIR, ({int(height)}, {int(width)}, {int(channels)}))
''', "import tarfile\n"
