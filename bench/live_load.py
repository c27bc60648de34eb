"""Live panels on a starved server: N Chromium tabs each with a live run, the server on one busy core.

    CNNLAB_DATA_DIR=../shared/datasets python bench/live_load.py [--tabs 8] [--give-up 300]

A hosted server (`CNNLAB_HOSTED=1`, one warm worker) runs pinned to CPU 0 (`taskset`) beside a busy
loop on that same core; its worker, this script and Chromium run on CPU 1. N tabs (each its own
workspace) open the Train page on scikit-learn's digits with the recommended run.

1. idle: the tabs are open, nothing polls; the server's CPU seconds and the tabs' websocket messages
   over 20 s are the baseline.
2. polling, nothing changing: the worker is paused (SIGSTOP) and every tab presses Start, so each
   shows a waiting run whose live panel polls and finds nothing new. Over 20 s: the server's CPU
   seconds, less the idle baseline, over the polls the tabs sent (websocket messages, less the idle
   rate) is the server's CPU per poll.
3. the runs: the worker goes on (SIGCONT) and trains the N runs one after another. For each tab, the
   staleness is the seconds from its job's end (its status file) to the tab first showing the result.
   A tab that has not shown it `--give-up` seconds after every job ended counts as "never".

Last line, exactly: `live_load: tabs=N worst_staleness_s=W median_staleness_s=M` (W is "never" if any
tab never showed its result), after a line with the CPU per poll.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from live_tabs import (
    BusyLoop,
    Pinner,
    Server,
    children,
    cpu_seconds,
    local_all_ended,
    local_job_ends,
    open_browser,
    open_train_tabs,
    press_start,
    staleness,
    watch,
)

WINDOW = 20.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tabs", type=int, default=8)
    parser.add_argument("--give-up", type=float, default=300.0)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    os.sched_setaffinity(0, {1})  # this script and Chromium (its children) stay off the server's core
    store = Path(tempfile.mkdtemp(prefix="cnnlab-live-load-"))
    env = {**os.environ, "CNNLAB_HOSTED": "1", "CNNLAB_STORE_DIR": str(store), "CNNLAB_WORKERS": "1"}
    env.pop("CNNLAB_BROKER_URL", None)
    server = Server(env, store / "server.log", cpus="0")
    pinner = Pinner(server.process.pid, "1")
    pinner.start()
    busy = BusyLoop("0")
    try:
        with sync_playwright() as playwright:
            browser = open_browser(playwright)
            counter = [0]

            def on_socket(socket):
                socket.on("framesent", lambda _frame: counter.__setitem__(0, counter[0] + 1))

            tabs = open_train_tabs(browser, server.url, args.tabs, "live load")
            # Tabs opened before the counter: reload each so its (new) websocket is counted.
            for tab in tabs:
                tab.page.on("websocket", on_socket)
                tab.page.reload()
            tabs[0].page.wait_for_timeout(10_000)  # every tab rendered (Playwright's waits deliver its events)
            workers = [pid for pid in children(server.process.pid)]
            print(f"server pid {server.process.pid}, workers {workers}", flush=True)

            counter[0], before = 0, cpu_seconds(server.process.pid)
            tabs[0].page.wait_for_timeout(WINDOW * 1000)
            idle_cpu, idle_frames = cpu_seconds(server.process.pid) - before, counter[0]
            print(f"idle: server CPU {idle_cpu:.2f} s, {idle_frames} messages from the tabs in {WINDOW:.0f} s",
                  flush=True)

            for pid in workers:
                os.kill(pid, signal.SIGSTOP)
            press_start(tabs)
            tabs[0].page.wait_for_timeout(5_000)  # every Start served
            counter[0], before = 0, cpu_seconds(server.process.pid)
            tabs[0].page.wait_for_timeout(WINDOW * 1000)
            poll_cpu, poll_frames = cpu_seconds(server.process.pid) - before, counter[0]
            polls = max(1, poll_frames - idle_frames)
            print(f"polling, nothing new: server CPU {poll_cpu:.2f} s, {poll_frames} messages in {WINDOW:.0f} s; "
                  f"per poll {1000 * max(0.0, poll_cpu - idle_cpu) / polls:.1f} ms of server CPU", flush=True)
            for pid in workers:
                os.kill(pid, signal.SIGCONT)

            started = time.time()
            watch(tabs, lambda: local_all_ended(store, args.tabs), args.give_up)
            stale = staleness(tabs, local_job_ends(store))
            for tab, seconds in zip(tabs, stale, strict=True):
                shown = f"{seconds:.1f} s after its end" if seconds is not None else "never"
                print(f"tab {tab.number}: {tab.outcome or 'nothing shown'}, {shown}", flush=True)
            print(f"all runs ended and watched in {time.time() - started:.0f} s", flush=True)
            browser.close()
    finally:
        busy.stop()
        pinner.done.set()
        server.stop()
    known = [seconds for seconds in stale if seconds is not None]
    worst = "never" if None in stale else f"{max(known):.1f}"
    median = f"{statistics.median(known):.1f}" if known else "never"
    print(f"live_load: tabs={args.tabs} worst_staleness_s={worst} median_staleness_s={median}")


if __name__ == "__main__":
    main()
