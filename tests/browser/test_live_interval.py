"""The live panel's interval reaches the browser: a waiting run's tab polls at the slower pace the panel asks for.

`ui.polling.live_fragment` changes a fragment's interval during the fragment's own rerun by sending
Streamlit's `auto_rerun` message itself (Streamlit sends it only when a fragment is declared). This
checks, in Chromium, that the message arrives and that the page's timer obeys it.
"""

from __future__ import annotations

import os
import signal
import time

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_no_exception, start_server, wait_until_idle
from tests.processes import children
from ui.train.live import WAIT_POLL_SECONDS

pytestmark = pytest.mark.browser

WINDOW = 12.0


def test_a_waiting_runs_tab_polls_at_the_interval_its_panel_asks_for(browser_context, tmp_path, monkeypatch):
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    monkeypatch.setenv("CNNLAB_WORKERS", "1")
    monkeypatch.setenv("CNNLAB_STORE_DIR", str(tmp_path / "store"))
    server = start_server(tmp_path)
    page = browser_context.new_page()
    page.set_default_timeout(60_000)
    intervals: list[float] = []  # every interval the server gave this page's fragments
    polls: list[float] = []  # when the page asked for a fragment's timed rerun

    def on_socket(socket) -> None:
        def received(payload) -> None:
            message = ForwardMsg()
            message.ParseFromString(payload)
            if message.WhichOneof("type") == "auto_rerun":
                intervals.append(message.auto_rerun.interval)

        def sent(payload) -> None:
            message = BackMsg()
            message.ParseFromString(payload)
            if message.WhichOneof("type") == "rerun_script" and message.rerun_script.is_auto_rerun:
                polls.append(time.monotonic())

        socket.on("framereceived", received)
        socket.on("framesent", sent)

    page.on("websocket", on_socket)
    workers: list[int] = []
    try:
        page.goto(f"{server.url}/train")
        wait_until_idle(page)
        deadline = time.monotonic() + 60
        while not (workers := children(server.pid)):  # the page warmed the pool: its worker is starting
            assert time.monotonic() < deadline, "no worker started"
            page.wait_for_timeout(250)
        for pid in workers:  # the worker cannot take the run: it waits, first in line
            os.kill(pid, signal.SIGSTOP)
        page.get_by_role("button", name="Start training").click()
        expect(page.get_by_text("1st in line")).to_be_visible()
        page.wait_for_timeout(3_000)  # the panel's first polls set its pace
        polls.clear()
        page.wait_for_timeout(WINDOW * 1000)
        waiting_polls = len(polls)
        # The panel was declared at its base (0.5 s), and asked for WAIT_POLL_SECONDS from its own reruns.
        assert WAIT_POLL_SECONDS in intervals, intervals
        # Obeyed: at POLL_SECONDS the page would have asked about WINDOW / 0.5 = 24 times.
        assert waiting_polls <= WINDOW / WAIT_POLL_SECONDS + 2, (waiting_polls, intervals)
        assert waiting_polls >= 2, "the waiting run's panel stopped polling"
        for pid in workers:
            os.kill(pid, signal.SIGCONT)
        workers = []
        expect(page.get_by_text("finished after")).to_be_visible(timeout=180_000)
        page.screenshot(path=str(tmp_path / "live-interval.png"), full_page=True)
        assert_no_exception(page)
    finally:
        for pid in workers:
            os.kill(pid, signal.SIGCONT)
        page.close()
        server.stop()
