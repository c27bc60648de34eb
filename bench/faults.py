"""Faults against real processes: does every run end as what it truly is, stored once?

    CNNLAB_DATA_DIR=../shared/datasets python bench/faults.py

Celery scenarios use a real `redis-server` (append-only, so it can be stopped and started again) and
two real `celery … worker --concurrency 1` processes on loopback, as `tests/robustness/test_scale_out.py`
does; the local one uses the app's own warm worker pool. Runs are the dense model on the 8×8 digits,
about 30–45 s each here.

1. celery, no fault: two runs at once.
2. celery, kill: two runs; the process training the first is killed (SIGKILL) while two busy loops
   keep both cores full, until a worker has taken the run again.
3. celery, Redis down: three runs (two training, one waiting); Redis is stopped for 60 s while two
   train, then started again.
4. celery, rapid Starts: ten Starts within one second from one workspace (the ones a later Start
   replaces are cancelled on purpose and do not count as runs, but must never be stored).
5. local, kill: one run; its worker process is killed once.

For each run meant to finish: finished (reported "finished" and stored exactly once), lost (anything
else), duplicated (stored more than once), mislabelled (reported failed or cancelled yet stored, or
reported finished yet not stored). Last line, exactly:
`faults: scenarios=S runs=N finished=F lost=L duplicated=D mislabelled=M`.
"""

from __future__ import annotations

import collections
import contextlib
import os
import signal
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.jobs.jobs import JobError, JobLimitError, QueueUnavailable
from core.jobs.queue import LocalQueue
from core.jobs.remote import RemoteQueue
from core.jobs.wire import connect
from core.store.hosting import Limits
from core.store.runs import list_runs
from tests.robustness.test_scale_out import HALF_A_MINUTE, Hog, Redis, config, start_worker

SETTLE_SECONDS = 600


def training(queue, job_id: str) -> bool:
    try:
        status = queue.status(job_id)
        return status.state == "running" and any(event["type"] == "batch" for event in queue.events(job_id)[0])
    except (JobError, QueueUnavailable):
        return False


def wait(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return True
        except (JobError, QueueUnavailable):
            pass
        time.sleep(0.5)
    return False


def settle(queue, job_ids: list[str]) -> dict[str, object]:
    """Each job's final status (None if it never ended within SETTLE_SECONDS)."""
    final = {}
    deadline = time.monotonic() + SETTLE_SECONDS
    for job_id in job_ids:
        final[job_id] = None
        while time.monotonic() < deadline:
            try:
                status = queue.status(job_id)
            except (JobError, QueueUnavailable):
                time.sleep(1)
                continue
            if not status.active:
                final[job_id] = status
                break
            time.sleep(1)
    return final


def score(name: str, final: dict, root: Path, meant: set[str]) -> collections.Counter:
    """Counts one scenario's outcome against the store (runs named after their job, one name each)."""
    time.sleep(5)  # the collector's last pass, and a second one that would store a copy if it could
    stored = collections.Counter(run.name for run in list_runs(root))
    counts = collections.Counter()
    for job_id, status in final.items():
        run_name = getattr(status, "name", "") or ""
        copies = stored.get(run_name, 0) if status is not None else 0
        state = status.state if status is not None else "never ended"
        if job_id in meant:
            counts["runs"] += 1
            if state == "finished" and copies == 1:
                counts["finished"] += 1
            else:
                counts["lost"] += 1
        counts["duplicated"] += max(0, copies - 1)
        if (state in ("failed", "cancelled") and copies) or (state == "finished" and not copies):
            counts["mislabelled"] += 1
        print(f"  {name}: {run_name or job_id}: {state}, stored {copies}×"
              + (f" ({status.message})" if status is not None and status.message else ""), flush=True)
    return counts


def celery_scenarios(folder: Path) -> list[collections.Counter]:
    (folder / "redis").mkdir()
    redis = Redis(folder / "redis")
    workers = [start_worker(redis.url, f"f{number}", folder / f"worker{number}.log") for number in (1, 2)]
    results = []
    limits = Limits(workers=2)
    try:
        def fresh(name: str) -> tuple[RemoteQueue, Path]:
            root = folder / name
            root.mkdir()
            connect(redis.url).flushdb()  # before the collector starts: a left-over run must not land in `root`
            return RemoteQueue(redis.url, root), root

        queue, root = fresh("calm")
        jobs = [queue.submit(config(f"calm {n}", **HALF_A_MINUTE), f"calm {n}", limits=limits) for n in range(2)]
        results.append(score("no fault", settle(queue, jobs), root, set(jobs)))
        queue.close()

        queue, root = fresh("kill")
        jobs = [queue.submit(config(f"kill {n}", **HALF_A_MINUTE), f"kill {n}", limits=limits) for n in range(2)]
        wait(lambda: all(training(queue, job_id) for job_id in jobs), 180)
        victim = queue.status(jobs[0]).pid
        hog = Hog()
        try:
            os.kill(victim, signal.SIGKILL)
            wait(lambda: (s := queue.status(jobs[0])).pid not in (0, victim) or not s.active, 240)
        finally:
            hog.stop()
        results.append(score("kill", settle(queue, jobs), root, set(jobs)))
        queue.close()

        queue, root = fresh("outage")
        jobs = [queue.submit(config(f"outage {n}", **HALF_A_MINUTE), f"outage {n}", limits=limits) for n in range(3)]
        wait(lambda: training(queue, jobs[0]) and training(queue, jobs[1]), 180)
        redis.stop()
        time.sleep(60)
        redis.start()
        results.append(score("Redis down 60 s", settle(queue, jobs), root, set(jobs)))
        queue.close()

        queue, root = fresh("rapid")
        accepted = []

        def press(number: int) -> None:
            time.sleep(number * 0.1)
            with contextlib.suppress(JobError, JobLimitError):
                accepted.append(queue.submit(config(f"rapid {number}", epochs=20), "one workspace", limits=limits))

        with ThreadPoolExecutor(10) as pool:
            list(pool.map(press, range(10)))
        final = settle(queue, accepted)
        meant = {job_id for job_id, status in final.items()
                 if status is None or not (status.state == "cancelled" and "Replaced" in status.message)}
        results.append(score("rapid Starts", final, root, meant))
        queue.close()
    finally:
        for worker in workers:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(worker.pid, signal.SIGKILL)
        redis.stop()
    return results


def local_kill(folder: Path) -> collections.Counter:
    from core.jobs.pool import stop_pools

    root = folder / "local"
    queue = LocalQueue(root)
    job_id = queue.submit(config("local kill", **HALF_A_MINUTE), "local", limits=Limits(workers=1))
    wait(lambda: training(queue, job_id), 180)
    os.kill(queue.status(job_id).pid, signal.SIGKILL)
    try:
        return score("local kill", settle(queue, [job_id]), root, {job_id})
    finally:
        stop_pools()


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="cnnlab-faults-"))
    results = [*celery_scenarios(folder), local_kill(folder)]
    total = sum(results, collections.Counter())
    print(f"faults: scenarios={len(results)} runs={total['runs']} finished={total['finished']} lost={total['lost']} "
          f"duplicated={total['duplicated']} mislabelled={total['mislabelled']}")


if __name__ == "__main__":
    main()
