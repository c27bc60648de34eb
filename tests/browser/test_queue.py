"""Two sessions press Start together on a server with one worker: one trains, the other waits its turn."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from core.train.recipes import DEFAULT_RUNS
from tests.browser.conftest import assert_no_exception, start_server, wait_until_idle

pytestmark = pytest.mark.browser


def ready_to_train_mnist(page, url: str) -> None:
    page.goto(f"{url}/train")
    wait_until_idle(page)
    page.get_by_role("combobox", name="Dataset", exact=True).click()
    page.get_by_role("option", name="MNIST handwritten digits").click()
    wait_until_idle(page)


def test_two_starts_with_one_worker_one_trains_the_other_waits_then_trains(browser_context, data_dir, tmp_path,
                                                                          monkeypatch):
    monkeypatch.setenv("CNNLAB_WORKERS", "1")
    monkeypatch.setenv("CNNLAB_STORE_DIR", str(tmp_path / "store"))
    server = start_server(tmp_path)
    first, second = browser_context.new_page(), browser_context.new_page()  # two tabs: two sessions
    try:
        for tab in (first, second):
            tab.set_default_timeout(60_000)
            ready_to_train_mnist(tab, server.url)  # the recommended MNIST run: 2 epochs, about 10 s here
        first.get_by_role("button", name="Start training").click()
        second.get_by_role("button", name="Start training").click()
        training = re.compile(rf"Epoch \d+/{DEFAULT_RUNS['mnist'].epochs} · batch")
        waiting = re.compile(r"2nd in line · (starts in about \d+:\d\d|starts as soon as a worker is free)"
                             r" · done in about \d+:\d\d")
        # Whichever Start the queue took first trains; the other is second in line, with an ETA.
        deadline = time.monotonic() + 60
        while not (first.get_by_text(training).count() or second.get_by_text(training).count()):
            assert time.monotonic() < deadline, "neither run started training"
            first.wait_for_timeout(250)
        trains, waits = (first, second) if first.get_by_text(training).count() else (second, first)
        expect(waits.get_by_text(waiting)).to_be_visible(timeout=10_000)
        expect(waits.get_by_role("button", name="Cancel")).to_be_visible()
        expect(waits.get_by_text(re.compile("waiting in line \\(above\\)"))).to_be_visible()
        waits.screenshot(path=str(tmp_path / "queue-waiting.png"), full_page=True)
        expect(trains.get_by_text(re.compile("finished after"))).to_be_visible(timeout=180_000)
        # Its turn: it trains, then finishes. Only its live panel reruns on a timer, yet the note under Start
        # follows the run (it said "waiting in line" throughout, and Start stayed enabled, to be refused).
        expect(waits.get_by_text(training)).to_be_visible(timeout=60_000)
        expect(waits.get_by_text("Your run is training (above)")).to_be_visible(timeout=15_000)
        expect(waits.get_by_text(re.compile("waiting in line \\(above\\)"))).to_have_count(0)
        expect(waits.get_by_role("button", name="Start training")).to_be_disabled()
        expect(waits.get_by_text(re.compile("finished after"))).to_be_visible(timeout=180_000)
        for tab in (first, second):
            assert_no_exception(tab)
    finally:
        first.close()
        second.close()
        server.stop()
