"""A stored run as a standalone Python script or Jupyter notebook that reproduces it with plain Keras.

The exported code imports Keras and NumPy (plus scikit-learn for the digits dataset), never this
app. Each layer is written from the same `KerasCall` the app's model builder uses, so the script
builds exactly the layers the run trained; the data split, optimizer, schedule and callbacks
mirror `core.train.engine` line by line.

The script exposes `load_data(data_dir)`, `build_model()` and `main(argv)` with `--epochs`, `--subset`
and `--data-dir` flags (the last reads the app's data-folder layout with NumPy and Pillow, offline),
so a test (or a curious user) can run it quickly, or swap the data loading.
"""

from __future__ import annotations

import json
import textwrap
import unicodedata
from collections.abc import Mapping

from core.data.datasets import BUILTIN_DATASETS, dataset_name
from core.model.layers import L2, KerasCall, spec_from_dicts
from core.store.runs import RunRecord

INDENT = "        "


def _literal(value: str) -> str:
    """A Python string literal for any text: repr, the one proven escape, in double quotes when that is free.

    (A blanket replace of ' by " turned repr's escaping inside out: a value holding a double
    quote closed the literal early.)
    """
    text = repr(value)
    if text.startswith("'") and '"' not in value and "'" not in value:
        text = f'"{text[1:-1]}"'
    return text


def _one_line(text: str) -> str:
    """Text safe for a comment: every line break and control character becomes a space."""
    return "".join(" " if unicodedata.category(character) in ("Cc", "Zl", "Zp") else character
                   for character in str(text))


def _safe_id(run_id: str) -> str:
    """A run id as the store makes them (digits, letters and dashes); anything else is dropped."""
    return "".join(character for character in str(run_id) if character.isascii() and
                   (character.isalnum() or character == "-"))[:40]


def _value(value: object) -> str:
    if isinstance(value, L2):
        return f"keras.regularizers.L2({value.factor!r})"
    if isinstance(value, float):
        if 0 < value < 0.01 and abs(1 / value - round(1 / value)) < 1e-6:
            return f"1 / {round(1 / value)}"  # Rescaling(1 / 255) reads better than 0.0039215686
        return repr(round(value, 10))
    if isinstance(value, str):
        return _literal(value)
    return repr(value)


def layer_code(call: KerasCall) -> str:
    """One layer as Python source, e.g. `keras.layers.Conv2D(32, 3, padding='same', activation='relu')`."""
    parts = [_value(argument) for argument in call.args]
    parts += [f"{name}={_value(value)}" for name, value in call.kwargs.items()]
    return f"keras.layers.{call.name}({', '.join(parts)})"


_AUGMENTATION = ("RandomFlip", "RandomRotation", "RandomZoom", "RandomTranslation")
_COMMENTS = {
    "Rescaling": "0–255 pixels → 0–1, inside the model: it takes raw images",
    "BatchNormalization": "normalise each channel over the batch",
    "Flatten": "(H, W, C) → one vector",
    "GlobalAveragePooling2D": "each channel's mean",
}


def _comment(call: KerasCall) -> str:
    if call.name in _AUGMENTATION:
        return "  # augmentation: active in training only"
    note = _COMMENTS.get(call.name)
    return f"  # {note}" if note else ""


def model_code(record: RunRecord) -> str:
    """The body of `build_model()`: a keras.Sequential of the run's layers and the softmax output."""
    spec = spec_from_dicts(record.spec)
    lines = [f"keras.Input(shape={tuple(record.input_shape)!r}),  # (H, W, C) images, 0–255"]
    for layer in spec:
        lines.append(f"{layer_code(layer.keras_call())},{_comment(layer.keras_call())}")
    mixed = record.hyperparameters.get("precision", "float32") != "float32"
    output = ', dtype="float32"' if mixed else ""
    lines.append(f'keras.layers.Dense({len(record.class_names)}, activation="softmax"{output}),  '
                 "# one probability per class")
    body = "\n".join(INDENT + line for line in lines)
    policy = ('    # Mixed precision: layers compute in bfloat16 and keep float32 weights; the output stays float32.\n'
              f'    keras.config.set_dtype_policy({_literal(str(record.hyperparameters["precision"]))})\n'
              if mixed else "")
    return f'{policy}    model = keras.Sequential([\n{body}\n    ], name="cnnlab_model")\n    return model\n'


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


def _data_code(dataset: str, input_shape: list[int]) -> tuple[str, str, str]:
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


def _optimizer_code(settings: Mapping[str, object]) -> str:
    rate = "LEARNING_RATE"
    lines = []
    if settings.get("schedule") == "cosine":
        lines.append('''    # Cosine schedule: a warm-up over the first 3% of steps, then a smooth decay to zero.
    warmup = max(1, steps * 3 // 100)
    rate = keras.optimizers.schedules.CosineDecay(
        LEARNING_RATE / 10, decay_steps=max(1, steps - warmup), alpha=0.0,
        warmup_target=LEARNING_RATE, warmup_steps=warmup)''')
        rate = "rate"
    optimizer = settings.get("optimizer", "adam")
    if optimizer == "sgd":
        lines.append(f"    return keras.optimizers.SGD({rate}, momentum=0.9, nesterov=True)")
    elif optimizer == "rmsprop":
        lines.append(f"    return keras.optimizers.RMSprop({rate})")
    else:
        lines.append(f"    return keras.optimizers.Adam({rate})")
    return "\n".join(lines) + "\n"


def _callbacks_code(settings: Mapping[str, object]) -> str:
    lines = ["    callbacks = []"]
    if settings.get("early_stopping"):
        lines.append(f"    callbacks.append(keras.callbacks.EarlyStopping(  # stop when it stops improving\n"
                     f"        monitor={settings['early_monitor']!r}, patience={settings['early_patience']!r}, "
                     f"min_delta={settings['early_min_delta']!r},\n"
                     f"        restore_best_weights={settings['early_restore_best']!r}))")
    if settings.get("target_accuracy"):
        lines.append(f"    callbacks.append(StopAtAccuracy({settings['target_accuracy']!r}, "
                     f"{settings['target_monitor']!r}))")
    if settings.get("reduce_lr"):
        lines.append(f"    callbacks.append(keras.callbacks.ReduceLROnPlateau(  # smaller steps on a plateau\n"
                     f"        monitor={settings['reduce_monitor']!r}, factor={settings['reduce_factor']!r}, "
                     f"patience={settings['reduce_patience']!r}))")
    lines.append("    return callbacks")
    return "\n".join(lines) + "\n"


_TARGET_CALLBACK = '''

class StopAtAccuracy(keras.callbacks.Callback):
    """Stops training at the end of the first epoch whose accuracy reaches the target."""

    def __init__(self, target, monitor="accuracy"):
        super().__init__()
        self.target, self.monitor = target, monitor

    def on_epoch_end(self, epoch, logs=None):
        if (logs or {}).get(self.monitor, 0.0) >= self.target:
            print(f"Reached {self.target:.1%} {self.monitor}: stopping.")
            self.model.stop_training = True
'''


_THICKNESS_CODE = '''def vary_thickness(images, labels):
    x = tf.cast(images, tf.float32)  # (B, H, W, C)
    thicker = tf.nn.max_pool2d(x, 3, 1, "SAME")
    thinner = 0.5 * (x - tf.nn.max_pool2d(-x, 3, 1, "SAME"))  # the image blended with its erosion
    draw = tf.random.uniform(tf.stack([tf.shape(x)[0], 1, 1, 1]))  # one draw per image
    varied = tf.where(draw < STROKE_THICKNESS / 2, thicker, tf.where(draw < STROKE_THICKNESS, thinner, x))
    return tf.cast(tf.round(varied), images.dtype), labels


def with_thickness(x, y):
    """Shuffled batches of (x, y), a new thickness draw for each image in every epoch."""
    data = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=SEED)
    return data.batch(BATCH_SIZE).map(vary_thickness).prefetch(2)
'''


def _sections(record: RunRecord) -> list[tuple[str, str]]:
    """(markdown note, code) pairs: the notebook's cells, and the script's parts in order."""
    settings = record.hyperparameters
    sparse = settings.get("loss", "sparse") == "sparse"
    test_accuracy = record.metrics.get("test", {}).get("accuracy")
    result = f"{test_accuracy:.2%} test accuracy" if isinstance(test_accuracy, float) else "no test score"
    engine_note = (" The app trained it with its `tf.GradientTape` loop; `model.fit` takes the same steps."
                   if settings.get("engine") == "tape" else "")
    folder = record.dataset not in BUILTIN_DATASETS
    # User text (the run's name, an upload's name, class names) enters the code only as repr() literals,
    # never as prose in the docstring, a comment or a markdown cell: nothing a user typed becomes code.
    dataset = "your own images (DATASET below)" if folder else BUILTIN_DATASETS[record.dataset].display_name
    epochs = settings.get("epochs", 1)
    epochs = epochs if isinstance(epochs, int) else 1
    helpers, load_body, data_imports = _data_code(record.dataset, record.input_shape)
    pillow = "from PIL import Image\n" if "Image.open" in helpers else ""
    imports = f"import argparse\n{data_imports}from pathlib import Path\n\nimport keras\nimport numpy as np\n{pillow}"
    constants = (
        f"RUN_NAME = {_literal(str(record.name))}\n"
        + (f"DATASET = {_literal(dataset_name(record.dataset))}\n" if folder else "")
        + f"CLASS_NAMES = {[str(name) for name in record.class_names]!r}\n"
        + ("DATA_DIR = \"path/to/your/images\"  # one sub-folder per class\n" if folder else "")
        + f"EPOCHS = {settings.get('epochs', 1)!r}\nBATCH_SIZE = {settings.get('batch_size', 32)!r}\n"
        f"LEARNING_RATE = {settings.get('learning_rate', 0.001)!r}\n"
        f"VALIDATION_SPLIT = {settings.get('validation_split', 0.0)!r}  # share of training images held out\n"
        f"SUBSET = {settings.get('subset', 0)!r}  # 0: all training images\nSEED = {settings.get('seed', 0)!r}\n")
    thickness = float(settings.get("stroke_thickness", 0.0) or 0.0)
    if thickness:
        imports = imports.replace("import numpy as np\n", "import numpy as np\nimport tensorflow as tf\n")
        constants += f"STROKE_THICKNESS = {thickness!r}  # share of training images drawn thicker or thinner\n"
    feed = "x, y, batch_size=BATCH_SIZE, shuffle=True" if not thickness else "with_thickness(x, y), shuffle=False"
    loss = "sparse_categorical_crossentropy" if sparse else "categorical_crossentropy"
    labels = ("labels" if sparse else
              "keras.utils.to_categorical(labels, len(CLASS_NAMES))  # one-hot: 3 → [0, 0, 0, 1, 0, …]")
    main = f'''def prepare_labels(labels):
    return {labels}


def split(count, subset, validation_split, seed):
    """(train, validation) positions: a seeded shuffle, then a cut (Keras' own validation_split
    would take the last images unshuffled)."""
    order = np.random.default_rng(seed).permutation(count)
    if subset:
        order = order[:subset]
    held_out = round(len(order) * validation_split)
    return order[held_out:], order[:held_out]


def main(argv=None):
    parser = argparse.ArgumentParser(description="Train and test the exported CNN Lab model.")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--subset", type=int, default=SUBSET, help="train on this many images (0: all)")
    parser.add_argument("--data-dir", default=None,
                        help="a data folder laid out as CNN Lab reads it (mnist/, fashion-mnist/, cifar10/ or "
                             "class folders); without it, Keras downloads the data")
    args = parser.parse_args(argv)

    keras.utils.set_random_seed(SEED)
    (x_train, y_train), (x_test, y_test) = load_data(args.data_dir)
    train_at, validation_at = split(len(x_train), args.subset, VALIDATION_SPLIT, SEED)
    validation = None
    if len(validation_at):
        validation = (x_train[validation_at], prepare_labels(y_train[validation_at]))
    x, y = x_train[train_at], prepare_labels(y_train[train_at])

    model = build_model()
    model.summary()
    steps = -(-len(x) // BATCH_SIZE) * args.epochs  # batches in the whole run
    model.compile(optimizer=make_optimizer(steps), loss="{loss}", metrics=["accuracy"])
    history = model.fit({feed}, epochs=args.epochs, validation_data=validation,
                        callbacks=make_callbacks(), verbose=2)
    loss, accuracy = model.evaluate(x_test, prepare_labels(y_test), batch_size=512, verbose=0)
    print(f"Test loss {{loss:.4f}}, test accuracy {{accuracy:.2%}} (the app measured {result}).")
    return model, history


if __name__ == "__main__":
    main()
'''
    return [
        (f"# CNN Lab run {_safe_id(record.run_id)}\n\nReproduces the run named in `RUN_NAME` below with plain "
         f"Keras: {dataset}, {epochs} epoch{'s' if epochs != 1 else ''}, {result} in the app.{engine_note}",
         imports),
        ("The run's settings. Change them here.", constants),
        *([("Readers for the data files, in plain NumPy and Pillow: the same files and folders the app reads.",
            helpers)] if helpers else []),
        ("The data: uint8 images (N, H, W, C) with values 0–255, and integer labels. The model "
         "normalises inside itself, so nothing else is done to the pixels.",
         f"def load_data(data_dir=None):\n{load_body}"),
        ("The model, layer by layer, exactly as the app built it.", f"def build_model():\n{model_code(record)}"),
        ("Optimizer and callbacks.",
         f"def make_optimizer(steps):\n{_optimizer_code(settings)}\n\ndef make_callbacks():\n"
         f"{_callbacks_code(settings)}" + (_TARGET_CALLBACK if settings.get("target_accuracy") else "")),
        *([("Stroke-thickness augmentation, done on the data rather than in the model: each epoch "
            "makes that share of the images' strokes thicker (3×3 dilation) or thinner (half a 3×3 erosion).",
            _THICKNESS_CODE)] if thickness else []),
        ("Split, train, evaluate. In a notebook, run `model, history = main([])`, or "
         "`main(['--data-dir', 'path/to/data'])` offline.", main),
    ]


def export_script(record: RunRecord) -> str:
    """A standalone, commented Python script that reproduces the run."""
    sections = _sections(record)
    title, imports = sections[0]
    first = title.splitlines()[0].lstrip("# ")
    body = title.split("\n\n", 1)[1] if "\n\n" in title else ""
    docstring = (f'"""{_one_line(first)}, as a plain Keras script.\n\n{_one_line(body)}\n\n'
                 'Run: python this_file.py [--epochs N] [--subset N] [--data-dir FOLDER]\n"""\n\n')
    parts = [docstring + imports]
    for note, code in sections[1:]:
        comment = "\n".join(textwrap.wrap(_one_line(note), 98, initial_indent="# ", subsequent_indent="# "))
        parts.append(f"{comment}\n{code}")
    return "\n\n".join(part.rstrip("\n") for part in parts) + "\n"


def export_notebook(record: RunRecord) -> str:
    """The same code as a Jupyter notebook (nbformat 4 JSON): a markdown note above each part."""
    cells = []
    for note, code in _sections(record):
        code = code.replace('\n\nif __name__ == "__main__":\n    main()\n', "\n")
        cells.append({"cell_type": "markdown", "source": note.splitlines(keepends=True)})
        cells.append({"cell_type": "code", "source": code.rstrip("\n").splitlines(keepends=True)})
    cells.append({"cell_type": "code", "source": ["model, history = main([])"]})
    for number, cell in enumerate(cells):  # nbformat 4.5: every cell has an id
        cell.update({"id": f"cell-{number}", "metadata": {}})
        if cell["cell_type"] == "code":
            cell.update({"execution_count": None, "outputs": []})
    notebook = {"cells": cells, "metadata": {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"}}, "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(notebook, indent=1, ensure_ascii=False)


def file_stem(record: RunRecord) -> str:
    """A file name for the downloads, e.g. "cnnlab_mnist_20261121-140512-a1b2c3"."""
    dataset = "".join(character if character.isalnum() else "_" for character in record.dataset)
    return f"cnnlab_{dataset}_{record.run_id}"
