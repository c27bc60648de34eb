"""A class presses Start at once: N AppTest sessions on a hosted server, each pressing Start within one second.

    python bench/classroom.py [--sessions 30] [--backend local|celery]

Each session opens the Train page as a student would (scikit-learn's digits, the recommended run)
and presses Start. The script then keeps rerunning the sessions' pages, as their live panels do,
until every run has ended.

AppTest runs one script at a time per process (its runtime is process-wide: two runs in threads
at once crash inside Streamlit), so the sessions are spread over `--processes` processes (5) that
press at the same moment, 6 presses each. Like a server with five processes, they share the queue
(the store, or Redis); this process runs the worker pool. The script prints how long the presses
took in all. The clients run on the same machine as the workers, so their page reruns take CPU
the workers would otherwise have: on 2 cores, that weighs on the last-finish ratio.

- local: the embedded queue with one warm worker (`CNNLAB_WORKERS=1`).
- celery: a redis-server on loopback and two Celery workers on this machine (`CNNLAB_BROKER_URL`).

Baseline, measured in the same run first: the same run, alone, three times through the same
backend; `serial` is N times its median. The script prints what was accepted, finished, lost and
stored twice; the last finish as a ratio to `serial`; the 95th-percentile page response while the
queue ran; and the peak resident memory of everything (this process, which serves the pages as
the server would, plus the workers and Redis). Its last line is
`classroom: N=… backend=… accepted=… finished=… lost=… duplicated=… last_finish_ratio=… p95_response_s=… peak_rss_mb=…`.
"""

from __future__ import annotations

import argparse
import collections
import multiprocessing
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

import classroom_students  # noqa: E402 - beside this script: the class's processes import it, not this one


def tree_rss_mb(root_pid: int) -> float:
    """Resident memory of a process and all its descendants, from /proc."""
    children: dict[int, list[int]] = collections.defaultdict(list)
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            statm = Path(f"/proc/{entry}/statm").read_text().split()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children[parent].append(int(entry))
        rss[int(entry)] = int(statm[1]) * os.sysconf("SC_PAGE_SIZE")
    total, stack = 0, [root_pid]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total / 2**20


class PeakMemory(threading.Thread):
    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak, self.done = 0.0, threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.peak = max(self.peak, tree_rss_mb(os.getpid()))
            self.done.wait(0.5)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--backend", choices=("local", "celery"), default="local")
    parser.add_argument("--processes", type=int, default=5,
                        help="processes serving the sessions (AppTest runs one script at a time per process)")
    args = parser.parse_args()
    store = Path(tempfile.mkdtemp(prefix="cnnlab-classroom-"))
    os.environ.update({"CNNLAB_HOSTED": "1", "CNNLAB_STORE_DIR": str(store), "CNNLAB_WORKERS": "1",
                       "CNNLAB_RUNS_PER_WORKSPACE": "5", "CNNLAB_MAX_RUNS": str(10 * args.sessions)})
    memory = PeakMemory()
    memory.start()
    cluster = []
    if args.backend == "celery":
        from tests.robustness.test_scale_out import Redis, start_worker

        redis = Redis()
        os.environ["CNNLAB_BROKER_URL"] = redis.url
        cluster = [redis, *(start_worker(redis.url, f"bench{n}", store / f"worker{n}.log") for n in (1, 2))]

    from core.jobs.queue import training_queue
    from core.store.runs import list_runs
    from tests.app.harness import open_app
    from ui.train import state as train_state

    queue = training_queue()
    queue.warm()

    def start(app) -> str | None:
        app.button(key=train_state.START).click()
        app.run()
        return app.session_state[train_state.JOB_ID] if train_state.JOB_ID in app.session_state else None  # noqa: SIM401 - no .get on AppTest state

    def until_ended(job_ids: list[str]) -> None:
        while any(queue.status(job_id).active for job_id in job_ids):
            time.sleep(0.2)

    # Baseline: one run alone, three times, through the same backend (its workers warm).
    alone = []
    for number in range(3):
        app = open_app("pages/train.py")
        began = time.perf_counter()
        job_id = start(app)
        until_ended([job_id])
        alone.append(time.perf_counter() - began)
        print(f"alone {number + 1}: {alone[-1]:.1f} s", flush=True)
    serial = args.sessions * statistics.median(alone)

    # The class: the sessions are spread over `--processes` processes, so that their presses can overlap.
    context = multiprocessing.get_context("spawn")
    ready, results, go = context.Queue(), context.Queue(), context.Event()
    groups = [list(range(args.sessions))[index::args.processes] for index in range(args.processes)]
    processes = [context.Process(target=classroom_students.students, args=(group, ready, go, results))
                 for group in groups]
    for process in processes:
        process.start()
    for _ in processes:
        ready.get(timeout=900)
    began = time.time()
    go.set()
    outcomes = [results.get(timeout=7200) for _ in processes]
    last_finish = max(outcome[3] for outcome in outcomes) - began
    presses = max(outcome[2] for outcome in outcomes) - began
    for process in processes:
        process.join(60)
    accepted = [job_id for outcome in outcomes for job_id in outcome[0] if job_id]
    responses = [seconds for outcome in outcomes for seconds in outcome[1]]
    statuses = [queue.status(job_id) for job_id in accepted]
    deadline = time.monotonic() + 30
    while args.backend == "celery" and time.monotonic() < deadline and \
            len([r for r in list_runs() if r.name.startswith("class ")]) < sum(s.state == "finished" for s in statuses):
        time.sleep(0.5)  # the collector writes the last runs into the store
    stored = collections.Counter(run.name for run in list_runs() if run.name.startswith("class "))
    finished = sum(1 for status in statuses if status.state == "finished" and stored[status.name] >= 1)
    lost = len(accepted) - finished
    duplicated = sum(count - 1 for count in stored.values() if count > 1)
    p95 = statistics.quantiles(responses, n=20)[-1] if len(responses) >= 2 else (responses or [0])[0]
    memory.done.set()
    memory.join()
    for status in statuses:
        if status.state != "finished":
            print(f"not finished: {status.name}: {status.state} {status.message}")
    print(f"{args.sessions} presses from {args.processes} processes took {presses:.2f} s; "
          f"alone: median {statistics.median(alone):.1f} s; "
          f"serial for {args.sessions}: {serial:.0f} s; "
          f"last finish {last_finish:.0f} s; {len(responses)} page reruns while the queue ran")
    for process in cluster[1:]:
        process.kill()
    if cluster:
        cluster[0].stop()
    print(f"classroom: N={args.sessions} backend={args.backend} accepted={len(accepted)} finished={finished} "
          f"lost={lost} duplicated={duplicated} last_finish_ratio={last_finish / serial:.2f} "
          f"p95_response_s={p95:.2f} peak_rss_mb={memory.peak:.0f}")


if __name__ == "__main__":
    main()
