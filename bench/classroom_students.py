"""One process's share of the class in `bench/classroom.py`.

In a module of its own because the class's processes are spawned: they import this, and Streamlit's
script runner replaces `__main__` in the process that runs AppTest, so a function there cannot be found.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def students(numbers: list[int], ready, go, results) -> None:
    """One process's share of the class: opens their Train pages, presses Start in each when told, then
    keeps rerunning their pages, as their live panels do, until their runs have ended."""
    sys.path.insert(0, str(REPO_ROOT))
    from core.jobs.queue import training_queue
    from tests.app.harness import open_app
    from ui.train import state as train_state

    queue = training_queue()
    apps = [open_app("pages/train.py") for _ in numbers]
    for number, app in zip(numbers, apps, strict=True):
        app.text_input(key=train_state.RUN_NAME).set_value(f"class {number}")
        app.run()
    ready.put(os.getpid())
    go.wait()
    job_ids = []
    for app in apps:
        app.button(key=train_state.START).click()
        app.run()
        job_ids.append(app.session_state[train_state.JOB_ID] if train_state.JOB_ID in app.session_state else None)  # noqa: SIM401
    pressed = time.time()
    responses, turn = [], 0
    accepted = [job_id for job_id in job_ids if job_id]
    while any(queue.status(job_id).active for job_id in accepted):
        app = apps[turn % len(apps)]
        turn += 1
        started = time.perf_counter()
        app.run()  # what the page costs the server while the queue runs
        responses.append(time.perf_counter() - started)
        time.sleep(0.5)  # with 5 processes: about as many reruns a second as one process polling every 0.1 s
    results.put((job_ids, responses, pressed, time.time()))
