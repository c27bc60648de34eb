"""Export to TensorFlow Lite and ONNX: the app's child process converts and checks; the file then runs in its own
runtime (LiteRT, onnxruntime) in another process that never imports TensorFlow, and agrees with Keras; and the
snippet the page shows runs as printed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.model.export import PARITY_TOLERANCE, snippet
from core.model.layers import spec_from_dicts, spec_to_dicts
from core.model.presets import PRESETS
from tests.conftest import REPO_ROOT

CLASSES = ["circle", "triangle", "star"]
RUNTIME = {
    "tflite": """
import sys, numpy as np
from ai_edge_litert.interpreter import Interpreter
interpreter = Interpreter(model_path=sys.argv[1])
images = np.load(sys.argv[2]).astype(np.float32)
entry = interpreter.get_input_details()[0]
interpreter.resize_tensor_input(entry["index"], list(images.shape))
interpreter.allocate_tensors()
interpreter.set_tensor(entry["index"], images)
interpreter.invoke()
np.save(sys.argv[3], interpreter.get_tensor(interpreter.get_output_details()[0]["index"]))
assert "tensorflow" not in sys.modules, "the runtime must not need TensorFlow"
""",
    "onnx": """
import sys, numpy as np, onnxruntime
session = onnxruntime.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"])
images = np.load(sys.argv[2]).astype(np.float32)
np.save(sys.argv[3], session.run(None, {session.get_inputs()[0].name: images})[0])
assert "tensorflow" not in sys.modules, "the runtime must not need TensorFlow"
""",
}


@pytest.fixture(scope="module")
def model_and_images(tmp_path_factory):
    """The own-classes preset (with its augmentation layers), a little trained, saved; its Keras probabilities."""

    from core.model.architectures import build_model

    folder = tmp_path_factory.mktemp("export")
    spec = spec_from_dicts(spec_to_dicts(PRESETS["own_classes"].spec()))
    model = build_model(spec, (32, 32, 1), len(CLASSES))
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (60, 32, 32, 1)).astype(np.float32)
    y = rng.integers(0, 3, 60)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    path = folder / "model.keras"
    model.save(path)
    images = rng.integers(0, 256, (100, 32, 32, 1)).astype(np.uint8)
    np.save(folder / "images.npy", images)
    expected = np.asarray(model.predict(images.astype(np.float32), verbose=0))
    return folder, path, images, expected


def export_in_child(model: Path, images: Path, fmt: str, out: Path) -> dict:
    """What the app does: `python -m core.model.export` in a child process; its one JSON line."""
    done = subprocess.run([sys.executable, "-m", "core.model.export", str(model), str(images), fmt, str(out)],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("fmt", ["tflite", "onnx"])
def test_an_export_runs_in_its_own_runtime_and_agrees_with_keras(fmt, model_and_images, tmp_path):
    folder, path, _, expected = model_and_images
    out = tmp_path / f"model.{fmt}"
    result = export_in_child(path, folder / "images.npy", fmt, out)
    assert result["ok"], result
    assert result["passed"] and result["images"] == 100 and result["max_difference"] <= PARITY_TOLERANCE
    assert result["same_answers"] == 100
    # Its own runtime, in a process of its own that never imports TensorFlow.
    script = tmp_path / "run.py"
    script.write_text(RUNTIME[fmt])
    got_path = tmp_path / "got.npy"
    ran = subprocess.run([sys.executable, str(script), str(out), str(folder / "images.npy"), str(got_path)],
                         capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr[-2000:]
    got = np.load(got_path)
    assert got.shape == expected.shape == (100, 3)
    assert float(np.max(np.abs(got - expected))) <= PARITY_TOLERANCE


@pytest.mark.parametrize("fmt", ["tflite", "onnx"])
def test_the_snippet_runs_as_printed(fmt, model_and_images, tmp_path):
    folder, path, _, _ = model_and_images
    out = tmp_path / f"shapes.{fmt}"
    assert export_in_child(path, folder / "images.npy", fmt, out)["ok"]
    Image.new("RGB", (300, 200), (250, 250, 250)).save(tmp_path / "photo.png")
    program = tmp_path / "snippet.py"
    program.write_text(snippet(fmt, out.name, (32, 32, 1), CLASSES))
    ran = subprocess.run([sys.executable, str(program)], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert ran.stdout.split()[0] in CLASSES


def test_a_broken_model_file_gets_a_sentence(tmp_path):
    broken = tmp_path / "broken.keras"
    broken.write_bytes(b"not a zip")
    np.save(tmp_path / "images.npy", np.zeros((2, 8, 8, 1), dtype=np.uint8))
    result = export_in_child(broken, tmp_path / "images.npy", "tflite", tmp_path / "out.tflite")
    assert not result["ok"] and "Traceback" not in result["error"]
