"""The roster in the teacher's hands: rename a student, lock the class to new joins, and hand a seat back.

A student who lost their tab (and their private link) joins again from a new workspace, under another name
("Ada 2"); the old seat ("Ada") is a ghost. `merge_students` hands the old seat back: the new workspace takes the
old nickname and the runs the old one made in the class, and the ghost goes. (The way back without the teacher is
the student's own private link, their seat link, shown when they join.) Taking a student out and a new join
code are in `core.classroom.classes`.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from core.classroom.classes import (
    ClassError,
    ClassRoom,
    class_runs,
    classes_lock,
    load_class,
    save_class,
    taught_class,
    teachers_change,
)
from core.classroom.nicknames import NicknameError, check_nickname, same_nickname
from core.store.runs import STORE_ROOT, StoreError, give_run
from core.store.workspaces import Workspace, update_workspace


def _set_nickname(member: str, nickname: str, class_id: str, root: Path) -> None:
    def change(workspace: Workspace) -> None:
        if workspace.class_id == class_id:  # a student who left since keeps what they had
            workspace.nickname = nickname

    update_workspace(member, change, root)


def rename_student(class_id: str, member: str, nickname: object, teacher: Workspace,
                   root: Path = STORE_ROOT) -> ClassRoom:
    """Gives a student another nickname in the class (on the leaderboard, the table and their own page).

    Raises:
        ClassError: If the class is not the teacher's, or the student is not in it.
        core.classroom.nicknames.NicknameError: For a nickname that is malformed or another student's.
    """
    cleaned = check_nickname(nickname)
    with classes_lock(root):
        room = taught_class(class_id, teacher, root)
        if member not in room.members:
            raise ClassError("This student is not in the class (any more).")
        taken = next((name for other, name in room.members.items() if other != member
                      and same_nickname(cleaned, name)), None)
        if taken is not None:
            raise NicknameError(f"Somebody in this class is already called “{taken}”. Pick another nickname.")
        room.members[member] = cleaned
        save_class(room, root)
        _set_nickname(member, cleaned, class_id, root)
    return room


def lock_class(class_id: str, teacher: Workspace, locked: bool, root: Path = STORE_ROOT) -> ClassRoom:
    """Locks the class to new students (its members can still come back), or opens it to joins again.

    Raises:
        ClassError: If the class is not the teacher's, or is closed.
    """
    with teachers_change(class_id, teacher, root) as room:
        room.locked = locked
    return room


def merge_students(class_id: str, ghost: str, into: str, teacher: Workspace, root: Path = STORE_ROOT) -> ClassRoom:
    """Hands the seat `ghost` back to the student now at `into`: `into` takes the ghost's nickname, joining time
    and the runs the ghost made in the class; the ghost leaves the class.

    Args:
        ghost: The old seat's workspace id (the tab the student lost).
        into: The workspace id the student uses now.

    Raises:
        ClassError: If the class is not the teacher's, either is not in it, or they are the same.
    """
    if ghost == into:
        raise ClassError("Pick two different students: the old seat, and the student's new one.")
    with classes_lock(root):
        room = taught_class(class_id, teacher, root)
        if ghost not in room.members or into not in room.members:
            raise ClassError("Both students must be in the class.")
        runs = [record.run_id for record in class_runs(room, root) if record.owner == ghost]
        for run_id in runs:
            with contextlib.suppress(StoreError):  # deleted meanwhile
                give_run(run_id, into, root)
        nickname = room.members.pop(ghost)
        room.joined[into] = min(room.joined.get(into, room.created), room.joined.pop(ghost, room.created))
        room.members[into] = nickname
        save_class(room, root)
        _set_nickname(into, nickname, class_id, root)

        def leave(workspace: Workspace) -> None:
            if workspace.class_id == class_id:
                workspace.class_id, workspace.nickname = "", ""

        update_workspace(ghost, leave, root)
    return load_class(class_id, root) or room
