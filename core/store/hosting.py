"""Hosted mode: the caps a shared server puts on its visitors, read from the environment.

A teacher shares one server with a class; strangers must not be able to fill its disk, starve its
CPU or see each other's work. `CNNLAB_HOSTED=1` switches hosted mode on (on Streamlit Community
Cloud a root-level secret `CNNLAB_HOSTED = "1"` does the same, since Streamlit exports root-level
secrets as environment variables). Every cap has a default and its own variable to override it.
Outside hosted mode nothing is capped and every run is kept and visible, as on one's own machine.

This module only describes the caps; `core.jobs.jobs`, `core.store.runs` and `core.train.config`
enforce them, so a page that forgot a check still cannot break them.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from core.store.records import RUNS
from core.store.runs import STORE_ROOT, count_user_runs

HOSTED_ENV = "CNNLAB_HOSTED"
_TRUE = ("1", "true", "yes", "on")


class QuotaError(ValueError):
    """A visitor may not store another run now; the message says why and what to do."""


@dataclass(frozen=True)
class Cap:
    """One cap: its environment variable, its hosted default, and what it means."""

    variable: str
    hosted_default: float
    description: str
    old_variable: str = ""  # the name it had before runs belonged to workspaces, still read


CAPS: dict[str, Cap] = {
    "max_epochs": Cap("CNNLAB_MAX_EPOCHS", 20, "epochs per run"),
    "max_train_images": Cap("CNNLAB_MAX_TRAIN_IMAGES", 20_000, "training images per run (the subset)"),
    "max_parameters": Cap("CNNLAB_MAX_PARAMETERS", 20_000_000, "parameters per model"),
    "max_run_tflop": Cap("CNNLAB_MAX_RUN_TFLOP", 200, "TFLOP of training per run"),
    "run_minutes": Cap("CNNLAB_RUN_MINUTES", 30, "minutes of training per run (then it stops, and keeps its model)"),
    "workers": Cap("CNNLAB_WORKERS", 1, "runs training at once on the server (the rest wait in line)"),
    "jobs_per_client": Cap("CNNLAB_JOBS_PER_CLIENT", 40, "runs waiting or training at once per internet address"),
    "model_checks": Cap("CNNLAB_MODEL_CHECKS", 1, "uploaded models checked at once (the rest wait in line)"),
    "jobs_per_workspace": Cap("CNNLAB_JOBS_PER_WORKSPACE", 1, "runs waiting or training at once per workspace",
                              "CNNLAB_JOBS_PER_SESSION"),
    "upload_mb": Cap("CNNLAB_MAX_UPLOAD_MB", 10, "MB per uploaded file"),
    "image_megapixels": Cap("CNNLAB_IMAGE_MEGAPIXELS", 4, "megapixels per uploaded image"),
    "upload_megapixels": Cap("CNNLAB_UPLOAD_MEGAPIXELS", 250, "megapixels decoded per uploaded zip, in all"),
    "runs_per_workspace": Cap("CNNLAB_RUNS_PER_WORKSPACE", 5, "stored runs per workspace", "CNNLAB_RUNS_PER_SESSION"),
    "max_runs": Cap("CNNLAB_MAX_RUNS", 200, "stored visitor runs on the server"),
    "store_mb": Cap("CNNLAB_STORE_MB", 4096, "MB of disk for visitors' runs, jobs and own classes"),
    "run_hours": Cap("CNNLAB_RUN_HOURS", 6, "hours a visitor's run is kept"),
    "class_hours": Cap("CNNLAB_CLASS_HOURS", 24, "hours a class stays open before it closes itself"),
}
LOCAL_UPLOAD_MB = 200  # `server.maxUploadSize` in .streamlit/config.toml
# Outside hosted mode: these have a default, the rest are uncapped unless set, and the per-visitor
# store caps never apply (one's own machine keeps everything). One worker per two cores: a
# TensorFlow run already uses two threads well, and each worker holds about 930 MB.
_LOCAL_DEFAULTS = {"jobs_per_workspace": 1, "upload_mb": LOCAL_UPLOAD_MB, "workers": max(1, (os.cpu_count() or 2) // 2),
                   "model_checks": 1,
                   "image_megapixels": 40, "upload_megapixels": 4_000, "max_parameters": 100_000_000}
_HOSTED_ONLY = ("runs_per_workspace", "max_runs", "store_mb", "run_hours", "class_hours")


@dataclass(frozen=True)
class Limits:
    """The caps in force; None means uncapped.

    Args:
        hosted: Whether hosted mode is on: runs are private to their workspace and expire.
        max_epochs: Epochs per run.
        max_train_images: Training images per run, after the subset (the validation share included).
        max_parameters: Parameters per model (trained or uploaded); it bounds a run's memory.
        max_run_tflop: TFLOP a run's training may cost, counted from the spec (`core.model.cost`); it bounds the time.
        run_minutes: Minutes of training, after which a run stops as if Stop were pressed and keeps its model;
            it bounds a run that is slower than its FLOP promise (the stall guard rightly leaves slow batches alone).
        workers: Runs training at once on the server: the warm worker processes (`core.jobs.pool`).
        jobs_per_client: Runs waiting or training at once from one network address, whatever its workspaces
            (a class behind one NAT address is one client).
        model_checks: Uploaded models checked at once on the server; each check loads TensorFlow in its own process.
        jobs_per_workspace: Runs waiting or training at once per workspace.
        upload_mb: Megabytes per uploaded file.
        image_megapixels: Megapixels an uploaded image may declare (decoding is paid by the pixel, not the byte).
        upload_megapixels: Megapixels all images of an uploaded zip may declare together.
        runs_per_workspace: Stored runs per workspace (hosted only).
        max_runs: Stored visitor runs on the server (hosted only).
        store_mb: Megabytes the visitors' runs and the job folders (with their uploaded data) may take (hosted only).
        run_hours: Hours a visitor's run is kept before it is removed (hosted only).
        class_hours: Hours a class stays open before it closes itself, its code with it (hosted only).
        problems: Environment values that could not be read, each replaced by its default.
    """

    hosted: bool = False
    max_epochs: int | None = None
    max_train_images: int | None = None
    max_parameters: int | None = None
    max_run_tflop: int | None = None
    run_minutes: int | None = None
    workers: int = 1
    model_checks: int = 1
    jobs_per_client: int | None = None
    jobs_per_workspace: int = 1
    upload_mb: int = LOCAL_UPLOAD_MB
    image_megapixels: int = 40
    upload_megapixels: int = 4_000
    runs_per_workspace: int | None = None
    max_runs: int | None = None
    store_mb: int | None = None
    run_hours: float | None = None
    class_hours: float | None = None
    problems: tuple[str, ...] = field(default=())

    @property
    def upload_bytes(self) -> int:
        return self.upload_mb * 2**20

    @property
    def image_pixels(self) -> int:
        return self.image_megapixels * 1_000_000

    def summary(self) -> list[str]:
        """The caps in force, one phrase each, for the hosted sidebar note."""
        phrases = []
        for name, cap in CAPS.items():
            value = getattr(self, name)
            if value is not None:
                shown = f"{value:g}" if isinstance(value, float) else f"{value:,}"
                phrases.append(f"{cap.description}: {shown}")
        return phrases


def _read(environ: Mapping[str, str], name: str, fallback: float | None,
          problems: list[str]) -> float | None:
    cap = CAPS[name]
    text = environ.get(cap.variable, "").strip() or (environ.get(cap.old_variable, "").strip() if cap.old_variable
                                                     else "")
    if not text:
        return fallback
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        problems.append(f"{cap.variable}={text[:20]!r} is not a positive number; using {fallback}.")
        return fallback
    return value


def current_limits(environ: Mapping[str, str] | None = None) -> Limits:
    """The caps from the environment (read afresh on each call, so tests can change it).

    Args:
        environ: The variables to read; `os.environ` by default.
    """
    environ = os.environ if environ is None else environ
    hosted = environ.get(HOSTED_ENV, "").strip().lower() in _TRUE
    problems: list[str] = []
    values: dict[str, float | None] = {}
    for name, cap in CAPS.items():
        if hosted:
            values[name] = _read(environ, name, cap.hosted_default, problems)
        elif name not in _HOSTED_ONLY:
            values[name] = _read(environ, name, _LOCAL_DEFAULTS.get(name), problems)
        else:
            values[name] = None
    whole = {name: None if value is None else (value if name in ("run_hours", "class_hours") else max(1, int(value)))
             for name, value in values.items()}
    return Limits(hosted=hosted, problems=tuple(problems), **whole)  # type: ignore[arg-type]


# The caps a training run carries to its worker: checked there again (all but the last, in `check_config`), and
# `run_minutes` enforced while it trains.
RUN_CAPS = ("max_epochs", "max_train_images", "max_parameters", "max_run_tflop", "run_minutes")


def run_caps(limits: Limits) -> dict[str, int | None]:
    """The caps a training job's order carries (see `RUN_CAPS`)."""
    return {name: getattr(limits, name) for name in RUN_CAPS}


def enforced_caps(sent: Mapping[str, object], own: Limits | None = None) -> dict[str, int | None]:
    """The caps a worker enforces on a run: its own environment's, or the order's where the order is stricter.

    A worker never trusts an order to loosen a cap: on Celery anyone who can write to Redis can write an order.

    Args:
        sent: The caps in the order (any JSON; what is not a positive number is ignored).
        own: The worker's own caps; `current_limits()` by default.
    """
    own = own or current_limits()
    caps: dict[str, int | None] = {}
    for name in RUN_CAPS:
        mine, theirs = getattr(own, name), sent.get(name)
        usable = isinstance(theirs, int | float) and not isinstance(theirs, bool) and 0 < theirs < float("inf")
        caps[name] = mine if not usable else int(theirs) if mine is None else min(mine, int(theirs))
    return caps


def check_store_quota(owner: str, limits: Limits, root: Path = STORE_ROOT, pending_mine: int = 0,
                      pending_all: int = 0) -> None:
    """Raises QuotaError if `owner` may not add a run to the store (hosted mode's run quotas).

    Args:
        owner: The workspace asking.
        limits: The caps in force.
        root: The store root.
        pending_mine: The owner's runs still training (each will be stored when it ends).
        pending_all: Every workspace's runs still training.
    """
    cap = limits.runs_per_workspace
    if cap is not None and count_user_runs(root, owner) + pending_mine >= cap:
        raise QuotaError(f"You have {cap} stored runs, this server's limit per visitor. "
                         "Delete one on the Models page (download it first if you want to keep it), then try again.")
    if limits.max_runs is not None and count_user_runs(root) + pending_all >= limits.max_runs:
        raise QuotaError(f"The server's model store is full ({limits.max_runs} runs). Visitors' runs expire "
                         "after a few hours; try again later.")
    if (used := store_full(limits, root)) is not None:
        raise QuotaError(f"The server's disk for runs is full ({used / 2**20:,.0f} MB of {limits.store_mb:,} MB). "
                         "Visitors' runs expire after a few hours; try again later.")


def store_full(limits: Limits, root: Path = STORE_ROOT) -> int | None:
    """The bytes the visitors' side of the store holds, if that reaches the disk cap (`store_mb`); else None."""
    if limits.store_mb is None:
        return None
    used = store_bytes(root)
    return used if used >= limits.store_mb * 2**20 else None


def store_bytes(root: Path = STORE_ROOT) -> int:
    """Bytes on disk of the visitors' side of the store: every run folder, job folder and set of a learner's own
    classes (the shipped defaults, kept elsewhere, do not count)."""
    total = 0
    for part in (RUNS, "jobs", "classsets"):
        for folder, _, names in os.walk(root / part):
            for name in names:
                with contextlib.suppress(OSError):  # a file removed while we walk
                    total += os.lstat(os.path.join(folder, name)).st_size
    return total
