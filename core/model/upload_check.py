"""Checks an uploaded `.keras` file before Keras ever builds it.

`keras.saving.load_model(..., safe_mode=True)` refuses Lambda layers, but it still builds every
layer the config declares: a 189 KB file declaring Dense(100000) took 2.7 GB. So the zip's
`config.json` is read first, as plain JSON: only a sequential stack of layer classes the app
knows is accepted, every size is bounded, and the parameter count is worked out with the same
shape rules as the layer builder (`core.model.layers`). Only then is the model loaded.

`inspect_keras_file` needs no TensorFlow. `import_model` (TensorFlow) loads, checks the input
shape against a dataset, measures test accuracy and stores the run; `python -m core.model.upload_check`
runs it in a child process, so the server never imports TensorFlow for an upload.
"""

from __future__ import annotations

import json
import shutil
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from core.model.layers import (
    BatchNorm,
    Conv,
    Dense,
    Dropout,
    Flatten,
    GlobalAveragePool,
    Layer,
    Pool,
    RandomFlip,
    RandomRotation,
    RandomTranslation,
    RandomZoom,
    Rescale,
    SpecError,
)

MAX_FILE_BYTES = 50 * 2**20  # the upload itself
MAX_UNPACKED_BYTES = 200 * 2**20  # all zip members, uncompressed: a zip bomb stops here
MAX_CONFIG_BYTES = 2 * 2**20
MAX_LAYERS = 100
MAX_PARAMETERS = 20_000_000  # 80 MB of float32 weights
CHECKS = "checks"  # under the store root: the line of checks waiting for a slot (`core.jobs.slots`)
MAX_SIDE = 256
MAX_JSON_DEPTH = 64  # a Sequential config nests about 8 levels; 20,000 nested arrays blew Python's recursion
KERAS_MEMBERS = ("config.json", "metadata.json", "model.weights.h5")  # all a Keras 3 file of these layers holds


class ModelFileError(ValueError):
    """An uploaded model file the app will not load; the message says why."""


@dataclass(frozen=True)
class ModelFileReport:
    """What the config declares.

    Args:
        input_shape: (H, W, C).
        num_classes: Units of the last Dense layer.
        spec: The layers before the output layer, as the app's layer specs.
        parameters: Trainable parameters, worked out from the config.
        rescales: Whether the model rescales its input itself (the app feeds 0–255 pixels).
        keras_version: As written in the file's metadata, if any.
    """

    input_shape: tuple[int, int, int]
    num_classes: int
    spec: list[Layer]
    parameters: int
    rescales: bool
    keras_version: str


def _square(value: object, what: str, name: str) -> int:
    if isinstance(value, list | tuple):
        if len(value) != 2 or value[0] != value[1]:
            raise ModelFileError(f"{name}: only square {what}s are supported, got {value}.")
        value = value[0]
    if isinstance(value, bool) or not isinstance(value, int):
        raise ModelFileError(f"{name}: the {what} must be a whole number, got {str(value)[:40]}.")
    return value


def _activation(config: dict, name: str) -> str:
    activation = config.get("activation", "linear")
    if not isinstance(activation, str):
        raise ModelFileError(f"{name}: custom activation objects are not allowed.")
    return activation


def _dilated(config: dict) -> bool:
    dilation = config.get("dilation_rate", 1)
    return dilation not in (1, [1, 1], (1, 1)) or config.get("groups", 1) != 1


def _layer(class_name: str, config: dict, name: str) -> Layer | None:
    """The app's spec for one Keras layer config; None for layers that change nothing (InputLayer)."""
    if class_name == "Rescaling":
        scale, offset = config.get("scale"), config.get("offset", 0.0)
        if not isinstance(scale, int | float) or not isinstance(offset, int | float):
            raise ModelFileError(f"{name}: Rescaling needs one number for scale and offset.")
        return Rescale(float(scale), float(offset))
    if class_name == "Conv2D":
        if _dilated(config):
            raise ModelFileError(f"{name}: dilated or grouped convolutions are not supported.")
        return Conv(config.get("filters"), _square(config.get("kernel_size"), "kernel", name),
                    _square(config.get("strides", 1), "stride", name), config.get("padding", "valid"),
                    _activation(config, name))
    if class_name in ("MaxPooling2D", "AveragePooling2D"):
        size = _square(config.get("pool_size", 2), "pool size", name)
        stride = config.get("strides")
        return Pool("max" if class_name.startswith("Max") else "average", size,
                    _square(stride, "stride", name) if stride is not None else 0, config.get("padding", "valid"))
    if class_name == "Dense":
        activation = _activation(config, name)
        # Softmax belongs to the output layer only; it is checked there (the builder never offers it).
        return Dense(config.get("units"), "linear" if activation == "softmax" else activation)
    if class_name == "BatchNormalization":
        momentum = config.get("momentum", 0.99)
        if isinstance(momentum, bool) or not isinstance(momentum, int | float):
            raise ModelFileError(f"{name}: BatchNormalization's momentum must be a number, got {str(momentum)[:40]}.")
        return BatchNorm(float(momentum))
    simple = {"Flatten": Flatten, "GlobalAveragePooling2D": GlobalAveragePool}
    if class_name in simple:
        return simple[class_name]()
    if class_name == "Dropout":
        return Dropout(float(config.get("rate", 0.0)))
    if class_name == "RandomFlip":
        return RandomFlip(config.get("mode", "horizontal"))
    factor = config.get("factor", config.get("height_factor", 0.1))
    factor = factor[1] if isinstance(factor, list | tuple) and len(factor) == 2 else factor
    augmentations = {"RandomRotation": RandomRotation, "RandomZoom": RandomZoom, "RandomTranslation": RandomTranslation}
    if class_name in augmentations and isinstance(factor, int | float):
        return augmentations[class_name](abs(float(factor)))
    if class_name == "InputLayer":
        return None
    raise ModelFileError(f"{name}: the layer class {class_name[:40]!r} is not one the app can load. Allowed: "
                         "InputLayer, Rescaling, Conv2D, MaxPooling2D, AveragePooling2D, BatchNormalization, "
                         "Dropout, Flatten, GlobalAveragePooling2D, Dense, RandomFlip/Rotation/Zoom/Translation.")


def json_depth(data: bytes) -> int:
    """The deepest nesting of arrays and objects in a JSON text, counted without parsing it.

    Brackets inside strings are skipped (with their escapes), so the count is exact for valid JSON.
    """
    depth = deepest = 0
    inside = escaped = False
    for byte in data:
        if inside:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # closing quote
                inside = False
        elif byte == 0x22:
            inside = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


def _parse_json(data: bytes, what: str) -> object:
    depth = json_depth(data)
    if depth > MAX_JSON_DEPTH:
        raise ModelFileError(f"The model's {what} is nested {depth:,} levels deep; a Keras model needs far fewer "
                             f"(at most {MAX_JSON_DEPTH} are accepted).")
    try:
        return json.loads(data)
    except RecursionError:
        raise ModelFileError(f"The model's {what} is nested too deeply to read.") from None


def _check_members(members: list[zipfile.ZipInfo]) -> None:
    """Refuses a zip whose entries are not exactly a Keras file's: no paths, no extras, no duplicates."""
    names = [member.filename for member in members]
    odd = [name for name in names if name not in KERAS_MEMBERS]
    if odd:
        shown = ", ".join(repr(name[:60]) for name in odd[:3])
        raise ModelFileError(f"The file holds entries a .keras model never has ({shown}); it holds only "
                             f"{', '.join(KERAS_MEMBERS)}.")
    if len(set(names)) != len(names):
        raise ModelFileError("The file holds the same entry twice; a .keras model holds each once.")


def _read_config(path: Path) -> tuple[dict, str]:
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ModelFileError(f"The file is larger than {MAX_FILE_BYTES // 2**20} MB.")
    with open(path, "rb") as handle:
        signature = handle.read(8)
    if signature.startswith(b"\x89HDF"):
        raise ModelFileError("This is a legacy HDF5 (.h5) model. Re-save it in Keras 3's format: "
                             "model.save('model.keras').")
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            if sum(member.file_size for member in members) > MAX_UNPACKED_BYTES:
                raise ModelFileError(f"The file unpacks to more than {MAX_UNPACKED_BYTES // 2**20} MB.")
            names = {member.filename for member in members}
            if "config.json" not in names or "model.weights.h5" not in names:
                raise ModelFileError("This zip is not a Keras model: it lacks config.json or model.weights.h5.")
            _check_members(members)
            if archive.getinfo("config.json").file_size > MAX_CONFIG_BYTES:
                raise ModelFileError("The model's config.json is implausibly large.")
            config = _parse_json(archive.read("config.json"), "config.json")
            metadata = _parse_json(archive.read("metadata.json"), "metadata.json") if "metadata.json" in names else {}
    except ModelFileError:
        raise
    except zipfile.BadZipFile:
        raise ModelFileError("This is not a .keras file (not a zip archive; truncated or another format).") from None
    except (ValueError, UnicodeDecodeError, zipfile.LargeZipFile, EOFError, OSError) as error:
        raise ModelFileError(f"The model file is damaged: {error}.") from None
    if not isinstance(config, dict):
        raise ModelFileError("The model's config.json is not a JSON object.")
    version = metadata.get("keras_version", "") if isinstance(metadata, dict) else ""
    return config, str(version)


def inspect_keras_file(path: Path, max_parameters: int = MAX_PARAMETERS) -> ModelFileReport:
    """Reads and bounds-checks the config of a `.keras` file, without building anything.

    Args:
        path: The file.
        max_parameters: The most parameters it may declare (uploads: `MAX_PARAMETERS`; a run collected from a
            worker: the server's own cap on trained models).

    Raises:
        ModelFileError: With a message a user can act on.
    """
    config, version = _read_config(Path(path))
    if config.get("class_name") != "Sequential":
        raise ModelFileError(f"Only Sequential models can be uploaded; this one is "
                             f"{str(config.get('class_name'))[:40]!r}.")
    inner = config.get("config") if isinstance(config.get("config"), dict) else {}
    layers = inner.get("layers")
    if not isinstance(layers, list) or not layers:
        raise ModelFileError("The model declares no layers.")
    if len(layers) > MAX_LAYERS:
        raise ModelFileError(f"The model has {len(layers)} layers; at most {MAX_LAYERS} are allowed.")
    batch_shape = inner.get("build_input_shape")
    first = layers[0] if isinstance(layers[0], dict) else {}
    if first.get("class_name") == "InputLayer":
        batch_shape = (first.get("config") or {}).get("batch_shape", batch_shape)
    if (not isinstance(batch_shape, list) or len(batch_shape) != 4
            or not all(isinstance(side, int) and 1 <= side <= MAX_SIDE for side in batch_shape[1:])
            or batch_shape[3] not in (1, 3)):
        raise ModelFileError(f"The model must take images shaped (H, W, 1 or 3), up to {MAX_SIDE} pixels a side; "
                             f"it declares {str(batch_shape)[:60]}.")
    shape: tuple[int, ...] = tuple(batch_shape[1:])
    input_shape = tuple(batch_shape[1:])
    spec: list[Layer] = []
    parameters = 0
    last_activation = ""
    for position, item in enumerate(layers, start=1):
        if not isinstance(item, dict) or not isinstance(item.get("config"), dict):
            raise ModelFileError(f"Layer {position} is malformed.")
        module = str(item.get("module", "keras.layers"))
        if not module.startswith("keras.") or item.get("registered_name") not in (None, item.get("class_name")):
            raise ModelFileError(f"Layer {position} is a custom class ({str(item.get('class_name'))[:40]}); "
                                 "custom code is never loaded.")
        name = f"Layer {position} ({str(item.get('class_name'))[:40]})"
        try:
            layer = _layer(str(item.get("class_name")), item["config"], name)
            last_activation = str(item["config"].get("activation", ""))
            if layer is None:
                continue
            layer.check()
            if (layer.needs_image and len(shape) != 3) or (layer.needs_vector and len(shape) != 1):
                raise ModelFileError(f"{name} gets an input of the wrong rank {shape}.")
            parameters += layer.parameter_counts(shape)[0]
            shape = layer.output_shape(shape)
        except ModelFileError:
            raise  # already names the layer ("Layer 4 (Conv2D): Layer 4 (Conv2D): …" otherwise)
        except (SpecError, TypeError, ValueError) as error:
            raise ModelFileError(f"{name}: {error}") from None
        if parameters > max_parameters:
            raise ModelFileError(f"{name} takes the model past {max_parameters:,} parameters; too big to load here.")
        spec.append(layer)
    output = spec[-1] if spec else None
    if not isinstance(output, Dense) or last_activation != "softmax" or shape != (output.units,):
        raise ModelFileError("The last layer must be a Dense layer with softmax: the class probabilities.")
    if not 2 <= output.units <= 1000:
        raise ModelFileError(f"The output layer has {output.units} classes; 2 to 1000 are supported.")
    rescales = any(isinstance(layer, Rescale) for layer in spec)
    return ModelFileReport(input_shape, output.units, spec[:-1], parameters, rescales, version)  # type: ignore[arg-type]


def check_fits(report: ModelFileReport, dataset_name: str) -> None:
    """Raises ModelFileError unless the model takes the dataset's images into its classes.

    Uses the registry's shapes, so a mismatch is caught before TensorFlow or the dataset loads.
    """
    from core.data.datasets import BUILTIN_DATASETS

    info = BUILTIN_DATASETS.get(dataset_name)
    if info is None:
        raise ModelFileError(f"Unknown dataset {dataset_name[:40]!r}.")
    if report.input_shape != info.image_shape or report.num_classes != len(info.class_names):
        raise ModelFileError(f"The model takes {report.input_shape} images into {report.num_classes} classes; "
                             f"{info.display_name} has {info.image_shape} images in {len(info.class_names)} classes.")


def import_model(path: Path, dataset_name: str, name: str, root: Path | None = None,
                 owner: str = "") -> dict[str, object]:
    """Checks, loads (safe mode), evaluates on the dataset's test set, and stores an uploaded model.

    Args:
        path: The uploaded file.
        dataset_name: The built-in dataset it was trained on.
        name: The run's name.
        root: The store root.
        owner: The session it belongs to (in hosted mode only it sees the run).

    Returns:
        {"run_id", "test": {...}, "notes": [...]}.

    Raises:
        ModelFileError: For any file the app will not take, with the reason.
    """
    report = inspect_keras_file(path)
    check_fits(report, dataset_name)
    import keras
    import numpy as np

    from core.data.datasets import load_dataset
    from core.model.layers import spec_to_dicts
    from core.store.ids import new_id
    from core.store.runs import STORE_ROOT, RunRecord, save_run

    dataset = load_dataset(dataset_name)
    try:
        model = keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as error:
        raise ModelFileError(f"Keras could not load the model: {str(error)[:300]}") from None
    model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    test = model.evaluate(dataset.x_test, dataset.y_test, batch_size=512, verbose=0, return_dict=True)
    test = {key: round(float(np.asarray(value)), 6) for key, value in test.items()}
    test["images"] = len(dataset.x_test)
    notes = [] if report.rescales else ["The model has no Rescaling layer, so it gets raw 0–255 pixels. If it was "
                                        "trained on 0–1 inputs, its predictions here will be poor."]
    warnings = [warning] if (warning := chance_warning(test.get("accuracy", 0.0), dataset.num_classes,
                                                       dataset.display_name)) else []
    record = RunRecord(run_id=new_id(), name=name, dataset=dataset.name, spec=spec_to_dicts(report.spec),
                       hyperparameters={"uploaded": True, "keras_version": report.keras_version}, history={},
                       metrics={"test": test}, training_seconds=0.0, status="uploaded",
                       input_shape=list(dataset.image_shape), class_names=list(dataset.class_names),
                       stop_reason=" ".join([*warnings, *notes]), owner=owner)
    save_run(record, lambda target: shutil.copyfile(path, target), root or STORE_ROOT)
    return {"run_id": record.run_id, "test": test, "notes": notes, "warnings": warnings}


def chance_warning(accuracy: float, num_classes: int, dataset: str) -> str | None:
    """A warning when a model scores about what guessing would on the dataset it was assigned.

    An MNIST model assigned to Fashion-MNIST scored 10.68% against chance's 10%: the shapes fit,
    so nothing else catches it. Below twice chance is taken as "probably trained on something else".
    """
    chance = 1 / max(num_classes, 1)
    if accuracy >= 2 * chance:
        return None
    return (f"It scores {accuracy:.1%} on the {dataset} test set, about what guessing gives (1 in {num_classes}, "
            f"{chance:.0%}): it was probably trained on another dataset, or on differently prepared images.")


if __name__ == "__main__":
    # python -m core.model.upload_check <file> <dataset> <name> [store root] [owner]: prints one JSON line.
    try:
        arguments = [*sys.argv[1:], "", ""]
        result = import_model(Path(arguments[0]), arguments[1], arguments[2],
                              Path(arguments[3]) if arguments[3] else None, arguments[4])
        print(json.dumps({"ok": True, **result}))
    except (ModelFileError, ValueError, FileNotFoundError) as error:
        print(json.dumps({"ok": False, "error": str(error)}))
