"""Hosted mode: the caps from the environment, run ownership in the store, quotas and expiry."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.jobs.jobs import JobLimitError, submit_job
from core.store.hosting import Limits, QuotaError, check_store_quota, current_limits
from core.store.ids import new_id
from core.store.runs import (
    DEFAULTS,
    META_FILE,
    MODEL_FILE,
    RunRecord,
    StoreError,
    count_user_runs,
    delete_run,
    expire_runs,
    list_runs,
    load_record,
    rename_run,
    run_folder,
    save_run,
)
from core.train.config import ConfigError, TrainConfig, check_config


def store_run(root: Path, owner: str, name: str = "run", created: str = "") -> str:
    record = RunRecord(new_id(), name, "digits", [], {}, {}, {}, 1.0, owner=owner, created=created)
    save_run(record, lambda path: path.write_bytes(b"model"), root)
    return record.run_id


def add_default(root: Path) -> str:
    run_id = "20260101-000000-000001"
    folder = root / DEFAULTS / run_id
    folder.mkdir(parents=True)
    (folder / MODEL_FILE).write_bytes(b"model")
    (folder / META_FILE).write_text(RunRecord(run_id, "default", "digits", [], {}, {}, {}, 1.0).to_json())
    return run_id


def test_local_mode_is_uncapped_and_hosted_mode_has_every_default():
    local = current_limits({})
    assert not local.hosted
    assert (local.max_epochs, local.max_train_images, local.runs_per_workspace, local.max_runs,
            local.run_hours) == (None,) * 5
    assert local.workers == max(1, (os.cpu_count() or 2) // 2)  # one warm worker per two cores
    hosted = current_limits({"CNNLAB_HOSTED": "1"})
    assert hosted.hosted and hosted.max_epochs == 20 and hosted.max_train_images == 20_000
    assert hosted.workers == 1 and hosted.jobs_per_workspace == 1 and hosted.upload_mb == 10
    assert hosted.runs_per_workspace == 5 and hosted.max_runs == 200 and hosted.run_hours == 6
    assert any("epochs per run: 20" in phrase for phrase in hosted.summary())


def test_each_cap_can_be_overridden_and_bad_values_fall_back_with_a_note():
    limits = current_limits({"CNNLAB_HOSTED": "true", "CNNLAB_MAX_EPOCHS": "3", "CNNLAB_WORKERS": "4",
                             "CNNLAB_RUN_HOURS": "0.5", "CNNLAB_RUNS_PER_WORKSPACE": "nope",
                             "CNNLAB_MAX_UPLOAD_MB": "-2"})
    assert limits.max_epochs == 3 and limits.workers == 4 and limits.run_hours == 0.5
    assert limits.runs_per_workspace == 5 and limits.upload_mb == 10
    assert len(limits.problems) == 2 and any("CNNLAB_RUNS_PER_WORKSPACE" in p for p in limits.problems)
    # Outside hosted mode the per-visitor quotas never apply, even if set.
    assert current_limits({"CNNLAB_RUNS_PER_WORKSPACE": "2"}).runs_per_workspace is None
    assert current_limits({"CNNLAB_WORKERS": "2"}).workers == 2


def test_the_caps_old_per_session_names_still_work_and_the_new_names_win():
    old = current_limits({"CNNLAB_HOSTED": "1", "CNNLAB_RUNS_PER_SESSION": "3", "CNNLAB_JOBS_PER_SESSION": "2"})
    assert (old.runs_per_workspace, old.jobs_per_workspace) == (3, 2)
    both = current_limits({"CNNLAB_HOSTED": "1", "CNNLAB_RUNS_PER_SESSION": "3", "CNNLAB_RUNS_PER_WORKSPACE": "7"})
    assert both.runs_per_workspace == 7


def test_a_visitor_sees_loads_renames_and_deletes_only_their_own_runs(tmp_path):
    default = add_default(tmp_path)
    alices = store_run(tmp_path, "alice", "alice's")
    bobs = store_run(tmp_path, "bob", "bob's")
    assert [r.run_id for r in list_runs(tmp_path, viewer="alice")] == [default, alices]
    assert [r.run_id for r in list_runs(tmp_path, viewer="bob")] == [default, bobs]
    assert len(list_runs(tmp_path)) == 3  # one's own machine: everything
    assert load_record(default, tmp_path, viewer="alice").source == DEFAULTS
    for action in (lambda: load_record(bobs, tmp_path, viewer="alice"),
                   lambda: run_folder(bobs, tmp_path, viewer="alice"),
                   lambda: rename_run(bobs, "mine now", tmp_path, viewer="alice"),
                   lambda: delete_run(bobs, tmp_path, viewer="alice")):
        with pytest.raises(StoreError, match="There is no run"):  # the same words as a missing run
            action()
    assert load_record(bobs, tmp_path).name == "bob's"
    with pytest.raises(StoreError, match="cannot be deleted"):
        delete_run(default, tmp_path, viewer="alice")
    with pytest.raises(StoreError, match="cannot be renamed"):
        rename_run(default, "x", tmp_path, viewer="alice")
    # A run without an owner (the CLI's) is no visitor's.
    cli = store_run(tmp_path, "")
    assert cli not in [r.run_id for r in list_runs(tmp_path, viewer="alice")]
    with pytest.raises(StoreError):
        load_record(cli, tmp_path, viewer="")


def test_visitors_runs_expire_but_defaults_and_ownerless_runs_stay(tmp_path):
    old = (datetime.now(UTC) - timedelta(hours=7)).isoformat(timespec="seconds")
    default = add_default(tmp_path)
    stale = store_run(tmp_path, "alice", created=old)
    fresh = store_run(tmp_path, "alice")
    ownerless = store_run(tmp_path, "", created=old)
    assert expire_runs(6, tmp_path) == [stale]
    assert {r.run_id for r in list_runs(tmp_path)} == {default, fresh, ownerless}
    assert not any(path.name.startswith(".") for path in (tmp_path / "runs").iterdir())


def test_store_quotas_per_visitor_and_in_total(tmp_path):
    limits = Limits(hosted=True, runs_per_workspace=2, max_runs=3)
    store_run(tmp_path, "alice")
    check_store_quota("alice", limits, tmp_path)
    with pytest.raises(QuotaError, match="2 stored runs"):
        check_store_quota("alice", limits, tmp_path, pending_mine=1)  # one training counts
    store_run(tmp_path, "alice")
    store_run(tmp_path, "bob")
    store_run(tmp_path, "")  # the CLI's run is the operator's: no quota counts it
    assert count_user_runs(tmp_path, "alice") == 2 and count_user_runs(tmp_path) == 3
    with pytest.raises(QuotaError, match="full"):
        check_store_quota("carol", limits, tmp_path)
    check_store_quota("carol", Limits(), tmp_path)  # local: no quota


def test_a_start_is_refused_when_the_visitors_quota_is_used_up(tmp_path):
    store_run(tmp_path, "alice")
    config = TrainConfig(dataset="digits", spec=[], epochs=1)
    with pytest.raises(JobLimitError, match="1 stored runs"):
        submit_job(config, "alice", root=tmp_path, limits=Limits(hosted=True, runs_per_workspace=1))
    assert not any(path.is_dir() for path in (tmp_path / "jobs").iterdir())  # no job was made


def test_epoch_and_image_caps_are_configuration_errors():
    config = TrainConfig(dataset="mnist", spec=[], epochs=30)
    with pytest.raises(ConfigError, match="at most 20 epochs"):
        check_config(config, 60_000, max_epochs=20)
    config.epochs = 5
    with pytest.raises(ConfigError, match="at most 20,000 images"):
        check_config(config, 60_000, max_train_images=20_000)
    config.subset = 20_000
    assert check_config(config, 60_000, max_epochs=20, max_train_images=20_000).train == 18_000
    config.subset = 0
    assert check_config(config, 1_437, max_train_images=20_000).train == 1_293  # all of a small dataset


def test_the_queue_enforces_the_caps_before_a_run_joins_it(tmp_path):
    """A page that forgot a check still cannot train past the caps: the queue checks, and its worker checks again
    with its own caps (`tests/robustness/test_run_budgets.py`)."""
    config = TrainConfig(dataset="digits", spec=[{"kind": "flatten"}], epochs=9, name="too long")
    with pytest.raises(ConfigError, match="at most 2 epochs"):
        submit_job(config, "alice", root=tmp_path, limits=Limits(hosted=True, max_epochs=2))
    assert list_runs(tmp_path) == [] and not list(tmp_path.glob("jobs/*/status.json"))
