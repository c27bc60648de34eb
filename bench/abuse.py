"""One hostile client and one honest student on a hosted server: does the student still get to train?

    CNNLAB_DATA_DIR=../shared/datasets python bench/abuse.py [--flood 70] [--rounds 3]

The server is `streamlit run` in hosted mode on loopback with two warm workers, behind a pretend proxy:
`CNNLAB_CLIENT_HEADER=X-Forwarded-For`, so each client's address is the header it sends (on loopback every
connection comes from 127.0.0.1). The hostile client (203.0.113.66):

1. uploads a pixel bomb in Chromium: a 7 MB zip of 48 blank 6300×6300 RGBA PNGs (1.9 GP declared), and
   presses "Load these images";
2. uploads a model file that declares Dense(100000) (2.7 GB when Keras built it) on the Models page;
3. opens `--flood` Train pages without a workspace key, each a new workspace (Streamlit's own websocket
   protocol, `bench/stream_client.py`), and presses Start on 20-epoch runs in every one it got.

The student (198.51.100.7) opens the Train page and presses Start on the recommended digits run, `--rounds`
times alone first (the baseline, in the same run) and `--rounds` times after the flood. T is the median time
from Start to the run's first batch event, which the live chart draws at its next poll. The server's peak
RSS (the streamlit process, not its workers) and the store's disk growth are sampled throughout. Last line:

    abuse: student_first_point_s=T server_peak_mb=M disk_growth_mb=D hostile_runs_accepted=H

H is the most hostile runs waiting or training at once (what the per-client limit bounds; more are accepted
in all as earlier ones end, and the script says how many). Goals (issue 30): T ≤ 3 × the student alone,
M ≤ 1,500, D ≤ 100, H ≤ CNNLAB_JOBS_PER_CLIENT (40).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import os
import statistics
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from live_tabs import Server  # noqa: E402
from stream_client import Session  # noqa: E402

from core.jobs.jobs import active_jobs, list_jobs, read_events  # noqa: E402
from core.store.ratelimits import client_id  # noqa: E402
from core.store.workspaces import workspace_id  # noqa: E402
from tests.app.harness import rendered  # noqa: E402

HOSTILE, STUDENT = "203.0.113.66", "198.51.100.7"


def rss_mb(pid: int) -> float:
    with contextlib.suppress(OSError):
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    return 0.0


def tree_bytes(folder: Path) -> int:
    total = 0
    for path, _, names in os.walk(folder):
        for name in names:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(path, name)).st_size
    return total


class Sampler(threading.Thread):
    """The server's peak RSS, the store's peak size and the most hostile runs active at once, twice a second."""

    def __init__(self, pid: int, store: Path) -> None:
        super().__init__(daemon=True)
        self.pid, self.store, self.done = pid, store, threading.Event()
        self.peak_mb, self.base_bytes, self.peak_bytes = 0.0, tree_bytes(store), 0
        self.hostile_active = 0

    def run(self) -> None:
        hostile = client_id(HOSTILE)
        while not self.done.is_set():
            self.peak_mb = max(self.peak_mb, rss_mb(self.pid))
            self.peak_bytes = max(self.peak_bytes, tree_bytes(self.store))
            with contextlib.suppress(Exception):  # a job folder half-written
                active = sum(1 for job in active_jobs(self.store) if job.client == hostile)
                self.hostile_active = max(self.hostile_active, active)
            self.done.wait(0.5)


def pixel_bomb(count: int = 48, side: int = 6300) -> bytes:
    from PIL import Image

    blank = io.BytesIO()
    Image.new("RGBA", (side, side)).save(blank, "PNG")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for index in range(count):
            archive.writestr(f"{('cats', 'dogs')[index % 2]}/{index}.png", blank.getvalue())
    return buffer.getvalue()


def giant_model(folder: Path) -> bytes:
    import keras

    from tests.unit.test_model_check import rewrite_config

    small = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Rescaling(1 / 16), keras.layers.Flatten(),
                              keras.layers.Dense(10, activation="softmax")])
    small.save(folder / "small.keras")

    def huge(config) -> None:
        config["config"]["layers"][-1]["config"]["units"] = 100_000

    return rewrite_config(folder / "small.keras", folder / "giant.keras", huge).read_bytes()


def hostile_uploads(url: str, folder: Path) -> list[str]:
    """The pixel bomb and the giant model, through Chromium; returns what the pages said."""
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM_FLAGS

    said = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_FLAGS, headless=True)
        context = browser.new_context(extra_http_headers={"X-Forwarded-For": HOSTILE})
        page = context.new_page()
        page.set_default_timeout(120_000)
        page.goto(f"{url}/dataset_explorer")
        page.wait_for_selector('[data-testid="stSidebar"]')
        sidebar = page.locator('[data-testid="stSidebar"]')
        sidebar.get_by_text("Use your own images (.zip)").click()
        sidebar.locator('input[type="file"]').set_input_files(
            files=[{"name": "blank.zip", "mimeType": "application/zip", "buffer": pixel_bomb()}])
        sidebar.get_by_text("blank.zip").wait_for()  # uploaded
        started = time.perf_counter()
        page.get_by_role("button", name="Load these images").click()
        error = sidebar.locator('[data-testid="stAlertContentError"]').first
        error.wait_for()
        said.append(f"pixel bomb: {time.perf_counter() - started:.1f} s to \"{error.inner_text()[:110]}…\"")
        page.goto(f"{url}/models")
        page.get_by_text("Upload a .keras model").click()
        page.locator('input[type="file"]').set_input_files(
            files=[{"name": "giant.keras", "mimeType": "application/octet-stream", "buffer": giant_model(folder)}])
        page.get_by_text("giant.keras").wait_for()
        page.get_by_role("button", name="Check and add to the store").click()
        refusal = page.get_by_text("Not added").first
        refusal.wait_for()
        said.append(f"giant model: \"{refusal.inner_text()[:110]}…\"")
        browser.close()
    return said


async def student_start(url: str, store: Path, session: Session | None = None) -> float:
    """The student presses Start on the recommended digits run; seconds to its first batch event."""
    if session is None:
        session = Session(url, "train", headers={"X-Forwarded-For": STUDENT})
        await session.open(timeout=300)
    owner = workspace_id(dict(part.split("=", 1) for part in session.query_string.split("&") if "=" in part)["ws"])
    before = {job.job_id for job in list_jobs(store)}
    started = time.perf_counter()
    await session.click("Start training", timeout=300)
    while True:
        mine = [job for job in list_jobs(store) if job.owner == owner and job.job_id not in before]
        if mine:
            events, _ = read_events(mine[0].job_id, 0, store)
            if any(event.get("type") == "batch" for event in events):
                seconds = time.perf_counter() - started
                break
            if not mine[0].active:
                raise SystemExit(f"the student's run ended before its first batch: {mine[0].message}")
        if time.perf_counter() - started > 1800:
            raise SystemExit("the student's run did not start within 30 minutes")
        await asyncio.sleep(0.05)
    while any(job.active for job in list_jobs(store) if job.owner == owner):  # its run ends before the next round
        await asyncio.sleep(0.2)
    await session.close()
    return seconds


async def flood(url: str, count: int) -> tuple[int, int, list[str]]:
    """`count` fresh Train pages from the hostile address, then Start in each; (workspaces, runs accepted, notes)."""
    sessions, refused = [], []
    for _ in range(count):
        session = Session(url, "train", headers={"X-Forwarded-For": HOSTILE})
        await session.open(timeout=300)
        if "Start training" in session.widgets:
            sessions.append(session)
        else:
            refused.append(session.alerts[-1] if session.alerts else "(no message)")
            await session.close()
    accepted, notes = 0, []
    for session in sessions:
        await session.slide("Epochs", 20)
        await session.click("Start training", timeout=300)
        if any("Too many" in alert or "from your network" in alert for alert in session.alerts[-2:]):
            notes.append(session.alerts[-1])
        else:
            accepted += 1
        await session.close()
    if refused:
        notes.insert(0, f"workspace refused: {refused[-1][:120]}…")
    return len(sessions), accepted, notes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--flood", type=int, default=70, help="fresh workspaces the hostile client opens")
    parser.add_argument("--rounds", type=int, default=3, help="student Starts alone and under attack (medians)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cnnlab-abuse-") as folder:
        folder = Path(folder)
        store = folder / "store"
        store.mkdir()
        env = {**os.environ, "CNNLAB_HOSTED": "1", "CNNLAB_WORKERS": "2", "CNNLAB_STORE_DIR": str(store),
               "CNNLAB_CLIENT_HEADER": "X-Forwarded-For", "TF_CPP_MIN_LOG_LEVEL": "3"}
        env.pop("CNNLAB_BROKER_URL", None)
        server = Server(env, folder / "server.log")
        sampler = Sampler(server.process.pid, store)
        sampler.start()
        try:
            alone = [asyncio.run(student_start(server.url, store)) for _ in range(args.rounds)]
            print(f"student alone: {', '.join(f'{s:.2f}' for s in alone)} s", flush=True)
            for line in hostile_uploads(server.url, folder):
                print(f"hostile {line}", flush=True)
            workspaces, accepted, notes = asyncio.run(flood(server.url, args.flood))
            print(f"hostile flood: {workspaces} of {args.flood} workspaces made, {accepted} runs accepted", flush=True)
            for note in notes[:2]:
                print(f"  said: {rendered(note)[:160]}", flush=True)
            attacked = [asyncio.run(student_start(server.url, store)) for _ in range(args.rounds)]
            print(f"student under attack: {', '.join(f'{s:.2f}' for s in attacked)} s", flush=True)
        finally:
            sampler.done.set()
            sampler.join()
            server.stop()
        baseline, under = statistics.median(alone), statistics.median(attacked)
        growth = (sampler.peak_bytes - sampler.base_bytes) / 2**20
        print(f"median Start → first batch: alone {baseline:.2f} s, under attack {under:.2f} s "
              f"(ratio {under / baseline:.2f}, goal ≤ 3); server peak RSS {sampler.peak_mb:,.0f} MB (goal ≤ 1,500); "
              f"store peak growth {growth:,.1f} MB (goal ≤ 100)")
        total = sum(1 for job in list_jobs(store) if job.client == client_id(HOSTILE))
        print(f"hostile runs: {total} accepted in all (as earlier ones ended), at most {sampler.hostile_active} "
              f"waiting or training at once (the per-client limit, CNNLAB_JOBS_PER_CLIENT, is 40)")
        print(f"abuse: student_first_point_s={under:.2f} server_peak_mb={sampler.peak_mb:.0f} "
              f"disk_growth_mb={growth:.1f} hostile_runs_accepted={sampler.hostile_active}")


if __name__ == "__main__":
    main()
