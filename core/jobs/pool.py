"""The pool of warm training workers on this machine: a fixed number, always replaced when one ends.

One process per store runs the pool: whichever takes the store's pool lock first (normally the
Streamlit server, at its first Train page or Start). Its supervisor thread starts the workers
(`python -m core.jobs.worker`) and starts a new one whenever one exits: recycled after its
job quota, past its memory bound, or killed. The workers take jobs from the queue themselves, so
30 queued runs cost 30 small folders and no process.

Each worker runs in its own session, so a stalled one can be ended with everything it started
(`core.jobs.jobs`), and a server restart does not kill a run half-way: the worker finishes it,
then exits, and the restarted server's pool takes the queue from there.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
JOBS_ENV = "CNNLAB_WORKER_JOBS"
MEMORY_ENV = "CNNLAB_WORKER_MAX_MB"
POOL_LOCK = ".pool.lock"
SUPERVISE_SECONDS = 0.5


@dataclass(frozen=True)
class PoolSettings:
    """How many workers, and when one makes way for a fresh one.

    Args:
        workers: Runs that train at once (`CNNLAB_WORKERS`, through `core.store.hosting.Limits.workers`).
        jobs_per_worker: Jobs a worker runs before it is replaced (`CNNLAB_WORKER_JOBS`).
        max_mb: Resident memory after which a worker is replaced once its job ends (`CNNLAB_WORKER_MAX_MB`).
    """

    workers: int = 1
    jobs_per_worker: int = 20
    max_mb: float = 2000.0


def positive_setting(name: str, default: float) -> float:
    """A positive number from the environment variable `name`; a missing or bad value gives `default`."""
    try:
        value = float(os.environ.get(name, "") or default)
    except ValueError:
        return default
    return value if value > 0 else default


def pool_settings(workers: int) -> PoolSettings:
    """The settings for `workers` workers (`Limits.workers`, from `CNNLAB_WORKERS`), recycling from the
    environment; a bad value falls back to its default."""
    return PoolSettings(workers=max(1, int(workers)),
                        jobs_per_worker=int(positive_setting(JOBS_ENV, PoolSettings.jobs_per_worker)),
                        max_mb=positive_setting(MEMORY_ENV, PoolSettings.max_mb))


class WorkerPool:
    """Keeps `settings.workers` warm workers alive for one store, if this process holds its pool lock.

    Args:
        root: The store root whose queue the workers serve.
        settings: How many workers, and when each is replaced.
    """

    def __init__(self, root: Path, settings: PoolSettings):
        self.root, self.settings = Path(root), settings
        self.workers: list[subprocess.Popen] = []
        self.replaced = 0  # workers started in place of one that ended
        self._lock_handle = None
        self._guard = threading.Lock()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def leading(self) -> bool:
        """Whether this process runs the store's pool."""
        return self._lock_handle is not None

    def _take_lock(self) -> bool:
        folder = self.root / "jobs"
        folder.mkdir(parents=True, exist_ok=True)
        handle = open(folder / POOL_LOCK, "a+")  # noqa: SIM115 - held for as long as the pool runs
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._lock_handle = handle
        return True

    def _spawn(self) -> subprocess.Popen:
        log = open(self.root / "jobs" / "workers.log", "ab")  # noqa: SIM115 - the child keeps it
        environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"}
        try:
            return subprocess.Popen(
                [sys.executable, "-m", "core.jobs.worker", str(self.root), str(os.getpid()),
                 str(self.settings.jobs_per_worker), str(self.settings.max_mb)],
                cwd=REPO_ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=environment,
                start_new_session=True)
        finally:
            log.close()

    def supervise(self) -> None:
        """One round: takes the lead if nobody has it, reaps ended workers and starts missing ones."""
        with self._guard:
            if self._stopped.is_set() or (not self.leading and not self._take_lock()):
                return
            alive = [worker for worker in self.workers if worker.poll() is None]
            self.replaced += len(self.workers) - len(alive) if self.workers else 0
            while len(alive) < self.settings.workers:
                alive.append(self._spawn())
            self.workers = alive

    def start(self) -> WorkerPool:
        """Supervises in a background thread from now on; returns the pool."""
        if self._thread is None:
            self.supervise()
            self._thread = threading.Thread(target=self._loop, name="cnnlab-pool", daemon=True)
            self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stopped.wait(SUPERVISE_SECONDS):
            with contextlib.suppress(OSError):
                self.supervise()

    def stop(self, timeout: float = 10.0) -> None:
        """Ends the workers (a run in progress fails as killed) and gives up the lead."""
        self._stopped.set()
        with self._guard:
            for worker in self.workers:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(worker.pid, 9)
            for worker in self.workers:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    worker.wait(timeout)
            self.workers = []
            if self._lock_handle is not None:
                self._lock_handle.close()
                self._lock_handle = None


_pools: dict[Path, WorkerPool] = {}
_pools_guard = threading.Lock()


def ensure_pool(root: Path, settings: PoolSettings) -> WorkerPool:
    """The store's pool in this process, started on first use (it leads only if no other process does)."""
    key = Path(root).resolve()
    with _pools_guard:
        pool = _pools.get(key)
        if pool is None:
            pool = _pools[key] = WorkerPool(key, settings).start()
    return pool


def stop_pools() -> None:
    """Stops every pool this process started (tests, and a clean shutdown)."""
    with _pools_guard:
        pools = list(_pools.values())
        _pools.clear()
    for pool in pools:
        pool.stop()
