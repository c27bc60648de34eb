"""Folding a job's progress events into what the live view shows: position, speed, ETA, curves.

Plain Python, so the arithmetic behind the progress bar and the ETA is tested without a browser.
The events are those `core.train.engine` emits (see its docstring).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ProgressView:
    """The live state of one run.

    Args:
        phase: "waiting", "loading", "training", "evaluating", "saving" or "ended".
        epochs: Planned epochs.
        steps_per_epoch: Batches per epoch.
        train_size: Training images.
        epoch: The current epoch, from 1 (0 before the first batch).
        step: The last finished batch in that epoch.
        seen: Images trained on so far.
        elapsed: Seconds of training so far (validation excluded).
        images_per_second: Training throughput so far.
        batch_points: Per-batch (x, loss, accuracy), x in epochs (1.5 = halfway through epoch 2);
            loss and accuracy are the means over the batches since the previous point. Keras reports
            running means that restart every epoch, which drew a saw-tooth; `fold` undoes them.
        epoch_rows: One dict per finished epoch, every metric Keras logged, with "epoch" from 1, and "x" where
            its point goes (the epoch's end; for an epoch broken off by Stop, where it stopped: "partial").
        end: The final event ({"status", "run_id", "metrics", ...}), once the run has ended.
    """

    phase: str = "waiting"
    epochs: int = 0
    steps_per_epoch: int = 0
    train_size: int = 0
    epoch: int = 0
    step: int = 0
    seen: int = 0
    elapsed: float = 0.0
    images_per_second: float = 0.0
    batch_points: list[tuple[float, float | None, float | None]] = field(default_factory=list)
    epoch_rows: list[dict[str, object]] = field(default_factory=list)
    end: dict[str, object] | None = None
    last_means: tuple[int, int, dict[str, float]] = (-1, 0, {})  # (epoch, step, running means) of the last batch

    @property
    def fraction(self) -> float:
        """How much of the planned training is done, 0–1."""
        total = self.epochs * self.steps_per_epoch
        if not total:
            return 0.0
        done = max(0, self.epoch - 1) * self.steps_per_epoch + self.step
        return min(1.0, done / total)

    @property
    def eta_seconds(self) -> float | None:
        """Training seconds left at the current speed (validation and early stops not foreseen)."""
        if self.images_per_second <= 0 or not self.epochs:
            return None
        remaining = self.epochs * self.train_size - self.seen
        return max(0.0, remaining / self.images_per_second)


def fold(view: ProgressView, events: list[dict]) -> ProgressView:
    """Applies new events to the view, in order, and returns it."""
    for event in events:
        try:
            _apply(view, event)
        except (KeyError, TypeError, ValueError, AttributeError):  # a damaged line: skipped, never fatal
            continue
    return view


def _apply(view: ProgressView, event: dict) -> None:
    """One event's change to the view."""
    kind = event.get("type")
    if kind == "start":
        view.phase = "training"
        view.epochs, view.steps_per_epoch = int(event["epochs"]), int(event["steps_per_epoch"])
        view.train_size = int(event["train_size"])
    elif kind == "batch":
        view.phase = "training"
        view.epoch, view.step, view.seen = int(event["epoch"]) + 1, int(event["step"]), int(event["seen"])
        view.elapsed = float(event["elapsed"])
        view.images_per_second = float(event.get("images_per_second") or 0.0)
        x = event["epoch"] + event["step"] / max(1, view.steps_per_epoch)
        loss, accuracy = _window_means(view, event)
        view.batch_points.append((round(x, 4), loss, accuracy))
    elif kind == "epoch":
        row = {key: value for key, value in event.items() if key != "type"}
        row["epoch"] = int(event["epoch"]) + 1
        # Where its point goes: the epoch's end, or, for an epoch Stop broke off, where training stopped.
        row["x"] = float(row["epoch"])
        if event.get("partial") and view.steps_per_epoch:
            row["x"] = round(int(event["epoch"]) + int(event.get("steps", 0)) / view.steps_per_epoch, 4)
        view.epoch_rows.append(row)
    elif kind == "phase":
        view.phase = str(event["phase"])
    elif kind == "end":
        view.phase = "ended"
        view.end = event
    elif kind == "reset":  # the run started again (a scale-out worker was lost and another took it over)
        fresh = ProgressView()
        for name in fresh.__dataclass_fields__:
            setattr(view, name, getattr(fresh, name))


def _window_means(view: ProgressView, event: dict) -> tuple[float | None, float | None]:
    """Loss and accuracy over the batches since the previous event, from Keras' running means.

    Keras logs m_k, the mean over the epoch's first k batches. Between events at steps j < k of
    one epoch, the batches in between averaged (k·m_k − j·m_j) / (k − j); the first event of an
    epoch has j = 0. Exact, and it no longer restarts at each epoch.
    """
    epoch, step = int(event["epoch"]), int(event["step"])
    last_epoch, last_step, last = view.last_means
    if last_epoch != epoch or last_step >= step:
        last_step, last = 0, {}
    means: dict[str, float] = {}
    values: list[float | None] = []
    for name in ("loss", "accuracy"):
        mean = event.get(name)
        if mean is None:
            values.append(None)
            continue
        means[name] = float(mean)
        before = last.get(name, 0.0) if last_step else 0.0
        value = (step * float(mean) - last_step * before) / (step - last_step)
        # Keras weights by images, so a short last batch leaves a sliver of error: keep it a share.
        values.append(min(1.0, max(0.0, value)) if name == "accuracy" else max(0.0, value))
    view.last_means = (epoch, step, means)
    return values[0], values[1]


def format_duration(seconds: float | None) -> str:
    """"1:05", "12:00", "1:02:03", or "–" when unknown."""
    if seconds is None:
        return "–"
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def status_line(view: ProgressView) -> str:
    """"Epoch 2/5 · batch 130/469 · 3,412 images/s · ETA 0:35"."""
    if view.phase in ("waiting", "loading"):
        return "Starting: loading the data and building the model…"
    if view.phase == "evaluating":
        return f"Training done in {format_duration(view.elapsed)}; evaluating on the test set…"
    if view.phase == "saving":
        return "Saving the run to the store…"
    if view.phase == "ended":
        return f"Ended after {format_duration(view.elapsed)} of training."
    return (f"Epoch {max(view.epoch, 1)}/{view.epochs} · batch {view.step}/{view.steps_per_epoch} · "
            f"{view.images_per_second:,.0f} images/s · ETA {format_duration(view.eta_seconds)}")
