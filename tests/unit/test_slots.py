"""The line for model checks (`core.jobs.slots`): a few at a time across processes, in order, and never held
by a process that is gone (issue 30 #5: four tabs' checks gave four TensorFlow processes and 3,250 MB)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

import pytest

from core.jobs.slots import SlotLine
from tests.conftest import REPO_ROOT

HOLDER = """
import json, sys, time
from pathlib import Path
from core.jobs.slots import SlotLine
folder, slots, log = Path(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
waits = []
with SlotLine(folder, slots).slot(waits.append):
    began = time.time(); time.sleep(0.6); ended = time.time()
with open(log, "a") as handle:
    handle.write(json.dumps([began, ended, max(waits, default=0)]) + "\\n")
"""


@pytest.mark.parametrize("slots", [1, 2])
def test_processes_work_at_most_slots_at_a_time(tmp_path, slots):
    log = tmp_path / "log"
    processes = [subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path / "line"), str(slots), str(log)],
                                  cwd=REPO_ROOT) for _ in range(4)]
    assert all(process.wait(timeout=60) == 0 for process in processes)
    spans = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(spans) == 4
    for moment in (began for began, _, _ in spans):
        at_once = sum(1 for began, ended, _ in spans if began <= moment < ended)
        assert at_once <= slots
    assert max(ahead for _, _, ahead in spans) >= 1  # someone waited, and was told how many were ahead
    assert not list((tmp_path / "line").glob("*.ticket"))


def test_a_ticket_left_by_a_dead_process_holds_nobody_up(tmp_path):
    line = SlotLine(tmp_path, 1)
    (tmp_path / "00000000000000000001-99999-deadbeef.ticket").touch()  # nobody holds its lock
    started = time.monotonic()
    with line.slot(lambda ahead: pytest.fail(f"waited behind {ahead}")):
        pass
    assert time.monotonic() - started < 1 and not list(tmp_path.glob("*.ticket"))


def test_a_waiter_who_leaves_gives_up_its_place(tmp_path):
    line = SlotLine(tmp_path, 1)
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with line.slot():
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=hold)
    thread.start()
    holding.wait(10)

    class Left(Exception):
        pass

    def leave(ahead: int) -> None:
        assert ahead == 1
        raise Left

    with pytest.raises(Left), line.slot(leave):
        pass
    assert len(list(tmp_path.glob("*.ticket"))) == 1  # only the holder's
    release.set()
    thread.join(10)
    with line.slot(lambda ahead: pytest.fail("the slot was not freed")):
        pass


def test_slots_must_be_positive(tmp_path):
    with pytest.raises(ValueError, match="got 0"):
        SlotLine(tmp_path, 0)
