"""A class presses Start at once: N visitors on a real hosted server, each with a live Train page.

    CNNLAB_DATA_DIR=../shared/datasets python bench/classroom.py [--sessions 30] [--backend local|celery]

The server is `streamlit run` (hosted mode), as a teacher runs it. Each of the N sessions is a
visitor's page spoken over Streamlit's own websocket protocol (`bench/stream_client.py`): it opens
the Train page (scikit-learn's digits, the recommended run), names its run, and presses Start; its
live panels then poll on the timers the server gives them, exactly as a browser's do. (30 Chromium
tabs would cost this 2-core machine more CPU than the server they measure; `bench/live_load.py`
drives real tabs.) Each session notes the moment its page *shows* its run's end.

- local: the embedded queue with one warm worker (`CNNLAB_WORKERS=1`).
- celery: a redis-server on loopback and two Celery workers on this machine (`CNNLAB_BROKER_URL`).

Baseline, measured in the same run first: one session, alone, three times through the same backend;
`serial` is N times its median (from Start to its job's end). For the class, the script prints what
was accepted, finished (ended "finished" and stored once), lost and stored twice; the last job's end
and the last page showing it, as ratios to `serial`; the staleness (seconds from a job's end to its
page showing it; "never" for a page that had not shown it `--give-up` seconds after every job ended);
the 95th-percentile time from a page's rerun request to its answer; and the peak resident memory of
everything but the clients (the server with its workers, and Redis and the Celery workers). Last line:
`classroom: N=… backend=… accepted=… finished=… lost=… duplicated=… last_finish_ratio=… last_shown_ratio=…
worst_staleness_s=… p95_response_s=… peak_rss_mb=…`.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import os
import signal
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from live_tabs import Server, cpu_seconds  # noqa: E402
from stream_client import Session  # noqa: E402

from tests.processes import descendants  # noqa: E402

OPEN_AT_ONCE = 5  # pages opening together before the class presses Start (a class arrives over a minute)


def tree_rss_mb(root_pids: list[int]) -> float:
    """Resident memory of processes and all their descendants, from /proc."""
    total = 0
    for pid in descendants(*root_pids):
        with contextlib.suppress(OSError):
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    return total / 2**20


class PeakMemory(threading.Thread):
    def __init__(self, pids: list[int]) -> None:
        super().__init__(daemon=True)
        self.pids, self.peak, self.done = pids, 0.0, threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.peak = max(self.peak, tree_rss_mb(self.pids))
            self.done.wait(0.5)


def job_statuses(store: Path, redis_url: str | None) -> list[dict]:
    """Every job's status as the queue holds it: status files (local) or Redis (Celery)."""
    if redis_url is None:
        found = []
        for status_file in (store / "jobs").glob("*/status.json"):
            with contextlib.suppress(OSError, ValueError):
                status = json.loads(status_file.read_text())
                if status.get("state") not in ACTIVE and not status.get("ended"):
                    status["ended"] = status_file.stat().st_mtime  # written before statuses said when they ended
                found.append(status)
        return found
    from core.jobs.wire import PREFIX, connect

    redis = connect(redis_url)
    return [json.loads(raw) for raw in (redis.get(name) for name in redis.scan_iter(f"{PREFIX}job:*")) if raw]


ACTIVE = ("queued", "starting", "running")


async def open_session(url: str, name: str) -> Session:
    session = Session(url, "train")
    await session.open(timeout=300)
    await session.type_text("Run name", name, timeout=300)
    return session


async def until_shown(sessions: list[Session], statuses, give_up: float) -> None:
    """Waits for every page to show its run's end; gives up `give_up` s after every job ended."""
    all_ended = None
    while any(session.shown is None for session in sessions):
        if all_ended is None and not any(status.get("state") in ACTIVE for status in statuses()):
            all_ended = time.time()
        if all_ended is not None and time.time() - all_ended > give_up:
            return
        await asyncio.sleep(0.5)


async def class_presses(args, server: Server, store: Path, redis_url: str | None) -> dict:
    def statuses() -> list[dict]:
        return job_statuses(store, redis_url)

    def ends() -> dict[str, dict]:
        return {status["name"]: status for status in statuses() if status.get("state") not in ACTIVE}

    # Baseline: one session alone, three times, through the same backend (its workers warm).
    alone, alone_shown = [], []
    for number in range(3):
        session = await open_session(server.url, f"alone {number}")
        pressed = time.time()
        await session.click("Start training", timeout=300)
        await until_shown([session], statuses, args.give_up)
        end = ends().get(f"alone {number}", {}).get("ended") or float("nan")
        alone.append(end - pressed)
        alone_shown.append((session.shown.at if session.shown else float("nan")) - pressed)
        print(f"alone {number + 1}: ended {alone[-1]:.1f} s after Start, shown after {alone_shown[-1]:.1f} s",
              flush=True)
        await session.close()
    serial = args.sessions * statistics.median(alone)

    # The class opens its pages (a few at a time, as a class arriving), then all press Start within a second.
    gate = asyncio.Semaphore(OPEN_AT_ONCE)

    async def arrive(number: int) -> Session:
        async with gate:
            return await open_session(server.url, f"class {number}")

    sessions = await asyncio.gather(*(arrive(number) for number in range(args.sessions)))
    for session in sessions:
        session.responses.clear()
    cpu_before = cpu_seconds(server.process.pid)
    began = time.time()
    answers = await asyncio.gather(*(session.click("Start training", timeout=args.give_up) for session in sessions),
                                   return_exceptions=True)
    presses = time.time() - began
    unanswered = sum(isinstance(answer, BaseException) for answer in answers)
    if unanswered:  # the server is too busy to answer a press: its page is still watched
        print(f"{unanswered} of {args.sessions} presses had no answer within {args.give_up:.0f} s", flush=True)
    await until_shown(sessions, statuses, args.give_up)
    server_cpu = cpu_seconds(server.process.pid) - cpu_before
    watched = time.time() - began
    await asyncio.sleep(5 if redis_url else 1)  # the collector's last pass writes the last Celery runs
    final = {status["name"]: status for status in statuses() if status.get("name", "").startswith("class ")}
    for session in sessions:
        await session.close()

    from core.store.runs import list_runs

    stored = collections.Counter(run.name for run in list_runs(store) if run.name.startswith("class "))
    finished = sum(1 for status in final.values() if status.get("state") == "finished" and stored[status["name"]] == 1)
    stale, shown_at = [], []
    for number, session in enumerate(sessions):
        status = final.get(f"class {number}", {})
        if session.shown is None or not status.get("ended"):
            stale.append(None)
            print(f"class {number}: {status.get('state', 'not accepted')}, never shown", flush=True)
            continue
        stale.append(max(0.0, session.shown.at - status["ended"]))
        shown_at.append(session.shown.at)
        if session.shown.outcome != "stored" or session.shown.run_id != status.get("run_id"):
            print(f"class {number}: the page showed {session.shown}, the queue says {status.get('state')} "
                  f"{status.get('run_id')}", flush=True)
    responses = [seconds for session in sessions for seconds in session.responses]
    polls = sum(session.polls for session in sessions)
    ended_at = [status["ended"] for status in final.values() if status.get("ended")]
    print(f"{args.sessions} presses answered in {presses:.2f} s; alone: median {statistics.median(alone):.1f} s "
          f"to the end, {statistics.median(alone_shown):.1f} s to the page showing it; serial for "
          f"{args.sessions}: {serial:.0f} s; last end {max(ended_at, default=began) - began:.0f} s after the "
          f"presses; {polls} live-panel polls and {len(responses)} answers in {watched:.0f} s; server CPU "
          f"{server_cpu:.0f} s ({100 * server_cpu / watched:.0f}% of one core)"
          + ("" if all(status.get("state") not in ACTIVE for status in final.values()) else
             "; some jobs never ended"), flush=True)
    known = [seconds for seconds in stale if seconds is not None]
    return {
        "accepted": len(final), "finished": finished, "lost": args.sessions - finished,
        "duplicated": sum(count - 1 for count in stored.values() if count > 1),
        "last_finish_ratio": (max(ended_at, default=began) - began) / serial,
        "last_shown_ratio": "never" if None in stale else f"{(max(shown_at) - began) / serial:.2f}",
        "worst_staleness_s": "never" if None in stale else f"{max(known):.1f}",
        "median_staleness_s": f"{statistics.median(known):.1f}" if known else "never",
        "p95_response_s": statistics.quantiles(responses, n=20)[-1] if len(responses) >= 2 else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--backend", choices=("local", "celery"), default="local")
    parser.add_argument("--give-up", type=float, default=300.0,
                        help="seconds after every job ended to wait for pages still not showing theirs")
    args = parser.parse_args()
    store = Path(tempfile.mkdtemp(prefix="cnnlab-classroom-"))
    env = {**os.environ, "CNNLAB_HOSTED": "1", "CNNLAB_STORE_DIR": str(store), "CNNLAB_WORKERS": "1",
           "CNNLAB_RUNS_PER_WORKSPACE": "5", "CNNLAB_MAX_RUNS": str(10 * args.sessions)}
    env.pop("CNNLAB_BROKER_URL", None)
    cluster, redis_url = [], None
    if args.backend == "celery":
        from tests.robustness.test_scale_out import Redis, start_worker

        redis = Redis()
        redis_url = env["CNNLAB_BROKER_URL"] = redis.url
        cluster = [redis.process, *(start_worker(redis.url, f"bench{n}", store / f"worker{n}.log") for n in (1, 2))]
    server = Server(env, store / "server.log")
    memory = PeakMemory([server.process.pid, *(process.pid for process in cluster)])
    memory.start()
    try:
        result = asyncio.run(class_presses(args, server, store, redis_url))
    finally:
        memory.done.set()
        server.stop()
        for process in cluster[1:]:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
        for process in cluster[:1]:
            process.terminate()
    print(f"classroom: N={args.sessions} backend={args.backend} accepted={result['accepted']} "
          f"finished={result['finished']} lost={result['lost']} duplicated={result['duplicated']} "
          f"last_finish_ratio={result['last_finish_ratio']:.2f} last_shown_ratio={result['last_shown_ratio']} "
          f"worst_staleness_s={result['worst_staleness_s']} median_staleness_s={result['median_staleness_s']} "
          f"p95_response_s={result['p95_response_s']:.2f} peak_rss_mb={memory.peak:.0f}")


if __name__ == "__main__":
    main()
