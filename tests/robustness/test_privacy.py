"""The "Your data" section's checkable claims: what a visitor draws or uploads on Predict and the Playground never
reaches the disk, the workspace key is never stored, and the hours follow CNNLAB_RUN_HOURS."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from core.store.runs import STORE_ROOT
from tests.app.harness import open_app, rerun
from tests.app.test_predict import CASES
from tests.robustness.bad_files import digit_png
from tests.robustness.test_image_uploads import playground_upload, predict_upload, reading, upload
from ui import state
from ui.playground import state as pg
from ui.predict import state as predict_state


def files_changed_since(moment: float, *roots: Path) -> list[Path]:
    changed = []
    for root in roots:
        for folder, _, names in os.walk(root):
            for name in names:
                path = Path(folder) / name
                try:
                    if path.stat().st_mtime >= moment:
                        changed.append(path)
                except OSError:
                    continue
    return changed


def test_the_section_shows_in_hosted_mode_with_the_servers_hours(monkeypatch):
    monkeypatch.setenv("CNNLAB_HOSTED", "1")
    monkeypatch.setenv("CNNLAB_RUN_HOURS", "3")
    app = open_app("pages/home.py")
    text = " ".join(element.value for element in app.markdown)
    assert "kept for 3 hours after it" in text and "never written to disk" in text
    assert [expander.label for expander in app.expander if expander.label == "Your data"]
    monkeypatch.delenv("CNNLAB_HOSTED")
    assert not [expander for expander in open_app("pages/home.py").expander if expander.label == "Your data"]


def test_drawings_and_uploads_on_predict_and_the_playground_are_not_written_to_disk(mnist_default):
    image = digit_png(dark_on_light=True)
    predict = predict_upload(mnist_default)
    playground = playground_upload()
    started = time.time() - 0.01
    upload(predict, predict_state.UPLOAD, "seven.png", image)
    assert "It reads **7**" in reading(predict)
    predict.segmented_control(key=predict_state.SOURCE).set_value("Draw")
    predict.session_state[predict_state.INJECTED] = CASES["centred seven"]
    rerun(predict)
    assert "It reads" in reading(predict)
    upload(playground, pg.UPLOAD, "seven.png", image)
    written = files_changed_since(started, STORE_ROOT, Path(tempfile.gettempdir()))
    # The only files these visits wrote are workspace records (no image in them), and nothing anywhere holds the upload.
    assert all(path.parent.name == "workspaces" for path in written if path.is_relative_to(STORE_ROOT)), written
    for path in written:
        try:
            assert image not in path.read_bytes(), path
        except OSError:
            continue
    key = predict.session_state[state.WORKSPACE_KEY]
    for path in (STORE_ROOT / "workspaces").glob("*.json"):
        assert key not in path.read_text()
