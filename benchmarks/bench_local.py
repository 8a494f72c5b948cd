"""``alex-db local``: start-up time and the median ``SELECT 1`` round trip through boto3.

Start-up is wall time from launching ``python -m alex_db local`` to its "Data API on ..." line
(PostgreSQL accepting connections, database ``alex`` present), once on a new data directory and
then on the warm one. Targets: warm start <= 5 s, round trip <= 5 ms. Prints; asserts nothing.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from alex_db.tools.local.access_keys import own_key  # noqa: E402
from alex_db.tools.shared.local_identity import CLUSTER_ARN, SECRET_ARN  # noqa: E402

WARM_STARTS = 3
ROUND_TRIPS = 300


def start(data_dir: Path) -> tuple[subprocess.Popen, str, float]:
    """Launch ``local``; return the process, its endpoint and the seconds until it was ready."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "alex_db", "local", "--port", "0", "--data-dir", str(data_dir),
         "--file", "-"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = process.stderr.readline()
    ready = time.perf_counter() - started
    if "Data API on " not in line:
        raise SystemExit(f"alex-db local did not start: {line}{process.stderr.read()}")
    return process, line.split("Data API on ", 1)[1].split(" ", 1)[0], ready


def signing_keys(data_dir: Path) -> dict[str, str]:
    """boto3's arguments for the key ``local`` keeps in ``data_dir`` (and wrote to ``.env``)."""
    key = own_key(data_dir)
    return {"aws_access_key_id": key.key_id, "aws_secret_access_key": key.secret}


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGINT)
    process.wait(timeout=60)


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="alexdb-bench-"))
    os.chmod(root, 0o755)  # reachable by the postgres user when this runs as root
    try:
        process, _, cold = start(root / "data")
        stop(process)
        warm = []
        for _ in range(WARM_STARTS):
            process, url, seconds = start(root / "data")
            warm.append(seconds)
            if len(warm) < WARM_STARTS:
                stop(process)
        client = boto3.client(
            "rds-data", endpoint_url=url, region_name="us-east-1", **signing_keys(root / "data")
        )
        call = {"resourceArn": CLUSTER_ARN, "secretArn": SECRET_ARN, "database": "alex",
                "sql": "SELECT 1"}
        client.execute_statement(**call)
        trips = []
        for _ in range(ROUND_TRIPS):
            began = time.perf_counter()
            client.execute_statement(**call)
            trips.append(time.perf_counter() - began)
        stop(process)
    finally:
        subprocess.run(["rm", "-rf", str(root)], check=False)
    print(f"start, new data directory:  {cold:.2f} s")
    warm_median = statistics.median(warm)
    print(f"start, warm (median of {WARM_STARTS}):  {warm_median:.2f} s   target <= 5 s")
    print(f"SELECT 1 round trip (median of {ROUND_TRIPS}): {statistics.median(trips) * 1000:.2f} ms"
          f"   target <= 5 ms")


if __name__ == "__main__":
    main()
