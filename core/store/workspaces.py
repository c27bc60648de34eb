"""Workspaces: a visitor's private key, kept in the address (`?ws=…`), that owns their runs and jobs.

A workspace replaces the Streamlit session as the owner of runs, jobs and quotas, so a reload, a
second tab or another device with the same link sees the same work. The key is the only secret:

- it is 24 random bytes (192 bits) from `secrets`, written as 32 URL-safe characters;
- it is never stored: the store names a workspace by the SHA-256 of its key (`workspace_id`), which
  is what runs and jobs record as their owner, so a copy of the store's files gives no access;
- it is never logged whole (`key_hint`).

A record per workspace, `<store root>/workspaces/<id>.json`, tells a key this server issued from a
made-up one, and says which class the workspace joined (and with which nickname) or teaches.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from core.store.runs import STORE_ROOT, file_lock, list_runs, write_text_atomically

WORKSPACES = "workspaces"
KEY_BYTES = 24  # 192 bits: far beyond guessing, and 32 characters in a link
KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{32}$")
ID_PATTERN = re.compile(r"^[0-9a-f]{32}$")
_TOUCH_EVERY = 60.0  # seconds: a page view rewrites `last_seen` at most this often


class WorkspaceError(ValueError):
    """A workspace key that is malformed or unknown here; the message says what the visitor can do."""


@dataclass
class Workspace:
    """What the store keeps about one workspace (never its key).

    Args:
        workspace_id: `workspace_id(key)`: the owner its runs and jobs record.
        created: Seconds since the epoch when the key was issued.
        last_seen: Seconds since the epoch of its last page view (to the minute).
        class_id: The class it joined as a student, or "".
        nickname: Its nickname in that class, or "".
        teaches: The classes it created, oldest first.
        last_job: Its latest training job, whose state its teacher sees live (queued, training, failed…).
        blocked: Why its latest Start was refused (a cap, its class paused), or "" since a Start went through.
        blocked_at: When that Start was refused (seconds since the epoch).
        settings: The Train page's model and settings as last left (widget key → a JSON value), so a reload or
            another device opens them as they were (`remember_settings`).
    """

    workspace_id: str
    created: float
    last_seen: float
    class_id: str = ""
    nickname: str = ""
    teaches: list[str] = field(default_factory=list)
    last_job: str = ""
    blocked: str = ""
    blocked_at: float = 0.0
    settings: dict[str, object] = field(default_factory=dict)


def new_key() -> str:
    """A fresh workspace key: 192 random bits as 32 URL-safe characters."""
    return secrets.token_urlsafe(KEY_BYTES)


def workspace_id(key: str) -> str:
    """The name the store uses for a workspace: the first 128 bits of the SHA-256 of its key."""
    return hashlib.sha256(key.encode("ascii")).hexdigest()[:32]


def key_hint(key: str) -> str:
    """What a log may say of a key: its first four characters."""
    return f"{str(key)[:4]}…"


def _path(identifier: str, root: Path) -> Path:
    if not ID_PATTERN.match(identifier):
        raise WorkspaceError("This private link is not valid.")
    return root / WORKSPACES / f"{identifier}.json"


def save_workspace(workspace: Workspace, root: Path = STORE_ROOT) -> None:
    """Writes a workspace's record atomically."""
    path = _path(workspace.workspace_id, root)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomically(path, json.dumps(asdict(workspace)))


def update_workspace(identifier: str, change: Callable[[Workspace], None],
                     root: Path = STORE_ROOT) -> Workspace | None:
    """Changes a workspace's record: read, `change`, write, under the workspaces' lock.

    A page holds the workspace as it was when the page loaded; writing that copy back would undo what
    another tab or page wrote since (a Start's `last_job` lost to a join, say). So every change reads
    the record afresh and changes only its own fields.

    Returns:
        The workspace as written, or None if it has no record.
    """
    with file_lock(root / WORKSPACES / ".lock"):
        workspace = read_workspace(identifier, root)
        if workspace is None:
            return None
        change(workspace)
        save_workspace(workspace, root)
        return workspace


def read_workspace(identifier: str, root: Path = STORE_ROOT) -> Workspace | None:
    """A workspace's record by id, or None if there is none (or it cannot be read)."""
    try:
        data = json.loads(_path(identifier, root).read_text(encoding="utf-8"))
        workspace = Workspace(**data)
    except (OSError, ValueError, TypeError, WorkspaceError):
        return None
    texts = (workspace.class_id, workspace.nickname, workspace.last_job)
    if not isinstance(workspace.teaches, list) or not all(isinstance(value, str) for value in texts):
        return None
    if not isinstance(workspace.settings, dict):
        workspace.settings = {}
    return workspace


def create_workspace(root: Path = STORE_ROOT, now: float | None = None) -> tuple[str, Workspace]:
    """Issues a new key and records its workspace; returns (key, workspace)."""
    now = time.time() if now is None else now
    key = new_key()
    workspace = Workspace(workspace_id(key), created=now, last_seen=now)
    save_workspace(workspace, root)
    return key, workspace


def open_workspace(key: object, root: Path = STORE_ROOT, now: float | None = None) -> Workspace:
    """The workspace a key opens, its `last_seen` refreshed.

    Args:
        key: The `ws` value from the address, as typed.
        root: The store root.
        now: The time; the current time by default.

    Raises:
        WorkspaceError: If the key is malformed, or this server never issued it (or it expired).
    """
    if not isinstance(key, str) or not KEY_PATTERN.match(key):
        raise WorkspaceError("This private link is not valid (a workspace key is 32 letters, digits, - or _). "
                             "A new workspace was started for you.")
    workspace = read_workspace(workspace_id(key), root)
    if workspace is None:
        raise WorkspaceError("This private link is not known on this server: it may have expired or been "
                             "mistyped. A new workspace was started for you.")
    now = time.time() if now is None else now
    if now - workspace.last_seen >= _TOUCH_EVERY:
        workspace = update_workspace(workspace.workspace_id, lambda fresh: setattr(fresh, "last_seen", now),
                                     root) or workspace
    return workspace


def record_job(identifier: str, job_id: str, root: Path = STORE_ROOT) -> None:
    """Notes a workspace's latest job, which ends any block on its Starts (a missing workspace is left alone)."""
    def change(workspace: Workspace) -> None:
        workspace.last_job, workspace.blocked, workspace.blocked_at = job_id, "", 0.0

    update_workspace(identifier, change, root)


MAX_SETTINGS_BYTES = 64_000  # a model of a hundred layers and every setting is under 20 kB


def remember_settings(identifier: str, values: dict[str, object], root: Path = STORE_ROOT) -> bool:
    """Keeps a workspace's page settings (JSON values only); returns False if they are too big to keep, or could
    not be written (a full disk: the page goes on, and the next change tries again)."""
    if len(json.dumps(values)) > MAX_SETTINGS_BYTES:
        return False
    try:
        return update_workspace(identifier, lambda workspace: setattr(workspace, "settings", dict(values)),
                                root) is not None
    except OSError:
        return False


def expire_workspaces(older_than_hours: float, root: Path = STORE_ROOT, now: float | None = None,
                      keep: frozenset[str] = frozenset()) -> list[str]:
    """Removes workspaces unused for `older_than_hours` that own no run any more; returns their ids.

    A workspace with a run left keeps its record, so its link still opens that run until the
    run itself expires (`core.store.runs.expire_runs`). So does every workspace in `keep`: the
    teachers of classes still on file (`core.classroom.classes.class_teachers`), whose teacher link must
    work until the class is deleted.
    """
    folder = root / WORKSPACES
    if not folder.is_dir():
        return []
    cutoff = (time.time() if now is None else now) - older_than_hours * 3600.0
    owners = {record.owner for record in list_runs(root)}
    removed = []
    for path in folder.glob("*.json"):
        workspace = read_workspace(path.stem, root)
        if workspace is not None and workspace.last_seen < cutoff and workspace.workspace_id not in owners | keep:
            path.unlink(missing_ok=True)
            removed.append(workspace.workspace_id)
    return removed


def workspace_ids(root: Path = STORE_ROOT) -> set[str]:
    """The ids of every workspace on record (so what belongs to a gone one can go too)."""
    folder = root / WORKSPACES
    return {path.stem for path in folder.glob("*.json") if ID_PATTERN.match(path.stem)} if folder.is_dir() else set()
