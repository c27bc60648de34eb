"""SIGKILL while a model is being saved, at four points; then a restart.

A child process saves a real Keras model through the store and stops at a hook point (it prints
"ready" and sleeps); the test kills it there. After the "restart" (the app's upkeep, then a fresh
AppTest of the Models page), the store lists only complete runs and no leftover is on disk.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from core.store.runs import MODEL_FILE, RUNS, STORE_ROOT, list_runs, load_record
from tests.app.harness import open_app
from tests.conftest import REPO_ROOT
from tests.robustness.conftest import assert_clean
from ui import hosting

CHILD = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path
    import keras
    import core.store.runs as store
    from core.store.ids import new_id

    root, hook, existing = Path(sys.argv[1]), sys.argv[2], sys.argv[3]

    def pause():
        print("ready", flush=True)
        time.sleep(600)

    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(), keras.layers.Dense(10, "softmax")])

    def write_model(path):
        if hook == "during the model write":
            model.save(path)
            data = path.read_bytes()
            path.write_bytes(data[: len(data) // 2])  # half a file on disk
            pause()
        model.save(path)
        if hook == "after the model, before the metadata":
            pause()

    if hook == "after the metadata, before the rename":
        real_rename = os.rename
        store.os = type("os", (), {**{k: getattr(os, k) for k in dir(os) if not k.startswith("__")},
                                   "rename": staticmethod(lambda a, b: (pause(), real_rename(a, b)))})
    if hook == "while renaming a stored run":
        real_replace = os.replace
        store.os = type("os", (), {**{k: getattr(os, k) for k in dir(os) if not k.startswith("__")},
                                   "replace": staticmethod(lambda a, b: (pause(), real_replace(a, b)))})
        store.rename_run(existing, "a new name", root)
    record = store.RunRecord(new_id(), "killed", "digits", [], {}, {}, {}, 1.0)
    store.save_run(record, write_model, root)
""")
HOOKS = ("during the model write", "after the model, before the metadata", "after the metadata, before the rename",
         "while renaming a stored run")


def complete_run(root: Path, name: str) -> str:
    from core.store.ids import new_id
    from core.store.runs import RunRecord, save_run

    record = RunRecord(new_id(), name, "digits", [], {}, {}, {}, 1.0)
    save_run(record, lambda path: path.write_bytes(b"a whole model"), root)
    return record.run_id


@pytest.mark.parametrize("hook", HOOKS)
def test_a_save_killed_at_a_hook_point_leaves_only_complete_runs(hook):
    root = STORE_ROOT  # the store the app under test reads
    name = f"complete before a kill {hook}"
    existing = complete_run(root, name)
    before = {run.run_id for run in list_runs(root)}
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(root), hook, existing], cwd=REPO_ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                             env={**os.environ, "PYTHONPATH": str(REPO_ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"})
    try:
        assert child.stdout.readline().strip() == "ready"
    finally:
        child.kill()
        child.wait(timeout=30)
    leftovers = [path.name for path in (root / RUNS).rglob(".*")]
    assert leftovers, "the child was killed before it wrote anything: the hook point was not reached"
    # Before any clean-up, the listing already shows only whole runs, and the renamed one's old name.
    assert {run.run_id for run in list_runs(root)} == before
    assert load_record(existing, root).name == name

    # Restart: the app's upkeep (on the first page view) removes the dead writer's leftovers.
    hosting.upkeep(root, force=True)
    assert not [path.name for path in (root / RUNS).rglob(".*")]
    assert (root / RUNS / existing / MODEL_FILE).read_bytes() == b"a whole model"
    app = open_app("pages/models.py")
    assert_clean(app)
    names = list(app.dataframe[0].value["name"])
    assert name in names and "killed" not in names and "a new name" not in names
