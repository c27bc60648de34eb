"""Predict in a real browser: the time from lifting the mouse to new probabilities on screen.

    CNNLAB_DATA_DIR=../shared/datasets python bench/predict_browser.py [--drawings 20]

Starts `streamlit run` on a temporary store (the shipped MNIST default is listed first), opens Predict in
Debian's Chromium and draws single-stroke digits with Playwright's mouse, as a person would. For each
drawing: Clear, draw, and time from mouse-up until the probability bars (`.st-key-predict_bars`) hold
values that were not on screen before. Feature maps and saliency may still be arriving then.

The baseline, in the same run: the time from clicking Clear until the page says the canvas is empty, a
rerun of the same panel with nothing to compute. It prints every drawing, the median and the worst of
both, and their ratio.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.sync_api import sync_playwright

from core.predict import sketches
from tests.browser.conftest import StreamlitServer, open_chromium, wait_until_idle

# One stroke per digit, in canvas pixels (the canvas is 280 × 280), drawn the way people draw them fast: the
# first way of each digit in core.predict.sketches.
DIGITS: dict[str, list[tuple[float, float]]] = {str(digit): ways[0][0] for digit, ways in sketches.DIGITS.items()}
BARS = ".st-key-predict_bars .js-plotly-plot"
_BARS_VALUES = f"() => {{ const p = document.querySelector('{BARS}'); return p && p.data ? " \
               "JSON.stringify(p.data[0].y) : null; }"


def draw(page, canvas, points: list[tuple[float, float]]) -> float:
    """Draws one stroke; returns the perf_counter time of the mouse-up."""
    box = canvas.bounding_box()
    scale = box["width"] / 280
    start = points[0]
    page.mouse.move(box["x"] + start[0] * scale, box["y"] + start[1] * scale)
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(box["x"] + x * scale, box["y"] + y * scale, steps=6)
    lifted = time.perf_counter()
    page.mouse.up()
    return lifted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drawings", type=int, default=20)
    arguments = parser.parse_args()
    os.environ["CNNLAB_STORE_DIR"] = tempfile.mkdtemp(prefix="cnnlab-predict-store-")
    answers, clears = [], []
    with tempfile.TemporaryDirectory() as folder:
        server = StreamlitServer(Path(folder) / "streamlit.log")
        try:
            with sync_playwright() as playwright:
                context = open_chromium(playwright, Path(folder) / "profile", 1400, 1100)
                page = context.new_page()
                page.set_default_timeout(120_000)
                page.goto(f"{server.url}/predict")
                wait_until_idle(page)
                names = list(DIGITS)
                for number in range(arguments.drawings + 1):  # the first drawing warms the model up, untimed
                    clear = page.get_by_role("button", name="Clear")
                    clear.wait_for()
                    started = time.perf_counter()
                    clear.click()
                    page.wait_for_function("() => [...document.querySelectorAll('[data-testid=\"stAlert\"]')]"
                                           ".some(e => e.innerText.includes('The canvas is empty'))", polling="raf")
                    cleared = time.perf_counter() - started
                    wait_until_idle(page)
                    canvas = page.locator("canvas.cnnlab-drawing")
                    before = page.evaluate(_BARS_VALUES)
                    digit = names[number % len(names)]
                    lifted = draw(page, canvas, DIGITS[digit])
                    page.wait_for_function(f"(before) => {{ const now = ({_BARS_VALUES})(); "
                                           "return now !== null && now !== before; }", arg=before, polling="raf")
                    answered = time.perf_counter() - lifted
                    wait_until_idle(page)
                    reading = next((page.get_by_text(words).first.inner_text() for words in
                                    ("It reads", "Not sure", "Not a digit") if page.get_by_text(words).count()), "?")
                    if number:
                        answers.append(answered)
                        clears.append(cleared)
                        print(f"  drawing {number:2d} ({digit}): answer {answered * 1000:4.0f} ms, "
                              f"clear {cleared * 1000:4.0f} ms · {reading[:40]}", flush=True)
                context.close()
        finally:
            server.stop()
    answer, clear = statistics.median(answers), statistics.median(clears)
    print(f"mouse-up → new probabilities: median {answer * 1000:.0f} ms, worst {max(answers) * 1000:.0f} ms "
          f"({len(answers)} drawings)")
    print(f"baseline, Clear → empty-canvas note: median {clear * 1000:.0f} ms, worst {max(clears) * 1000:.0f} ms")
    print(f"ratio (answer ÷ baseline, medians): {answer / clear:.2f}")


if __name__ == "__main__":
    main()
