"""Shared test set-up: the data directory and the repository root."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATASETS = REPO_ROOT.parent / "shared" / "datasets"

# Tests read the real datasets from ../shared/datasets unless CNNLAB_DATA_DIR says otherwise.
if not os.environ.get("CNNLAB_DATA_DIR") and SHARED_DATASETS.is_dir():
    os.environ["CNNLAB_DATA_DIR"] = str(SHARED_DATASETS)


# Runs and jobs from tests go to a throwaway store, never into the repository's models/ folder.
os.environ.setdefault("CNNLAB_STORE_DIR", tempfile.mkdtemp(prefix="cnnlab-test-store-"))


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
