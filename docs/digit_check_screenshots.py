"""Takes the README's screenshots of the digit check on real people's kinds of handwriting, in Debian's Chromium.

Each drawing is drawn with the mouse on the Predict page's real canvas (pen width set on its slider), and the
photo is uploaded as a JPEG: a thick-pen 4, a small 1, a 7 with a crossbar and a photo of a 5 on paper, which the
check must pass; and a letter, a heart and a scribble, which it must flag. It prints what the page said for each.

    CNNLAB_DATA_DIR=../shared/datasets python docs/digit_check_screenshots.py   # writes docs/images/check-*
"""

from __future__ import annotations

import io
import itertools
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
IMAGES = REPO / "docs" / "images"

# (name, pen width, strokes in canvas pixels, whether the check must pass it)
DRAWINGS = [
    ("thick-4", 40, [[(175, 240), (175, 40), (70, 175), (225, 175)]], True),
    ("small-1", 8, [[(205, 205), (215, 195), (215, 255)]], True),
    ("crossbar-7", 18, [[(70, 60), (205, 60), (115, 235)], [(105, 150), (190, 150)]], True),
    ("letter-k", 18, [[(95, 50), (95, 230)], [(190, 50), (95, 150), (190, 230)]], False),
    ("heart", 18, [[(140, 235), (70, 150), (68, 95), (100, 62), (140, 95), (180, 62), (212, 95), (210, 150),
                    (140, 235)]], False),
    ("scribble", 14, [[(50, 140), (90, 60), (120, 200), (150, 70), (180, 210), (220, 90), (100, 120), (230, 170),
                       (60, 200)]], False),
]


PANEL = {"x": 370, "y": 370, "width": 840, "height": 530}  # the canvas (or upload) and the answer, at 1280×900


def draw(tab, strokes) -> None:
    box = tab.locator("canvas.cnnlab-drawing").first.bounding_box()
    for stroke in strokes:
        tab.mouse.move(box["x"] + stroke[0][0], box["y"] + stroke[0][1])
        tab.mouse.down()
        for (x0, y0), (x1, y1) in itertools.pairwise(stroke):
            for step in range(1, 11):  # many small moves, like a hand
                tab.mouse.move(box["x"] + x0 + (x1 - x0) * step / 10, box["y"] + y0 + (y1 - y0) * step / 10)
        tab.mouse.up()


def set_pen(tab, width: int) -> None:
    """The stroke-width slider, moved with the keyboard to `width`."""
    handle = tab.get_by_role("slider", name="Stroke width")
    handle.focus()
    now = int(handle.get_attribute("aria-valuenow") or handle.get_attribute("aria-valuetext") or
              tab.locator('[data-testid="stSliderThumbValue"]').first.inner_text())
    for _ in range(abs(width - now)):
        handle.press("ArrowRight" if width > now else "ArrowLeft")


def photo_of_a_five() -> bytes:
    """A 5 written in dark ink on paper and photographed (code-made: this machine has no camera)."""
    import numpy as np
    from PIL import Image

    from core.predict import sketches, styles

    rng = np.random.default_rng(5)
    photo = styles.photographed(sketches.render([[(190, 55), (100, 55), (95, 130), (160, 120), (195, 170),
                                                  (160, 225), (90, 215)]], 16), rng)
    buffer = io.BytesIO()
    Image.fromarray(photo).save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def verdict(tab) -> str:
    """The page's answer in one line: "It reads…", "Not sure…" or "Not a digit?…"."""
    said = tab.locator('[data-testid="stMarkdownContainer"]').filter(
        has_text=re.compile("^(It reads|Not sure|Not a digit)"))
    said.first.wait_for()
    return said.first.inner_text().splitlines()[0]


def main() -> int:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        os.environ.update(CNNLAB_STORE_DIR=str(work / "store"))
        from core.store.runs import DEFAULTS, STORE_ROOT
        from core.train.recipes import SHIPPED_RUN_IDS
        from tests.browser.conftest import open_chromium, start_server, wait_until_idle

        run_id = SHIPPED_RUN_IDS["mnist"]
        shutil.copytree(REPO / "models" / DEFAULTS / run_id, STORE_ROOT / DEFAULTS / run_id)
        IMAGES.mkdir(parents=True, exist_ok=True)
        server = start_server(work)
        failures = []
        try:
            with sync_playwright() as playwright:
                context = open_chromium(playwright, work / "profile", width=1280, height=900)
                tab = context.new_page()
                tab.set_default_timeout(90_000)
                tab.goto(f"{server.url}/predict")
                tab.get_by_text("The canvas is empty").wait_for()
                wait_until_idle(tab)
                for name, width, strokes, passes in DRAWINGS:
                    tab.get_by_role("button", name="Clear").click()
                    wait_until_idle(tab)
                    tab.get_by_text("The canvas is empty").wait_for()
                    set_pen(tab, width)
                    wait_until_idle(tab)
                    draw(tab, strokes)
                    wait_until_idle(tab)  # the last stroke's answer, not the first's (a K's first stroke is a 1)
                    said = verdict(tab)
                    tab.screenshot(path=str(IMAGES / f"check-{name}.png"), clip=PANEL)
                    print(f"{name}: {said}")
                    if said.startswith("Not a digit") == passes:
                        failures.append(name)
                tab.get_by_text("Upload", exact=True).first.click()
                wait_until_idle(tab)
                photo = photo_of_a_five()
                (IMAGES / "check-photo-5-upload.jpg").write_bytes(photo)
                tab.locator('input[type="file"]').set_input_files(
                    files=[{"name": "five-on-paper.jpg", "mimeType": "image/jpeg", "buffer": photo}])
                wait_until_idle(tab)
                said = verdict(tab)
                tab.screenshot(path=str(IMAGES / "check-photo-5.png"), clip=PANEL)
                print(f"photo-5: {said}")
                if said.startswith("Not a digit"):
                    failures.append("photo-5")
                context.close()
        finally:
            server.stop()
    print("wrote", ", ".join(sorted(path.name for path in IMAGES.glob("check-*.png"))))
    if failures:
        print("judged wrongly:", ", ".join(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    sys.exit(main())
