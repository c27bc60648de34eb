"""The README's four screenshots of My classes (build, train, predict, export), and how long the whole loop takes.

In Debian's Chromium at 1280×900, on a fresh server and store, it does what a learner does, with the mouse:
names three classes (circle, triangle, star), draws 10 examples of each on the real canvas (code-drawn shapes with
random size, place, slant and pen: `core.predict.sketches`), pressing "Add" after each; presses "Train on my
classes" and Start; opens the run in Predict and draws a new star; then exports the run to TensorFlow Lite on
Models. It prints the seconds of each step: the machine's share of "nothing to a working classifier" (a person
also spends a few seconds drawing each example).

    CNNLAB_DATA_DIR=../shared/datasets python docs/own_classes_screenshots.py   # writes docs/images/own-*.png
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
IMAGES = REPO / "docs" / "images"
sys.path.insert(0, str(REPO))

SHAPES = ("circle", "triangle", "star")
PER_CLASS = 10


def strokes_of(shape: str, rng) -> list[list[tuple[float, float]]]:
    """One person's drawing of a shape, as strokes in canvas pixels (280×280)."""
    from core.predict import sketches

    template = {"circle": lambda: [sketches._ellipse(140, 140, rng.uniform(70, 90), 90)],
                "triangle": lambda: sketches._polygon(3, rng), "star": lambda: sketches._star(rng)}[shape]()
    strokes, _ = sketches.jittered(template, rng)
    return strokes


def draw(tab, strokes) -> None:
    box = tab.locator("canvas.cnnlab-drawing").first.bounding_box()
    scale = box["width"] / 280
    for stroke in strokes:
        tab.mouse.move(box["x"] + stroke[0][0] * scale, box["y"] + stroke[0][1] * scale)
        tab.mouse.down()
        for x, y in stroke[1:]:
            tab.mouse.move(box["x"] + x * scale, box["y"] + y * scale, steps=3)
        tab.mouse.up()


def main() -> int:
    import numpy as np
    from playwright.sync_api import expect, sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        os.environ.update(CNNLAB_STORE_DIR=str(work / "store"))
        from tests.browser.conftest import open_chromium, start_server, wait_until_idle

        IMAGES.mkdir(parents=True, exist_ok=True)
        server = start_server(work)
        rng = np.random.default_rng(11)
        steps: dict[str, float] = {}
        try:
            with sync_playwright() as playwright:
                context = open_chromium(playwright, work / "profile", width=1280, height=900)
                tab = context.new_page()
                tab.set_default_timeout(120_000)
                started = time.monotonic()
                tab.goto(f"{server.url}/my_classes")
                names = tab.get_by_role("textbox", name="Your classes, one name per line (2 to 10)")
                names.fill("\n".join(SHAPES))
                names.press("Tab")
                wait_until_idle(tab)
                tab.get_by_role("button", name="Create my classes").click()
                wait_until_idle(tab)
                mark = time.monotonic()
                for shape in SHAPES:
                    tab.get_by_role("radio", name=re.compile(rf"^{shape} \(")).check(force=True)
                    wait_until_idle(tab)
                    for count in range(1, PER_CLASS + 1):
                        tab.locator("canvas.cnnlab-drawing").first.wait_for()
                        draw(tab, strokes_of(shape, rng))
                        tab.get_by_role("button", name=f"Add to “{shape}”").click()
                        expect(tab.get_by_text(f"{shape} · {count} example", exact=False).first).to_be_visible()
                        wait_until_idle(tab)
                steps["draw and add 30 examples (machine's share)"] = time.monotonic() - mark
                tab.get_by_text("Show why 20 examples can be enough (augmentation)").click()
                wait_until_idle(tab)
                tab.get_by_text("So 20 examples become thousands").wait_for()
                tab.screenshot(path=str(IMAGES / "own-build.png"))

                mark = time.monotonic()
                tab.get_by_role("button", name="Train on my classes").click()
                wait_until_idle(tab)
                tab.get_by_role("button", name="Start training").click()
                tab.get_by_role("link", name="Open in Predict").first.wait_for(timeout=240_000)
                steps["train (Start to result)"] = time.monotonic() - mark
                wait_until_idle(tab)
                tab.screenshot(path=str(IMAGES / "own-train.png"))

                mark = time.monotonic()
                tab.get_by_role("link", name="Open in Predict").first.click()
                wait_until_idle(tab)
                tab.get_by_role("radio", name="Draw").or_(tab.get_by_role("button", name="Draw")).first.click()
                wait_until_idle(tab)
                tab.locator("canvas.cnnlab-drawing").first.wait_for()
                draw(tab, strokes_of("star", np.random.default_rng(2024)))
                said = tab.locator('[data-testid="stMarkdownContainer"]').filter(has_text=re.compile("^It reads"))
                said.first.wait_for()
                wait_until_idle(tab)
                steps["predict a new drawing"] = time.monotonic() - mark
                answer = said.first.inner_text().splitlines()[0]
                tab.screenshot(path=str(IMAGES / "own-predict.png"))
                steps["nothing to a working classifier (machine's share)"] = time.monotonic() - started

                tab.goto(f"{server.url}/models?ws={tab.url.split('ws=')[1].split('&')[0]}")
                wait_until_idle(tab)
                table = tab.locator("[data-testid='stDataFrame']").first.bounding_box()
                tab.mouse.click(table["x"] + 8, table["y"] + 55 + 35 * 4)  # the fifth row: after the 4 defaults
                wait_until_idle(tab)
                tab.get_by_text("Take it away").click()
                tab.get_by_role("button", name="Export and check").click()
                tab.get_by_text(re.compile("^Checked: it matches Keras")).wait_for()
                wait_until_idle(tab)
                tab.get_by_text("Take it away").scroll_into_view_if_needed()
                tab.screenshot(path=str(IMAGES / "own-export.png"))
                context.close()
        finally:
            server.stop()
    for step, seconds in steps.items():
        print(f"{step}: {seconds:.1f} s")
    print(f"Predict said: {answer}")
    print("wrote", ", ".join(sorted(path.name for path in IMAGES.glob("own-*.png"))))
    return 0 if answer.startswith("It reads star") else 1


if __name__ == "__main__":
    sys.exit(main())
