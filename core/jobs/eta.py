"""When a queued run will start and end: the runs ahead of it, their measured speed, and the workers.

Plain arithmetic, so the queue's promises are tested without a worker. The queue is first in,
first out, and each worker takes the oldest waiting run when it is free, so the wait follows
from simulating that: every worker is free when its current run ends, and each run ahead of
ours takes the earliest free worker.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

JOB_OVERHEAD_SECONDS = 4.0  # per run beyond its training: building the model, the first batch's tracing, the test
DEFAULT_IMAGES_PER_SECOND = 2000.0  # a guess for a model never timed here; replaced by measurements as runs end


@dataclass(frozen=True)
class Wait:
    """A queued run's place and prospects.

    Args:
        position: Its place in line, counting the runs training now: 2 means one run is ahead of it.
        starts_in: Seconds until a worker is expected to take it.
        ends_in: Seconds until it is expected to end.
    """

    position: int
    starts_in: float
    ends_in: float


def run_seconds(images: int, epochs: int, images_per_second: float | None) -> float:
    """The expected length of a run: its training images at the measured speed, plus a fixed overhead.

    Args:
        images: Training images per epoch.
        epochs: Planned epochs.
        images_per_second: The measured speed of this kind of run, or None if never measured.
    """
    if images < 0 or epochs < 0:
        raise ValueError(f"Expected a run of images ≥ 0 and epochs ≥ 0, received {images} and {epochs}.")
    speed = images_per_second if images_per_second and images_per_second > 0 else DEFAULT_IMAGES_PER_SECOND
    return images * epochs / speed + JOB_OVERHEAD_SECONDS


def parse_events(lines: Iterable[bytes | str]) -> list[dict]:
    """Progress events from JSON lines; a damaged line is skipped."""
    found = []
    for line in lines:
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict):
            found.append(event)
    return found


def time_left(start: dict | None, recent: Sequence[dict]) -> float | None:
    """Seconds left for a run that trains, from its own progress: better than its estimate, which for a model never
    timed here is a guess (a learner saw "starts in about 2:10" for a run that started after 39 s).

    Args:
        start: Its "start" event (planned epochs and training images), or None if it has not started.
        recent: Its latest events, oldest first (the last batch event says how far it is and how fast it goes).

    Returns:
        The seconds left, or None when its progress cannot tell yet (no batch trained).
    """
    if start is None:
        return None
    for event in reversed(recent):
        if event.get("type") == "phase" and event.get("phase") in ("evaluating", "saving"):
            return JOB_OVERHEAD_SECONDS  # training is over: the test and the save are left
        if event.get("type") == "end":
            return 0.0
        if event.get("type") == "batch":
            try:
                speed = float(event.get("images_per_second") or 0.0)
                total = int(start["epochs"]) * int(start["train_size"])
                seen = int(event["seen"])
            except (KeyError, TypeError, ValueError):
                return None
            return max(0.0, total - seen) / speed + JOB_OVERHEAD_SECONDS if speed > 0 else None
    return None


def waits(running_left: Sequence[float], queued: Sequence[float], workers: int) -> list[Wait]:
    """Each queued run's expected start and end, in queue order.

    Args:
        running_left: Seconds left for each run training now (one per busy worker).
        queued: Expected seconds of each waiting run, oldest first.
        workers: How many runs train at once.

    Raises:
        ValueError: If there are no workers, or more runs training than workers.
    """
    if workers < 1:
        raise ValueError(f"Expected at least 1 worker, received {workers}.")
    if len(running_left) > workers:
        raise ValueError(f"{len(running_left)} runs cannot train on {workers} workers at once.")
    free = [max(0.0, float(left)) for left in running_left] + [0.0] * (workers - len(running_left))
    heapq.heapify(free)  # when each worker is next free, earliest first
    found = []
    for position, seconds in enumerate(queued, start=1):
        start = heapq.heappop(free)
        end = start + max(0.0, float(seconds))
        heapq.heappush(free, end)
        found.append(Wait(len(running_left) + position, start, end))
    return found


def ordinal(number: int) -> str:
    """1st, 2nd, 3rd, 4th, …, 11th, 12th, 13th, 21st."""
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def wait_line(wait: Wait) -> str:
    """"2nd in line · starts in about 0:40 · done in about 1:10", for the live view of a waiting run."""
    from core.train.progress import format_duration

    start = "starts as soon as a worker is free" if wait.starts_in < 1 else \
        f"starts in about {format_duration(wait.starts_in)}"
    return f"{ordinal(wait.position)} in line · {start} · done in about {format_duration(wait.ends_in)}"
