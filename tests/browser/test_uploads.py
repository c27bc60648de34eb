"""An uploaded zip of class folders in a real browser: it loads, and a slow one can be cancelled."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_no_exception, wait_until_idle
from tests.robustness import bad_files
from tests.robustness.test_pixel_budgets import _children

pytestmark = pytest.mark.browser


def choose_zip(tab, name: str, data: bytes) -> None:
    sidebar = tab.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text("Use your own images (.zip)").click()
    sidebar.locator('input[type="file"]').set_input_files(files=[{"name": name, "mimeType": "application/zip",
                                                                  "buffer": data}])
    expect(sidebar.get_by_text(name)).to_be_visible()


def test_a_zip_loads_and_its_class_names_show_as_typed(page, app_server, tmp_path):
    page.goto(f"{app_server.url}/dataset_explorer")
    wait_until_idle(page)
    choose_zip(page, "pets.zip", bad_files.class_zip(("**cats**", "dogs")))
    page.get_by_role("button", name="Load these images").click()
    expect(page.get_by_role("combobox", name="Dataset", exact=True)).to_have_value("pets (your upload, 32×32 RGB)",
                                                                                  timeout=30_000)
    wait_until_idle(page)
    assert_no_exception(page)
    assert page.get_by_text("**cats**").count() >= 1  # the folder's name, not bold "cats"
    page.screenshot(path=str(tmp_path / "zip-loaded.png"), full_page=True)


def test_a_slow_zip_can_be_cancelled_and_its_reader_stops(page, app_server, tmp_path):
    page.goto(f"{app_server.url}/dataset_explorer")
    wait_until_idle(page)
    choose_zip(page, "slow.zip", bad_files.pixel_bomb_zip(per_class=40, side=3000))  # 80 × 9 MP, 0.3 MB
    page.get_by_role("button", name="Load these images").click()
    expect(page.get_by_text("Reading your zip:")).to_be_visible(timeout=15_000)
    page.screenshot(path=str(tmp_path / "zip-reading.png"), full_page=True)
    assert _children()
    page.get_by_role("button", name="Cancel").click()
    expect(page.get_by_text("Reading the zip was stopped.")).to_be_visible(timeout=15_000)
    deadline = time.monotonic() + 10
    while _children() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _children() == []
    assert_no_exception(page)
    page.screenshot(path=str(tmp_path / "zip-cancelled.png"), full_page=True)


def test_a_hosted_server_itself_refuses_an_upload_over_the_cap(page, tmp_path, monkeypatch):
    """Issue 30 #10: the 10 MB cap was enforced only in the browser; files sent straight to the server under
    the config's 200 MB were accepted. Here the browser's upload request is swapped for 12 MB on its way."""
    from tests.browser.conftest import start_server

    monkeypatch.setenv("CNNLAB_HOSTED", "1")
    server = start_server(tmp_path)
    statuses: list[int] = []
    try:
        def swap(route) -> None:
            boundary = "cnnlabboundary"
            body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.zip\"\r\n"
                    "Content-Type: application/zip\r\n\r\n").encode() + b"\0" * (12 * 2**20) \
                + f"\r\n--{boundary}--\r\n".encode()
            headers = {**route.request.headers, "content-type": f"multipart/form-data; boundary={boundary}"}
            response = route.fetch(post_data=body, headers=headers)
            statuses.append(response.status)
            route.fulfill(response=response)

        page.route("**/_stcore/upload_file/**", swap)
        page.goto(f"{server.url}/dataset_explorer")
        wait_until_idle(page)
        choose_zip(page, "small.zip", bad_files.class_zip())
        deadline = time.monotonic() + 20
        while not statuses and time.monotonic() < deadline:
            page.wait_for_timeout(200)
        assert statuses == [413]
        page.screenshot(path=str(tmp_path / "hosted-upload-refused.png"), full_page=True)
    finally:
        page.unroute("**/_stcore/upload_file/**")
        server.stop()
