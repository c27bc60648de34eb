"""The worker process of a background job: `python -m core.jobs.worker <job folder> <lock descriptor>`.

Started by `core.jobs.jobs.start_job`, which already holds the job's lock and hands it over as an
inherited descriptor; keeping that descriptor open until exit is what tells the server we live.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import traceback
from dataclasses import asdict
from pathlib import Path

from core.jobs.jobs import HEARTBEAT, JobStatus, stop_requested
from core.store.runs import write_text_atomically

HEARTBEAT_SECONDS = 2.0


class ProgressLog:
    """Appends progress events to `progress.jsonl`, one line each, flushed at once.

    Between batches there are no events for a while (TensorFlow's import, loading the data,
    tracing the first batch, validating, evaluating), so in those phases a heartbeat thread touches
    the job's heartbeat file: the server tells a slow phase from a stalled worker. While an epoch's
    batches run, only their events count, so a training loop that hangs is seen as stalled too.
    """

    def __init__(self, path: Path, heartbeat: Path | None = None, every: float = HEARTBEAT_SECONDS):
        self.handle = open(path, "a", encoding="utf-8")  # noqa: SIM115 - open for the worker's lifetime
        self.between_batches, self.steps = True, 0
        if heartbeat is not None:
            threading.Thread(target=self._beat, args=(heartbeat, every), daemon=True).start()

    def _beat(self, heartbeat: Path, every: float) -> None:
        while True:
            if self.between_batches:
                heartbeat.touch()
            time.sleep(every)

    def __call__(self, event: dict) -> None:
        kind = event.get("type")
        if kind == "start":
            self.steps = int(event.get("steps_per_epoch") or 0)
        # Off only while an epoch's batches run: tracing the first batch, validation after the last
        # one and evaluation send no events for a while, and are covered.
        self.between_batches = kind != "batch" or int(event.get("step") or 0) >= self.steps
        self.handle.write(json.dumps(event) + "\n")
        self.handle.flush()


def _update(folder: Path, status: JobStatus, **changes: object) -> None:
    for key, value in changes.items():
        setattr(status, key, value)
    write_text_atomically(folder / "status.json", json.dumps(asdict(status)))


def _load_dataset(folder: Path, name: str):
    import numpy as np

    from core.data.datasets import Dataset, load_dataset

    if not (folder / "data.npz").is_file():
        return load_dataset(name)
    with np.load(folder / "data.npz") as data:
        return Dataset(name, name, "uploaded images", tuple(str(c) for c in data["class_names"]),
                       data["x_train"], data["y_train"], data["x_test"], data["y_test"], "upload")


def run(folder: Path) -> int:
    """Trains the job in `folder` and stores the run; returns the exit code."""
    status = JobStatus(**json.loads((folder / "status.json").read_text(encoding="utf-8")))
    _update(folder, status, state="running", pid=os.getpid())
    sink = ProgressLog(folder / "progress.jsonl", folder / HEARTBEAT)
    try:
        sink({"type": "phase", "phase": "loading"})
        job = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        from core.train.config import TrainConfig, check_config
        from core.train.engine import train_and_store  # TensorFlow loads here, after the status says running

        config = TrainConfig.from_dict(job["config"])
        dataset = _load_dataset(folder, config.dataset)
        check_config(config, len(dataset.x_train), **job.get("caps", {}))  # a hosted server's caps, again
        record = train_and_store(config, dataset, sink, lambda: stop_requested(folder), root=Path(job["root"]),
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
