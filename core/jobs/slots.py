"""A first-come, first-served line for a few slots, shared by every server process on one store.

Checking an uploaded model loads TensorFlow in a process of its own (about 800 MB). Four tabs checking at
once gave four such processes and 3,250 MB, around the one-worker cap that training keeps. Each check now
takes one of a few slots, and waits in line for it like a training run.

The line lives in files, so several server processes on one store share it: a waiter holds an exclusive
`flock` on its ticket file while it waits and works, and a slot is an `flock` on a slot file. A lock goes
with its process, so a crashed server's ticket and slot are free again at once; its ticket file is
removed by the next waiter that finds it unlocked.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

POLL_SECONDS = 0.5


def _locked(path: Path) -> bool:
    """Whether another open file holds a lock on `path` (a waiter still waiting or working)."""
    try:
        with open(path, "rb") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            return False
    except FileNotFoundError:
        return False


class SlotLine:
    """`slots` places of work, handed out in order of arrival.

    Args:
        folder: Where the ticket and slot files live (created if missing).
        slots: How many may work at once, at least 1.
    """

    def __init__(self, folder: Path, slots: int) -> None:
        if slots < 1:
            raise ValueError(f"slots must be at least 1, got {slots}.")
        self.folder, self.slots = Path(folder), slots

    def ahead(self, ticket: str) -> int:
        """Live waiters or workers that arrived before `ticket` (ticket names sort by arrival)."""
        count = 0
        for path in sorted(self.folder.glob("*.ticket")):
            if path.name >= ticket:
                break
            if _locked(path):
                count += 1
            else:
                path.unlink(missing_ok=True)  # its process is gone
        return count

    @contextlib.contextmanager
    def slot(self, waiting: Callable[[int], None] | None = None) -> Iterator[None]:
        """Waits for a slot, holds it for the `with` block, and frees it.

        Args:
            waiting: Called about twice a second while waiting, with how many are ahead (at least 1).
                Whatever it raises (e.g. Streamlit's rerun when the visitor leaves) gives up the place in line.
        """
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns():020d}-{os.getpid()}-{uuid.uuid4().hex[:8]}.ticket"
        ticket = open(self.folder / name, "wb")  # noqa: SIM115 (held for the whole block)
        fcntl.flock(ticket, fcntl.LOCK_EX)
        held = None
        try:
            while held is None:
                ahead = self.ahead(name)
                if ahead < self.slots:
                    held = self._take()
                if held is None:
                    if waiting is not None:
                        waiting(max(1, ahead - self.slots + 1))
                    time.sleep(POLL_SECONDS)
            yield
        finally:
            if held is not None:
                held.close()  # closing the file releases its lock
            (self.folder / name).unlink(missing_ok=True)
            ticket.close()

    def _take(self):
        for index in range(self.slots):
            handle = open(self.folder / f"slot-{index}.lock", "ab")  # noqa: SIM115 (returned, closed by slot())
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            return handle
        return None
