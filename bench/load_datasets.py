"""Cold load time of each built-in dataset, as a ratio against reading its files in the same run.

Each measurement runs in a fresh Python process (no Streamlit cache, nothing imported yet);
the operating system's file cache is warm after the first repeat, as it is on a running server.
The baseline is the least work any loader must do: read the same files and gunzip the IDX ones
(for CIFAR-10's JPEG tarball: gunzip and walk the tar). A ratio near 1 means the loader adds
little on top of unavoidable I/O; CIFAR-10 adds the decoding of 60,000 JPEGs.

Usage: CNNLAB_DATA_DIR=../shared/datasets python bench/load_datasets.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]

LOAD = """
import time
t = time.perf_counter()
from core.data.datasets import load_dataset
d = load_dataset({name!r}, allow_download=False)
print(time.perf_counter() - t)
"""

BASELINE = """
import gzip, tarfile, time
from pathlib import Path
t = time.perf_counter()
for path in sorted(Path({folder!r}).rglob("*.gz")):
    if path.name.endswith(".tar.gz"):
        with tarfile.open(path, "r:gz") as tar:
            for member in tar:
                if member.isfile():
                    tar.extractfile(member).read()
    else:
        gzip.decompress(path.read_bytes())
print(time.perf_counter() - t)
"""


def run(code: str) -> float:
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    return float(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    data_dir = Path(os.environ.get("CNNLAB_DATA_DIR", REPO_ROOT.parent / "shared" / "datasets"))
    os.environ["CNNLAB_DATA_DIR"] = str(data_dir)
    folders = {"mnist": "mnist", "fashion_mnist": "fashion-mnist", "cifar10": "cifar10-jpg"}
    print(f"data directory: {data_dir}; median of {args.repeats} fresh processes each")
    print(f"{'dataset':<14} {'load s':>8} {'baseline s':>11} {'ratio':>7}")
    for name in ("digits", "mnist", "fashion_mnist", "cifar10"):
        loads = [run(LOAD.format(name=name)) for _ in range(args.repeats)]
        if name == "digits":
            print(f"{name:<14} {statistics.median(loads):8.2f} {'(bundled)':>11} {'':>7}")
            continue
        baselines = [run(BASELINE.format(folder=str(data_dir / folders[name]))) for _ in range(args.repeats)]
        load, base = statistics.median(loads), statistics.median(baselines)
        print(f"{name:<14} {load:8.2f} {base:11.2f} {load / base:7.2f}")


if __name__ == "__main__":
    main()
