"""Wall time of ``make test``'s suite against its own floor, measured in one run.

The floor is the same pytest invocation collecting the suite without running it (``--co``):
starting the workers, importing every test module and what it imports. The ratio shows what the
tests themselves cost on top, so a figure from a loaded machine still compares with one from an
idle machine. Issue 16's target is at most 20 s wall on a 2-core machine. Prints medians and the
ratio; asserts nothing (speed is measured here, never in a timed test).
"""

from __future__ import annotations

import os
import sys

from timing import median_seconds

RUNS = int(os.environ.get("BENCH_RUNS", "3"))
# Exactly what `make test` runs.
SUITE = [
    sys.executable,
    "-m",
    "pytest",
    "-n",
    "auto",
    "--dist",
    "loadscope",
    "-q",
    "-p",
    "no:cacheprovider",
]


def main() -> None:
    floor = median_seconds([*SUITE, "--co"], RUNS, warm_up=False)
    suite = median_seconds(SUITE, RUNS, warm_up=False)
    print(f"collect only (floor)  median of {RUNS}: {floor:.1f} s")
    print(f"whole suite           median of {RUNS}: {suite:.1f} s (target <= 20 s on 2 cores)")
    print(f"ratio suite/floor: {suite / floor:.1f}")


if __name__ == "__main__":
    main()
