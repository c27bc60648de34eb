"""A run's cost is bounded before it starts and while it runs (issue 30 #3).

The builder accepted a 664-million-parameter digits model (two 1024-filter 11×11 Conv2D layers, then Dense
8192: about 12 minutes an epoch), and a 76.8-billion-parameter one that failed only inside the worker with
TensorFlow's raw out-of-memory error. With CNNLAB_STALL_SECONDS=5, epochs of single 10 s batches ran to the end.
"""

from __future__ import annotations

import time
from dataclasses import asdict, replace

import numpy as np
import pytest

from core.data.datasets import Dataset, load_dataset
from core.jobs import folder as files
from core.jobs.jobs import JobLimitError, cancel_job, job_status, submit_job
from core.model.architectures import trainable_parameters
from core.model.cost import TRAINING_PASSES, flop_text, forward_flops, run_cost
from core.model.layers import Conv, Dense, Flatten, Pool, Rescale, spec_to_dicts
from core.model.presets import PRESETS
from core.store.hosting import Limits, current_limits, enforced_caps, store_bytes
from core.train.config import ConfigError, TrainConfig
from core.train.engine import train_and_store
from tests.app.harness import open_app, rerun
from tests.robustness.conftest import assert_clean, assert_says
from ui.train import state as train_state

GIANT = [Rescale(), Conv(1024, 11, padding="same"), Conv(1024, 11, padding="same"), Flatten(), Dense(8192)]


def giant_config(**changes) -> TrainConfig:
    settings = {"epochs": 20, "batch_size": 4096} | changes
    return TrainConfig(dataset="digits", spec=spec_to_dicts(GIANT), model_key="custom", name="giant", **settings)


def test_flop_counts_follow_the_layers_by_hand():
    spec = [Rescale(), Conv(4, 3), Pool("max", 2), Flatten(), Dense(5)]
    # (8, 8, 1) → Rescale 64 → Conv 3×3 valid (6, 6, 4): 2·9·1·144 → Pool 2×2 (3, 3, 4): 4·36 → Flatten 36
    # → Dense 5: 2·36·5 → output 10: 2·5·10
    assert forward_flops(spec, (8, 8, 1), 10) == 64 + 2 * 9 * 144 + 4 * 36 + 36 + 2 * 36 * 5 + 2 * 5 * 10
    cost = run_cost(spec, (8, 8, 1), 10, train_images=100, validation_images=20, epochs=3)
    assert cost.epoch_flops == (TRAINING_PASSES * 100 + 20) * cost.forward_flops
    assert cost.run_flops == 3 * cost.epoch_flops
    assert cost.parameters == trainable_parameters(spec, (8, 8, 1), 10)
    assert flop_text(70e12) == "70 TFLOP" and flop_text(3.21e9) == "3.21 GFLOP"


def test_every_preset_fits_the_hosted_caps_at_the_hosted_maximum():
    caps = current_limits({"CNNLAB_HOSTED": "1"})
    for name, preset in PRESETS.items():
        for shape in ((28, 28, 1), (32, 32, 3)):
            try:
                cost = run_cost(preset.spec(), shape, 10, 18_000, 2_000, caps.max_epochs)
            except ValueError:
                continue  # a preset that does not fit this shape is not offered for it
            assert cost.parameters <= caps.max_parameters, name
            assert cost.run_flops <= caps.max_run_tflop * 1e12, (name, shape, flop_text(cost.run_flops))


def test_the_giant_builder_model_is_refused_with_its_size(tmp_path):
    hosted = current_limits({"CNNLAB_HOSTED": "1"})
    with pytest.raises(ConfigError, match="663,964,682 parameters; this server allows 20,000,000"):
        submit_job(giant_config(), "mallory", root=tmp_path, limits=hosted, start_workers=False)
    # Even on one's own machine a model this size is refused with a sentence, not TensorFlow's OOM in the worker.
    with pytest.raises(ConfigError, match="this server allows 100,000,000"):
        submit_job(giant_config(), "me", root=tmp_path, limits=current_limits({}), start_workers=False)
    assert not list((tmp_path / "jobs").glob("*/status.json")) if (tmp_path / "jobs").exists() else True


def test_a_run_that_would_take_too_much_work_is_refused_before_it_starts(tmp_path):
    hosted = current_limits({"CNNLAB_HOSTED": "1", "CNNLAB_MAX_RUN_TFLOP": "1"})
    big = TrainConfig(dataset="cifar10", spec=spec_to_dicts(PRESETS["speed_cifar"].spec()), model_key="speed_cifar",
                      name="big", epochs=20, subset=20_000)
    with pytest.raises(ConfigError, match=r"needs about .* TFLOP per epoch, .* in all; this server allows 1 TFLOP"):
        submit_job(big, "mallory", root=tmp_path, limits=hosted, start_workers=False)


def test_the_train_page_says_why_the_giant_model_cannot_start(monkeypatch):
    monkeypatch.setenv("CNNLAB_HOSTED", "1")
    app = open_app("pages/train.py")
    app.session_state[train_state.SPEC] = spec_to_dicts(GIANT)
    app.session_state[train_state.SPEC_IDS] = list(range(len(GIANT)))
    rerun(app)
    assert_clean(app)
    assert_says(app, "parameters; this server allows 20,000,000")
    assert app.button(key=train_state.START).disabled


def test_a_run_stops_at_the_time_limit_even_when_an_epoch_is_one_batch(tmp_path):
    # One batch an epoch (300 images, batch 512), five epochs: the stall guard never sees a gap between
    # batches; the time limit stops the run after its first batch and keeps the model.
    config = TrainConfig(dataset="digits", spec=spec_to_dicts(PRESETS["dense"].spec()), model_key="dense",
                         name="slow", epochs=5, batch_size=512, subset=300, validation_split=0.0)
    events: list[dict] = []
    record = train_and_store(config, load_dataset("digits"), events.append, root=tmp_path, time_limit=0.01)
    assert record.status == "stopped" and record.epochs_trained == 1
    assert record.stop_reason == ("Stopped during epoch 1: this server allows 0.01 seconds of training a run. "
                                  "The model so far is kept.")
    assert (tmp_path / "runs" / record.run_id).exists() and record.metrics["test"]["accuracy"] is not None


def test_a_worker_enforces_its_own_caps_and_an_order_can_only_tighten_them():
    own = current_limits({"CNNLAB_HOSTED": "1"})
    assert enforced_caps({}, own)["max_epochs"] == 20  # a forged order without caps gets the worker's own
    assert enforced_caps({"max_epochs": 500, "run_minutes": 10**9}, own)["max_epochs"] == 20
    assert enforced_caps({"max_epochs": 5}, own)["max_epochs"] == 5
    assert enforced_caps({"max_epochs": "5; rm", "max_parameters": True, "run_minutes": -1}, own) == \
        enforced_caps({}, own)
    local = enforced_caps({"max_epochs": 3}, current_limits({}))
    assert local["max_epochs"] == 3 and local["run_minutes"] is None


def test_a_worker_refuses_an_order_that_loosens_the_caps(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNLAB_HOSTED", "1")
    small = TrainConfig(dataset="digits", spec=spec_to_dicts(PRESETS["dense"].spec()), model_key="dense", name="eve",
                        epochs=2, batch_size=64)
    job_id = submit_job(small, "eve", root=tmp_path, limits=Limits(workers=1), start_workers=False)
    folder = tmp_path / "jobs" / job_id
    order = files.read_order(folder)
    loosened = TrainConfig.from_dict({**asdict(order.config), "epochs": 25})
    files.write_order(folder, replace(order, config=loosened, caps={}))  # as a hand-written order would say
    submit_job(small, "honest", root=tmp_path, limits=Limits(workers=1))  # starts the worker, behind eve's run
    deadline = time.monotonic() + 120
    while job_status(job_id, tmp_path).active:
        assert time.monotonic() < deadline
        time.sleep(0.3)
    status = job_status(job_id, tmp_path)
    assert status.state == "failed" and "at most 20 epochs" in status.message


def uploaded(count: int = 400, side: int = 32) -> Dataset:
    """An uploaded dataset: noisy images, which compress about as badly as photos."""
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (count, side, side, 3), dtype=np.uint8)
    y = np.arange(count) % 2
    return Dataset("folder:mine:abc:32:rgb:0.2", "mine", "", ("a", "b"), x, y, x[:20], y[:20], "upload")


def test_a_jobs_uploaded_data_is_compressed_and_deleted_as_soon_as_the_job_ends(tmp_path):
    """Issue 30 #4: every Start on an upload left an uncompressed data.npz for 6 hours (61.5 MB for a 0.78 MB zip),
    also for replaced, cancelled and finished jobs."""
    data = uploaded()
    config = TrainConfig(dataset=data.name, spec=spec_to_dicts(PRESETS["dense"].spec()), model_key="dense",
                         name="mine", epochs=1, batch_size=64)
    blank = Dataset(data.name, "mine", "", ("a", "b"), np.zeros_like(data.x_train), data.y_train, data.x_test,
                    data.y_test, "upload")
    first = submit_job(config, "ann", dataset=blank, root=tmp_path, limits=Limits(workers=1), start_workers=False)
    written = tmp_path / "jobs" / first / files.DATA
    assert written.stat().st_size < blank.x_train.nbytes / 10  # blank images: compressed, not 1.2 MB raw
    second = submit_job(config, "ann", dataset=data, root=tmp_path, limits=Limits(workers=1), start_workers=False)
    assert not written.exists()  # the replaced run's data went with it
    assert files.read_dataset(tmp_path / "jobs" / second, data.name).x_train.tobytes() == data.x_train.tobytes()
    cancel_job(second, "ann", tmp_path)
    assert not (tmp_path / "jobs" / second / files.DATA).exists()
    third = submit_job(config, "ann", dataset=data, root=tmp_path, limits=Limits(workers=1))  # trains for real
    deadline = time.monotonic() + 120
    while job_status(third, tmp_path).active:
        assert time.monotonic() < deadline
        time.sleep(0.3)
    assert job_status(third, tmp_path).state == "finished"
    assert not list(tmp_path.glob(f"jobs/*/{files.DATA}"))


def test_job_folders_count_in_the_stores_disk_cap(tmp_path):
    hosted = current_limits({"CNNLAB_HOSTED": "1", "CNNLAB_STORE_MB": "1"})
    data = uploaded(count=600)  # about 1.8 MB of noise, compressed hardly at all
    config = TrainConfig(dataset=data.name, spec=spec_to_dicts(PRESETS["dense"].spec()), model_key="dense",
                         name="mine", epochs=1, batch_size=64)
    submit_job(config, "ann", dataset=data, root=tmp_path, limits=hosted, start_workers=False)
    assert store_bytes(tmp_path) > 2**20
    with pytest.raises(JobLimitError, match=r"disk for runs is full \(2 MB of 1 MB\)"):
        submit_job(config, "bob", dataset=data, root=tmp_path, limits=hosted, start_workers=False)
