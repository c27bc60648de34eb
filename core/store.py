"""The model store: each run a folder holding `model.keras` and `meta.json`, written atomically.

Layout under the store root (the repository's `models/` by default):

    runs/<run id>/model.keras, meta.json     runs trained in the app or the CLI (git-ignored)
    defaults/<run id>/model.keras, meta.json the trained models that ship with the app

A run is written into a hidden `.partial-…` folder and renamed into place only when both files
are complete. A rename within one file system is atomic, so a crash at any moment leaves either
no run or a whole one; listing ignores the hidden folders, and `remove_partials` clears them.
Deleting renames first and removes after, for the same reason. This module never imports Keras:
saving the model file is the caller's callback.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

STORE_ENV = "CNNLAB_STORE_DIR"  # another store root (the tests use a temporary one)
STORE_ROOT = Path(os.environ.get(STORE_ENV) or Path(__file__).resolve().parents[1] / "models")
RUNS, DEFAULTS = "runs", "defaults"
MODEL_FILE, META_FILE = "model.keras", "meta.json"
PARTIAL_PREFIX, TRASH_PREFIX = ".partial-", ".trash-"
MAX_NAME_LENGTH = 80
APP_VERSION = "0.4"  # bumped with each issue that changes what a run records
_ID_PATTERN = re.compile(r"^[0-9]{8}-[0-9]{6}-[0-9a-f]{6}$")


class StoreError(ValueError):
    """A store action that cannot be done: an unknown run, a bad name, a run that is read-only."""


@dataclass
class RunRecord:
    """What the store keeps about one run, next to its model file.

    Args:
        run_id: The folder name: date, time and a random suffix.
        name: A human name, which the user can change.
        dataset: The dataset key it was trained on.
        spec: The model spec as dicts (`core.architectures.spec_to_dicts`).
        hyperparameters: Epochs, batch size, optimizer, learning rate and so on.
        history: Per-epoch metrics, e.g. {"loss": [...], "val_accuracy": [...]}.
        metrics: Final metrics by split, e.g. {"test": {"accuracy": 0.99}}.
        training_seconds: Wall-clock seconds spent training.
        status: "finished", or "stopped" when the user stopped it early.
        created: ISO 8601 time of saving, UTC.
        app_version: APP_VERSION when saved.
        input_shape: (H, W, C) the model takes.
        class_names: The classes in output order.
        stop_reason: Why training ended early (early stopping, a target, the Stop button), or "".
        wall_seconds: Seconds from start to saved, evaluation included.
        source: RUNS or DEFAULTS (set by the store when reading; not saved).
    """

    run_id: str
    name: str
    dataset: str
    spec: list[dict[str, object]]
    hyperparameters: dict[str, object]
    history: dict[str, list[float]]
    metrics: dict[str, dict[str, float]]
    training_seconds: float
    status: str = "finished"
    created: str = ""
    app_version: str = APP_VERSION
    input_shape: list[int] = field(default_factory=list)
    class_names: list[str] = field(default_factory=list)
    stop_reason: str = ""
    wall_seconds: float = 0.0
    source: str = RUNS

    @property
    def epochs_trained(self) -> int:
        """Epochs in the history (0 for an uploaded model)."""
        return len(next(iter(self.history.values()), []))

    def to_json(self) -> str:
        data = asdict(self)
        data.pop("source")
        return json.dumps(data, indent=1)


def new_run_id(now: datetime | None = None) -> str:
    """A sortable, unique folder name: "20261121-140512-a1b2c3"."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{uuid.uuid4().hex[:6]}"


def _check_name(name: str) -> str:
    cleaned = " ".join(str(name).split())
    if not cleaned or len(cleaned) > MAX_NAME_LENGTH:
        raise StoreError(f"A run name needs 1 to {MAX_NAME_LENGTH} characters.")
    return cleaned


def write_text_atomically(path: Path, text: str) -> None:
    """Writes a file beside its final place, flushes it to disk, then renames it into place.

    Readers see the old file or the new one, never a half-written one (the jobs' status files too).
    """
    temporary = path.with_name(f"{PARTIAL_PREFIX}{path.name}.{uuid.uuid4().hex[:6]}")
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def save_run(record: RunRecord, write_model: Callable[[Path], None], root: Path = STORE_ROOT) -> Path:
    """Saves a run atomically and returns its folder.

    Args:
        record: The metadata; `created` is filled in if empty.
        write_model: Writes the model file to the path it is given (e.g. `model.save`).
        root: The store root.

    Raises:
        StoreError: If the run id is malformed or already taken.
    """
    if not _ID_PATTERN.match(record.run_id):
        raise StoreError(f"Malformed run id {record.run_id[:40]!r}.")
    record.name = _check_name(record.name)
    record.created = record.created or datetime.now(UTC).isoformat(timespec="seconds")
    runs = root / RUNS
    runs.mkdir(parents=True, exist_ok=True)
    final = runs / record.run_id
    if final.exists():
        raise StoreError(f"A run called {record.run_id} already exists.")
    partial = runs / f"{PARTIAL_PREFIX}{record.run_id}"
    partial.mkdir()
    try:
        write_model(partial / MODEL_FILE)
        if not (partial / MODEL_FILE).is_file():
            raise StoreError("The model writer did not write a model file.")
        write_text_atomically(partial / META_FILE, record.to_json())
        os.rename(partial, final)  # the moment the run appears, whole
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return final


def _read(folder: Path, source: str) -> RunRecord | None:
    """A run's record, or None if its folder is not a whole run (or its metadata is unreadable)."""
    if folder.name.startswith(".") or not (folder / MODEL_FILE).is_file():
        return None
    try:
        data = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
        data.pop("source", None)
        record = RunRecord(**data)
    except (OSError, ValueError, TypeError):
        return None
    record.source = source
    return record


def list_runs(root: Path = STORE_ROOT) -> list[RunRecord]:
    """Every whole run, shipped defaults first, then the user's runs newest first."""
    records = []
    for source in (DEFAULTS, RUNS):
        folder = root / source
        if not folder.is_dir():
            continue
        found = [_read(path, source) for path in folder.iterdir() if path.is_dir()]
        found = [record for record in found if record is not None]
        found.sort(key=lambda record: record.run_id, reverse=source == RUNS)
        records.extend(found)
    return records


def _find(run_id: str, root: Path) -> tuple[Path, RunRecord]:
    # Letters, digits, "-" and "_" only: an id can never climb out of the store with "/" or "..".
    if run_id.replace("_", "").replace("-", "").isalnum():
        for source in (RUNS, DEFAULTS):
            folder = root / source / run_id
            record = _read(folder, source)
            if record is not None:
                return folder, record
    raise StoreError(f"There is no run {run_id[:40]!r} in the store.")


def run_folder(run_id: str, root: Path = STORE_ROOT) -> Path:
    """The folder of a whole run, user run or default.

    Raises:
        StoreError: If there is no such run.
    """
    return _find(run_id, root)[0]


def load_record(run_id: str, root: Path = STORE_ROOT) -> RunRecord:
    """A run's metadata.

    Raises:
        StoreError: If there is no such run.
    """
    return _find(run_id, root)[1]


def rename_run(run_id: str, name: str, root: Path = STORE_ROOT) -> RunRecord:
    """Gives a user run a new name (its metadata is rewritten atomically).

    Raises:
        StoreError: For an unknown run, a shipped default, or an empty or overlong name.
    """
    record = load_record(run_id, root)
    if record.source != RUNS:
        raise StoreError("The shipped default models cannot be renamed.")
    record.name = _check_name(name)
    write_text_atomically(root / RUNS / run_id / META_FILE, record.to_json())
    return record


def delete_run(run_id: str, root: Path = STORE_ROOT) -> None:
    """Deletes a user run: renamed out of the listing first, then removed.

    Raises:
        StoreError: For an unknown run or a shipped default.
    """
    folder = run_folder(run_id, root)
    if folder.parent.name != RUNS:
        raise StoreError("The shipped default models cannot be deleted.")
    trash = folder.with_name(f"{TRASH_PREFIX}{run_id}-{uuid.uuid4().hex[:6]}")
    os.rename(folder, trash)
    shutil.rmtree(trash, ignore_errors=True)


def remove_partials(root: Path = STORE_ROOT, older_than: float = 3600.0) -> int:
    """Removes leftovers of saves or deletes that a crash interrupted; returns how many.

    Args:
        root: The store root.
        older_than: Seconds; younger leftovers may belong to a save still under way.
    """
    runs = root / RUNS
    if not runs.is_dir():
        return 0
    removed = 0
    cutoff = time.time() - older_than
    for path in runs.iterdir():
        if path.name.startswith((PARTIAL_PREFIX, TRASH_PREFIX)) and path.stat().st_mtime < cutoff:
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed += 1
    return removed
