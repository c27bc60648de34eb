"""Reading an uploaded zip of class folders in a child process, with limits on its time and memory.

The headers' pixel budgets (`core.data.image_folder.FolderLimits`) bound the work before it starts;
this bounds it again while it runs, in case a decoder is slower or hungrier than its header says.
A child can be killed at any moment, so a visitor who cancels, leaves or waits too long costs the
server nothing more; a thread in the server could not be stopped. The child never imports
TensorFlow or Streamlit: it starts in about 0.3 s.

Run as `python -m core.data.unpacking <folder>`: it reads `request.json` and `upload` from the folder,
writes `progress` as it goes, and ends with `result.npz` or `error.txt`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from core.data.image_folder import FolderContent, FolderLimits, ImageFolderError, read_image_folder
from core.data.images import ColorMode

_PROJECT = Path(__file__).resolve().parents[2]
_POLL_SECONDS = 0.2


class UnpackCancelled(ImageFolderError):
    """The visitor stopped the reading (the server killed the child)."""


@dataclass(frozen=True)
class ChildBudget:
    """What one reading may cost.

    Args:
        seconds: Wall-clock seconds before the child is killed.
        memory_mb: The child's address-space limit (RLIMIT_AS), in MB.
    """

    seconds: float = 600.0
    memory_mb: int = 4096


def budget_for(limits: FolderLimits, image_size: tuple[int, int], channels: int, seconds: float) -> ChildBudget:
    """A memory budget that fits the largest honest upload under `limits`, and no more.

    The child holds the decoded images twice at the end (the list and the stacked array), and one
    image at its full declared size while decoding it (about 24 bytes a pixel through Pillow's modes).
    """
    result = limits.max_files * image_size[0] * image_size[1] * channels
    decoding = 24 * limits.max_image_pixels
    return ChildBudget(seconds=seconds, memory_mb=512 + (2 * result + decoding) // 2**20)


def read_upload(
    data: bytes,
    image_size: tuple[int, int],
    color_mode: ColorMode,
    test_fraction: float,
    seed: int,
    limits: FolderLimits,
    budget: ChildBudget,
    waiting: Callable[[int, int, float], None] | None = None,
) -> FolderContent:
    """Reads an uploaded archive of class folders in a child process.

    Args:
        data: The archive's bytes.
        image_size: (height, width) every image is resized to.
        color_mode: "grayscale" or "rgb".
        test_fraction: Share of each class held out when there are no train/ and test/ folders.
        seed: Seed of that split.
        limits: Limits on files, bytes and pixels, checked in the child before decoding.
        budget: Time and memory the child may use.
        waiting: Called about five times a second with (images decoded, images to decode, seconds so far).
            Whatever it raises (e.g. Streamlit's rerun when the visitor clicks elsewhere) kills the child
            and propagates.

    Returns:
        The arrays and notes, as `read_image_folder` returns them.

    Raises:
        ImageFolderError: If the archive is unusable, or the reading ran out of time or memory.
    """
    folder = Path(tempfile.mkdtemp(prefix="cnnlab-unpack-"))
    process: subprocess.Popen[bytes] | None = None
    try:
        (folder / "upload").write_bytes(data)
        request = {"image_size": list(image_size), "color_mode": color_mode, "test_fraction": test_fraction,
                   "seed": seed, "limits": asdict(limits), "memory_mb": budget.memory_mb,
                   "seconds": budget.seconds}
        (folder / "request.json").write_text(json.dumps(request))
        # One thread each: a pool of BLAS threads and malloc arenas would count against the memory limit.
        env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MALLOC_ARENA_MAX": "2"}
        with open(folder / "stderr", "wb") as errors:  # the child keeps its own copy of the descriptor
            process = subprocess.Popen([sys.executable, "-m", "core.data.unpacking", str(folder)], cwd=_PROJECT,
                                       env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errors)
        started = time.monotonic()
        while process.poll() is None:
            elapsed = time.monotonic() - started
            if elapsed > budget.seconds:
                raise ImageFolderError(
                    f"Reading the images took longer than {budget.seconds:.0f} s, this server's limit, and was "
                    "stopped. Upload fewer or smaller images."
                )
            if waiting is not None:
                done, total = _progress(folder)
                waiting(done, total, elapsed)
            time.sleep(_POLL_SECONDS)
        return _result(folder, process.returncode, budget)
    finally:
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()
        shutil.rmtree(folder, ignore_errors=True)


def _progress(folder: Path) -> tuple[int, int]:
    try:
        done, total = (folder / "progress").read_text().split()
        return int(done), int(total)
    except (OSError, ValueError):
        return 0, 0


def _result(folder: Path, returncode: int, budget: ChildBudget) -> FolderContent:
    if (folder / "error.txt").exists():
        raise ImageFolderError((folder / "error.txt").read_text())
    if returncode != 0 or not (folder / "result.npz").exists():
        # Killed by the CPU limit, or by the kernel; its last words are in `stderr`, not for visitors.
        raise ImageFolderError(
            f"Reading the images needed more than this server allows ({budget.memory_mb:,} MB of memory or "
            f"{budget.seconds:.0f} s) and was stopped. Upload fewer or smaller images."
        )
    with np.load(folder / "result.npz", allow_pickle=False) as arrays:
        meta = json.loads((folder / "meta.json").read_text())
        x_train, x_test = arrays["x_train"], arrays["x_test"]
        x_train.flags.writeable = False
        x_test.flags.writeable = False
        return FolderContent(x_train=x_train, y_train=arrays["y_train"], x_test=x_test, y_test=arrays["y_test"],
                             class_names=tuple(meta["class_names"]), had_split_folders=meta["had_split_folders"],
                             notes=tuple(meta["notes"]))


def _child(folder: Path) -> None:
    import resource

    request = json.loads((folder / "request.json").read_text())
    memory = request["memory_mb"] * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    cpu = int(request["seconds"]) + 5  # a second guard if the server that should kill it is gone
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    last = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] >= _POLL_SECONDS or done + 1 == total:
            last[0] = now
            (folder / "progress.tmp").write_text(f"{done} {total}")
            os.replace(folder / "progress.tmp", folder / "progress")

    try:
        content = read_image_folder(
            (folder / "upload").read_bytes(), tuple(request["image_size"]), request["color_mode"],
            request["test_fraction"], request["seed"], FolderLimits(**request["limits"]), progress=progress,
        )
    except ImageFolderError as error:
        (folder / "error.txt").write_text(str(error))
        return
    except MemoryError:
        (folder / "error.txt").write_text(
            f"Reading the images needed more than this server's {request['memory_mb']:,} MB of memory and was "
            "stopped. Upload fewer or smaller images."
        )
        return
    np.savez(folder / "result.npz", x_train=content.x_train, y_train=content.y_train, x_test=content.x_test,
             y_test=content.y_test)
    (folder / "meta.json").write_text(json.dumps({"class_names": list(content.class_names),
                                                  "had_split_folders": content.had_split_folders,
                                                  "notes": list(content.notes)}))


if __name__ == "__main__":
    _child(Path(sys.argv[1]))
