"""A class: a teacher's workspace, its students' workspaces with their nicknames, and the runs it shares.

Each class is a file, `<store root>/classes/<class id>.json`, rewritten atomically under one lock
(flock), so two students who pick the same nickname at the same instant cannot both get it. The
teacher is whoever holds the workspace that created it: the teacher link is that workspace's
private link. Students join with a short code; the code only lets one join, never read.

A class's runs are the runs its students made in it. Keys open a class through small index files: a join
code lets one join, a projector key shows the projector view. Its end (closing, expiry, clean-up, the zip of
its runs) is `core.classroom.closing`.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from core.classroom.nicknames import check_nickname, same_nickname
from core.store.access import Access
from core.store.names import refusal
from core.store.runs import (
    RUNS,
    STORE_ROOT,
    RunRecord,
    StoreError,
    file_lock,
    list_runs,
    run_folder,
    saved_at,
    write_text_atomically,
)
from core.store.workspaces import Workspace, read_workspace, save_workspace, update_workspace

CLASSES = "classes"
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no I, O, 0 or 1: read aloud and typed without doubt
CODE_LENGTH = 8  # 40 bits: a code lets one join, and a closed class's code opens nothing
MAX_CLASS_NAME = 60
MAX_MEMBERS = 200
MAX_OPEN_CLASSES = 3  # per teacher's workspace: a class costs a file and a code, and anyone can create one
CODES = "codes"  # classes/codes/<join code> holds its class's id: a join reads one small file, not every class
PROJECTORS = "projectors"  # classes/projectors/<token> holds its class's id: the projector view's read-only key


class ClassError(ValueError):
    """A class action that cannot be done; the message says why, in words for the visitor."""


@dataclass
class ClassRoom:
    """What the store keeps about one class.

    Args:
        class_id: 32 random hex digits, its file's name.
        name: The teacher's title for it.
        join_code: What students type to join (CODE_LENGTH characters of CODE_ALPHABET).
        teacher: The teacher's workspace id.
        created: Seconds since the epoch.
        closed: Seconds since the epoch when it was closed; 0 while open.
        members: Student workspace id → nickname, in joining order.
        shared: Run ids the teacher shared with the class, in sharing order.
        joined: Student workspace id → when they joined (seconds since the epoch): their runs started before
            it are theirs, not the class's, and closing the class leaves them alone.
        projector: The projector view's key: it shows the class's name, join code and leaderboard, and
            nothing else (never the teacher's workspace key, which can close the class).
        warned: Seconds since the epoch when the teacher told the students the class is about to close; 0 if
            not (yet). Their pages say so, so they can download what they want to keep.
        paused: Since when the teacher has paused new Starts (seconds since the epoch); 0 if not paused.
        locked: Whether the teacher has locked the class to new students (its members may still rejoin).
        max_epochs, max_images, max_runs: The class's own caps (`core.classroom.control.ClassCaps`); 0 for none.
    """

    class_id: str
    name: str
    join_code: str
    teacher: str
    created: float
    closed: float = 0.0
    members: dict[str, str] = field(default_factory=dict)
    shared: list[str] = field(default_factory=list)
    joined: dict[str, float] = field(default_factory=dict)
    projector: str = ""
    warned: float = 0.0
    paused: float = 0.0
    locked: bool = False
    max_epochs: int = 0
    max_images: int = 0
    max_runs: int = 0

    @property
    def is_open(self) -> bool:
        return not self.closed

    def made_here(self, record: RunRecord, root: Path) -> bool:
        """Whether a run was started by a member after they joined, and before the class closed.

        Its start is taken as its save time less its time in the worker (or its training time): never earlier
        than the true start, so a run started after joining always counts. (The save time is stored to the
        second, rounded down: hence the second added.)
        """
        if record.source != RUNS or record.owner not in self.members:
            return False
        began = saved_at(record, root) + 1.0 - max(record.training_seconds, record.wall_seconds or 0.0)
        # A run its closing stopped began before it and is the class's, though stored just after; a run begun
        # after the closing is the student's own.
        before_closing = not self.closed or began - 1.0 < self.closed
        return began >= self.joined.get(record.owner, self.created) and before_closing


def classes_folder(root: Path) -> Path:
    return root / CLASSES


@contextmanager
def classes_lock(root: Path) -> Iterator[None]:
    with file_lock(classes_folder(root) / ".lock"):
        yield


def save_class(room: ClassRoom, root: Path) -> None:
    write_text_atomically(classes_folder(root) / f"{room.class_id}.json", json.dumps(asdict(room)))


_INDEXED = {CODES: "join_code", PROJECTORS: "projector"}  # an index folder → the ClassRoom field it is keyed on


def key_index(kind: str, root: Path) -> Path:
    """An index of keys that open a class (`CODES` or `PROJECTORS`): `classes/<kind>/<key>` holds the class's id.
    Built from the class files once if a store from before the index has none."""
    folder = classes_folder(root) / kind
    if not folder.is_dir():
        folder.mkdir(parents=True, exist_ok=True)
        for room in all_classes(root):
            if key := getattr(room, _INDEXED[kind]):
                (folder / key).write_text(room.class_id)
    return folder


def forget_keys(room: ClassRoom, root: Path) -> None:
    """Removes the class's keys from their indexes (its file is about to go)."""
    for kind, field_name in _INDEXED.items():
        if key := getattr(room, field_name):
            (key_index(kind, root) / key).unlink(missing_ok=True)


def _lookup(kind: str, key: str, root: Path) -> ClassRoom | None:
    """The class whose key of this kind is `key` now (one small file read; a replaced key opens nothing)."""
    try:
        class_id = (key_index(kind, root) / key).read_text().strip()
    except OSError:
        return None
    room = load_class(class_id, root) if len(class_id) == 32 and class_id.isalnum() else None
    return room if room is not None and getattr(room, _INDEXED[kind]) == key else None


def load_class(class_id: str, root: Path = STORE_ROOT) -> ClassRoom | None:
    """A class by id, or None if there is none (or its file cannot be read)."""
    if not (isinstance(class_id, str) and len(class_id) == 32 and class_id.isalnum()):
        return None
    try:
        room = ClassRoom(**json.loads((classes_folder(root) / f"{class_id}.json").read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None
    return room if isinstance(room.members, dict) and isinstance(room.shared, list) and isinstance(room.joined, dict) \
        else None


def all_classes(root: Path = STORE_ROOT) -> list[ClassRoom]:
    """Every class in the store, oldest first."""
    folder = classes_folder(root)
    found = [load_class(path.stem, root) for path in folder.glob("*.json")] if folder.is_dir() else []
    return sorted((room for room in found if room is not None), key=lambda room: room.created)


def class_teachers(root: Path = STORE_ROOT) -> frozenset[str]:
    """The workspaces teaching a class still on file (open, or closed and not yet expired): kept by the store's
    upkeep however long they go unused, since the teacher link is the only way back to the class's results."""
    return frozenset(room.teacher for room in all_classes(root))


def normalise_code(text: object) -> str:
    """A join code as typed ("abcd-efgh ", say) in its stored form ("ABCDEFGH")."""
    return "".join(character for character in str(text)[:64].upper() if character.isalnum())


def _new_code(root: Path) -> str:
    """A join code no class holds (called under the classes' lock)."""
    index = key_index(CODES, root)
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if not (index / code).exists():
            return code


def create_class(name: str, teacher: Workspace, root: Path = STORE_ROOT, now: float | None = None) -> ClassRoom:
    """Creates an open class taught by `teacher` (whose workspace records it).

    Raises:
        ClassError: If the name is empty, too long or holds hidden characters, or the teacher already has
            `MAX_OPEN_CLASSES` open classes.
    """
    if problem := refusal(str(name), "A class name"):
        raise ClassError(problem)
    cleaned = " ".join(str(name).split())
    if not cleaned or len(cleaned) > MAX_CLASS_NAME:
        raise ClassError(f"A class name needs 1 to {MAX_CLASS_NAME} characters.")
    with classes_lock(root):
        teaching = [room for class_id in (reload_workspace(teacher, root).teaches or teacher.teaches)
                    if (room := load_class(class_id, root)) is not None and room.is_open]
        if len(teaching) >= MAX_OPEN_CLASSES:
            raise ClassError(f"You have {len(teaching)} open classes, the most one workspace may have. Close one "
                             "(download its runs first) before you create another.")
        room = ClassRoom(secrets.token_hex(16), cleaned, _new_code(root), teacher.workspace_id,
                         created=time.time() if now is None else now)
        save_class(room, root)
        (key_index(CODES, root) / room.join_code).write_text(room.class_id)
        teacher.teaches.append(room.class_id)
        _write_fields(teacher, root, teaches=lambda fresh: [*fresh.teaches, room.class_id])
    return room


def _write_fields(workspace: Workspace, root: Path, **values) -> None:
    """Writes only these fields of the workspace's record, each computed from the record as it is on disk
    (`update_workspace`): the page's copy may be older than a Start another tab recorded meanwhile."""
    def change(fresh: Workspace) -> None:
        for name, value in values.items():
            setattr(fresh, name, value(fresh))

    if update_workspace(workspace.workspace_id, change, root) is None:
        save_workspace(workspace, root)  # no record yet (a workspace made in memory): the page's copy is all there is


def find_by_code(code: object, root: Path = STORE_ROOT) -> ClassRoom:
    """The open class a join code names.

    Raises:
        ClassError: If no class has this code, or its class has been closed.
    """
    wanted = normalise_code(code)
    if len(wanted) != CODE_LENGTH:
        raise ClassError(f"A join code has {CODE_LENGTH} letters and digits, like ABCD-EFGH.")
    room = _lookup(CODES, wanted, root)
    if room is None:  # never issued, or replaced by a new code
        raise ClassError("There is no class with this join code. Check it with your teacher.")
    if not room.is_open:
        raise ClassError(f"The class “{room.name}” has been closed.")
    return room


def join_class(code: object, nickname: object, workspace: Workspace, root: Path = STORE_ROOT,
               now: float | None = None) -> ClassRoom:
    """Puts `workspace` into the class with this code under `nickname` (leaving any class it was in).

    Its runs from before this moment (`now`) stay its own: closing the class removes only the runs made in it.

    Raises:
        ClassError: For an unknown or closed class, the class's own teacher, or a full class.
        core.classroom.nicknames.NicknameError: For a nickname that is malformed or taken in the class.
    """
    from core.classroom.nicknames import NicknameError

    cleaned = check_nickname(nickname)
    with classes_lock(root):
        room = find_by_code(code, root)
        if room.teacher == workspace.workspace_id:
            raise ClassError("This is your own class: you see it as its teacher. Students join from their own "
                             "browsers with the code.")
        others = {member: name for member, name in room.members.items() if member != workspace.workspace_id}
        taken = next((name for name in others.values() if same_nickname(cleaned, name)), None)
        if taken is not None:  # the name as it stands in the class ("Ada"), not as typed ("ADA", "Аda")
            raise NicknameError(f"Somebody in this class is already called “{taken}”. Pick another nickname. If "
                                f"you are {taken} and lost your tab, open your seat link (your private link), or "
                                "join under another name and ask your teacher to hand your seat back.")
        if workspace.workspace_id not in room.members and room.locked:
            raise ClassError("Your teacher has locked this class: nobody new can join. If you lost your tab, open "
                             "your seat link, or ask your teacher to hand your seat back.")
        if workspace.workspace_id not in room.members and len(room.members) >= MAX_MEMBERS:
            raise ClassError(f"This class is full ({MAX_MEMBERS} students).")
        if workspace.class_id and workspace.class_id != room.class_id:
            _remove_member(workspace.class_id, workspace.workspace_id, root)
        if workspace.workspace_id not in room.members:
            room.joined[workspace.workspace_id] = time.time() if now is None else now
        room.members[workspace.workspace_id] = cleaned
        save_class(room, root)
        workspace.class_id, workspace.nickname = room.class_id, cleaned
        _write_fields(workspace, root, class_id=lambda _: room.class_id, nickname=lambda _: cleaned)
    return room


def _remove_member(class_id: str, member: str, root: Path) -> None:
    room = load_class(class_id, root)
    if room is not None and member in room.members:
        del room.members[member]
        room.joined.pop(member, None)
        save_class(room, root)


def leave_class(workspace: Workspace, root: Path = STORE_ROOT) -> None:
    """Takes `workspace` out of its class (its runs stay its own).

    A closed class keeps its member list until its file goes: its teacher still reads their runs, and may
    reopen it.
    """
    with classes_lock(root):
        room = load_class(workspace.class_id, root) if workspace.class_id else None
        if room is not None and room.is_open:
            _remove_member(workspace.class_id, workspace.workspace_id, root)
        workspace.class_id, workspace.nickname = "", ""
        _write_fields(workspace, root, class_id=lambda _: "", nickname=lambda _: "")


def remove_student(class_id: str, member: str, teacher: Workspace, root: Path = STORE_ROOT) -> ClassRoom:
    """The teacher takes a student out of the class: their runs stay theirs, and are no longer the class's.

    With `new_join_code` this undoes a take-over: whoever had the code joined, and can no longer.

    Raises:
        ClassError: If the class is not the teacher's, or the student is not in it.
    """
    with classes_lock(root):
        room = taught_class(class_id, teacher, root)
        if member not in room.members:
            raise ClassError("This student is not in the class (any more).")
        _remove_member(class_id, member, root)
    return taught_class(class_id, teacher, root)


def projector_key(class_id: str, teacher: Workspace, root: Path = STORE_ROOT) -> str:
    """The class's projector key (made on first use, also for a class from before projector views).

    Raises:
        ClassError: If the class is not the teacher's.
    """
    with classes_lock(root):
        room = taught_class(class_id, teacher, root)
        if not room.projector:
            room.projector = secrets.token_urlsafe(18)
            save_class(room, root)
        indexed = key_index(PROJECTORS, root) / room.projector
        if not indexed.exists():
            indexed.write_text(room.class_id)
    return room.projector


def find_by_projector(key: object, root: Path = STORE_ROOT) -> ClassRoom | None:
    """The class a projector key opens (open or closed), or None for a key that opens nothing."""
    text = str(key)
    if not 16 <= len(text) <= 64 or not all(character.isalnum() or character in "-_" for character in text):
        return None
    return _lookup(PROJECTORS, text, root)


def new_join_code(class_id: str, teacher: Workspace, root: Path = STORE_ROOT) -> ClassRoom:
    """Gives an open class a new join code; the old one stops working at once (members stay members).

    Raises:
        ClassError: If the class is not the teacher's, or is closed.
    """
    with teachers_change(class_id, teacher, root) as room:  # under the lock: `_new_code` checks the index
        old, room.join_code = room.join_code, _new_code(root)
        (key_index(CODES, root) / room.join_code).write_text(room.class_id)
        (key_index(CODES, root) / old).unlink(missing_ok=True)  # a lookup checks the class's own code too
    return room


def taught_class(class_id: str, teacher: Workspace, root: Path = STORE_ROOT) -> ClassRoom:
    """A class `teacher` created.

    Raises:
        ClassError: If there is no such class, or `teacher` did not create it.
    """
    room = load_class(class_id, root)
    if room is None or room.teacher != teacher.workspace_id:
        raise ClassError("There is no such class in your workspace.")
    return room


@contextmanager
def teachers_change(class_id: str, teacher: Workspace, root: Path = STORE_ROOT,
                    open_only: bool = True) -> Iterator[ClassRoom]:
    """A change its teacher makes to a class: the class as stored now, under the classes' lock, saved after the
    `with` block unless it raised.

    Raises:
        ClassError: If the class is not the teacher's, or (with `open_only`) is closed.
    """
    with classes_lock(root):
        room = taught_class(class_id, teacher, root)
        if open_only and not room.is_open:
            raise ClassError("This class is closed.")
        yield room
        save_class(room, root)


def class_runs(room: ClassRoom, root: Path = STORE_ROOT) -> list[RunRecord]:
    """Its students' runs made in the class (started after they joined), newest first."""
    return [record for record in list_runs(root) if room.made_here(record, root)]


def share_run(class_id: str, run_id: str, teacher: Workspace, shared: bool = True,
              root: Path = STORE_ROOT) -> ClassRoom:
    """Shares a run with the class (or takes it back): a student's run, or one of the teacher's own.

    Raises:
        ClassError: If the class is not the teacher's or is closed, or the run is neither a
            student's nor the teacher's.
    """
    with teachers_change(class_id, teacher, root) as room:
        access = Access(teacher.workspace_id, frozenset(room.members))
        try:
            run_folder(run_id, root, access)
        except StoreError as error:
            raise ClassError(str(error)) from None
        if shared and run_id not in room.shared:
            room.shared.append(run_id)
        elif not shared and run_id in room.shared:
            room.shared.remove(run_id)
    return room


def access_for(workspace: Workspace | None, root: Path = STORE_ROOT) -> Access | None:
    """What a workspace may read: its own runs, its students' runs in the classes it teaches, and the
    runs shared with its class and with the classes it teaches. None for no workspace."""
    if workspace is None:
        return None
    readable, shared = set(), set()
    for class_id in workspace.teaches:  # a closed class too: its teacher reads its results until it expires
        room = load_class(class_id, root)
        if room is not None:
            readable.update(room.members)
            shared.update(room.shared)
    room = load_class(workspace.class_id, root) if workspace.class_id else None
    if room is not None and room.is_open and workspace.workspace_id in room.members:
        shared.update(room.shared)
    return Access(workspace.workspace_id, frozenset(readable), frozenset(shared))


def reload_workspace(workspace: Workspace, root: Path = STORE_ROOT) -> Workspace:
    """The workspace's record as stored now (another tab may have joined a class meanwhile)."""
    return read_workspace(workspace.workspace_id, root) or workspace
