"""A class's leaderboard: its students' runs by test accuracy, with the model, its size, its epochs and its
training time. Each student's best run by default (`best_per_student`): a student's tenth attempt should not
push a classmate off the first screen."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import pandas as pd

from core.classroom.classes import ClassRoom
from core.data.numbers import percent
from core.evaluate.comparison import parameters, spec_summary
from core.store.runs import RunRecord


@dataclass(frozen=True)
class BoardRow:
    """One run on the leaderboard.

    Args:
        rank: 1 for the best test accuracy; equal accuracies share a rank.
        run_id: The run.
        nickname: Its student's nickname.
        run_name: The run's name.
        test_accuracy: Its accuracy on the test split, 0–1.
        model: A preset's name or the layer kinds (`core.evaluate.comparison.spec_summary`).
        parameters: Trainable parameters, or None for a model the spec format cannot describe.
        training_seconds: Seconds spent training.
        epochs: Epochs it trained.
        owner: The student's workspace id (never shown; tells a student which rows are theirs).
        shared: Whether the teacher shared it with the class.
    """

    rank: int
    run_id: str
    nickname: str
    run_name: str
    test_accuracy: float
    model: str
    parameters: int | None
    training_seconds: float
    epochs: int
    owner: str
    shared: bool


def test_accuracy(record: RunRecord) -> float | None:
    """A run's test accuracy, or None if it has none (an uploaded model scored on nothing)."""
    value = record.metrics.get("test", {}).get("accuracy")
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def leaderboard(room: ClassRoom, runs: Sequence[RunRecord]) -> list[BoardRow]:
    """The class's scored student runs, best test accuracy first (then the faster, then the older)."""
    scored = [(record, accuracy) for record in runs
              if record.owner in room.members and (accuracy := test_accuracy(record)) is not None]
    scored.sort(key=lambda pair: (-pair[1], pair[0].training_seconds, pair[0].run_id))
    rows: list[BoardRow] = []
    for position, (record, accuracy) in enumerate(scored, start=1):
        rank = rows[-1].rank if rows and rows[-1].test_accuracy == accuracy else position
        rows.append(BoardRow(rank, record.run_id, room.members[record.owner], record.name, accuracy,
                             spec_summary(record), parameters(record), record.training_seconds, record.epochs_trained,
                             record.owner, record.run_id in room.shared))
    return rows


def best_per_student(rows: Sequence[BoardRow]) -> list[BoardRow]:
    """Each student's best row of `rows` (a `leaderboard`), ranked among students: equal accuracies share a rank."""
    seen: set[str] = set()
    best: list[BoardRow] = []
    for row in rows:
        if row.owner in seen:
            continue
        seen.add(row.owner)
        tied = best and best[-1].test_accuracy == row.test_accuracy
        best.append(replace(row, rank=best[-1].rank if tied else len(best) + 1))
    return best


BOARD_COLUMNS = ("rank", "student", "test accuracy", "model", "parameters", "epochs", "training s", "run", "shared")


def board_frame(rows: Sequence[BoardRow]) -> pd.DataFrame:
    """The leaderboard as the teacher sees it and downloads it (`leaderboard.csv`): one table for both."""
    return pd.DataFrame([{"rank": row.rank, "student": row.nickname, "test accuracy": percent(row.test_accuracy, 1),
                          "model": row.model, "parameters": row.parameters, "epochs": row.epochs,
                          "training s": round(row.training_seconds, 1), "run": row.run_name,
                          "shared": "yes" if row.shared else ""} for row in rows], columns=list(BOARD_COLUMNS))


def best_rank(rows: Sequence[BoardRow], owner: str) -> BoardRow | None:
    """A student's best row on the leaderboard, or None if they have no scored run."""
    return next((row for row in rows if row.owner == owner), None)
