"""Wall time of whole commands, as the benchmarks measure it: the median of cold processes run
from the checkout, after an optional warm-up run that fills the OS's file cache."""

from __future__ import annotations

import statistics
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def median_seconds(command: list[str], runs: int, warm_up: bool = True) -> float:
    """Median wall time of ``command`` over ``runs`` processes; a failing one stops the run."""
    if warm_up:
        subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)
