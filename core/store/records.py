"""What the store keeps about one run (`RunRecord`), and the checks a stored record must pass to be read.

A `meta.json` is read back from disk, so it is checked field by field (`record_from_dict`); one
that fails is a `DamagedRun`, shown with its reason on Models and skipped everywhere else.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

RUNS, DEFAULTS = "runs", "defaults"
APP_VERSION = "0.6"  # bumped with each issue that changes what a run records
# History keys that place each epoch rather than measure it: where it ended in epochs (2.47 for an epoch Stop broke
# off after 47% of its batches) and in seconds of training. Runs saved before 0.6 have neither.
EPOCHS_DONE, SECONDS_DONE = "epochs_done", "seconds_done"
POSITIONS = (EPOCHS_DONE, SECONDS_DONE)


@dataclass
class RunRecord:
    """What the store keeps about one run, next to its model file.

    Args:
        run_id: The folder name: date, time and a random suffix.
        name: A human name, which the user can change.
        dataset: The dataset key it was trained on.
        spec: The model spec as dicts (`core.model.layers.spec_to_dicts`).
        hyperparameters: Epochs, batch size, optimizer, learning rate and so on.
        history: Per-epoch metrics, e.g. {"loss": [...], "val_accuracy": [...]}, and where each epoch ended
            (`POSITIONS`).
        metrics: Final metrics by split, e.g. {"test": {"accuracy": 0.99}}.
        training_seconds: Wall-clock seconds spent training.
        status: "finished", or "stopped" when the user stopped it early.
        created: ISO 8601 time of saving, UTC.
        app_version: APP_VERSION when saved.
        input_shape: (H, W, C) the model takes.
        class_names: The classes in output order.
        stop_reason: Why training ended early (early stopping, a target, the Stop button), or "".
        wall_seconds: Seconds from start to saved, evaluation included.
        owner: The session that made it ("" when made outside a session: the CLI, a script). In
            hosted mode only its owner sees it.
        source: RUNS or DEFAULTS (set by the store when reading; not saved).
    """

    run_id: str
    name: str
    dataset: str
    spec: list[dict[str, object]]
    hyperparameters: dict[str, object]
    history: dict[str, list[float]]
    metrics: dict[str, dict[str, float]]
    training_seconds: float
    status: str = "finished"
    created: str = ""
    app_version: str = APP_VERSION
    input_shape: list[int] = field(default_factory=list)
    class_names: list[str] = field(default_factory=list)
    stop_reason: str = ""
    wall_seconds: float = 0.0
    owner: str = ""
    source: str = RUNS

    @property
    def epochs_trained(self) -> int:
        """Epochs in the history (0 for an uploaded model)."""
        return len(next(iter(self.history.values()), []))

    def to_json(self) -> str:
        data = asdict(self)
        data.pop("source")
        return json.dumps(data, indent=1)


@dataclass(frozen=True)
class DamagedRun:
    """A run folder whose metadata or model file cannot be used, and why.

    Args:
        run_id: The folder name.
        folder: Where it is.
        reason: What is wrong, in words a user can act on.
        owner: The owner, when the metadata still says it ("" otherwise).
        source: RUNS or DEFAULTS.
    """

    run_id: str
    folder: Path
    reason: str
    owner: str = ""
    source: str = RUNS


class RecordError(ValueError):
    """A run's meta.json that does not describe a run; the message says which field and why."""


_NUMBER = (int, float)
# Each field's type; a stored record must match exactly (bool is not a number here).
_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "run_id": (str,), "name": (str,), "dataset": (str,), "spec": (list,), "hyperparameters": (dict,),
    "history": (dict,), "metrics": (dict,), "training_seconds": _NUMBER, "status": (str,), "created": (str,),
    "app_version": (str,), "input_shape": (list,), "class_names": (list,), "stop_reason": (str,),
    "wall_seconds": _NUMBER, "owner": (str,),
}
_REQUIRED = ("run_id", "name", "dataset", "spec", "hyperparameters", "history", "metrics", "training_seconds")


def _kind(value: object) -> str:
    return "true/false" if isinstance(value, bool) else type(value).__name__


def _is_number(value: object) -> bool:
    return isinstance(value, _NUMBER) and not isinstance(value, bool)


def record_from_dict(data: object, folder_name: str | None = None) -> RunRecord:
    """A RunRecord from a meta.json's content, every field's type checked.

    Raises:
        RecordError: Naming the first field that is missing, unknown or of the wrong type.
    """
    if not isinstance(data, dict):
        raise RecordError(f"meta.json holds a {_kind(data)}, not an object.")
    data = {key: value for key, value in data.items() if key != "source"}
    unknown = sorted(str(key) for key in set(data) - set(_FIELD_TYPES))
    if unknown:
        raise RecordError(f"meta.json has an unknown field {unknown[0][:40]!r}.")
    missing = [key for key in _REQUIRED if key not in data]
    if missing:
        raise RecordError(f"meta.json lacks the field {missing[0]!r}.")
    for key, value in data.items():
        types = _FIELD_TYPES[key]
        if not isinstance(value, types) or (types == _NUMBER and not _is_number(value)):
            wanted = "number" if types == _NUMBER else types[0].__name__
            raise RecordError(f"meta.json's {key!r} is a {_kind(value)}, not a {wanted}.")
    if folder_name is not None and data["run_id"] != folder_name:
        raise RecordError(f"meta.json names the run {data['run_id'][:40]!r}, but its folder is {folder_name!r}.")
    if not all(isinstance(layer, dict) for layer in data["spec"]):
        raise RecordError("meta.json's 'spec' holds something that is not a layer.")
    if not all(isinstance(values, list) and all(v is None or _is_number(v) for v in values)
               for values in data["history"].values()):
        raise RecordError("meta.json's 'history' holds something that is not a list of numbers.")
    if not all(isinstance(split, dict) and all(v is None or _is_number(v) for v in split.values())
               for split in data["metrics"].values()):
        raise RecordError("meta.json's 'metrics' holds something that is not numbers by split.")
    sides = data.get("input_shape", [])
    if not all(isinstance(side, int) and not isinstance(side, bool) and side > 0 for side in sides):
        raise RecordError("meta.json's 'input_shape' holds something that is not a size.")
    if not all(isinstance(name, str) for name in data.get("class_names", [])):
        raise RecordError("meta.json's 'class_names' holds something that is not text.")
    if data.get("created"):
        try:
            datetime.fromisoformat(data["created"])
        except ValueError:
            raise RecordError(f"meta.json's 'created' is not a date: {data['created'][:40]!r}.") from None
    return RunRecord(**data)


def model_file_problem(path: Path) -> str | None:
    """What is wrong with a run's model file, or None when it is a whole zip (a .keras file is one)."""
    if not path.is_file():
        return "Its model file is missing."
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError):
        return "Its model file is damaged: not a whole .keras archive (truncated, or another format)."
    if "config.json" not in names:
        return "Its model file is damaged: the archive has no config.json."
    return None
