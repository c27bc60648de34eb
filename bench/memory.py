"""Peak memory of the running app: the Streamlit server plus every worker it starts.

    CNNLAB_DATA_DIR=../shared/datasets python bench/memory.py [--hosted]
    CNNLAB_DATA_DIR=../shared/datasets python bench/memory.py --sessions 30

With `--sessions N`, N Chromium tabs (N Streamlit sessions) each open the Dataset Explorer on
CIFAR-10 and then Predict, and stay open. It prints the server process's peak RSS, the marginal
RSS per session (the server's RSS with all N open, less its RSS with the first one open, over
N − 1), and the whole app's peak (server, warm workers) while one of them trains the recommended
MNIST run. Its last line is `memory: sessions=N server_peak_mb=X marginal_mb=Y app_with_training_mb=Z`.

Without it, one tab goes through four phases:

A real `streamlit run` server is driven by Debian's Chromium (Playwright), and the resident memory
of the server and all its descendant processes is sampled every 0.2 s:

1. idle: Home open.
2. explorer: the Dataset Explorer with MNIST loaded.
3. training: MNIST's default model training in its worker (3 epochs, the Train page polling).
4. predicting: the Predict page with the shipped MNIST model, a random test image, feature maps.

RSS counts shared pages (libraries, TensorFlow's code) once per process, so a server and a
worker that both import TensorFlow count it twice; PSS splits shared pages between the processes
that share them and is the fairer total. Both are printed. The budget is 1.5 GB RSS.
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect, sync_playwright

from tests.browser.conftest import StreamlitServer, open_chromium
from tests.processes import descendants

BUDGET_MB = 1536


def memory_mb(pids: list[int]) -> tuple[float, float]:
    """(RSS, PSS) in MB summed over the processes."""
    rss = pss = 0.0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss += int(line.split()[1]) / 1024
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1]) / 1024
        except OSError:
            continue
    return rss, pss


class Sampler(threading.Thread):
    """Samples the server tree's memory; `phase` names where the samples go."""

    def __init__(self, root: int):
        super().__init__(daemon=True)
        self.root, self.phase, self.peaks, self.running = root, "idle", {}, True
        self.descendants = True  # False: the server process alone

    def run(self) -> None:
        while self.running:
            pids = descendants(self.root) if self.descendants else [self.root]
            rss, pss = memory_mb(pids)
            old = self.peaks.get(self.phase, (0.0, 0.0, 0))
            self.peaks[self.phase] = (max(old[0], rss), max(old[1], pss), max(old[2], len(pids)))
            time.sleep(0.2)


def open_session(context, url: str):
    """One visitor: the Explorer on CIFAR-10, then Predict; the tab stays open (its session lives on)."""
    page = context.new_page()
    page.goto(f"{url}/dataset_explorer")
    expect(page.locator("h1").first).to_have_text("Dataset Explorer", timeout=120_000)
    for attempt in range(3):  # on a busy 2-core machine the menu can open late; open it again
        page.get_by_role("combobox", name="Dataset", exact=True).click()
        try:
            page.get_by_role("option", name="CIFAR-10 small photos").click(timeout=20_000)
            break
        except PlaywrightTimeout:
            if attempt == 2:
                raise
            page.keyboard.press("Escape")
    expect(page.get_by_text("50,000").first).to_be_visible(timeout=300_000)
    page.get_by_test_id("stSidebarNavItems").get_by_role("link", name="Predict").click()
    expect(page.locator("h1").first).to_have_text("Predict", timeout=120_000)
    expect(page.get_by_text(re.compile(r"Expected \d, guessed \d|Draw")).first).to_be_visible(timeout=120_000)
    return page


def sessions_memory(count: int) -> None:
    """`--sessions N`: see the module's docstring."""
    store = tempfile.mkdtemp(prefix="cnnlab-memory-store-")
    os.environ["CNNLAB_STORE_DIR"] = store
    os.environ["CNNLAB_HOSTED"] = "1"
    with tempfile.TemporaryDirectory() as folder:
        server = StreamlitServer(Path(folder) / "streamlit.log")
        pid = server._process.pid
        server_only, whole = Sampler(pid), Sampler(pid)
        server_only.descendants = False
        for sampler in (server_only, whole):
            sampler.start()
        try:
            with sync_playwright() as playwright:
                context = open_chromium(playwright, Path(folder) / "profile", 1200, 900)
                pages = [open_session(context, server.url)]
                time.sleep(3)
                after_one = memory_mb([pid])[0]
                series = [after_one]
                for number in range(2, count + 1):
                    pages.append(open_session(context, server.url))
                    series.append(memory_mb([pid])[0])
                    print(f"  session {number}: server {series[-1]:.0f} MB", flush=True)
                time.sleep(5)
                after_all = memory_mb([pid])[0]
                server_only.phase = whole.phase = "training"
                page = pages[0]
                page.get_by_test_id("stSidebarNavItems").get_by_role("link", name="Train").click()
                page.get_by_role("combobox", name="Dataset", exact=True).click()
                page.get_by_role("option", name="MNIST handwritten digits").click()
                page.get_by_role("button", name="Start training").click()
                expect(page.get_by_text(re.compile(r"finished after"))).to_be_visible(timeout=900_000)
                context.close()
        finally:
            for sampler in (server_only, whole):
                sampler.running = False
                sampler.join()
            server.stop()
    server_peak = max(rss for rss, _, _ in server_only.peaks.values())
    marginal = (after_all - after_one) / max(1, count - 1)
    with_training = whole.peaks["training"][0]
    steps = sorted(later - earlier for earlier, later in itertools.pairwise(series))
    print(f"server RSS with 1 session open: {after_one:.0f} MB; with {count}: {after_all:.0f} MB")
    if steps:  # the allocator sometimes hands memory back mid-way, so the typical step is worth seeing too
        print(f"RSS change per extra session: median {steps[len(steps) // 2]:+.1f} MB, "
              f"smallest {steps[0]:+.1f} MB, largest {steps[-1]:+.1f} MB")
    print(f"whole app while one run trains (server and warm workers): {with_training:.0f} MB RSS, "
          f"{whole.peaks['training'][1]:.0f} MB PSS")
    print(f"memory: sessions={count} server_peak_mb={server_peak:.0f} marginal_mb={marginal:.1f} "
          f"app_with_training_mb={with_training:.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosted", action="store_true", help="run the server with CNNLAB_HOSTED=1")
    parser.add_argument("--sessions", type=int, default=0, help="N tabs on the Explorer (CIFAR-10), then Predict")
    arguments = parser.parse_args()
    if arguments.sessions:
        sessions_memory(arguments.sessions)
        return
    store = tempfile.mkdtemp(prefix="cnnlab-memory-store-")
    defaults = Path(__file__).resolve().parents[1] / "models" / "defaults"
    os.symlink(defaults, Path(store) / "defaults")
    os.environ["CNNLAB_STORE_DIR"] = store
    if arguments.hosted:
        os.environ["CNNLAB_HOSTED"] = "1"
    with tempfile.TemporaryDirectory() as folder:
        server = StreamlitServer(Path(folder) / "streamlit.log")
        sampler = Sampler(server._process.pid)
        sampler.start()
        try:
            with sync_playwright() as playwright:
                context = open_chromium(playwright, Path(folder) / "profile", 1400, 1000)
                page = context.new_page()
                page.goto(server.url)
                expect(page.locator("h1").first).to_have_text("CNN Lab", timeout=60_000)
                time.sleep(5)

                sampler.phase = "explorer"
                page.get_by_test_id("stSidebarNavItems").get_by_role("link", name="Dataset Explorer").click()
                page.get_by_role("combobox", name="Dataset", exact=True).click()
                page.get_by_role("option", name="MNIST handwritten digits").click()
                expect(page.get_by_text("60,000").first).to_be_visible(timeout=120_000)
                time.sleep(5)

                sampler.phase = "training"
                page.get_by_test_id("stSidebarNavItems").get_by_role("link", name="Train").click()
                page.get_by_role("button", name="Start training").click()
                expect(page.get_by_text(re.compile(r"finished after"))).to_be_visible(timeout=600_000)
                time.sleep(2)

                sampler.phase = "predicting"
                page.get_by_test_id("stSidebarNavItems").get_by_role("link", name="Predict").click()
                page.locator("[data-testid=\"stButtonGroup\"]").get_by_text("Test image", exact=True).click()
                expect(page.get_by_text(re.compile(r"Expected \d, guessed \d"))).to_be_visible(timeout=120_000)
                time.sleep(5)
                context.close()
        finally:
            sampler.running = False
            sampler.join()
            server.stop()
    mode = "hosted" if arguments.hosted else "local"
    print(f"Peak memory of the server and its workers ({mode} mode); budget {BUDGET_MB} MB RSS")
    print(f"{'phase':<12}{'RSS MB':>10}{'PSS MB':>10}{'processes':>11}")
    for phase, (rss, pss, count) in sampler.peaks.items():
        print(f"{phase:<12}{rss:>10.0f}{pss:>10.0f}{count:>11}")
    worst = max(rss for rss, _, _ in sampler.peaks.values())
    print(f"highest: {worst:.0f} MB RSS ({'within' if worst <= BUDGET_MB else 'OVER'} the budget)")


if __name__ == "__main__":
    main()
