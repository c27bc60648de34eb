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
from core.evaluate.export_readers import data_code
from core.model.layers import AUGMENTATION_KINDS, L2, KerasCall, spec_from_dicts
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


_COMMENTS = {
    "Rescaling": "0–255 pixels → 0–1, inside the model: it takes raw images",
    "BatchNormalization": "normalise each channel over the batch",
    "Flatten": "(H, W, C) → one vector",
    "GlobalAveragePooling2D": "each channel's mean",
}


def _comment(call: KerasCall) -> str:
    if call.name in AUGMENTATION_KINDS:
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
    helpers, load_body, data_imports = data_code(record.dataset, record.input_shape)
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
    loss = '"sparse_categorical_crossentropy"' if sparse else '"categorical_crossentropy"'
    smoothing = settings.get("label_smoothing", 0.0)
    if not sparse and isinstance(smoothing, float) and smoothing > 0:
        constants += f"LABEL_SMOOTHING = {smoothing!r}  # targets 1 - s + s/classes and s/classes, not 1 and 0\n"
        loss = "keras.losses.CategoricalCrossentropy(label_smoothing=LABEL_SMOOTHING)"
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
    model.compile(optimizer=make_optimizer(steps), loss={loss}, metrics=["accuracy"])
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
