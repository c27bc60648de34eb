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

import fcntl
import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from core.store.access import Viewer, may_change, may_read
from core.store.names import refusal, without_hidden
from core.store.records import (
    DEFAULTS,
    RUNS,
    DamagedRun,
    RecordError,
    RunRecord,
    record_from_dict,
)

STORE_ENV = "CNNLAB_STORE_DIR"  # another store root (a deployer's persistent volume; the tests' temporary one)
APP_MODELS = Path(__file__).resolve().parents[2] / "models"
STORE_ROOT = Path(os.environ.get(STORE_ENV) or APP_MODELS)
# The trained models that ship with the app. They are part of the app, not of a store's contents,
# so a store elsewhere lists them too (after its own defaults/, which win on the same id).
SHIPPED_DEFAULTS = APP_MODELS / DEFAULTS
MODEL_FILE, META_FILE = "model.keras", "meta.json"
PARTIAL_PREFIX, TRASH_PREFIX = ".partial-", ".trash-"
MAX_NAME_LENGTH = 80
MAX_ID_LENGTH = 64
_ID_PATTERN = re.compile(r"^[0-9]{8}-[0-9]{6}-[0-9a-f]{6}$")


class StoreError(ValueError):
    """A store action that cannot be done: an unknown run, a bad name, a run that is read-only."""


def _check_name(name: str, strict: bool = False) -> str:
    """A run name with its spaces collapsed. Hidden characters (`core.store.names`) are refused when `strict` (a
    rename), else dropped: a run being saved is never lost over its name, which Start checked already."""
    text = str(name)
    if strict and (problem := refusal(text, "A run name")):
        raise StoreError(problem)
    cleaned = " ".join(without_hidden(text).split())
    if not cleaned or len(cleaned) > MAX_NAME_LENGTH:
        raise StoreError(f"A run name needs 1 to {MAX_NAME_LENGTH} characters.")
    return cleaned


def write_text_atomically(path: Path, text: str) -> None:
    """Writes a text file atomically (`write_bytes_atomically`), as UTF-8."""
    write_bytes_atomically(path, text.encode("utf-8"))


def write_bytes_atomically(path: Path, data: bytes) -> None:
    """Writes a file beside its final place, flushes it to disk, then renames it into place.

    Readers see the old file or the new one, never a half-written one (the jobs' status files too).
    """
    temporary = path.with_name(f"{PARTIAL_PREFIX}{path.name}.{uuid.uuid4().hex[:6]}.{os.getpid()}")
    try:
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:  # a full disk, say: leave the old file and no half-written one
        temporary.unlink(missing_ok=True)
        raise


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Holds an exclusive flock on `path` (created with its folder if missing): across threads, sessions and
    server processes, one holder at a time; the kernel releases it if the holder dies."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


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
    partial = runs / f"{PARTIAL_PREFIX}{record.run_id}.{os.getpid()}"  # the pid tells a dead writer's leftovers
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


def _examine(folder: Path, source: str) -> RunRecord | DamagedRun | None:
    """A run folder's record, or why it is damaged; None for what is not a run (hidden, or not a folder)."""
    try:
        if folder.name.startswith(".") or not folder.is_dir():
            return None
    except OSError:  # a name the file system refuses (too long): not a run
        return None
    meta = folder / META_FILE
    try:
        text = meta.read_text(encoding="utf-8")
    except FileNotFoundError:
        return DamagedRun(folder.name, folder, "It has no meta.json.", source=source)
    except (OSError, UnicodeDecodeError) as error:
        return DamagedRun(folder.name, folder, f"Its meta.json cannot be read: {error}.", source=source)
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return DamagedRun(folder.name, folder, "Its meta.json is not valid JSON.", source=source)
    owner = data.get("owner", "") if isinstance(data, dict) and isinstance(data.get("owner", ""), str) else ""
    try:
        record = record_from_dict(data, folder.name)
    except RecordError as error:
        return DamagedRun(folder.name, folder, str(error), owner, source)
    if not (folder / MODEL_FILE).is_file():  # listing does not open every zip: a damaged one is named on load
        return DamagedRun(folder.name, folder, "Its model file is missing.", owner, source)
    record.source = source
    return record


def _read(folder: Path, source: str) -> RunRecord | None:
    """A run's record, or None if its folder is not a whole, valid run."""
    found = _examine(folder, source)
    return found if isinstance(found, RunRecord) else None


def _folders(root: Path, source: str) -> list[Path]:
    """Where a source's runs live: the store's folder, and for the defaults also the app's own."""
    folders = [root / source]
    if source == DEFAULTS and SHIPPED_DEFAULTS.resolve() != (root / DEFAULTS).resolve():
        folders.append(SHIPPED_DEFAULTS)
    return [folder for folder in folders if folder.is_dir()]


def _visible(record: RunRecord, viewer: Viewer) -> bool:
    """Whether `viewer` may see the run: everyone sees the defaults; in hosted mode (a viewer is
    given) a user run is seen by its workspace, that workspace's teacher, and its class once shared."""
    return record.source == DEFAULTS or may_read(viewer, record.owner, record.run_id)


@dataclass(frozen=True)
class StoreListing:
    """What one look at the store finds: the whole runs and the damaged ones.

    Args:
        runs: Whole runs, shipped defaults first, then the user's runs newest first.
        damaged: Run folders that cannot be used, with the reason.
    """

    runs: list[RunRecord]
    damaged: list[DamagedRun]


def scan_store(root: Path = STORE_ROOT, viewer: Viewer = None) -> StoreListing:
    """Reads every run folder once and sorts it into whole runs and damaged ones.

    Args:
        root: The store root.
        viewer: In hosted mode, the workspace asking (`core.store.access`): the runs it may read
            (and the defaults) are listed, and only damaged runs that still name it as owner (and
            damaged defaults, which are the operator's to fix). None lists every run (one's own machine).
    """
    runs, damaged = [], []
    for source in (DEFAULTS, RUNS):
        found: dict[str, RunRecord] = {}
        for folder in _folders(root, source):  # the store's own defaults first: they win on the same id
            for path in sorted(folder.iterdir()):
                examined = _examine(path, source)
                if isinstance(examined, DamagedRun):
                    if source == DEFAULTS or may_change(viewer, examined.owner):
                        damaged.append(examined)
                elif examined is not None and path.name not in found and _visible(examined, viewer):
                    found[path.name] = examined
        runs.extend(sorted(found.values(), key=lambda record: record.run_id, reverse=source == RUNS))
    return StoreListing(runs, damaged)


def list_runs(root: Path = STORE_ROOT, viewer: Viewer = None) -> list[RunRecord]:
    """Every whole run this viewer may see (see `scan_store`)."""
    return scan_store(root, viewer).runs


def list_damaged(root: Path = STORE_ROOT, viewer: Viewer = None) -> list[DamagedRun]:
    """Run folders that cannot be used, with the reason: listed on Models so they can be deleted (see `scan_store`)."""
    return scan_store(root, viewer).damaged


def delete_damaged(run_id: str, root: Path = STORE_ROOT, viewer: Viewer = None) -> None:
    """Deletes a damaged user run, as `delete_run` deletes a whole one.

    Raises:
        StoreError: If it is not a damaged run this viewer may see, or it is a shipped default.
    """
    for item in list_damaged(root, viewer):
        if item.run_id == run_id:
            if item.source != RUNS:
                raise StoreError("The shipped default models cannot be deleted.")
            trash = item.folder.with_name(f"{TRASH_PREFIX}{run_id}-{uuid.uuid4().hex[:6]}.{os.getpid()}")
            os.rename(item.folder, trash)
            shutil.rmtree(trash, ignore_errors=True)
            return
    raise StoreError(f"There is no damaged run {run_id[:40]!r} in the store.")


def _find(run_id: str, root: Path, viewer: Viewer = None) -> tuple[Path, RunRecord]:
    # Another workspace's run is "not there" with the same words as a missing one, so ids cannot be probed.
    # Letters, digits, "-" and "_" only: an id can never climb out of the store with "/" or "..".
    # A store id is 22 characters; a longer one (a 100,000-character link) never reaches the file system.
    if len(run_id) <= MAX_ID_LENGTH and run_id.replace("_", "").replace("-", "").isalnum():
        for source in (RUNS, DEFAULTS):
            for parent in _folders(root, source):
                folder = parent / run_id
                record = _read(folder, source)
                if record is not None and _visible(record, viewer):
                    return folder, record
    raise StoreError(f"There is no run {run_id[:40]!r} in the store.")


def run_folder(run_id: str, root: Path = STORE_ROOT, viewer: Viewer = None) -> Path:
    """The folder of a whole run, user run or default.

    Raises:
        StoreError: If there is no such run.
    """
    return _find(run_id, root, viewer)[0]


def load_record(run_id: str, root: Path = STORE_ROOT, viewer: Viewer = None) -> RunRecord:
    """A run's metadata.

    Raises:
        StoreError: If there is no such run.
    """
    return _find(run_id, root, viewer)[1]


def rename_run(run_id: str, name: str, root: Path = STORE_ROOT, viewer: Viewer = None) -> RunRecord:
    """Gives a user run a new name (its metadata is rewritten atomically).

    Raises:
        StoreError: For an unknown run (or one the viewer may not change), a shipped default, or an
            empty or overlong name.
    """
    record = load_record(run_id, root, viewer)
    if record.source != RUNS:
        raise StoreError("The shipped default models cannot be renamed.")
    if not may_change(viewer, record.owner):
        raise StoreError("Only the workspace that trained this run can rename it.")
    record.name = _check_name(name, strict=True)
    write_text_atomically(root / RUNS / run_id / META_FILE, record.to_json())
    return record


def give_run(run_id: str, owner: str, root: Path = STORE_ROOT) -> RunRecord:
    """Makes `owner` the workspace a user run belongs to (its metadata is rewritten atomically): a class's
    teacher handing a student's seat, and its runs, back to the student's new workspace.

    Raises:
        StoreError: For an unknown run or a shipped default.
    """
    record = load_record(run_id, root)
    if record.source != RUNS:
        raise StoreError("The shipped default models belong to nobody.")
    record.owner = owner
    write_text_atomically(root / RUNS / run_id / META_FILE, record.to_json())
    return record


def delete_run(run_id: str, root: Path = STORE_ROOT, viewer: Viewer = None) -> None:
    """Deletes a user run: renamed out of the listing first, then removed.

    Raises:
        StoreError: For an unknown run (or one the viewer may not change) or a shipped default.
    """
    folder, record = _find(run_id, root, viewer)
    if folder.parent.name != RUNS:
        raise StoreError("The shipped default models cannot be deleted.")
    if not may_change(viewer, record.owner):
        raise StoreError("Only the workspace that trained this run can delete it.")
    trash = folder.with_name(f"{TRASH_PREFIX}{run_id}-{uuid.uuid4().hex[:6]}.{os.getpid()}")
    os.rename(folder, trash)
    shutil.rmtree(trash, ignore_errors=True)


def _writer_gone(name: str) -> bool:
    """Whether the process named at the end of a leftover's name (".<pid>") no longer exists."""
    pid = name.rsplit(".", 1)[-1]
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, someone else's
        return False
    return False


def remove_partials(root: Path = STORE_ROOT, older_than: float = 3600.0) -> int:
    """Removes leftovers of saves, renames or deletes that a crash interrupted; returns how many.

    Args:
        root: The store root.
        older_than: Seconds; younger leftovers may belong to a save still under way, unless the
            process that wrote them is gone (its pid ends a partial's name).
    """
    removed = 0
    cutoff = time.time() - older_than
    leftovers = []
    for parent in (root / RUNS, root / "jobs"):  # runs' saves and renames; jobs' status and config files
        if not parent.is_dir():
            continue
        leftovers += [path for path in parent.iterdir() if path.name.startswith((PARTIAL_PREFIX, TRASH_PREFIX))]
        leftovers += [path for folder in parent.iterdir() if folder.is_dir() and not folder.name.startswith(".")
                      for path in folder.iterdir() if path.name.startswith(PARTIAL_PREFIX)]
    for path in leftovers:
        try:
            stale = path.stat().st_mtime < cutoff or _writer_gone(path.name)
        except FileNotFoundError:
            continue
        if stale:
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed += 1
    return removed


def count_user_runs(root: Path = STORE_ROOT, owner: str | None = None) -> int:
    """Whole runs made in sessions (they have an owner), or only `owner`'s: what the hosted quotas count.

    Runs made outside a session (the CLI's, a script's) are the operator's and never count.
    """
    return sum(1 for record in list_runs(root)
               if record.source == RUNS and record.owner and (owner is None or record.owner == owner))


def saved_at(record: RunRecord, root: Path = STORE_ROOT) -> float:
    """When a run was saved (seconds since the epoch): its `created` time, else its meta.json's mtime."""
    try:
        return datetime.fromisoformat(record.created).timestamp()
    except ValueError:
        return (root / RUNS / record.run_id / META_FILE).stat().st_mtime


def expire_runs(older_than_hours: float, root: Path = STORE_ROOT, now: float | None = None) -> list[str]:
    """Deletes visitors' runs (those with an owner) saved more than `older_than_hours` ago.

    Hosted mode only: a visitor's runs are theirs for a while, then make room for the next class.
    Runs without an owner (the CLI's, a script's) and the shipped defaults are never touched.
    Returns the ids removed.
    """
    cutoff = (now if now is not None else time.time()) - older_than_hours * 3600.0
    removed = []
    for record in list_runs(root):
        if record.source != RUNS or not record.owner:
            continue
        if saved_at(record, root) < cutoff:
            try:
                delete_run(record.run_id, root)
                removed.append(record.run_id)
            except (StoreError, OSError):
                continue  # deleted meanwhile by its owner or another server process
    return removed
