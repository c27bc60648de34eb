"""A warm training worker: `python -m core.jobs.worker <store root> <parent pid> <jobs> <max MB>`.

It imports TensorFlow once, then takes queued jobs one after another (`core.jobs.jobs.claim_next`),
oldest first, so a run starts in about a second instead of the 8–14 s a fresh process took to
import TensorFlow, load the data and trace the graph. `core.jobs.pool.WorkerPool` starts and
replaces these workers.

Between jobs it clears the Keras session and collects garbage; after `jobs` jobs, or once its
memory passes `max MB`, it exits and the pool starts a fresh one, so nothing leaks for long. A
worker whose parent (the server) has gone finishes its current run and takes no new one.
"""

from __future__ import annotations

import gc
import os
import resource
import sys
import threading
import time
import traceback
from pathlib import Path

from core.data.datasets import BUILTIN_DATASETS, Dataset
from core.jobs import folder as files
from core.jobs.folder import JobStatus

HEARTBEAT_SECONDS = 2.0
IDLE_POLL_SECONDS = 0.1  # how often an idle worker looks for a queued run: the wait before a free worker starts
_CACHED_DATASETS = 2  # built-in datasets kept loaded between jobs (MNIST's arrays are 55 MB)


class ProgressLog:
    """Appends progress events to the job's progress log, one line each, flushed at once.

    Between batches there are no events for a while (loading the data, tracing the first batch,
    validating, evaluating), so in those phases a heartbeat thread touches the job's heartbeat
    file: the server tells a slow phase from a stalled worker. While an epoch's batches run, only
    their events count, so a training loop that hangs is seen as stalled too. `close` ends the
    heartbeat: a warm worker runs many jobs, and each job's heartbeat must stop with it.
    """

    def __init__(self, folder: Path, heartbeat: bool = True, every: float = HEARTBEAT_SECONDS):
        self.handle = files.open_progress(folder)
        self.between_batches, self.steps = True, 0
        self._closed = threading.Event()
        if heartbeat:
            threading.Thread(target=self._beat, args=(folder, every), daemon=True).start()

    def _beat(self, folder: Path, every: float) -> None:
        while not self._closed.is_set():
            if self.between_batches:
                files.touch_heartbeat(folder)
            self._closed.wait(every)

    def __call__(self, event: dict) -> None:
        kind = event.get("type")
        if kind == "start":
            self.steps = int(event.get("steps_per_epoch") or 0)
        # Off only while an epoch's batches run: tracing the first batch, validation after the last
        # one and evaluation send no events for a while, and are covered.
        self.between_batches = kind != "batch" or int(event.get("step") or 0) >= self.steps
        files.append_event(self.handle, event)

    def close(self) -> None:
        self._closed.set()
        self.handle.close()


class DatasetCache:
    """The last few built-in datasets a worker loaded, so the next run on MNIST starts at once."""

    def __init__(self, size: int = _CACHED_DATASETS):
        self.size, self.loaded = size, {}

    def get(self, name: str) -> Dataset:
        from core.data.datasets import load_dataset

        if name not in self.loaded:
            while len(self.loaded) >= self.size:
                self.loaded.pop(next(iter(self.loaded)))
            self.loaded[name] = load_dataset(name)
        else:  # most recently used last
            self.loaded[name] = self.loaded.pop(name)
        return self.loaded[name]


def _update(folder: Path, status: JobStatus, **changes: object) -> bool:
    """Changes this attempt's status, if the run is still this attempt's and active (compare-and-set)."""
    def decide(current: JobStatus) -> JobStatus | None:
        if current.attempt != status.attempt or not current.active:
            return None  # given up on (stalled) or cancelled meanwhile: this attempt no longer speaks for it
        for name, value in changes.items():
            setattr(current, name, value)
        if current.state in files.FINAL_STATES:
            current.ended = time.time()
        return current

    changed = files.transition(folder, decide)
    if changed is not None:
        for name in changes:
            setattr(status, name, getattr(changed, name))
    return changed is not None


def run_job(folder: Path, status: JobStatus, datasets: DatasetCache) -> None:
    """Trains the claimed job in `folder` and stores the run; every outcome ends in its status."""
    _update(folder, status, state="running", pid=os.getpid(), started=time.time())
    sink = ProgressLog(folder)
    try:
        sink({"type": "phase", "phase": "loading"})
        order = files.read_order(folder)
        from core.store.hosting import enforced_caps
        from core.train.config import check_run
        from core.train.engine import train_and_store

        config = order.config
        dataset = files.read_dataset(folder, config.dataset)
        if dataset is None:
            dataset = datasets.get(config.dataset) if config.dataset in BUILTIN_DATASETS else None
        if dataset is None:
            raise FileNotFoundError(f"The dataset {config.dataset!r} was not handed to the job.")
        # This process's own caps; the order may only tighten them.
        sizes, time_limit = check_run(config, len(dataset.x_train), dataset.image_shape, dataset.num_classes,
                                      enforced_caps(order.caps))
        record = train_and_store(config, dataset, sink, lambda: files.stop_requested(folder), root=order.root,
                                 owner=status.owner, time_limit=time_limit)
    except Exception as error:
        traceback.print_exc()
        message = files.failure_message(error)
        if _update(folder, status, state="failed", message=message):
            sink({"type": "end", "status": "failed", "message": message})
    else:
        files.record_speed(order.root, config,
                           files.measured_speed(sizes.train, record.epochs_trained, record.training_seconds))
        _update(folder, status, state=record.status, run_id=record.run_id,
                message=record.stop_reason or status.message)  # a retry keeps saying so
    finally:
        sink.close()


def memory_mb() -> float:
    """This process's resident memory now, in MB (from /proc; the peak where /proc is missing)."""
    try:
        resident_pages = int(Path("/proc/self/statm").read_text().split()[1])
        return resident_pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def serve(root: Path, parent: int, max_jobs: int, max_mb: float) -> int:
    """Takes and trains queued jobs until it is time to make way for a fresh worker; returns the exit code."""
    import keras  # once, now: every job after this starts warm

    from core.jobs.jobs import claim_next

    # TensorFlow's import leaves ~350,000 objects; moved out of the collector's reach, every later
    # collection (Python's own during training, and ours between jobs) skips them, as in the server.
    gc.collect()
    gc.freeze()

    datasets = DatasetCache()
    served = 0
    while True:
        if os.getppid() != parent:
            return 0  # the server is gone: take no new run (the one in hand, if any, has finished)
        claimed = claim_next(root, os.getpid())
        if claimed is None:
            time.sleep(IDLE_POLL_SECONDS)
            continue
        folder, status, lock = claimed
        try:
            run_job(folder, status, datasets)
        finally:
            os.close(lock)  # the job is over: its lock tells the server nothing is training it any more
        keras.backend.clear_session()
        gc.collect()
        served += 1
        if served >= max_jobs or memory_mb() > max_mb:
            return 0  # the pool starts a fresh worker in our place


if __name__ == "__main__":
    sys.exit(serve(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])))
