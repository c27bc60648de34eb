"""Hostile and broken model files uploaded on the Models page.

Each is refused with the reason, before TensorFlow builds anything where the config alone tells;
then a good model uploaded in the same session is added, so the page still works.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.store.runs import list_runs
from tests.app.harness import open_app
from tests.robustness.conftest import assert_clean, assert_says
from tests.unit.test_model_check import rewrite_config
from ui.models import state as models_state

MODELS = "pages/models.py"


def keras_bytes(model, folder: Path, name: str) -> bytes:
    path = folder / name
    model.save(path)
    return path.read_bytes()


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, bytes]:
    import keras

    folder = tmp_path_factory.mktemp("models")
    layers = keras.layers
    good = keras.Sequential([keras.Input((8, 8, 1)), layers.Rescaling(1 / 16), layers.Flatten(),
                             layers.Dense(10, activation="softmax")])
    lambda_model = keras.Sequential([keras.Input((8, 8, 1)), layers.Lambda(lambda x: x / 16), layers.Flatten(),
                                     layers.Dense(10, activation="softmax")])
    cifar = keras.Sequential([keras.Input((32, 32, 3)), layers.Rescaling(1 / 255), layers.Flatten(),
                              layers.Dense(10, activation="softmax")])
    good_bytes = keras_bytes(good, folder, "good.keras")

    def with_config(change) -> bytes:  # the good file with its config.json edited
        return rewrite_config(folder / "good.keras", folder / "edited.keras", change).read_bytes()

    h5_path = folder / "legacy.h5"
    good.save(h5_path)

    def huge_dense(config):  # the trap: a small file declaring Dense(100000)
        config["config"]["layers"][-1]["config"]["units"] = 100_000

    def unknown_class(config):
        config["config"]["layers"][2].update({"class_name": "EvilLayer", "module": "my_package.layers",
                                             "registered_name": "Custom>EvilLayer"})

    def nested(config):  # 20,000 nested arrays: Python's JSON reader recursed until it failed
        config["config"]["layers"][1]["config"]["deep"] = "DEEP"

    def with_members(extra: dict[str, bytes]) -> bytes:  # the good file plus entries of other names
        buffer = io.BytesIO()
        with zipfile.ZipFile(io.BytesIO(good_bytes)) as source, zipfile.ZipFile(buffer, "w") as target:
            for item in source.infolist():
                target.writestr(item, source.read(item.filename))
            for name, data in extra.items():
                target.writestr(name, data)
        return buffer.getvalue()

    def non_square(config):  # a layer error raised with the layer's name already in it
        config["config"]["layers"].insert(2, {"module": "keras.layers", "class_name": "Conv2D",
                                              "config": {"filters": 4, "kernel_size": [3, 5], "activation": "relu"},
                                              "registered_name": None})

    deep_path = folder / "deep.keras"
    with zipfile.ZipFile(io.BytesIO(with_config(nested))) as source, zipfile.ZipFile(deep_path, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            target.writestr(item.filename, data.replace(b'"DEEP"', b"[" * 20_000 + b"]" * 20_000))
    return {"good": good_bytes, "lambda": keras_bytes(lambda_model, folder, "lambda.keras"),
            "deeply nested config": deep_path.read_bytes(),
            "a ../ entry": with_members({"../../x": b"escape"}),
            "an absolute entry": with_members({"/abs/x": b"escape"}),
            "an extra entry": with_members({"assets/readme.txt": b"x"}),
            "a non-square kernel": with_config(non_square),
            "huge dense": with_config(huge_dense),
            "wrong input shape": keras_bytes(cifar, folder, "c.keras"),
            "truncated": good_bytes[: len(good_bytes) // 2], "h5": h5_path.read_bytes(),
            "random bytes": os.urandom(4096), "unknown classes": with_config(unknown_class)}


CASES = {  # case → (file name, words the refusal must contain…)
    "lambda": ("lambda.keras", "'Lambda' is not one the app can load"),
    "huge dense": ("huge.keras", "Dense 100000"),
    "wrong input shape": ("cifar.keras", "takes (32, 32, 3) images"),
    "truncated": ("cut.keras", "not a .keras file"),
    "h5": ("legacy.h5", "legacy HDF5"),
    "random bytes": ("noise.keras", "not a .keras file"),
    "unknown classes": ("evil.keras", "custom class"),
    "deeply nested config": ("deep.keras", "config.json is nested 20,0", "levels deep"),
    "a ../ entry": ("slip.keras", "entries a .keras model never has ('../../x')"),
    "an absolute entry": ("abs.keras", "entries a .keras model never has ('/abs/x')"),
    "an extra entry": ("extra.keras", "entries a .keras model never has ('assets/readme.txt')"),
    "a non-square kernel": ("square.keras", "Layer 3 (Conv2D): only square kernels are supported"),
}


def upload(app: AppTest, name: str, data: bytes, dataset: str = "digits") -> AppTest:
    app.file_uploader(key=models_state.UPLOAD).set_value((name, data, "application/octet-stream"))
    app.selectbox(key=models_state.UPLOAD_DATASET).select(dataset)
    app.run()
    app.button(key=models_state.UPLOAD_GO).click()
    app.run(timeout=300)
    return app


@pytest.mark.parametrize("case", list(CASES))
def test_a_bad_model_file_is_refused_with_the_reason_and_a_good_one_is_added_after(case, files):
    name, *words = CASES[case]
    before = len(list_runs())
    app = upload(open_app(MODELS), name, files[case])
    assert_clean(app)
    message = assert_says(app, "Not added", *words)
    assert message.count("Layer ") <= 1, message  # a layer is named once, not "Layer 4 (…): Layer 4 (…): …"
    assert len(list_runs()) == before  # nothing half-stored
    upload(app, "good.keras", files["good"])
    assert_clean(app)
    added = assert_says(app, "Added as run")
    run_id = added.split("Added as run ")[1].split(":")[0]
    assert run_id in {record.run_id for record in list_runs()}


def test_a_check_waits_in_line_while_another_holds_the_only_slot(files):
    """Issue 30 #5: every "Check and add" started its own TensorFlow process, with no global cap."""
    import threading
    import time

    from core.jobs.slots import SlotLine
    from core.model.upload_check import CHECKS
    from core.store.runs import STORE_ROOT
    from tests.processes import running

    holding, release, seen = threading.Event(), threading.Event(), []

    def hold() -> None:
        with SlotLine(STORE_ROOT / CHECKS, 1).slot():
            holding.set()
            deadline = time.monotonic() + 3
            while time.monotonic() < deadline:  # meanwhile, no check of the page's may have started
                seen.append(len(running("core.model.upload_check")))
                time.sleep(0.1)
            release.set()

    thread = threading.Thread(target=hold)
    thread.start()
    holding.wait(10)
    before = len(list_runs())
    app = upload(open_app(MODELS), "good.keras", files["good"])
    thread.join(10)
    assert release.is_set() and seen and max(seen) == 0
    assert_clean(app)
    assert_says(app, "Added as run") and len(list_runs()) == before + 1
