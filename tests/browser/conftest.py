"""Browser-test harness: a real `streamlit run` server and Debian's Chromium driven by Playwright.

Playwright's own browser downloads are never used (this machine reaches no CDN): it drives
/usr/bin/chromium. Without that browser the tests skip, except under CI=true, where a missing
browser is a failure.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

CHROMIUM = os.environ.get("CNNLAB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"browser tests cannot run under CI: {reason}")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class StreamlitServer:
    """A `streamlit run streamlit_app.py` process on a free loopback port."""

    def __init__(self, log_path: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = open(log_path, "w")  # noqa: SIM115 (closed in stop)
        self._process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(self.port),
             "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"],
            cwd=REPO_ROOT, stdout=self._log, stderr=subprocess.STDOUT, env=os.environ.copy(),
        )
        self.log_path = log_path
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"streamlit exited early:\n{log_path.read_text()}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"streamlit did not become healthy in 60 s:\n{log_path.read_text()}")

    @property
    def pid(self) -> int:
        return self._process.pid

    def stop(self) -> None:
        self._process.terminate()
        try:
            self._process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._process.kill()
        self._log.close()


def start_server(tmp_path: Path) -> StreamlitServer:
    return StreamlitServer(tmp_path / "streamlit.log")


@pytest.fixture(scope="session")
def app_server(tmp_path_factory) -> Iterator[StreamlitServer]:
    """One app server shared by the browser tests that do not need a fresh process."""
    server = start_server(tmp_path_factory.mktemp("server"))
    yield server
    server.stop()


def open_chromium(playwright, profile: Path, width: int = 1400, height: int = 1800):
    """Debian's Chromium, headless with the project's flags, on a fresh profile directory: a persistent context."""
    return playwright.chromium.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True,
        viewport={"width": width, "height": height})


@pytest.fixture(scope="session")
def playwright_driver():
    """Playwright, started once for the session (its sync API cannot be started twice in one thread)."""
    if not Path(CHROMIUM).exists():
        _unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (pip install -r requirements-dev.txt)")
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser_context(playwright_driver, tmp_path_factory):
    """A Chromium context with a fresh profile directory."""
    context = open_chromium(playwright_driver, tmp_path_factory.mktemp("chromium-profile"))
    yield context
    context.close()


@pytest.fixture
def page(browser_context):
    """A new tab, closed after the test."""
    tab = browser_context.new_page()
    tab.set_default_timeout(60_000)
    yield tab
    tab.close()


def wait_until_idle(tab, timeout: float = 90_000) -> None:
    """Waits until the app has rendered and no script run is in progress."""
    tab.wait_for_selector('[data-testid="stMain"]', timeout=timeout)
    tab.wait_for_timeout(500)
    tab.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " && !document.querySelector('[data-testid=\"stSpinner\"]')",
        timeout=timeout,
    )
    tab.wait_for_timeout(300)


def assert_no_exception(tab) -> None:
    exceptions = tab.locator('[data-testid="stException"]')
    assert exceptions.count() == 0, exceptions.first.inner_text()

