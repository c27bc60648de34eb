"""The model store: atomic saves, listing, renaming, deleting, and crashes that never leave half a run."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.store.ids import new_id
from core.store.runs import (
    DEFAULTS,
    META_FILE,
    MODEL_FILE,
    PARTIAL_PREFIX,
    RUNS,
    RunRecord,
    StoreError,
    delete_run,
    list_runs,
    load_record,
    remove_partials,
    rename_run,
    run_folder,
    save_run,
)
from tests.conftest import REPO_ROOT


def record(run_id: str | None = None, name: str = "my run") -> RunRecord:
    return RunRecord(run_id=run_id or new_id(), name=name, dataset="mnist",
                     spec=[{"kind": "Rescaling", "scale": 1 / 255, "offset": 0.0}, {"kind": "Flatten"}],
                     hyperparameters={"epochs": 1, "batch_size": 32}, history={"loss": [0.5]},
                     metrics={"test": {"accuracy": 0.9}}, training_seconds=1.5, input_shape=[28, 28, 1],
                     class_names=[str(i) for i in range(10)])


def fake_model(path: Path) -> None:
    path.write_bytes(b"PK model bytes")


def test_save_list_load_rename_delete(tmp_path):
    first = save_run(record(new_id(datetime(2026, 1, 1, tzinfo=UTC))), fake_model, tmp_path)
    second = save_run(record(new_id(datetime(2026, 2, 1, tzinfo=UTC)), "second"), fake_model, tmp_path)
    assert (first / MODEL_FILE).read_bytes() == b"PK model bytes" and (first / META_FILE).is_file()
    runs = list_runs(tmp_path)
    assert [run.run_id for run in runs] == [second.name, first.name]  # newest first
    loaded = load_record(first.name, tmp_path)
    assert loaded.metrics == {"test": {"accuracy": 0.9}} and loaded.created and loaded.source == RUNS

    assert rename_run(first.name, "  a   better name ", tmp_path).name == "a better name"
    assert load_record(first.name, tmp_path).name == "a better name"
    with pytest.raises(StoreError, match="1 to 80 characters"):
        rename_run(first.name, " ", tmp_path)

    delete_run(first.name, tmp_path)
    assert [run.run_id for run in list_runs(tmp_path)] == [second.name]
    assert sorted(path.name for path in (tmp_path / RUNS).iterdir()) == [second.name]
    with pytest.raises(StoreError, match="no run"):
        load_record(first.name, tmp_path)


def test_a_failing_model_writer_leaves_nothing(tmp_path):
    def broken(path: Path) -> None:
        path.write_bytes(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        save_run(record(), broken, tmp_path)
    assert list_runs(tmp_path) == [] and list((tmp_path / RUNS).iterdir()) == []


def test_a_run_killed_mid_save_is_never_listed(tmp_path):
    # A real crash: the saving process is killed while it writes the model file.
    script = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(REPO_ROOT)!r})
        from pathlib import Path
        from tests.unit.test_store import record
        from core.store.runs import save_run

        def slow_model(path):
            path.write_bytes(b"partial")
            print("writing", flush=True)
            time.sleep(60)

        save_run(record(), slow_model, Path({str(tmp_path)!r}))
    """)
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "writing"
    process.kill()
    process.wait(timeout=30)
    leftovers = list((tmp_path / RUNS).iterdir())
    assert len(leftovers) == 1 and leftovers[0].name.startswith(PARTIAL_PREFIX)
    assert list_runs(tmp_path) == []
    assert remove_partials(tmp_path, older_than=3600) == 1  # young, but its writer is gone
    assert list((tmp_path / RUNS).iterdir()) == []


def test_a_live_writers_partial_is_left_alone_until_it_is_old(tmp_path):
    live = tmp_path / RUNS / f"{PARTIAL_PREFIX}20260101-000000-abcdef.{os.getpid()}"
    live.mkdir(parents=True)
    assert remove_partials(tmp_path, older_than=3600) == 0  # this process is alive: maybe still saving
    old = time.time() - 7200
    os.utime(live, (old, old))
    assert remove_partials(tmp_path, older_than=3600) == 1


def test_defaults_are_listed_first_and_read_only(tmp_path):
    default = tmp_path / DEFAULTS / "mnist_default"
    default.mkdir(parents=True)
    fake_model(default / MODEL_FILE)
    (default / META_FILE).write_text(record("mnist_default", "MNIST default").to_json())
    save_run(record(), fake_model, tmp_path)
    runs = list_runs(tmp_path)
    assert runs[0].run_id == "mnist_default" and runs[0].source == DEFAULTS and runs[1].source == RUNS
    with pytest.raises(StoreError, match="cannot be deleted"):
        delete_run("mnist_default", tmp_path)
    with pytest.raises(StoreError, match="cannot be renamed"):
        rename_run("mnist_default", "mine now", tmp_path)


def test_broken_folders_and_bad_ids_are_ignored_or_refused(tmp_path):
    (tmp_path / RUNS / "20260101-000000-abcdef").mkdir(parents=True)  # no files at all
    no_meta = tmp_path / RUNS / "20260101-000000-bbbbbb"
    no_meta.mkdir()
    fake_model(no_meta / MODEL_FILE)
    bad_meta = tmp_path / RUNS / "20260101-000000-cccccc"
    bad_meta.mkdir()
    fake_model(bad_meta / MODEL_FILE)
    (bad_meta / META_FILE).write_text("{not json")
    assert list_runs(tmp_path) == []
    with pytest.raises(StoreError, match="Malformed run id"):
        save_run(record("../../etc"), fake_model, tmp_path)
    with pytest.raises(StoreError, match="no run"):
        load_record("../../etc/passwd", tmp_path)


@pytest.mark.shipped_defaults
def test_a_store_elsewhere_still_lists_and_opens_the_shipped_defaults(tmp_path):
    # A deployer points CNNLAB_STORE_DIR at a persistent volume: the defaults are part of the app.
    from core.train.recipes import SHIPPED_RUN_IDS

    mine = save_run(record(), fake_model, tmp_path)
    runs = list_runs(tmp_path, viewer="someone")
    assert [run.run_id for run in runs[:4]] == sorted(SHIPPED_RUN_IDS.values())
    assert all(run.source == DEFAULTS for run in runs[:4])
    assert [run.run_id for run in list_runs(tmp_path)][4:] == [mine.name]
    folder = run_folder(SHIPPED_RUN_IDS["mnist"], tmp_path, viewer="someone")
    assert (folder / MODEL_FILE).is_file() and load_record(SHIPPED_RUN_IDS["mnist"], tmp_path).source == DEFAULTS
    with pytest.raises(StoreError, match="cannot be deleted"):
        delete_run(SHIPPED_RUN_IDS["mnist"], tmp_path)
