"""The end of a class: warning its students, closing it (or it closes itself when it expires), reopening it, the
zip of its results, and deleting it with the runs made in it (by its teacher, or by the upkeep some hours after
the closing).

A closed class stays readable to its teacher until it is deleted: the leaderboard, the curves and the zip.

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
    MAX_OPEN_CLASSES,
    ClassError,
    ClassRoom,
    all_classes,
    class_runs,
    classes_folder,
    classes_lock,
    forget_keys,
    load_class,
    reload_workspace,
    save_class,
    taught_class,
    teachers_change,
)
from core.evaluate.comparison import parameters, spec_summary
from core.evaluate.spreadsheet import csv_text
from core.store.runs import RUNS, STORE_ROOT, RunRecord, StoreError, delete_run
from core.store.workspaces import Workspace


def close_class(class_id: str, teacher: Workspace, root: Path = STORE_ROOT, now: float | None = None) -> ClassRoom:
    """Closes a class: its code stops working, and its shared runs are no longer shown to its students.

    Its runs stay, for its teacher to read and download (and the students' own to them), until it expires
    (`expire_closed_classes`) or its teacher deletes it (`delete_class`). Until then it can be reopened.

    Raises:
        ClassError: If the class is not the teacher's.
    """
    with teachers_change(class_id, teacher, root, open_only=False) as room:
        room.closed = room.closed or (time.time() if now is None else now)
    return room


def reopen_class(class_id: str, teacher: Workspace, root: Path = STORE_ROOT) -> ClassRoom:
    """Opens a closed class again, with its code, its students and its runs, as it was before the closing.

    Raises:
        ClassError: If the class is not the teacher's (or has expired), or the teacher already has the most open
            classes a workspace may have.
    """
    with classes_lock(root):
        room = taught_class(class_id, teacher, root)
        if room.is_open:
            return room
        teaching = [other for other_id in reload_workspace(teacher, root).teaches if other_id != class_id
                    and (other := load_class(other_id, root)) is not None and other.is_open]
        if len(teaching) >= MAX_OPEN_CLASSES:
            raise ClassError(f"You have {len(teaching)} open classes, the most one workspace may have. Close one "
                             "before you reopen this one.")
        room.closed, room.warned = 0.0, 0.0
        save_class(room, root)
    return room


def warn_class(class_id: str, teacher: Workspace, root: Path = STORE_ROOT, now: float | None = None) -> ClassRoom:
    """Tells the class's students, on their pages, that the class is about to close (or, with `now=0`, no more).

    Raises:
        ClassError: If the class is not the teacher's, or is closed.
    """
    with teachers_change(class_id, teacher, root) as room:
        room.warned = time.time() if now is None else now
    return room


def delete_class(class_id: str, teacher: Workspace, root: Path = STORE_ROOT) -> list[str]:
    """Deletes a class at once: its runs made in it, its file and its keys. Returns the ids of the runs removed.

    Raises:
        ClassError: If the class is not the teacher's, or is still open (close it first: that stops its runs).
    """
    room = taught_class(class_id, teacher, root)
    if room.is_open:
        raise ClassError("Close the class before you delete it.")
    return _remove_class(room, root)


def _remove_class(room: ClassRoom, root: Path) -> list[str]:
    # The runs first: a crash between the two leaves a class file to retry with, never runs nobody can find.
    removed = []
    for record in class_runs(room, root):
        with contextlib.suppress(StoreError, OSError):  # deleted meanwhile by its student
            delete_run(record.run_id, root)
            removed.append(record.run_id)
    with classes_lock(root):
        forget_keys(room, root)
        (classes_folder(root) / f"{room.class_id}.json").unlink(missing_ok=True)
    return removed


def expire_closed_classes(keep_hours: float, root: Path = STORE_ROOT, now: float | None = None) -> list[str]:
    """Deletes classes closed more than `keep_hours` ago, with the runs made in them (upkeep, hosted); returns
    the ids of the classes removed."""
    cutoff = (time.time() if now is None else now) - keep_hours * 3600.0
    removed = []
    for room in all_classes(root):
        if room.closed and room.closed < cutoff:
            _remove_class(room, root)
            removed.append(room.class_id)
    return removed


SETTINGS = ("batch_size", "optimizer", "learning_rate", "schedule", "seed")  # runs.csv's columns of settings
MAX_ARCHIVE_BYTES = 256 * 2**20  # the zip is built in memory: 200 students' 5 runs of 20M parameters would be 80 GB


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


def class_archive(room: ClassRoom, root: Path = STORE_ROOT, max_bytes: int = MAX_ARCHIVE_BYTES) -> bytes:
    """The lesson's results as one zip.

    - `leaderboard.csv`: each student's best run, the table the teacher sees (`board.board_frame`);
    - `runs.csv`: every run with its settings and metrics;
    - `<nickname>/<run id>/model.keras, meta.json` for every run;
    - `class.json`: the class, its students and its shared runs.

    Every text cell of the CSVs is safe to open in a spreadsheet (`core.evaluate.spreadsheet`). Model files
    that would take the zip over `max_bytes` are left out, best runs first in, and `models-left-out.txt` names
    them (each stays downloadable from the Models page).
    """
    records = class_runs(room, root)
    board = best_per_student(leaderboard(room, records))
    best = {row.run_id for row in board}
    left_out: list[str] = []
    size = 0
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("class.json", json.dumps({"name": room.name, "students": sorted(room.members.values()),
                                                   "shared": room.shared, "closed": bool(room.closed)}, indent=1))
        archive.writestr("leaderboard.csv", csv_text(board_frame(board)))
        archive.writestr("runs.csv", csv_text(run_settings_frame(room, records)))
        for record in sorted(records, key=lambda record: record.run_id not in best):  # the best runs' models first
            folder = root / RUNS / record.run_id
            nickname = _safe_folder(room.members.get(record.owner, "student"))
            with contextlib.suppress(OSError):  # deleted meanwhile by its student
                for path in sorted(folder.iterdir()):
                    if not path.is_file():
                        continue
                    name, file_size = f"{nickname}/{record.run_id}/{path.name}", path.stat().st_size
                    if size + file_size > max_bytes:
                        left_out.append(name)
                        continue
                    size += file_size
                    # A .keras file is a zip already: stored as it is, not compressed again.
                    kind = zipfile.ZIP_STORED if path.suffix == ".keras" else zipfile.ZIP_DEFLATED
                    archive.write(path, name, compress_type=kind)
        if left_out:
            archive.writestr("models-left-out.txt", f"Left out to keep this zip under {max_bytes // 2**20} MB; "
                                                    "each run is on the Models page:\n" + "\n".join(left_out) + "\n")
    return buffer.getvalue()


def _safe_folder(nickname: str) -> str:
    # Nicknames hold letters, digits, spaces and . - _ ' only; ".." alone must not climb out on unzip.
    name = nickname.replace("/", "_").replace("\\", "_").strip(". ")
    return name or "student"


def expire_classes(older_than_hours: float, root: Path = STORE_ROOT, now: float | None = None) -> list[str]:
    """Closes open classes created more than `older_than_hours` ago (upkeep); returns their ids.

    A class is a lesson: one left open would keep its code working, and its teacher's workspace kept,
    for ever. It is then as if its teacher had closed it: readable, and deleted `keep_hours` later.
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
