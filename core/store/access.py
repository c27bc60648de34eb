"""Who may see and change which runs: the store's one access rule.

On one's own machine the viewer is None and every run is visible. In hosted mode the viewer is the
asking workspace's `Access`: its own runs, the runs of the students in the classes it teaches, and
the runs shared with its class. Only the workspace that made a run may rename or delete it.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Access:
    """What one workspace may see.

    Args:
        owner: The asking workspace's id: it sees and changes its own runs.
        readable_owners: Other workspaces whose runs it may open (a teacher's students).
        shared_runs: Run ids shared with it (its class's shared runs).
    """

    owner: str
    readable_owners: frozenset[str] = field(default_factory=frozenset)
    shared_runs: frozenset[str] = field(default_factory=frozenset)

    def may_read(self, owner: str, run_id: str) -> bool:
        """Whether a user run made by `owner` is visible to this workspace."""
        return (bool(owner) and (owner == self.owner or owner in self.readable_owners)) or run_id in self.shared_runs


Viewer = str | Access | None  # None: everything (one's own machine); a str is a workspace id with no class


def as_access(viewer: Viewer) -> Access | None:
    """The viewer as an `Access` (a bare workspace id sees only its own runs)."""
    return Access(viewer) if isinstance(viewer, str) else viewer


def may_read(viewer: Viewer, owner: str, run_id: str) -> bool:
    """Whether `viewer` may open a user run made by `owner`."""
    access = as_access(viewer)
    return access is None or access.may_read(owner, run_id)


def may_change(viewer: Viewer, owner: str) -> bool:
    """Whether `viewer` may rename or delete a run made by `owner`: only its maker (everyone locally)."""
    access = as_access(viewer)
    return access is None or (bool(owner) and owner == access.owner)
