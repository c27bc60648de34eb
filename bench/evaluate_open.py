"""Time to open a stored MNIST run on the Evaluate page: metrics plus the confusion matrix.

Trains a quick MNIST run (1 epoch on 6,000 images, the default model) into a temporary store,
then opens the Evaluate page with AppTest: once cold (model load and 10,000 test predictions)
and several times warm (the cached predictions; a new session each time, as a second visitor or
a page revisit). The baseline, timed in the same run, is opening the Home page.

The issue's budget: under 3 s warm.

Usage: CNNLAB_DATA_DIR=../shared/datasets python bench/evaluate_open.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["CNNLAB_STORE_DIR"] = tempfile.mkdtemp(prefix="cnnlab-bench-store-")

from streamlit.testing.v1 import AppTest  # noqa: E402

from core.data.datasets import load_dataset  # noqa: E402
from core.train.engine import train_and_store  # noqa: E402
from core.train.recipes import default_config  # noqa: E402


def open_page(page: str | None, query: dict[str, str]) -> float:
    """Seconds for a new session to render a page (the router's run plus the page's run)."""
    app = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=300)
    started = time.perf_counter()
    app.run()
    for key, value in query.items():
        app.query_params[key] = value
    if page:
        app.switch_page(page).run()
    seconds = time.perf_counter() - started
    if app.exception:
        raise RuntimeError([error.value for error in app.exception])
    if page and not app.get("plotly_chart"):
        raise RuntimeError("the confusion matrix was not drawn")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    arguments = parser.parse_args()
    config = default_config("mnist")
    config.epochs, config.subset, config.name = 1, 6000, "bench run"
    record = train_and_store(config, load_dataset("mnist"), lambda event: None)
    query = {"run": record.run_id}

    cold = open_page("pages/evaluate.py", query)
    warm, home = [], []
    for _ in range(arguments.repeats):  # interleaved, so drift on this noisy machine hits both alike
        home.append(open_page(None, {}))
        warm.append(open_page("pages/evaluate.py", query))
    print(f"cold open (model load + 10,000 predictions): {cold:.2f} s")
    print(f"warm open, median of {arguments.repeats}: {statistics.median(warm):.2f} s "
          f"(min {min(warm):.2f}, max {max(warm):.2f}); budget 3 s")
    print(f"baseline: Home page, median {statistics.median(home):.2f} s; "
          f"ratio warm Evaluate / Home = {statistics.median(warm) / statistics.median(home):.1f}")


if __name__ == "__main__":
    main()
