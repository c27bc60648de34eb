"""Takes the README's screenshots of a lesson: the projector view at 1920×1080, the teacher's room with 30
students at 1280×800, a student's view, and a closed class. A hosted server on a throwaway store, Debian's
Chromium, and a class of 30 whose runs are stored as a finished lesson would leave them (their model files are
stand-ins: the screens never open them).

    python docs/screenshots.py            # writes docs/images/class-*.png
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
IMAGES = REPO / "docs" / "images"
NAMES = ("Ada", "Bea", "Cal", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jun", "Kai", "Lea", "Mo", "Nia", "Oli",
         "Pia", "Quin", "Rae", "Sol", "Tam", "Uma", "Vic", "Wes", "Xia", "Yan", "Zoë", "Ari", "Bo", "Cy", "Di")


def lesson(store: Path) -> tuple[str, str, str]:
    """A class of 30 with their runs; returns (teacher key, a student's key, the class id)."""
    from core.classroom.classes import create_class, join_class
    from core.classroom.control import ClassCaps, record_blocked, set_caps
    from core.model.layers import spec_to_dicts
    from core.model.presets import PRESETS
    from core.store.ids import new_id
    from core.store.records import RunRecord
    from core.store.runs import save_run
    from core.store.workspaces import create_workspace

    teacher_key, teacher = create_workspace(store)
    room = create_class("Year 10 · CNNs, lesson 2", teacher, store)
    chance = random.Random(2)
    student_key = ""
    for number, name in enumerate(NAMES):
        key, student = create_workspace(store)
        student_key = student_key or key
        join_class(room.join_code, name, student, store, now=0.0)
        for _attempt in range(chance.choice((1, 1, 2, 3))):
            preset, epochs = chance.choice((("fast_digits", 5), ("fast_digits", 10), ("two_conv_blocks", 3)))
            accuracy = round(0.93 + 0.06 * chance.random(), 4)
            record = RunRecord(run_id=new_id(), name=f"{preset} on MNIST, {epochs} epochs", dataset="mnist",
                               spec=spec_to_dicts(PRESETS[preset].spec()),
                               hyperparameters={"model_key": preset, "epochs": epochs, "batch_size": 128},
                               history={"loss": [0.5 / (epoch + 1) for epoch in range(epochs)],
                                        "accuracy": [accuracy - 0.05 / (epoch + 1) for epoch in range(epochs)]},
                               metrics={"test": {"accuracy": accuracy}}, training_seconds=8.0 + 4 * epochs,
                               input_shape=[28, 28, 1], class_names=[str(digit) for digit in range(10)],
                               owner=student.workspace_id)
            save_run(record, lambda path: path.write_bytes(b"stand-in"), store)
        if number == 3:
            record_blocked(student.workspace_id, "Your teacher caps this class's runs at 10 epochs: set Epochs to "
                                                 "10 or fewer.", store)
    set_caps(room.class_id, teacher, ClassCaps(max_epochs=10), {"max_epochs": 20}, store)
    return teacher_key, student_key, room.class_id


def main() -> int:
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import open_chromium, start_server, wait_until_idle

    IMAGES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        os.environ.update(CNNLAB_HOSTED="1", CNNLAB_STORE_DIR=str(work / "store"))
        teacher_key, student_key, _ = lesson(work / "store")
        server = start_server(work)
        try:
            with sync_playwright() as playwright:
                context = open_chromium(playwright, work / "profile", width=1280, height=800)
                tab = context.new_page()
                tab.set_default_timeout(60_000)
                tab.goto(f"{server.url}/classroom?ws={teacher_key}")
                tab.get_by_role("button", name="Stop all runs").wait_for()  # a fresh server's first run shows
                wait_until_idle(tab)  # the bare folder-mode page for a moment, until its router takes over
                tab.screenshot(path=str(IMAGES / "class-teacher-1280.png"))
                tab.get_by_text("Stop all runs").first.evaluate("e => e.scrollIntoView({block: 'start'})")
                tab.screenshot(path=str(IMAGES / "class-students-1280.png"))
                tab.get_by_text("Leaderboard", exact=True).first.evaluate("e => e.scrollIntoView({block: 'start'})")
                tab.screenshot(path=str(IMAGES / "class-leaderboard-1280.png"))
                projector = tab.get_by_role("link", name="Projector view").get_attribute("href")
                wall = context.new_page()
                wall.set_viewport_size({"width": 1920, "height": 1080})
                wall.goto(projector)
                wait_until_idle(wall)
                wall.screenshot(path=str(IMAGES / "class-projector-1920.png"))
                student = context.new_page()
                student.goto(f"{server.url}/classroom?ws={student_key}")
                wait_until_idle(student)
                student.screenshot(path=str(IMAGES / "class-student-1280.png"))
                context.close()
        finally:
            server.stop()
    print("wrote", ", ".join(sorted(path.name for path in IMAGES.glob("class-*.png"))))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    sys.exit(main())
