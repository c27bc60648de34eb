"""Training speed in the app's background job, watched live, against a bare `model.fit`.

(a) a plain Python process: load MNIST, build the model, `model.fit`, nothing else;
(b) the app's engine in its worker process (`core.jobs.jobs.start_job`), while this process drives
    the Train page with AppTest, rerunning it every 0.5 s like the live view's fragment does. This
    process imports TensorFlow first, as the server does once Evaluate or Predict has loaded a
    model (`ui.keras_loader.import_keras`), so every rerun runs Streamlit's `clear_session()` +
    `gc.collect()` with TF loaded: the case the issue measured (100× slower in a thread). Pass
    `--no-freeze` to import Keras without the server's `gc.freeze()` and see what it saves.

Both train the same model on the same 20,000 images, batch 128, 3 epochs; the figure is images/s
over epochs 2–3 (epoch 1 includes graph tracing), training batches only. (a) and (b) alternate,
three times each. The target is (b) ≥ 0.9 × (a).

Usage: CNNLAB_DATA_DIR=../shared/datasets python bench/train_overhead.py [--no-freeze]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("CNNLAB_STORE_DIR", tempfile.mkdtemp(prefix="cnnlab-bench-store-"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

SUBSET, BATCH, EPOCHS, PRESET, ROUNDS = 20_000, 128, 3, "fast_digits", 3

BARE = f"""
import time, keras
from core.data.datasets import load_dataset
from core.model.architectures import build_model
from core.model.presets import PRESETS
data = load_dataset("mnist")
x, y = data.x_train[:{SUBSET}], data.y_train[:{SUBSET}]
model = build_model(PRESETS[{PRESET!r}].spec(), (28, 28, 1), 10)
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"], jit_compile=False)
class Clock(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()
    def on_train_batch_end(self, batch, logs=None):
        self.last = time.perf_counter()
    def on_epoch_end(self, epoch, logs=None):
        print(epoch, self.last - self.start, flush=True)
model.fit(x, y, batch_size={BATCH}, epochs={EPOCHS}, callbacks=[Clock()], verbose=0)
"""


def bare() -> float:
    output = subprocess.run([sys.executable, "-c", BARE], cwd=REPO, capture_output=True, text=True, check=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)}).stdout
    seconds = [float(line.split()[1]) for line in output.splitlines() if line[:1].isdigit()]
    return SUBSET * (EPOCHS - 1) / sum(seconds[1:])


def in_app(freeze: bool = True) -> tuple[float, int]:
    if freeze:
        from ui.keras_loader import import_keras

        import_keras()  # TensorFlow in the polling process, loaded as the server loads it for Evaluate or Predict
    else:
        import keras  # noqa: F401 - the same, without the server's gc.freeze()

    from core.jobs.jobs import job_status, read_events
    from tests.app.harness import open_app, rerun
    from ui import state
    from ui.train import state as train_state
    from ui.train.settings import setting_key
    from ui.train.state import JOB_ID

    app = open_app("pages/train.py")
    app.selectbox(key=state.DATASET).select("mnist")
    rerun(app)
    app.selectbox(key=train_state.PRESET).select(PRESET)
    rerun(app)
    app.slider(key=setting_key("epochs")).set_value(EPOCHS)
    app.select_slider(key=setting_key("batch_size")).set_value(BATCH)
    app.select_slider(key=setting_key("learning_rate")).set_value(1e-3)
    app.radio(key=setting_key("schedule")).set_value("constant")
    app.slider(key=setting_key("validation_split")).set_value(0.0)
    app.select_slider(key=setting_key("subset")).set_value(SUBSET)
    rerun(app)
    app.button(key=train_state.START).click()
    rerun(app)
    job_id = app.session_state[JOB_ID]
    polls = 0
    while job_status(job_id).active:
        time.sleep(0.5)
        rerun(app)  # what the live fragment does every 0.5 s
        polls += 1
    epochs = [event for event in read_events(job_id)[0] if event["type"] == "epoch"]
    return SUBSET * (EPOCHS - 1) / (epochs[-1]["elapsed"] - epochs[0]["elapsed"]), polls


def main() -> None:
    freeze = "--no-freeze" not in sys.argv[1:]
    bare_speeds, app_speeds = [], []
    for _ in range(ROUNDS):
        bare_speeds.append(bare())
        speed, polls = in_app(freeze)
        app_speeds.append(speed)
        print(f"(a) bare fit {bare_speeds[-1]:,.0f} images/s   (b) app job {speed:,.0f} images/s "
              f"with {polls} page reruns", flush=True)
    a, b = statistics.median(bare_speeds), statistics.median(app_speeds)
    print(f"median: (a) {a:,.0f} images/s, (b) {b:,.0f} images/s, ratio (b)/(a) = {b / a:.3f} (target ≥ 0.9)"
          + ("" if freeze else ", without gc.freeze()"))


if __name__ == "__main__":
    main()
