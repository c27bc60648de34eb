"""Reading a tree of class sub-folders of images, from a folder, a .zip or a .tar.gz.

The layout is the one `keras.utils.image_dataset_from_directory` reads:

    root/<class>/<image>                      (split into train and test here, seeded)
    root/train/<class>/<image> and root/test/<class>/<image>   (split kept as given)

A single wrapping folder (`my_data/<class>/...`) is recognised and skipped. Archives are read
in memory and never extracted, so no member path can write outside anywhere; members whose path
would escape the archive root (`../`, absolute paths, links) are refused all the same, because
such an archive is broken or hostile.
"""

from __future__ import annotations

import io
import os
import stat
import tarfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np

from core.data.images import (
    DEFAULT_MAX_PIXELS,
    IMAGE_EXTENSIONS,
    ColorMode,
    ImageDecodeError,
    channels_for,
    declared_size,
    decode_image,
)

SPLIT_NAMES = ("train", "test")
# Folders and files that archivers and desktops add and that are never data.
_IGNORED_PARTS = ("__MACOSX", ".DS_Store", "Thumbs.db", "desktop.ini")


class ImageFolderError(ValueError):
    """A folder or archive of images cannot be used as a dataset; the message says why."""


class UnsafeArchiveError(ImageFolderError):
    """An archive member's path would escape the extraction root, or is a link."""


@dataclass(frozen=True)
class FolderLimits:
    """Limits that protect the server from huge or hostile uploads.

    Args:
        max_files: The most files (of any kind) the archive or folder may hold.
        max_total_bytes: The most uncompressed bytes all files together may hold.
        max_image_pixels: The most pixels (width × height) a single image may declare; larger ones are skipped.
        max_total_pixels: The most pixels all images together may declare. Decoding costs time and memory by
            the pixel, not by the byte (a 154 KB PNG can declare 40 MP), so this is checked from the headers
            before any image is decoded.
        max_depth: The most folder levels below the root.
    """

    max_files: int = 20_000
    max_total_bytes: int = 512 * 1024 * 1024
    max_image_pixels: int = DEFAULT_MAX_PIXELS
    max_total_pixels: int = 4_000_000_000
    max_depth: int = 12


@dataclass(frozen=True)
class FolderContent:
    """Arrays read from a class-folder tree. Images are uint8 (N, H, W, C), labels int64 (N,)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]
    had_split_folders: bool
    notes: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class _Member:
    parts: tuple[str, ...]  # the path relative to the archive or folder root, split at "/"
    size: int

    @property
    def path(self) -> str:
        return "/".join(self.parts)

    @property
    def suffix(self) -> str:
        return os.path.splitext(self.parts[-1])[1].lower()

# Plain tuples of path parts rather than PurePosixPath: CIFAR-10's 60,000 members made pathlib cost seconds.
_Parts = tuple[str, ...]


def _check_member_path(name: str) -> _Parts:
    """Returns a member's path parts relative to the root, or raises if it could escape it."""
    normalised = name.replace("\\", "/")
    parts = tuple(part for part in normalised.split("/") if part not in ("", "."))
    if normalised.startswith("/") or (len(normalised) > 1 and normalised[1] == ":") or ".." in parts:
        raise UnsafeArchiveError(
            f"The archive contains the path '{name}', which points outside the archive's own folder. "
            "Refusing the whole archive: re-create it from inside the dataset folder."
        )
    return parts


def _is_ignored(parts: _Parts) -> bool:
    return any(part in _IGNORED_PARTS or part.startswith("._") for part in parts)


def _check_totals(count: int, total: int, limits: FolderLimits) -> None:
    if count > limits.max_files:
        raise ImageFolderError(f"Too many files: more than {limits.max_files:,} (the limit).")
    if total > limits.max_total_bytes:
        raise ImageFolderError(
            f"Too large: the files add up to more than {limits.max_total_bytes / 2**20:,.0f} MB uncompressed "
            "(the limit)."
        )


class _Source:
    """Uniform access to the files of a folder, a zip or a tar archive."""

    def __init__(self, source: str | Path | bytes | BinaryIO, limits: FolderLimits) -> None:
        self._limits = limits
        self._dir: Path | None = None
        self._zip: zipfile.ZipFile | None = None
        self._tar_source: str | Path | bytes | None = None
        # A compressed tar can only be read front to back, so its images are kept from the listing pass.
        self._tar_images: dict[_Parts, bytes] = {}
        if isinstance(source, (str, Path)) and Path(source).is_dir():
            self._dir = Path(source)
            return
        if isinstance(source, (str, Path)):
            if not Path(source).exists():
                raise ImageFolderError(f"{source}: no such folder or file.")
            with open(source, "rb") as handle:  # only the header; zip and tar reopen the path themselves
                head = handle.read(4)
            opened: str | Path | BinaryIO = source
            label = str(source)
        else:
            opened = io.BytesIO(source) if isinstance(source, bytes) else source
            label = "the upload"
            head = opened.read(4)
            opened.seek(0)
        if head.startswith(b"PK"):
            try:
                self._zip = zipfile.ZipFile(opened)
            except zipfile.BadZipFile as error:
                raise ImageFolderError(f"{label} is not a readable zip file ({error}).") from error
        elif head[:2] == b"\x1f\x8b" or str(source).endswith((".tar", ".tgz", ".tar.gz")):
            self._tar_source = opened if isinstance(opened, (str, Path)) else opened.read()
        elif not head:
            raise ImageFolderError(f"{label} is empty (0 bytes).")
        else:
            raise ImageFolderError(f"{label} is not a zip (nor a .tar.gz archive or a folder): its first bytes "
                                   "are not an archive's.")

    def members(self) -> list[_Member]:
        """Lists the regular files, checked against the path and size limits."""
        members: list[_Member] = []
        total = 0
        for member in self._iter_members():
            if _is_ignored(member.parts):
                continue
            if len(member.parts) - 1 > self._limits.max_depth:
                raise ImageFolderError(
                    f"'{member.path}' is nested {len(member.parts) - 1} folders deep; the limit is "
                    f"{self._limits.max_depth}. Use class folders directly under the root."
                )
            members.append(member)
            total += member.size
            _check_totals(len(members), total, self._limits)
        return members

    def _iter_members(self) -> Iterator[_Member]:
        if self._dir is not None:
            for dirpath, dirnames, filenames in os.walk(self._dir, followlinks=False):
                dirnames.sort()
                for filename in sorted(filenames):
                    full = Path(dirpath) / filename
                    if full.is_symlink() or not full.is_file():
                        continue  # never follow links out of the chosen folder
                    yield _Member(full.relative_to(self._dir).parts, full.stat().st_size)
        elif self._zip is not None:
            for info in self._zip.infolist():
                parts = _check_member_path(info.filename)
                if stat.S_ISLNK(info.external_attr >> 16):
                    raise UnsafeArchiveError(f"The archive contains a link, '{info.filename}'; links are refused.")
                if not info.is_dir() and parts:
                    yield _Member(parts, info.file_size)
        else:
            with self._open_tar() as tar:
                for info in tar:
                    parts = _check_member_path(info.name)
                    if info.issym() or info.islnk():
                        raise UnsafeArchiveError(f"The archive contains a link, '{info.name}'; links are refused.")
                    if info.isfile() and parts:
                        member = _Member(parts, info.size)
                        if member.suffix in IMAGE_EXTENSIONS and not _is_ignored(parts):
                            extracted = tar.extractfile(info)
                            if extracted is not None:
                                self._tar_images[parts] = extracted.read()
                        yield member

    def _open_tar(self) -> tarfile.TarFile:
        try:
            if isinstance(self._tar_source, bytes):
                return tarfile.open(fileobj=io.BytesIO(self._tar_source), mode="r:*")
            return tarfile.open(self._tar_source, mode="r:*")
        except (tarfile.TarError, OSError) as error:
            raise ImageFolderError(f"Not a readable tar archive ({error}).") from error

    def heads(self, wanted: set[_Parts]) -> Iterator[tuple[_Parts, bytes]]:
        """Yields (parts, the first bytes) for the wanted members: enough for most image headers."""
        if self._dir is not None:
            for parts in sorted(wanted):
                with open(self._dir.joinpath(*parts), "rb") as handle:
                    yield parts, handle.read(_HEAD_BYTES)
            return
        if self._zip is None:  # a compressed tar's images are in memory already
            yield from self.read(wanted, keep=True)
            return
        for info in self._zip.infolist():
            parts = _check_member_path(info.filename)
            if parts in wanted:
                with self._zip.open(info) as member:
                    yield parts, member.read(_HEAD_BYTES)

    def read_one(self, parts: _Parts) -> bytes:
        """A member's whole content (for a header that lies beyond the first bytes, e.g. after a big EXIF block)."""
        return next(data for _, data in self.read({parts}, keep=True))

    def read(self, wanted: set[_Parts], keep: bool = False) -> Iterator[tuple[_Parts, bytes]]:
        """Yields (parts, bytes) for the wanted members."""
        if self._dir is not None:
            for parts in sorted(wanted):
                yield parts, self._dir.joinpath(*parts).read_bytes()
        elif self._zip is not None:
            for info in self._zip.infolist():
                parts = _check_member_path(info.filename)
                if parts in wanted:
                    yield parts, self._zip.read(info)
        else:
            for parts in sorted(wanted):
                yield parts, self._tar_images[parts] if keep else self._tar_images.pop(parts)


_HEAD_BYTES = 64 * 1024  # PNG, GIF and BMP declare their size in the first bytes; JPEG after its EXIF block


def _declared_pixels(archive: _Source, wanted: set[_Parts], limits: FolderLimits) -> tuple[dict[_Parts, str], int]:
    """Reads every wanted image's header (no pixel is decoded) and checks the pixel budgets.

    Returns:
        The images to skip, each with its reason, and the pixels the others declare in all.

    Raises:
        ImageFolderError: If the images declare more pixels in all than `limits.max_total_pixels`.
    """
    refused: dict[_Parts, str] = {}
    total = 0
    for parts, head in archive.heads(wanted):
        name = "/".join(parts)
        try:
            try:
                width, height = declared_size(head, name)
            except ImageDecodeError:
                width, height = declared_size(archive.read_one(parts), name)
        except ImageDecodeError as error:
            refused[parts] = str(error)
            continue
        if width * height > limits.max_image_pixels:
            refused[parts] = (f"{name}: {width}×{height} pixels is more than the limit of "
                              f"{limits.max_image_pixels:,} pixels an image")
            continue
        total += width * height
        if total > limits.max_total_pixels:
            raise ImageFolderError(
                f"The images add up to more than {limits.max_total_pixels / 1e6:,.0f} megapixels, the limit of "
                "what one upload may ask to decode. Decoding is paid by the pixel, not by the byte, so even a small "
                "zip can be refused: shrink the images first (e.g. to 256×256) or upload fewer of them."
            )
    return refused, total


def _strip_wrapper(paths: list[_Parts]) -> int:
    """Counts the leading folders that every path shares and that are only wrappers."""
    depth = 0
    while True:
        heads = {parts[depth] for parts in paths if len(parts) > depth + 2}
        deep_enough = all(len(parts) > depth + 2 for parts in paths)
        # A lone `train/` (no `test/`) is a wrapper too: the split then comes from the seed.
        if len(heads) != 1 or not deep_enough:
            return depth
        depth += 1


_NAMED = 5  # file names a note lists before it counts the rest


def skipped_note(names: list[str], one: str, many: str) -> str:
    """"Skipped 1 file that is not an image: notes.txt." with the first few names, then a count."""
    shown = ", ".join(names[:_NAMED]) + (f" and {len(names) - _NAMED:,} more" if len(names) > _NAMED else "")
    return f"Skipped {len(names):,} {one if len(names) == 1 else many}: {shown}."


def read_image_folder(
    source: str | Path | bytes | BinaryIO,
    image_size: tuple[int, int] | None,
    color_mode: ColorMode = "rgb",
    test_fraction: float = 0.2,
    seed: int = 0,
    limits: FolderLimits | None = None,
    class_names: tuple[str, ...] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> FolderContent:
    """Reads a class-folder tree into train and test arrays.

    Args:
        source: A folder path, a .zip or .tar.gz path, or the archive's bytes or file object.
        image_size: (height, width) every image is resized to; None keeps the size of the first
            image and requires all images to have it.
        color_mode: "grayscale" or "rgb".
        test_fraction: The share of each class held out for testing when there are no
            `train/` and `test/` folders. Between 0 and 0.9.
        seed: Seed of the train/test split.
        limits: Size limits; the defaults suit uploads.
        class_names: If given, the expected class folders in label order; others are an error.
        progress: Called with (images decoded, images to decode) before each image.

    Returns:
        The arrays, the class names in label order, and notes on what was skipped.

    Raises:
        ImageFolderError: If the layout, the size or any image is unusable; the message says which.
    """
    if not 0.0 <= test_fraction <= 0.9:
        raise ValueError(f"test_fraction must be between 0 and 0.9, got {test_fraction}.")
    channels = channels_for(color_mode)
    limits = limits or FolderLimits()
    archive = _Source(source, limits)
    members = archive.members()
    notes: list[str] = []

    images = [m for m in members if m.suffix in IMAGE_EXTENSIONS]
    others = ["/".join(m.parts) for m in members if m.suffix not in IMAGE_EXTENSIONS]
    if others:
        notes.append(skipped_note(others, "file that is not an image", "files that are not images")
                     + f" Images are {', '.join(IMAGE_EXTENSIONS)}.")
    if not images:
        raise ImageFolderError("No images found. Expected class folders of .png, .jpg, .jpeg, .bmp or .gif files.")

    paths = [m.parts for m in images]
    depth = _strip_wrapper(paths)
    relative = {parts: parts[depth:] for parts in paths}
    has_split = {rel[0] for rel in relative.values() if len(rel) >= 3} >= set(SPLIT_NAMES) and all(
        rel[0] in SPLIT_NAMES for rel in relative.values()
    )
    class_level = 1 if has_split else 0
    assignments: dict[_Parts, tuple[str, str]] = {}  # path parts → (split, class)
    loose: list[str] = []
    for parts, rel in relative.items():
        if len(rel) < class_level + 2:
            loose.append("/".join(parts))
            continue
        assignments[parts] = (rel[0] if has_split else "", rel[class_level])
    if not assignments:
        raise ImageFolderError(
            "The images are not inside class folders. Put each class in its own sub-folder, "
            "e.g. cats/001.jpg and dogs/001.jpg; the folder names become the class names."
        )
    if loose:
        notes.append(skipped_note(loose, "image lying outside any class folder",
                                  "images lying outside any class folder"))

    found = sorted({cls for _, cls in assignments.values()})
    if class_names is None:
        class_names = tuple(found)
    else:
        unknown = sorted(set(found) - set(class_names))
        if unknown:
            raise ImageFolderError(f"Unexpected class folder(s) {unknown}; expected only {list(class_names)}.")
    if len(found) < 2:
        raise ImageFolderError(
            f"Only one class folder ('{found[0]}') was found. A classifier needs at least two classes."
        )
    label_of = {name: index for index, name in enumerate(class_names)}

    refused, _ = _declared_pixels(archive, set(assignments), limits)
    unreadable: list[str] = []
    for parts, reason in refused.items():
        unreadable.append(reason)
        del assignments[parts]
    decoded: dict[_Parts, np.ndarray] = {}
    for done, (parts, data) in enumerate(archive.read(set(assignments))):
        if progress is not None:
            progress(done, len(assignments))
        name = "/".join(parts)
        try:
            decoded[parts] = decode_image(data, color_mode, image_size, limits.max_image_pixels, name=name)
        except ImageDecodeError as error:
            # One bad file among thousands should not cost the user the rest: skip it and say so.
            unreadable.append(str(error))
            del assignments[parts]
            continue
        if image_size is None:
            image_size = decoded[parts].shape[:2]
        elif decoded[parts].shape[:2] != tuple(image_size):
            raise ImageFolderError(f"{name}: size {decoded[parts].shape[:2]} differs from {tuple(image_size)}.")

    if unreadable:
        if not decoded:
            raise ImageFolderError(f"No image could be read. The first: {unreadable[0]}")
        shown = "; ".join(unreadable[:3]) + ("; …" if len(unreadable) > 3 else "")
        notes.append(f"Skipped {len(unreadable)} image{'' if len(unreadable) == 1 else 's'} that could not be "
                     f"read: {shown}")
        emptied = sorted(set(class_names) - {cls for _, cls in assignments.values()})
        if emptied:
            raise ImageFolderError(f"No readable image is left in class folder(s) {emptied}. {shown}")
    ordered = sorted(assignments, key=lambda p: (assignments[p][0], label_of[assignments[p][1]], p))
    x = np.stack([decoded[p] for p in ordered]) if ordered else np.zeros((0, 1, 1, channels), np.uint8)
    y = np.array([label_of[assignments[p][1]] for p in ordered], dtype=np.int64)
    if has_split:
        is_test = np.array([assignments[p][0] == "test" for p in ordered])
    else:
        is_test = _stratified_test_mask(y, test_fraction, seed)
    x.flags.writeable = False
    return FolderContent(
        x_train=x[~is_test], y_train=y[~is_test], x_test=x[is_test], y_test=y[is_test],
        class_names=tuple(class_names), had_split_folders=has_split, notes=tuple(notes),
    )


def _stratified_test_mask(labels: np.ndarray, test_fraction: float, seed: int) -> np.ndarray:
    """Marks about `test_fraction` of each class for testing, keeping at least one per class for training."""
    rng = np.random.default_rng(seed)
    is_test = np.zeros(len(labels), dtype=bool)
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        count = min(round(len(members) * test_fraction), len(members) - 1)
        is_test[rng.permutation(members)[:count]] = True
    return is_test
