"""How often the digit check flags real digits and non-digits, per style of handwriting, on held-out data.

    CNNLAB_DATA_DIR=../shared/datasets python bench/digit_check.py [check_folder ...] [--size 1000]

Without folders, it judges the shipped check (models/digit_check). Give an older check's folder (for
example one taken out of git with `git archive`) to compare: every check is judged on the same sets,
made here with the same seed: MNIST's test digits in each style of `core.predict.styles`, digits and
non-digits drawn by code, the held-out half of scikit-learn's 8×8 digits, and letters, symbols and
pictograms typeset in fonts the check never trained on. None of them was trained on.

Each line is one set: its share flagged "not a digit" at the check's own threshold. For digits it
must stay at or under 2% in every style; for non-digits the goal is 90% or more.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from core.data.datasets import load_dataset
from core.predict import rejection
from core.predict.rejection_training import flag_rates, held_out_sets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="*", type=Path)
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=900)
    arguments = parser.parse_args()
    folders = arguments.folders or [rejection.CHECK_FOLDER]
    started = time.perf_counter()
    sets = held_out_sets(load_dataset("mnist").x_test, arguments.seed, arguments.size)
    print(f"made {len(sets)} held-out sets in {time.perf_counter() - started:.0f} s (seed {arguments.seed})")
    columns = []
    for folder in folders:
        check, threshold = rejection.load_check(folder), rejection.read_threshold(folder)
        columns.append(flag_rates(check, threshold, sets))
        print(f"[{len(columns)}] {folder}: threshold {threshold:.4f}")
    header = "| held-out set | " + " | ".join(f"[{n + 1}]" for n in range(len(columns))) + " |"
    for digits in (True, False):
        print(f"\n{'Real digits' if digits else 'Non-digits'} flagged as not a digit "
              f"({'goal ≤ 2% in every set' if digits else 'goal ≥ 90%'}):\n{header}")
        print("|---|" + "---|" * len(columns))
        names = [name for name, held in sets.items() if held.digits == digits]
        for name in names:
            print(f"| {name} ({len(sets[name].images):,}) | "
                  + " | ".join(f"{column[name]:.1%}" for column in columns) + " |")
        summary = "worst set" if digits else "mean of the sets"
        print(f"| **{summary}** | " + " | ".join(
            f"**{(max if digits else np.mean)([column[name] for name in names]):.1%}**" for column in columns) + " |")


if __name__ == "__main__":
    main()
