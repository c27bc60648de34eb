"""The Class page's session-state keys, and the ones it keeps across page changes."""

from __future__ import annotations

from ui.persist import KeptKeys

CLASS_NAME = "class_new_name"  # the name typed for a new class
JOIN_CODE = "class_join_code"  # the join code typed (or taken from ?join=)
NICKNAME = "class_nickname"  # the nickname typed
TAUGHT = "class_taught"  # which of the teacher's open classes is on screen
PICKED_RUN = "class_picked_run"  # the leaderboard run the teacher acts on
CURVE_RUNS = "class_curve_runs"  # the runs whose curves are overlaid
CLOSE_CONFIRM = "class_close_confirm"  # the tick that arms "Close the class"
MESSAGE = "class_message"  # the outcome of the last action, shown once: (kind, text)
LAST_STUDENTS = "class_last_students"  # class id → (rows, when): the live table as last seen, for a queue outage
PACE = "class_live_pace"  # the live table's poll interval (ui.polling.Pace)
BOARD_VIEW = "class_board_view"  # the leaderboard: "best" (each student's best run) or "all" runs

# Buttons
CREATE, JOIN, LEAVE, CLOSE = "class_create", "class_join", "class_leave", "class_close"
RESULTS = "class_results"  # the "Download results" button
WARN, REOPEN, DELETE = "class_warn", "class_reopen", "class_delete"  # a class's end: warn, and once closed
DELETE_CONFIRM = "class_delete_confirm"  # the tick that arms "Delete"
STOP_ALL, PAUSE, SAVE_CAPS = "class_stop_all", "class_pause", "class_save_caps"  # the lesson controls
CAP_FIELDS = ("class_cap_epochs", "class_cap_images", "class_cap_runs")  # the class caps typed (ClassCaps' order)
SHARE, OPEN_EVALUATE = "class_share", "class_open_evaluate"  # act on the leaderboard's picked run
NEW_CODE, REMOVE, REMOVED = "class_new_code", "class_remove", "class_removed"  # the roster: a new code, take out
REMOVED_WHO = "class_removed_who"  # the students picked to take out
LOCK, RENAME, MERGE = "class_lock", "class_rename", "class_merge"  # the roster's other buttons
RENAMED_WHO, NEW_NICKNAME = "class_renamed_who", "class_new_nickname"  # the student renamed, and the new name
GHOST, MERGE_INTO = "class_ghost", "class_merge_into"  # a lost seat, and the student's new one
JUST_JOINED = "class_just_joined"  # set by a join: the seat link is shown open once

# Address parameters: a join link's code, and the projector view's key.
JOIN_PARAM, PROJECTOR_PARAM = "join", "projector"

KEPT = KeptKeys("ui.classroom.state", keys=(TAUGHT, NICKNAME, BOARD_VIEW))


def open_shared_key(run_id: str) -> str:
    """A student's "Open in Evaluate" button of one shared run."""
    return f"class_shared_{run_id}"
