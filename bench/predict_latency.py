"""Latency of one drawing's prediction: `prepare_drawing` plus the warm shipped MNIST model.

Prints the median over 200 drawings of (1) `core.predict.preprocessing.prepare_drawing` on a 280×280
canvas, (2) the model call the page makes (`core.predict.inspection.probabilities`, a direct call),
(3) both; (4) the digit check's call (`core.predict.rejection.judge`, the "not a digit" judge), and (5) all
three: what the page computes per stroke before the bars, the figure the issue bounds at 30 ms.
The baseline, measured in the same run, is Keras' `model.predict` on the same input, which most demos use.

Usage: python bench/predict_latency.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import keras  # noqa: E402

from core.predict.inspection import probabilities  # noqa: E402
from core.predict.preprocessing import prepare_drawing  # noqa: E402
from core.predict.rejection import judge, load_check, read_threshold  # noqa: E402
from core.train.recipes import SHIPPED_RUN_IDS  # noqa: E402
from tests.unit.test_preprocessing import CASES  # noqa: E402

MODEL = REPO / "models" / "defaults" / SHIPPED_RUN_IDS["mnist"] / "model.keras"
REPEATS = 200


def median_ms(action) -> float:
    times = []
    for index in range(REPEATS):
        started = time.perf_counter()
        action(index)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> None:
    model = keras.saving.load_model(MODEL, safe_mode=True, compile=False)
    drawings = list(CASES.values())
    prepared = [prepare_drawing(d).image for d in drawings]
    check, threshold = load_check(), read_threshold()
    for image in prepared:  # warm: the first calls trace and allocate
        probabilities(model, image)
        judge(check, threshold, image)
        model.predict(image[None], verbose=0)
    prepare = median_ms(lambda i: prepare_drawing(drawings[i % len(drawings)]))
    call = median_ms(lambda i: probabilities(model, prepared[i % len(prepared)]))
    total = median_ms(lambda i: probabilities(model, prepare_drawing(drawings[i % len(drawings)]).image))
    checked = median_ms(lambda i: judge(check, threshold, prepared[i % len(prepared)]))

    def page_path(i: int) -> None:
        image = prepare_drawing(drawings[i % len(drawings)]).image
        judge(check, threshold, image)
        probabilities(model, image)

    everything = median_ms(page_path)
    baseline = median_ms(lambda i: model.predict(prepared[i % len(prepared)][None], verbose=0))
    print(f"prepare_drawing {prepare:.2f} ms, model call {call:.2f} ms, "
          f"both {total:.2f} ms; digit check {checked:.2f} ms; all three {everything:.2f} ms "
          f"(medians over {REPEATS}; target ≤ 30 ms)")
    print(f"baseline model.predict {baseline:.2f} ms: the page's path takes {total / baseline:.2f}× its time")


if __name__ == "__main__":
    main()
