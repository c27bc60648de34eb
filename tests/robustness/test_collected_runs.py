"""Runs collected from Redis pass the upload checks before they enter the store (issue 30 #12): anyone who can
write to Redis can put a finished run there, and collected models were loaded with safe_mode, nothing more."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from core.jobs.folder import JobStatus
from core.jobs.remote import RemoteQueue
from core.jobs.wire import connect, key
from core.store.runs import list_runs, save_run
from tests.robustness.test_scale_out import REDIS, Redis
from tests.unit.test_store import record

pytestmark = pytest.mark.skipif(REDIS is None, reason="no redis-server")


@pytest.fixture(scope="module")
def redis():
    server = Redis()
    yield server
    server.stop()


def run_zip(tmp_path: Path, model) -> tuple[str, bytes]:
    """A run folder as a worker zips it: meta.json and model.keras under the run's id."""
    import keras

    run = record()
    run.input_shape, run.class_names, run.dataset = [8, 8, 1], [str(i) for i in range(10)], "digits"
    store = tmp_path / "worker"
    save_run(run, lambda path: model.save(path), store)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted((store / "runs" / run.run_id).iterdir()):
            archive.write(path, f"{run.run_id}/{path.name}")
    keras.backend.clear_session()
    return run.run_id, buffer.getvalue()


def finished(redis_url: str, job_id: str, run_id: str, data: bytes) -> None:
    client = connect(redis_url)
    client.set(key("job", job_id), json.dumps(JobStatus(job_id, "eve", "finished", run_id=run_id).__dict__))
    client.set(key("result", job_id), data)
    client.sadd(key("finished"), job_id)


def test_a_forged_run_with_custom_code_is_not_stored_and_its_job_says_why(redis, tmp_path):
    import keras

    layers = keras.layers
    evil = keras.Sequential([keras.Input((8, 8, 1)), layers.Lambda(lambda x: x / 16), layers.Flatten(),
                             layers.Dense(10, activation="softmax")])
    good = keras.Sequential([keras.Input((8, 8, 1)), layers.Rescaling(1 / 16), layers.Flatten(),
                             layers.Dense(10, activation="softmax")])
    evil_id, evil_zip = run_zip(tmp_path, evil)
    good_id, good_zip = run_zip(tmp_path, good)
    connect(redis.url).flushdb()
    queue = RemoteQueue(redis.url, tmp_path / "server")
    try:
        finished(redis.url, "job-evil", evil_id, evil_zip)
        finished(redis.url, "job-good", good_id, good_zip)
        queue.collect()
        assert [run.run_id for run in list_runs(tmp_path / "server") if run.source == "runs"] == [good_id]
        status = queue.status("job-evil")
        assert status.state == "failed" and "not saved" in status.message and "Lambda" in status.message
        assert not list((tmp_path / "server" / "runs").glob(".partial-*"))
    finally:
        queue.close()
