"""The end of a class: closing it (its runs made in the class go, after the teacher's zip of them), closing itself
when it expires, removing the runs its closing stopped but that were stored just after, and removing a closed
class's files once its runs are long gone.

Each of these runs on the class files of `core.classroom.classes`, under its lock.
"""

from __future__ import annotations

import contextlib
import io
import json
import time
import zipfile
from pathlib import Path

import pandas as pd

from core.classroom.board import best_per_student, board_frame, leaderboard
from core.classroom.classes import (
    ClassRoom,
    all_classes,
    class_runs,
    classes_folder,
    classes_lock,
    forget_keys,
    save_class,
    taught_class,
)
from core.evaluate.comparison import parameters, spec_summary
from core.evaluate.spreadsheet import csv_text
from core.store.runs import RUNS, STORE_ROOT, RunRecord, StoreError, delete_run, list_runs, saved_at
from core.store.workspaces import Workspace


def close_class(class_id: str, teacher: Workspace, root: Path = STORE_ROOT, now: float | None = None) -> list[str]:
    """Closes a class: no one can join it any more, and its students' runs are deleted.

    Download them first with `class_archive`. Returns the ids of the runs removed.

    Raises:
        ClassError: If the class is not the teacher's.
    """
    with classes_lock(root):
        room = taught_class(class_id, teacher, root)
        room.closed = room.closed or (time.time() if now is None else now)
        save_class(room, root)  # closed first: a crash below leaves runs to remove, never a class still open
    removed = []
    for record in class_runs(room, root):
        with contextlib.suppress(StoreError, OSError):  # deleted meanwhile by its student
            delete_run(record.run_id, root)
            removed.append(record.run_id)
    return removed


def remove_late_class_runs(root: Path = STORE_ROOT) -> list[str]:
    """Removes closed classes' runs that started before the closing but were stored after it; returns their ids.

    Closing stops its students' training runs, and a stopped run is still stored, a moment after
    `close_class` deleted the others. Runs a student starts after the closing are theirs and stay. The
    upkeep calls this, and the Class page after closing.
    """
    closed = [room for room in all_classes(root) if not room.is_open]
    if not closed:
        return []
    runs = [record for record in list_runs(root) if record.source == RUNS]  # one look at the store for all
    removed = []
    for room in closed:
        for record in runs:
            # Started before the closing: saved, less its training time (its evaluation makes it earlier still).
            if room.made_here(record, root) and saved_at(record, root) - record.training_seconds < room.closed:
                with contextlib.suppress(StoreError, OSError):  # deleted meanwhile
                    delete_run(record.run_id, root)
                    removed.append(record.run_id)
    return removed


def run_settings_frame(room: ClassRoom, records: list[RunRecord]) -> pd.DataFrame:
    """Every run of the class with its settings and metrics, one row a run (`runs.csv` in the results zip)."""
    rows = []
    for record in records:
        settings, test = record.hyperparameters, record.metrics.get("test", {})
        rows.append({"student": room.members.get(record.owner, "?"), "run": record.name, "run id": record.run_id,
                     "dataset": record.dataset, "status": record.status, "stop reason": record.stop_reason,
                     "model": spec_summary(record), "parameters": parameters(record),
                     "epochs": record.epochs_trained, **{name: settings.get(name) for name in SETTINGS},
                     "test accuracy": test.get("accuracy"), "test loss": test.get("loss"),
                     "training s": round(record.training_seconds, 1), "saved": record.created})
    return pd.DataFrame(rows)


SETTINGS = ("batch_size", "optimizer", "learning_rate", "schedule", "seed")  # runs.csv's columns of settings


def class_archive(room: ClassRoom, root: Path = STORE_ROOT) -> bytes:
    """The lesson's results as one zip.

    - `leaderboard.csv`: each student's best run, the table the teacher sees (`board.board_frame`);
    - `runs.csv`: every run with its settings and metrics;
    - `<nickname>/<run id>/model.keras, meta.json` for every run;
    - `class.json`: the class, its students and its shared runs.

    Every text cell of the CSVs is safe to open in a spreadsheet (`core.evaluate.spreadsheet`).
    """
    records = class_runs(room, root)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("class.json", json.dumps({"name": room.name, "students": sorted(room.members.values()),
                                                   "shared": room.shared, "closed": bool(room.closed)}, indent=1))
        archive.writestr("leaderboard.csv", csv_text(board_frame(best_per_student(leaderboard(room, records)))))
        archive.writestr("runs.csv", csv_text(run_settings_frame(room, records)))
        for record in records:
            folder = root / RUNS / record.run_id
            nickname = _safe_folder(room.members.get(record.owner, "student"))
            with contextlib.suppress(OSError):  # deleted meanwhile by its student
                for path in sorted(folder.iterdir()):
                    if path.is_file():
                        # A .keras file is a zip already: stored as it is, not compressed again.
                        kind = zipfile.ZIP_STORED if path.suffix == ".keras" else zipfile.ZIP_DEFLATED
                        archive.write(path, f"{nickname}/{record.run_id}/{path.name}", compress_type=kind)
    return buffer.getvalue()


def _safe_folder(nickname: str) -> str:
    # Nicknames hold letters, digits, spaces and . - _ ' only; ".." alone must not climb out on unzip.
    name = nickname.replace("/", "_").replace("\\", "_").strip(". ")
    return name or "student"


def expire_classes(older_than_hours: float, root: Path = STORE_ROOT, now: float | None = None) -> list[str]:
    """Closes open classes created more than `older_than_hours` ago (upkeep); returns their ids.

    A class is a lesson: one left open would keep its code working, and its teacher's workspace kept,
    for ever. Its runs made in the class go as when its teacher closes it (`remove_late_class_runs`).
    """
    now = time.time() if now is None else now
    closed = []
    with classes_lock(root):
        for room in all_classes(root):
            if room.is_open and room.created < now - older_than_hours * 3600.0:
                room.closed = now
                save_class(room, root)
                closed.append(room.class_id)
    return closed


def remove_class_files(older_than_hours: float, root: Path = STORE_ROOT, now: float | None = None) -> list[str]:
    """Removes closed classes' files once `older_than_hours` have passed since closing (upkeep)."""
    cutoff = (time.time() if now is None else now) - older_than_hours * 3600.0
    removed = []
    for room in all_classes(root):
        if room.closed and room.closed < cutoff:
            forget_keys(room, root)
            (classes_folder(root) / f"{room.class_id}.json").unlink(missing_ok=True)
            removed.append(room.class_id)
    return removed
