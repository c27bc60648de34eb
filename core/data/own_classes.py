"""A learner's own classes: examples drawn, photographed or uploaded in the browser, kept with the workspace.

A class set is a folder in the store, `<store root>/classsets/<set id>/`:

- `manifest.json`: the owner (a workspace id), the class names as typed, the image side and colour, the examples
  of each class in the order they were added, and the class it is shared with (a teacher's set);
- one PNG per example, named by a random id (never by a class name, which is the learner's text).

Each example is stored already prepared, at the set's side (32 or 64), so the set is a dataset at once:
`to_dataset` splits every class the same way every time (every fifth example is a test image). The key of that
dataset is `own:<set id>`; jobs carry a copy of its arrays, as they do for an uploaded zip.

Nothing here is ever half-written: an example's file is in place before the manifest names it, and the manifest
is replaced atomically under a lock, so two tabs adding at once both keep their examples.
"""

from __future__ import annotations

import io
import json
import re
import secrets
import shutil
import time
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import numpy as np
from PIL import Image

from core.data.class_sets import CLASS_SETS as CLASS_SETS
from core.data.class_sets import KEY_PREFIX as KEY_PREFIX
from core.data.class_sets import SIDES as SIDES
from core.data.class_sets import ClassSet as ClassSet
from core.data.class_sets import ClassSetError as ClassSetError
from core.data.class_sets import class_set_folder as _folder
from core.data.class_sets import describe_key as describe_key
from core.data.class_sets import is_own_key as is_own_key
from core.data.class_sets import read_set as read_set
from core.data.class_sets import set_id_of as set_id_of
from core.data.class_sets import valid_id as _valid_id
from core.data.datasets import Dataset
from core.data.images import ColorMode
from core.predict.preprocessing import prepare_grey
from core.store.runs import STORE_ROOT, file_lock, write_bytes_atomically, write_text_atomically

MIN_CLASSES, MAX_CLASSES = 2, 10
MIN_EXAMPLES = 10  # per class, before the set can be trained: 8 to train on and 2 to test
MAX_NAME_LENGTH = 40
TEST_EVERY = 5  # every fifth example of a class is a test image: 20%, the same ones every time
DEFAULT_MAX_EXAMPLES = 2_000  # in one set (all classes): 2,000 PNGs of 64×64×3 are about 25 MB at most
MIN_PHOTO_SIDE = 8  # a photo smaller than this on its short side holds nothing to learn from
_EXAMPLE_ID = re.compile(r"^[0-9a-f]{12}$")


def check_names(names: list[str]) -> list[str]:
    """The class names, trimmed, or a ClassSetError saying what is wrong with them.

    Names are kept exactly as typed (inner spaces, emoji, any script); they are only ever shown as plain text.
    Control characters are refused: they have no visible form, so two names could not be told apart.
    """
    cleaned = [unicodedata.normalize("NFC", str(name)).strip() for name in names]
    cleaned = [name for name in cleaned if name]
    if len(cleaned) < MIN_CLASSES:
        raise ClassSetError(f"Name at least {MIN_CLASSES} classes: a network that knows one class has nothing to "
                            f"tell apart (you named {len(cleaned)}).")
    if len(cleaned) > MAX_CLASSES:
        raise ClassSetError(f"Name at most {MAX_CLASSES} classes; you named {len(cleaned)}.")
    for name in cleaned:
        if len(name) > MAX_NAME_LENGTH:
            raise ClassSetError(f"A class name may have at most {MAX_NAME_LENGTH} characters; one has {len(name)}.")
        if any(unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp") for char in name):
            raise ClassSetError("A class name may not hold control or invisible characters.")
    folded = [name.casefold() for name in cleaned]
    twins = sorted({name for name in cleaned if folded.count(name.casefold()) > 1})
    if twins:
        raise ClassSetError(f"Two classes have the same name ({twins[0]}): give each class its own name.")
    return cleaned


def _lock(root: Path) -> Path:
    return root / CLASS_SETS / ".lock"


def _save(class_set: ClassSet, root: Path) -> None:
    write_text_atomically(_folder(class_set.set_id, root) / "manifest.json", json.dumps(asdict(class_set)))


def create_set(owner: str, names: list[str], side: int, mode: ColorMode, root: Path = STORE_ROOT,
               now: float | None = None) -> ClassSet:
    """Makes an empty set of classes for a workspace.

    Args:
        owner: The workspace id.
        names: 2–10 class names (`check_names`).
        side: 32 or 64.
        mode: "grayscale" or "rgb".

    Raises:
        ClassSetError: For bad names, side or mode.
    """
    checked = check_names(names)
    if side not in SIDES:
        raise ClassSetError(f"The image side must be one of {', '.join(map(str, SIDES))}, got {side}.")
    if mode not in ("grayscale", "rgb"):
        raise ClassSetError(f"The colour must be 'grayscale' or 'rgb', got {mode!r}.")
    class_set = ClassSet(secrets.token_hex(8), owner, checked, side, mode, [[] for _ in checked],
                         created=time.time() if now is None else now)
    _folder(class_set.set_id, root).mkdir(parents=True)
    with file_lock(_lock(root)):
        _save(class_set, root)
    return class_set


def _all_sets(root: Path) -> list[ClassSet]:
    """Every readable set in the store, newest first (one look at the sets' folder)."""
    folder = root / CLASS_SETS
    if not folder.is_dir():
        return []
    found = [read_set(path.name, root) for path in folder.iterdir() if _valid_id(path.name)]
    return sorted((one for one in found if one is not None), key=lambda one: -one.created)


def sets_of(owner: str, root: Path = STORE_ROOT) -> list[ClassSet]:
    """The sets a workspace made, newest first."""
    return [one for one in _all_sets(root) if one.owner == owner]


def shared_with(class_id: str, root: Path = STORE_ROOT) -> list[ClassSet]:
    """The sets a teacher shared with this class, newest first."""
    return [one for one in _all_sets(root) if class_id and one.shared_class == class_id]


def readable_sets(owner: str, class_id: str, root: Path = STORE_ROOT) -> tuple[list[ClassSet], list[ClassSet]]:
    """In one look at the store: (the sets a workspace made, the sets shared with its class by others)."""
    every = _all_sets(root)
    return ([one for one in every if one.owner == owner],
            [one for one in every if one.owner != owner and class_id and one.shared_class == class_id])


def may_read(class_set: ClassSet, owner: str, class_id: str) -> bool:
    """Whether a workspace may see and train on a set: its own, or one shared with the class it joined."""
    return class_set.owner == owner or bool(class_id and class_set.shared_class == class_id)


def _change(set_id: str, owner: str, change: Callable[[ClassSet], None], root: Path) -> ClassSet:
    """Reads a set afresh under the lock, checks the owner, applies `change`, bumps its version and saves it."""
    with file_lock(_lock(root)):
        class_set = read_set(set_id, root)
        if class_set is None or class_set.owner != owner:
            raise ClassSetError("This set of classes is not yours, or it no longer exists.")
        change(class_set)
        class_set.version += 1
        _save(class_set, root)
        return class_set


def _encode(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image[:, :, 0] if image.shape[2] == 1 else image).save(buffer, format="PNG")
    return buffer.getvalue()


def add_examples(set_id: str, owner: str, class_index: int, images: np.ndarray, root: Path = STORE_ROOT,
                 max_examples: int = DEFAULT_MAX_EXAMPLES) -> ClassSet:
    """Adds prepared examples to one class.

    Args:
        set_id: The set.
        owner: The workspace asking; only the set's owner may change it.
        class_index: Which class, in label order.
        images: uint8 (N, side, side, channels), already prepared (`prepare_drawing_example`, `prepare_photo`).
        max_examples: The most examples the whole set may hold.

    Raises:
        ClassSetError: If the set is not the owner's, the class does not exist, the images have another shape,
            or the set would hold more than `max_examples`.
    """
    current = read_set(set_id, root)
    if current is None or current.owner != owner:  # checked again under the lock; no file is written for a stranger
        raise ClassSetError("This set of classes is not yours, or it no longer exists.")
    shape = (current.side, current.side, current.channels)
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[1:] != shape:
        raise ClassSetError(f"Examples must be uint8 images of {shape}; got {images.dtype} {images.shape}.")
    if not 0 <= class_index < len(current.names):
        raise ClassSetError(f"There is no class number {class_index + 1}.")
    if current.total + len(images) > max_examples:
        raise ClassSetError(f"A set holds at most {max_examples:,} examples in all; it has {current.total:,}, so "
                            f"{len(images):,} more would be too many. Delete some first.")
    folder = _folder(set_id, root)
    ids = []
    for image in images:  # each file is whole before the manifest names it
        identifier = secrets.token_hex(6)
        write_bytes_atomically(folder / f"{identifier}.png", _encode(image))
        ids.append(identifier)

    def change(fresh: ClassSet) -> None:
        if fresh.total + len(ids) > max_examples:  # another tab filled it meanwhile
            raise ClassSetError(f"A set holds at most {max_examples:,} examples in all.")
        fresh.examples[class_index].extend(ids)

    try:
        return _change(set_id, owner, change, root)
    except ClassSetError:
        for identifier in ids:
            (folder / f"{identifier}.png").unlink(missing_ok=True)
        raise


def delete_example(set_id: str, owner: str, example_id: str, root: Path = STORE_ROOT) -> ClassSet:
    """Removes one example (from the manifest first, then its file)."""
    if not _EXAMPLE_ID.match(example_id):
        raise ClassSetError("There is no such example.")

    def change(fresh: ClassSet) -> None:
        for ids in fresh.examples:
            if example_id in ids:
                ids.remove(example_id)
                return
        raise ClassSetError("That example was already deleted.")

    class_set = _change(set_id, owner, change, root)
    (_folder(set_id, root) / f"{example_id}.png").unlink(missing_ok=True)
    return class_set


def rename_classes(set_id: str, owner: str, names: list[str], root: Path = STORE_ROOT) -> ClassSet:
    """Renames the classes (the same number of them, in the same order)."""
    checked = check_names(names)

    def change(fresh: ClassSet) -> None:
        if len(checked) != len(fresh.names):
            raise ClassSetError(f"Give all {len(fresh.names)} classes a name.")
        fresh.names = checked

    return _change(set_id, owner, change, root)


def share_with_class(set_id: str, owner: str, class_id: str, root: Path = STORE_ROOT) -> ClassSet:
    """Shares a set with a class (its students may train on it, not change it), or stops sharing it ("")."""
    return _change(set_id, owner, lambda fresh: setattr(fresh, "shared_class", class_id), root)


def delete_set(set_id: str, owner: str, root: Path = STORE_ROOT) -> None:
    """Deletes a whole set with its examples (runs trained on it keep their models)."""
    with file_lock(_lock(root)):
        class_set = read_set(set_id, root)
        if class_set is None or class_set.owner != owner:
            raise ClassSetError("This set of classes is not yours, or it no longer exists.")
        folder = _folder(set_id, root)
        trash = folder.with_name(f".trash-{set_id}")
        folder.rename(trash)  # gone from listings at once; the files follow
    shutil.rmtree(trash, ignore_errors=True)


def expire_sets(live_owners: set[str], root: Path = STORE_ROOT) -> list[str]:
    """Deletes the sets whose workspace is gone (expired); returns their ids."""
    gone = [one for one in _all_sets(root) if one.owner not in live_owners]
    for class_set in gone:
        delete_set(class_set.set_id, class_set.owner, root)
    return [class_set.set_id for class_set in gone]


def load_examples(class_set: ClassSet, root: Path = STORE_ROOT) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Every example of a set: images (N, side, side, C) uint8, labels (N,) int64 and ids, in class order.

    An example whose file is missing or damaged (a disk fault) is left out rather than failing the set.
    """
    folder = _folder(class_set.set_id, root)
    images, labels, ids = [], [], []
    shape = (class_set.side, class_set.side)
    for label, class_ids in enumerate(class_set.examples):
        for identifier in class_ids:
            try:
                with Image.open(folder / f"{identifier}.png") as picture:
                    if picture.size != shape:
                        continue
                    pixels = np.asarray(picture.convert("RGB" if class_set.mode == "rgb" else "L"), dtype=np.uint8)
            except (OSError, ValueError, Image.DecompressionBombError):
                continue
            images.append(pixels if pixels.ndim == 3 else pixels[:, :, None])
            labels.append(label)
            ids.append(identifier)
    array = (np.stack(images) if images
             else np.zeros((0, class_set.side, class_set.side, class_set.channels), dtype=np.uint8))
    return array, np.asarray(labels, dtype=np.int64), ids


def readiness(class_set: ClassSet) -> str | None:
    """Why the set cannot be trained yet (a sentence naming the classes short of examples), or None."""
    short = [(name, count) for name, count in zip(class_set.names, class_set.counts, strict=True)
             if count < MIN_EXAMPLES]
    if not short:
        return None
    listed = ", ".join(f"“{name}” has {count}" for name, count in short[:4])
    more = f" and {len(short) - 4} more" if len(short) > 4 else ""
    return f"Add at least {MIN_EXAMPLES} examples to each class: {listed}{more}."


def is_test(position: int) -> bool:
    """Whether the example at this position of its class is a test image (every fifth)."""
    return position % TEST_EVERY == TEST_EVERY - 1


def to_dataset(class_set: ClassSet, root: Path = STORE_ROOT) -> Dataset:
    """The set as a dataset: every fifth example of each class is a test image, the rest train.

    Raises:
        ClassSetError: If a class has fewer than `MIN_EXAMPLES` examples (`readiness`).
    """
    if problem := readiness(class_set):
        raise ClassSetError(problem)
    images, labels, _ = load_examples(class_set, root)
    positions = np.concatenate([np.arange(count) for count in np.bincount(labels, minlength=len(class_set.names))])
    test = np.array([is_test(int(position)) for position in positions], dtype=bool)
    colour = "RGB" if class_set.mode == "rgb" else "grey"
    description = (f"Your own {len(class_set.names)} classes ({class_set.title()}): {class_set.total:,} examples "
                   f"drawn, photographed or uploaded, {class_set.side}×{class_set.side} {colour}; every fifth "
                   "example of each class is a test image.")
    return Dataset(class_set.key, f"My classes: {class_set.title()}", description, tuple(class_set.names),
                   images[~test], labels[~test], images[test], labels[test], "your class set")


def folder_name(name: str, taken: set[str]) -> str:
    """A class name as a zip folder name: path separators and dots at the ends removed, unique in `taken`."""
    safe = re.sub(r"[\\/:*?\"<>|]", "_", name).strip(" .") or "class"
    candidate, number = safe, 2
    while candidate.casefold() in taken:
        candidate, number = f"{safe} ({number})", number + 1
    taken.add(candidate.casefold())
    return candidate


def export_zip(class_set: ClassSet, root: Path = STORE_ROOT) -> bytes:
    """The set as a zip of class folders (`<class>/<n>.png`), the form the dataset upload accepts."""
    images, labels, _ = load_examples(class_set, root)
    taken: set[str] = set()
    folders = [folder_name(name, taken) for name in class_set.names]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:  # PNGs are compressed already
        for index, (image, label) in enumerate(zip(images, labels, strict=True)):
            archive.writestr(f"{folders[label]}/{index:05d}.png", _encode(image))
    return buffer.getvalue()


def prepare_photo(image: np.ndarray, side: int, mode: ColorMode) -> np.ndarray:
    """A photo (H, W, C) uint8 cropped to its centre square and resized to side × side: (side, side, channels).

    Raises:
        ClassSetError: For a photo under `MIN_PHOTO_SIDE` pixels on a side (a 1×1 image holds nothing).
    """
    if image.ndim != 3 or image.shape[2] not in (1, 3, 4):
        raise ClassSetError(f"A photo must be an image; got an array shaped {image.shape}.")
    height, width = image.shape[:2]
    if min(height, width) < MIN_PHOTO_SIDE:
        raise ClassSetError(f"The photo is {width}×{height} pixels: too small to learn from. Use one at least "
                            f"{MIN_PHOTO_SIDE}×{MIN_PHOTO_SIDE}.")
    square = min(height, width)
    top, left = (height - square) // 2, (width - square) // 2
    cropped = image[top:top + square, left:left + square, :3]  # (s, s, C)
    picture = Image.fromarray(cropped[:, :, 0] if cropped.shape[2] == 1 else cropped)
    picture = picture.convert("RGB" if mode == "rgb" else "L").resize((side, side), Image.Resampling.LANCZOS)
    pixels = np.asarray(picture, dtype=np.uint8)
    return pixels if pixels.ndim == 3 else pixels[:, :, None]


def drawing_box(side: int) -> int:
    """The box a drawing's ink is fitted into, as MNIST fits a digit's in 20 of 28 pixels."""
    return round(side * 20 / 28)


def prepare_drawing_example(grey: np.ndarray, side: int, mode: ColorMode) -> np.ndarray | None:
    """A canvas drawing (grey (H, W), white ink on black) prepared as Predict prepares one: cropped to its ink,
    fitted into 20/28 of the field keeping its shape, centred by mass. None for an empty canvas."""
    stages = prepare_grey(grey, side=side, box=drawing_box(side))
    if stages is None:
        return None
    pixels = np.clip(np.rint(stages.centred), 0, 255).astype(np.uint8)  # (side, side)
    return np.repeat(pixels[:, :, None], 3, axis=2) if mode == "rgb" else pixels[:, :, None]


def import_folders(owner: str, class_names: tuple[str, ...], images: np.ndarray, labels: np.ndarray, side: int,
                   mode: ColorMode, root: Path = STORE_ROOT, max_examples: int = DEFAULT_MAX_EXAMPLES) -> ClassSet:
    """A new set from a zip of class folders already read (`core.data.unpacking.read_upload`) at `side`.

    Raises:
        ClassSetError: For folder names that are not 2–10 usable class names, or more than `max_examples` images.
    """
    if len(images) > max_examples:
        raise ClassSetError(f"The zip holds {len(images):,} images; a set holds at most {max_examples:,}.")
    names = [name[:MAX_NAME_LENGTH] for name in class_names]
    class_set = create_set(owner, names, side, mode, root)
    try:
        for label in range(len(names)):
            chosen = images[labels == label]
            if len(chosen):
                class_set = add_examples(class_set.set_id, owner, label, chosen, root, max_examples)
    except ClassSetError:
        delete_set(class_set.set_id, owner, root)
        raise
    return class_set
