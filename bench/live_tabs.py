"""Real browser tabs that each train a run on a real server, and the moment each tab *shows* its run's end.

Shared by `bench/live_load.py` and `bench/classroom.py`. AppTest never runs a fragment's `run_every`
timer, so a benchmark built on it cannot see what polling costs; these tabs poll exactly as a
student's do, because they are Chromium tabs on the Train page.

The end of a job is read from its status file (`<store>/jobs/<id>/status.json`, local backend) or
from Redis (Celery backend) when the tab shows it; staleness is the seconds from that end to the
first moment the tab's page shows the outcome.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from tests.browser.conftest import CHROMIUM_FLAGS, _free_port  # noqa: E402
from tests.processes import children  # noqa: E402


class Server:
    """`streamlit run streamlit_app.py` on loopback, optionally pinned to CPUs with taskset.

    Args:
        env: The environment (hosted mode, store, data directory, broker…).
        log: Where its output goes.
        cpus: e.g. "0": the server's CPUs (its workers are moved elsewhere by `Pinner`).
    """

    def __init__(self, env: dict[str, str], log: Path, cpus: str | None = None):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(self.port),
                   "--server.address", "127.0.0.1", "--server.headless", "true",
                   "--browser.gatherUsageStats", "false"]
        if cpus is not None:
            command = ["taskset", "-c", cpus, *command]
        self._log = open(log, "w")  # noqa: SIM115 - closed in stop
        self.process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        import urllib.request

        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"streamlit did not start:\n{log.read_text()}") from None
                time.sleep(0.3)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._log.close()


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Pinner(threading.Thread):
    """Keeps every thread of the server's worker processes on `cpus`, so training is not what starves the server,
    and at the lowest priority there, so it does not starve the browser either: in a class every tab has a
    machine of its own, and what is measured is the server."""

    def __init__(self, server_pid: int, cpus: str):
        super().__init__(daemon=True)
        self.server_pid, self.cpus, self.done = server_pid, cpus, threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            for pid in children(self.server_pid):
                subprocess.run(["taskset", "-a", "-p", "-c", self.cpus, str(pid)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, check=False)
                for thread in os.listdir(f"/proc/{pid}/task") if os.path.isdir(f"/proc/{pid}/task") else []:
                    with contextlib.suppress(OSError):
                        os.setpriority(os.PRIO_PROCESS, int(thread), 19)
                # A worker runs in a session of its own, so Linux's autogroup scheduling gave it half the core
                # whatever its threads' nice: lower its group's share too.
                with contextlib.suppress(OSError):
                    Path(f"/proc/{pid}/autogroup").write_text("19")
            self.done.wait(1.0)


class BusyLoop:
    """A process that spins on `cpus`: the rest of a busy machine."""

    def __init__(self, cpus: str):
        self.process = subprocess.Popen(["taskset", "-c", cpus, sys.executable, "-c", "while True: pass"])

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()


@dataclass
class Tab:
    """One student's tab: when it pressed Start, and when it first showed its run's end."""

    page: object
    number: int
    pressed: float = 0.0
    shown: float | None = None
    run_id: str = ""
    outcome: str = ""
    history: list[str] = field(default_factory=list)


# Each student's tab is in the foreground of their own machine: no background-tab timer throttling.
FOREGROUND = ["--disable-background-timer-throttling", "--disable-renderer-backgrounding",
              "--disable-backgrounding-occluded-windows"]


def open_browser(playwright):
    """Debian's Chromium with the project's flags; Playwright gives it a fresh temporary profile."""
    return playwright.chromium.launch(executable_path=os.environ.get("CNNLAB_CHROMIUM", "/usr/bin/chromium"),
                                      args=[*CHROMIUM_FLAGS, *FOREGROUND], headless=True)


def wait_idle(page, timeout: float = 180_000) -> None:
    page.wait_for_selector('[data-testid="stMain"]', timeout=timeout)
    page.wait_for_timeout(500)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout)


# Notes, in the page itself, the moment a run's outcome first appears: a MutationObserver reading the text of
# what changed (no layout), so that watching 30 tabs costs the browser nothing next to what it renders.
OBSERVER = r"""
window.__cnnlabShown = null;
new MutationObserver((mutations) => {
  if (window.__cnnlabShown) return;
  for (const mutation of mutations) {
    for (const node of mutation.addedNodes) {
      const text = node.textContent || "";
      const found = text.match(/Run (\S+) (finished|stopped by you) after/);
      if (found) { window.__cnnlabShown = {at: Date.now() / 1000, run: found[1], outcome: "stored"}; return; }
      if (/Training failed|stopped answering|Stalled|was lost \d+ times/.test(text)) {
        window.__cnnlabShown = {at: Date.now() / 1000, run: "", outcome: "failed"}; return;
      }
    }
  }
}).observe(document, {childList: true, subtree: true});
"""


def open_train_tabs(browser, url: str, count: int, name: str = "tab") -> list[Tab]:
    """`count` tabs on the Train page, each in its own browser context (its own workspace), ready to Start."""
    tabs = []
    for number in range(count):
        context = browser.new_context(viewport={"width": 1280, "height": 1000})
        context.add_init_script(OBSERVER)
        page = context.new_page()
        page.set_default_timeout(180_000)
        page.goto(f"{url}/train")
        wait_idle(page)
        page.get_by_label("Run name").fill(f"{name} {number}")
        page.get_by_label("Run name").press("Enter")
        wait_idle(page)
        tabs.append(Tab(page, number))
    return tabs


def press_start(tabs: list[Tab]) -> None:
    for tab in tabs:
        tab.page.get_by_role("button", name="Start training").click()
        tab.pressed = time.time()


def watch(tabs: list[Tab], ended: callable, give_up_after: float) -> None:
    """Waits until each tab has shown its run's end (the page notes when, `OBSERVER`), or until `give_up_after`
    seconds have passed since every job ended (`ended()` says whether they all have)."""
    all_ended_at = None
    while any(tab.shown is None for tab in tabs):
        for tab in tabs:
            if tab.shown is None:
                with contextlib.suppress(Exception):
                    shown = tab.page.evaluate("window.__cnnlabShown")
                    if shown:
                        tab.shown, tab.run_id, tab.outcome = shown["at"], shown["run"], shown["outcome"]
        if all_ended_at is None and ended():
            all_ended_at = time.time()
        if all_ended_at is not None and time.time() - all_ended_at > give_up_after:
            return
        tabs[0].page.wait_for_timeout(1000)


def local_job_ends(store: Path) -> dict[str, float]:
    """Run id → when its job's status last changed (its end), for every ended local job."""
    ends = {}
    for status_file in (store / "jobs").glob("*/status.json"):
        with contextlib.suppress(OSError, ValueError):
            status = json.loads(status_file.read_text())
            if status.get("run_id") and status.get("state") in ("finished", "stopped"):
                ends[status["run_id"]] = status.get("ended") or status_file.stat().st_mtime
    return ends


def local_all_ended(store: Path, expected: int) -> bool:
    states = []
    for status_file in (store / "jobs").glob("*/status.json"):
        with contextlib.suppress(OSError, ValueError):
            states.append(json.loads(status_file.read_text()).get("state"))
    return len(states) >= expected and not any(state in ("queued", "starting", "running") for state in states)


def staleness(tabs: list[Tab], ends: dict[str, float]) -> list[float | None]:
    """Seconds from each tab's job end to the tab showing it; None for a tab that never showed it."""
    found = []
    for tab in tabs:
        end = ends.get(tab.run_id)
        found.append(None if tab.shown is None or end is None else max(0.0, tab.shown - end))
    return found
