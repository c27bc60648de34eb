"""The record of a learner's set of own classes: its manifest, its dataset key, and its name for people.

The store's side only (`core.data.own_classes` adds and prepares examples and makes the dataset): small, so that
`core.data.datasets.dataset_name` can name a set's key without importing the dataset layer back.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from core.data.images import ColorMode
from core.store.runs import STORE_ROOT

CLASS_SETS = "classsets"
KEY_PREFIX = "own:"
SIDES = (32, 64)
_ID = re.compile(r"^[0-9a-f]{16}$")


class ClassSetError(ValueError):
    """A class set cannot do what was asked; the message says why, in the learner's terms."""


@dataclass
class ClassSet:
    """What the store keeps about one set of the learner's classes.

    Args:
        set_id: 16 hex characters; the dataset's key is `own:<set_id>`.
        owner: The workspace id that made it (`core.store.workspaces.workspace_id`).
        names: The class names as typed, in label order.
        side: The side every example is stored at (32 or 64).
        mode: "grayscale" or "rgb".
        examples: Per class, the ids of its examples, oldest first.
        shared_class: The class (classroom) id whose students may train on it, or "".
        created: Seconds since the epoch.
        version: Counts every change, so caches of its arrays know when they are stale.
    """

    set_id: str
    owner: str
    names: list[str]
    side: int
    mode: ColorMode
    examples: list[list[str]] = field(default_factory=list)
    shared_class: str = ""
    created: float = 0.0
    version: int = 0

    @property
    def key(self) -> str:
        """The dataset key of this set."""
        return f"{KEY_PREFIX}{self.set_id}"

    @property
    def channels(self) -> int:
        return 3 if self.mode == "rgb" else 1

    @property
    def counts(self) -> list[int]:
        """Examples per class, in label order."""
        return [len(ids) for ids in self.examples]

    @property
    def total(self) -> int:
        return sum(self.counts)

    def title(self) -> str:
        """How pickers name it: its classes, e.g. "circle, triangle, star"."""
        return ", ".join(self.names)


def is_own_key(key: object) -> bool:
    """Whether a dataset key names a class set."""
    return isinstance(key, str) and key.startswith(KEY_PREFIX)


def set_id_of(key: str) -> str:
    """The set id in a dataset key `own:<set id>`.

    Raises:
        ClassSetError: If the key is not a well-formed class-set key.
    """
    identifier = key[len(KEY_PREFIX):] if is_own_key(key) else ""
    if not _ID.match(identifier):
        raise ClassSetError(f"{key[:40]!r} is not a class set's key.")
    return identifier


def valid_id(text: str) -> bool:
    """Whether `text` has a set id's form (16 hex digits), so a folder of that name may be one."""
    return bool(_ID.match(text))


def class_set_folder(set_id: str, root: Path) -> Path:
    """A set's folder in the store.

    Raises:
        ClassSetError: For an id without a set id's form (it would name a path outside the sets' folder).
    """
    if not _ID.match(set_id):
        raise ClassSetError(f"{set_id[:40]!r} is not a class set's id.")
    return root / CLASS_SETS / set_id


def read_set(set_id: str, root: Path = STORE_ROOT) -> ClassSet | None:
    """A set by id, or None if there is none (or its manifest cannot be read)."""
    try:
        data = json.loads((class_set_folder(set_id, root) / "manifest.json").read_text(encoding="utf-8"))
        class_set = ClassSet(**data)
    except (OSError, ValueError, TypeError, ClassSetError):
        return None
    if (len(class_set.examples) != len(class_set.names) or class_set.side not in SIDES
            or class_set.mode not in ("grayscale", "rgb")):
        return None
    return class_set


def describe_key(key: str, root: Path | None = None) -> str:
    """A class-set key as people read it: "My classes: circle, triangle, star (32×32 grey)"."""
    try:
        class_set = read_set(set_id_of(key), STORE_ROOT if root is None else root)
    except ClassSetError:
        class_set = None
    if class_set is None:
        return "My classes (a set that was deleted)"
    colour = "RGB" if class_set.mode == "rgb" else "grey"
    kind = "Class set" if class_set.shared_class else "My classes"
    return f"{kind}: {class_set.title()} ({class_set.side}×{class_set.side} {colour})"
