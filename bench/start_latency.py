"""Start → first chart point: how long a run waits before its first batch is on the live chart.

Measures the MNIST default (`default_config("mnist")`) submitted to the queue, until its first
"batch" progress event, two ways, three times each, in one run of this script:

- cold: a pool started at the same moment as the submit, so its worker must import TensorFlow
  first (what every run cost before the warm pool: a fresh process per job);
- warm: an idle warm worker waiting for work (what the Train page arranges by starting the pool
  when it opens).

Prints the medians and their ratio. `CNNLAB_DATA_DIR` must hold MNIST.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from core.jobs.jobs import job_status, read_events, submit_job  # noqa: E402
from core.jobs.pool import ensure_pool, pool_settings, stop_pools  # noqa: E402
from core.store.hosting import Limits  # noqa: E402
from core.train.recipes import default_config  # noqa: E402

ROUNDS = 3


def first_batch_seconds(root: Path, owner: str, started: float) -> float:
    """Submits the MNIST default and waits for its first batch; stops the run there."""
    config = default_config("mnist")
    config.name = f"start latency {owner}"
    job_id = submit_job(config, owner, root=root, limits=Limits(workers=1))
    while True:
        events, _ = read_events(job_id, 0, root)
        if any(event.get("type") == "batch" for event in events):
            seconds = time.perf_counter() - started
            break
        if not job_status(job_id, root).active:
            raise SystemExit(f"the run ended before its first batch: {job_status(job_id, root).message}")
        time.sleep(0.02)
    (root / "jobs" / job_id / "stop").touch()
    while job_status(job_id, root).active:
        time.sleep(0.1)
    return seconds


def main() -> None:
    cold, warm = [], []
    for number in range(ROUNDS):
        with tempfile.TemporaryDirectory(prefix="cnnlab-start-") as folder:
            root = Path(folder)
            started = time.perf_counter()
            ensure_pool(root, pool_settings(1))
            cold.append(first_batch_seconds(root, f"cold {number}", started))
            time.sleep(1.0)  # the worker is idle again, warm
            warm.append(first_batch_seconds(root, f"warm {number}", time.perf_counter()))
            stop_pools()
        print(f"round {number + 1}: cold {cold[-1]:.2f} s, warm {warm[-1]:.2f} s", flush=True)
    cold_median, warm_median = statistics.median(cold), statistics.median(warm)
    print(f"median of {ROUNDS}: cold worker {cold_median:.2f} s, warm worker {warm_median:.2f} s "
          f"(goal ≤ 2 s); warm / cold = {warm_median / cold_median:.2f}")


if __name__ == "__main__":
    main()
