"""Shared test set-up: the data directory and the repository root."""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATASETS = REPO_ROOT.parent / "shared" / "datasets"

# Tests read the real datasets from ../shared/datasets unless CNNLAB_DATA_DIR says otherwise.
if not os.environ.get("CNNLAB_DATA_DIR") and SHARED_DATASETS.is_dir():
    os.environ["CNNLAB_DATA_DIR"] = str(SHARED_DATASETS)


# Runs and jobs from tests go to a throwaway store, never into the repository's models/ folder.
os.environ.setdefault("CNNLAB_STORE_DIR", tempfile.mkdtemp(prefix="cnnlab-test-store-"))


@pytest.fixture(autouse=True)
def isolated_defaults(request, monkeypatch, tmp_path_factory) -> None:
    """In-process tests see only the defaults their temporary store holds, so listings are exact.

    The app itself always lists the shipped defaults beside any store (`core.store.runs.SHIPPED_DEFAULTS`);
    a test that checks exactly that is marked `shipped_defaults`. Browser tests run a real server,
    which lists them as a deployer's would.
    """
    if request.node.get_closest_marker("shipped_defaults") is None:
        import core.store.runs

        monkeypatch.setattr(core.store.runs, "SHIPPED_DEFAULTS", tmp_path_factory.getbasetemp() / "no-shipped-defaults")


@pytest.fixture(autouse=True)
def no_pools_left() -> Iterator[None]:
    """Stops the worker pools a test started (each worker holds TensorFlow: about 900 MB)."""
    yield
    import sys

    if "core.jobs.pool" in sys.modules:
        sys.modules["core.jobs.pool"].stop_pools()


@pytest.fixture(scope="session", autouse=True)
def no_orphan_workers() -> Iterator[None]:
    """Ends training workers still running when the session ends (a test failed before its Stop).

    Workers start in their own session so that a run outlives a server restart; without this, a
    failing test would leave one training in the background.
    """
    yield
    from core.jobs.jobs import active_jobs
    from core.store.runs import STORE_ROOT

    for job in active_jobs(STORE_ROOT):
        if job.pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(job.pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The data directory with MNIST, Fashion-MNIST and CIFAR-10; under CI its absence is a failure."""
    path = Path(os.environ.get("CNNLAB_DATA_DIR", ""))
    if not (path / "mnist").is_dir():
        message = f"no datasets at CNNLAB_DATA_DIR={path!s}; set it to the shared datasets folder"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path
