"""Taking a trained model away: TensorFlow Lite (LiteRT) for phones, ONNX for other runtimes, each checked.

Each export is checked before it is offered: the converted model's probabilities on up to 100 test images
are compared with Keras' own, and the largest difference is reported with the file (`PARITY_TOLERANCE`).

- TensorFlow Lite through Keras' own `model.export(format="litert")`, run back with LiteRT
  (`ai_edge_litert`, TensorFlow Lite's runtime on its own), else TensorFlow's `tf.lite.Interpreter`.
- ONNX through Keras' `model.export(format="onnx")` (tf2onnx underneath), run back with `onnxruntime`.

The augmentation layers (RandomFlip, RandomRotation, …) do nothing at inference but stay in a saved model's
graph, and ONNX has no operator for their random numbers; so the exported model is the same layers, sharing
the same weights, without them (`inference_model`).

TensorFlow is heavy (about 700 MB) and a conversion takes seconds, so the app runs this module in a child
process: `python -m core.model.export MODEL IMAGES.npy FORMAT OUT` prints one JSON line.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

FORMATS = ("tflite", "onnx")
PARITY_TOLERANCE = 1e-4  # the largest difference in any probability that counts as the same model
PARITY_IMAGES = 100
_AUGMENTATION = ("RandomFlip", "RandomRotation", "RandomZoom", "RandomTranslation", "RandomContrast",
                 "RandomBrightness", "RandomCrop")


class ExportError(ValueError):
    """A model cannot be exported in this format; the message says why."""


@dataclass(frozen=True)
class ExportCheck:
    """How an exported model compares with Keras.

    Args:
        format: "tflite" or "onnx".
        size_bytes: The exported file's size.
        images: How many images were compared.
        max_difference: The largest absolute difference in any class probability.
        same_answers: How many of the images got the same top class from both.
        runtime: The runtime that ran the exported file, e.g. "LiteRT 2.3.0".
        seconds: Conversion and check, wall time.
    """

    format: str
    size_bytes: int
    images: int
    max_difference: float
    same_answers: int
    runtime: str
    seconds: float

    @property
    def passed(self) -> bool:
        return self.max_difference <= PARITY_TOLERANCE


def inference_model(model):
    """The model's layers without its augmentation layers (identity at inference), sharing their weights.

    Args:
        model: A Keras model whose layers form one chain (as every model the app builds or accepts does).
    """
    import keras

    kept = [layer for layer in model.layers if type(layer).__name__ not in _AUGMENTATION]
    inputs = keras.Input(shape=model.input_shape[1:], name="image")
    outputs = inputs
    for layer in kept:
        outputs = layer(outputs)
    return keras.Model(inputs, outputs, name=f"{model.name}_inference")


def export_tflite(model_path: Path) -> bytes:
    """The model at `model_path` as a .tflite file's bytes."""
    return _export(model_path, "litert", ".tflite")


def export_onnx(model_path: Path) -> bytes:
    """The model at `model_path` as an .onnx file's bytes.

    Raises:
        ExportError: If tf2onnx is not installed.
    """
    try:
        import tf2onnx  # noqa: F401  (Keras' ONNX export uses it with the TensorFlow backend)
    except ImportError:
        raise ExportError("ONNX export needs the tf2onnx package, which this server does not have.") from None
    return _export(model_path, "onnx", ".onnx")


def _export(model_path: Path, keras_format: str, suffix: str) -> bytes:
    import keras

    model = keras.saving.load_model(model_path, safe_mode=True, compile=False)
    exported = inference_model(model)
    exported(np.zeros((1, *model.input_shape[1:]), dtype=np.float32))  # ONNX's exporter wants a model once called
    with tempfile.TemporaryDirectory(prefix="cnnlab-export-") as folder:
        path = Path(folder) / f"model{suffix}"
        exported.export(str(path), format=keras_format, verbose=False)
        return path.read_bytes()


def run_tflite(data: bytes, images: np.ndarray) -> np.ndarray:
    """Runs a .tflite model on float32 images (N, H, W, C): probabilities (N, classes)."""
    interpreter, _ = _tflite_interpreter(data)
    entry, result = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    interpreter.resize_tensor_input(entry["index"], list(images.shape))
    interpreter.allocate_tensors()
    interpreter.set_tensor(entry["index"], images.astype(np.float32))
    interpreter.invoke()
    return np.array(interpreter.get_tensor(result["index"]))


def _tflite_interpreter(data: bytes):
    try:
        from ai_edge_litert import __version__ as version
        from ai_edge_litert.interpreter import Interpreter

        return Interpreter(model_content=data), f"LiteRT {version}"
    except ImportError:
        import tensorflow as tf

        return tf.lite.Interpreter(model_content=data), f"TensorFlow Lite (TensorFlow {tf.__version__})"


def run_onnx(data: bytes, images: np.ndarray) -> np.ndarray:
    """Runs an .onnx model on float32 images (N, H, W, C) with onnxruntime: probabilities (N, classes)."""
    import onnxruntime

    session = onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])
    return np.asarray(session.run(None, {session.get_inputs()[0].name: images.astype(np.float32)})[0])


def _runtime_name(fmt: str, data: bytes) -> str:
    if fmt == "tflite":
        return _tflite_interpreter(data)[1]
    import onnxruntime

    return f"onnxruntime {onnxruntime.__version__}"


def export_and_check(model_path: Path, images: np.ndarray, fmt: str) -> tuple[bytes, ExportCheck]:
    """Exports a model and compares the exported file's probabilities with Keras' on `images`.

    Args:
        model_path: A .keras file.
        images: uint8 or float (N, H, W, C) on the 0–255 scale; at most `PARITY_IMAGES` are used.
        fmt: "tflite" or "onnx".

    Raises:
        ExportError: For an unknown format, or a model that cannot be converted.
    """
    import keras

    if fmt not in FORMATS:
        raise ExportError(f"Unknown format {fmt!r}; choose from {', '.join(FORMATS)}.")
    started = time.perf_counter()
    try:
        data = export_tflite(model_path) if fmt == "tflite" else export_onnx(model_path)
    except ExportError:
        raise
    except Exception as error:  # a converter's own errors are many and undocumented
        raise ExportError(f"The converter could not convert this model: {type(error).__name__}: "
                          f"{str(error).splitlines()[0][:300] if str(error) else ''}") from None
    sample = np.asarray(images[:PARITY_IMAGES], dtype=np.float32)  # (N, H, W, C), 0–255
    model = keras.saving.load_model(model_path, safe_mode=True, compile=False)
    expected = np.asarray(model.predict(sample, verbose=0), dtype=np.float32)
    got = run_tflite(data, sample) if fmt == "tflite" else run_onnx(data, sample)
    check = ExportCheck(fmt, len(data), len(sample), float(np.max(np.abs(got - expected))) if len(sample) else 0.0,
                        int(np.sum(got.argmax(axis=1) == expected.argmax(axis=1))), _runtime_name(fmt, data),
                        round(time.perf_counter() - started, 2))
    return data, check


def snippet(fmt: str, file_name: str, input_shape: tuple[int, ...], class_names: list[str]) -> str:
    """A short program that runs the exported file: in Python, and for TFLite the Android call.

    Args:
        fmt: "tflite" or "onnx".
        file_name: The exported file's name.
        input_shape: (H, W, C) the model takes.
        class_names: The classes in label order.
    """
    height, width, channels = input_shape
    mode = "RGB" if channels == 3 else "L"
    names = json.dumps(list(class_names), ensure_ascii=False)
    prepare = (f"image = Image.open(\"photo.png\").convert(\"{mode}\").resize(({width}, {height}))\n"
               f"x = np.asarray(image, dtype=np.float32).reshape(1, {height}, {width}, {channels})"
               "  # 0-255: the model scales itself\n")
    if fmt == "tflite":
        return (
            "# pip install ai-edge-litert pillow numpy\n"
            "import numpy as np\n"
            "from PIL import Image\n"
            "from ai_edge_litert.interpreter import Interpreter\n\n"
            f"CLASSES = {names}\n"
            f"interpreter = Interpreter(model_path=\"{file_name}\")\n"
            "interpreter.allocate_tensors()\n"
            + prepare +
            "interpreter.set_tensor(interpreter.get_input_details()[0][\"index\"], x)\n"
            "interpreter.invoke()\n"
            "probabilities = interpreter.get_tensor(interpreter.get_output_details()[0][\"index\"])[0]\n"
            "print(CLASSES[int(probabilities.argmax())], probabilities)\n\n"
            "# On Android (Kotlin), with the file in app/src/main/assets and\n"
            "# implementation(\"com.google.ai.edge.litert:litert:1.4.0\") in build.gradle:\n"
            f"#   val interpreter = Interpreter(FileUtil.loadMappedFile(context, \"{file_name}\"))\n"
            f"#   val input = Array(1) {{ Array({height}) {{ Array({width}) {{ FloatArray({channels}) }} }} }}"
            "  // pixels 0-255\n"
            f"#   val output = Array(1) {{ FloatArray({len(class_names)}) }}\n"
            "#   interpreter.run(input, output)\n"
        )
    if fmt == "onnx":
        return (
            "# pip install onnxruntime pillow numpy\n"
            "import numpy as np\n"
            "import onnxruntime\n"
            "from PIL import Image\n\n"
            f"CLASSES = {names}\n"
            f"session = onnxruntime.InferenceSession(\"{file_name}\")\n"
            + prepare +
            "probabilities = session.run(None, {session.get_inputs()[0].name: x})[0][0]\n"
            "print(CLASSES[int(probabilities.argmax())], probabilities)\n\n"
            "# In a web page: onnxruntime-web takes the same file, e.g.\n"
            f"#   const session = await ort.InferenceSession.create(\"{file_name}\");\n"
            f"#   const x = new ort.Tensor(\"float32\", pixels, [1, {height}, {width}, {channels}]);\n"
        )
    raise ExportError(f"Unknown format {fmt!r}; choose from {', '.join(FORMATS)}.")


def main(arguments: list[str]) -> dict[str, object]:
    """`MODEL IMAGES.npy FORMAT OUT`: exports, checks, writes the file to OUT; returns the check as a dict."""
    model_path, images_path, fmt, out = Path(arguments[0]), Path(arguments[1]), arguments[2], Path(arguments[3])
    images = np.load(images_path, allow_pickle=False)
    data, check = export_and_check(model_path, images, fmt)
    out.write_bytes(data)
    return {**asdict(check), "passed": check.passed}


if __name__ == "__main__":
    try:
        print(json.dumps({"ok": True, **main(sys.argv[1:5])}))
    except (ExportError, ValueError, OSError) as error:
        print(json.dumps({"ok": False, "error": str(error)}))
