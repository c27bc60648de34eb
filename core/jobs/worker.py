"""The worker process of a background job: `python -m core.jobs.worker <job folder> <lock descriptor>`.

Started by `core.jobs.jobs.start_job`, which already holds the job's lock and hands it over as an
inherited descriptor; keeping that descriptor open until exit is what tells the server we live.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import traceback
from pathlib import Path

from core.jobs import folder as files
from core.jobs.folder import JobStatus

HEARTBEAT_SECONDS = 2.0


class ProgressLog:
    """Appends progress events to the job's progress log, one line each, flushed at once.

    Between batches there are no events for a while (TensorFlow's import, loading the data,
    tracing the first batch, validating, evaluating), so in those phases a heartbeat thread touches
    the job's heartbeat file: the server tells a slow phase from a stalled worker. While an epoch's
    batches run, only their events count, so a training loop that hangs is seen as stalled too.
    """

    def __init__(self, folder: Path, heartbeat: bool = True, every: float = HEARTBEAT_SECONDS):
        self.handle = files.open_progress(folder)  # open for the worker's lifetime
        self.between_batches, self.steps = True, 0
        if heartbeat:
            threading.Thread(target=self._beat, args=(folder, every), daemon=True).start()

    def _beat(self, folder: Path, every: float) -> None:
        while True:
            if self.between_batches:
                files.touch_heartbeat(folder)
            time.sleep(every)

    def __call__(self, event: dict) -> None:
        kind = event.get("type")
        if kind == "start":
            self.steps = int(event.get("steps_per_epoch") or 0)
        # Off only while an epoch's batches run: tracing the first batch, validation after the last
        # one and evaluation send no events for a while, and are covered.
        self.between_batches = kind != "batch" or int(event.get("step") or 0) >= self.steps
        files.append_event(self.handle, event)


def _update(folder: Path, status: JobStatus, **changes: object) -> None:
    for key, value in changes.items():
        setattr(status, key, value)
    files.write_status(folder, status)


def run(folder: Path) -> int:
    """Trains the job in `folder` and stores the run; returns the exit code."""
    status = files.read_status(folder, folder.name)
    _update(folder, status, state="running", pid=os.getpid())
    sink = ProgressLog(folder)
    try:
        sink({"type": "phase", "phase": "loading"})
        order = files.read_order(folder)
        from core.data.datasets import load_dataset
        from core.train.config import check_config
        from core.train.engine import train_and_store  # TensorFlow loads here, after the status says running

        config = order.config
        dataset = files.read_dataset(folder, config.dataset) or load_dataset(config.dataset)
        check_config(config, len(dataset.x_train), **order.caps)  # a hosted server's caps, again
        record = train_and_store(config, dataset, sink, lambda: files.stop_requested(folder), root=order.root,
                                 owner=status.owner)
    except Exception as error:
        traceback.print_exc()
        if isinstance(error, (ValueError, FileNotFoundError, MemoryError)):  # bad settings, missing data, too big
            message = str(error) or type(error).__name__
        else:
            message = f"Training failed: {type(error).__name__}: {error}"
        _update(folder, status, state="failed", message=message)
        sink({"type": "end", "status": "failed", "message": message})
        return 1
    _update(folder, status, state=record.status, run_id=record.run_id, message=record.stop_reason)
    return 0


if __name__ == "__main__":
    lock_descriptor = int(sys.argv[2])  # held open, never closed: the server sees the lock while we live
    sys.exit(run(Path(sys.argv[1])))
