"""The process tree from /proc, for the tests and benches that watch a server and its training workers (Linux)."""

from __future__ import annotations

import collections
import contextlib
import os
from pathlib import Path


def parent_of(pid: int) -> int:
    """The parent's pid (field 4 of /proc/<pid>/stat, read after the name, which may hold spaces or ')')."""
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def children_map() -> dict[int, list[int]]:
    """Every live process's children, by parent pid (processes that end while this reads are left out)."""
    children: dict[int, list[int]] = collections.defaultdict(list)
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                children[parent_of(int(entry))].append(int(entry))
    return children


def children(pid: int) -> list[int]:
    """The process's direct children."""
    return list(children_map().get(pid, []))


def descendants(*roots: int) -> list[int]:
    """The processes and all their descendants."""
    tree, found, stack = children_map(), [], list(roots)
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(tree.get(pid, []))
    return found


def running(module: str) -> list[int]:
    """Live (not zombie) processes running `python -m <module>`."""
    found = []
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            if (entry.name.isdigit() and module.encode() in (entry / "cmdline").read_bytes()
                    and (entry / "stat").read_text().split()[2] != "Z"):
                found.append(int(entry.name))
    return found
