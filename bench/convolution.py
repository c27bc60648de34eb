"""Timings of the playground's core functions, and of the page's rerun after a kernel edit.

Core functions run on the 512×512 grey `camera` photo (and its colour cousin, and a 1024×1024
upload-sized image). Each time is the median of `--repeats` calls, shown next to a baseline timed
in the same run, since this machine's speed drifts: SciPy's C `ndimage.correlate` doing the same
arithmetic (stride 1, "valid", summed over channels; each pair is checked to agree), so the ratio
says what NumPy vectorisation costs over compiled C. Pooling's baseline is SciPy's max/uniform
filter, which computes every window (stride 1), so it does more work than a stride-2 pool.
The budget: conv + pool on 512×512 grey in 50 ms or less.

The page rerun is timed with AppTest (script time on the server, no browser): the playground
after one kernel cell changes, against the Home page's rerun as the baseline.

Usage: python bench/convolution.py [--repeats 21]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from scipy import ndimage

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from core.conv.convolution import convolve2d, pool2d  # noqa: E402
from core.data.photos import load_photo  # noqa: E402
from ui.playground import state as pg  # noqa: E402


def median_ms(call: Callable[..., object], *args: object, repeats: int) -> float:
    call(*args)  # warm up caches and lazy imports
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call(*args)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def scipy_conv(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """The same arithmetic in SciPy's C: "valid" part of a zero-padded correlation, summed over channels."""
    if image.ndim == 2:
        image = image[:, :, None]
    margin = kernel.shape[0] // 2
    total = sum(ndimage.correlate(image[:, :, c], kernel, mode="constant") for c in range(image.shape[2]))
    return total[margin:-margin, margin:-margin]


def ours_conv_pool(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    return pool2d(convolve2d(image, kernel), 2)


def scipy_conv_pool(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    # origin=-1 puts each 2×2 window at [i, i + 1], as pooling does, rather than at [i - 1, i]
    return ndimage.maximum_filter(scipy_conv(image, kernel), 2, origin=-1)[::2, ::2]


def core_rows(repeats: int) -> None:
    grey = load_photo("camera", "grayscale")[:, :, 0].astype(np.float64)  # (512, 512)
    rgb = load_photo("chelsea", "rgb").astype(np.float64)  # (300, 451, 3)
    large = np.random.default_rng(0).uniform(0, 255, (1024, 1024))
    rng = np.random.default_rng(1)
    print(f"{'operation':<44}{'ours ms':>9}{'scipy ms':>10}{'ratio':>7}")
    for name, image, side, ours_call, scipy_call in [
        ("conv 3×3, 512×512 grey", grey, 3, convolve2d, scipy_conv),
        ("conv 5×5, 512×512 grey", grey, 5, convolve2d, scipy_conv),
        ("conv 7×7, 512×512 grey", grey, 7, convolve2d, scipy_conv),
        ("conv 3×3, 300×451 RGB (sum over channels)", rgb, 3, convolve2d, scipy_conv),
        ("conv 7×7, 1024×1024 grey", large, 7, convolve2d, scipy_conv),
        ("conv 3×3 + max pool 2, 512×512 grey", grey, 3, ours_conv_pool, scipy_conv_pool),
    ]:
        kernel = rng.normal(size=(side, side))
        assert np.allclose(ours_call(image, kernel), scipy_call(image, kernel))  # same work, same answer
        ours = median_ms(ours_call, image, kernel, repeats=repeats)
        base = median_ms(scipy_call, image, kernel, repeats=repeats)
        print(f"{name:<44}{ours:>9.2f}{base:>10.2f}{ours / base:>7.2f}")
    feature = convolve2d(grey, rng.normal(size=(3, 3)))  # (510, 510)
    for mode, scipy_filter in (("max", ndimage.maximum_filter), ("average", ndimage.uniform_filter)):
        ours = median_ms(pool2d, feature, 2, 2, mode, repeats=repeats)
        base = median_ms(scipy_filter, feature, 2, repeats=repeats)
        print(f"{mode + ' pool 2×2, 510×510':<44}{ours:>9.2f}{base:>10.2f}{ours / base:>7.2f}")


def rerun_rows(repeats: int) -> None:
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(str(REPO_ROOT / "streamlit_app.py"), default_timeout=120)
    app.run()
    home = median_ms(app.run, repeats=repeats)
    app.query_params["source"] = "photo"
    app.switch_page("pages/convolution_playground.py").run()
    cells = app.session_state[pg.KERNEL]

    def edit_and_rerun() -> None:
        cells[1][1] = "5" if cells[1][1] != "5" else "4"
        app.session_state[pg.KERNEL] = cells
        app.run()

    photo = median_ms(edit_and_rerun, repeats=repeats)
    app.segmented_control(key=pg.SOURCE).set_value("grid").run()
    grid = median_ms(edit_and_rerun, repeats=repeats)
    print(f"\n{'page rerun (AppTest script time)':<44}{'ms':>9}{'vs Home':>10}")
    print(f"{'Home page (baseline)':<44}{home:>9.1f}{1.0:>10.2f}")
    print(f"{'playground, kernel edit, 512×512 photo':<44}{photo:>9.1f}{photo / home:>10.2f}")
    print(f"{'playground, kernel edit, 5×5 grid':<44}{grid:>9.1f}{grid / home:>10.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=21)
    args = parser.parse_args()
    core_rows(args.repeats)
    rerun_rows(max(5, args.repeats // 3))


if __name__ == "__main__":
    main()
