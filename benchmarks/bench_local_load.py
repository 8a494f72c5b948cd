"""``alex-db local`` under concurrent clients, against the same PostgreSQL reached directly.

For 1, 10 and 50 concurrent clients (threads, each with its own boto3 rds-data client and so its
own keep-alive connection), ``SELECT 1`` and a small parameterised statement go through the
endpoint for ``SECONDS_PER_LEVEL``; then the same statements go straight to the same PostgreSQL
through psycopg (one connection a thread, over the same Unix socket, as the same master user, with
server-side binding and no prepared statements, as the endpoint runs them). Throughput and
p50/p99 latency are printed side by side, and the endpoint/direct ratio shows what the HTTP hop,
the Data API's JSON and boto3 itself cost. The clients share one Python process (and its GIL)
with each other, not with the server. Prints; asserts nothing.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import boto3
import psycopg
from bench_local import signing_keys, start, stop

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from alex_db.tools.local.postgres import MASTER_USER, SOCKET_PORT  # noqa: E402
from alex_db.tools.shared.local_identity import CLUSTER_ARN, SECRET_ARN  # noqa: E402

LEVELS = (1, 10, 50)
SECONDS_PER_LEVEL = 3.0
TARGET = {"resourceArn": CLUSTER_ARN, "secretArn": SECRET_ARN, "database": "alex"}
# name -> (Data API call arguments, psycopg query and values): the same statement both ways.
STATEMENTS = {
    "SELECT 1": ({"sql": "SELECT 1"}, ("SELECT 1", None)),
    "SELECT :n::int + 1": (
        {"sql": "SELECT :n::int + 1", "parameters": [{"name": "n", "value": {"longValue": 41}}]},
        ("SELECT %s::int + 1", (41,)),
    ),
}


def measure(
    clients: int, make_call: Callable[[], Callable[[], object]]
) -> tuple[int, float, float, float]:
    """Calls made, calls per second, p50 and p99 latency (s) of ``clients`` threads calling for
    SECONDS_PER_LEVEL; each thread builds its own caller first (outside the timing), then all
    start together."""
    ready = threading.Barrier(clients + 1)
    latencies: list[list[float]] = [[] for _ in range(clients)]
    stop_at = [0.0]

    def client(mine: list[float]) -> None:
        call = make_call()
        call()  # a warm connection
        ready.wait()
        while (began := time.perf_counter()) < stop_at[0]:
            call()
            mine.append(time.perf_counter() - began)

    threads = [threading.Thread(target=client, args=(mine,)) for mine in latencies]
    for thread in threads:
        thread.start()
    stop_at[0] = time.perf_counter() + 3600  # set for real once everyone is ready
    ready.wait()
    began = time.perf_counter()
    stop_at[0] = began + SECONDS_PER_LEVEL
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    every = [latency for mine in latencies for latency in mine]
    cuts = statistics.quantiles(every, n=100, method="inclusive")
    return len(every), len(every) / elapsed, cuts[49], cuts[98]


def through_endpoint(url: str, call: dict, keys: dict) -> Callable[[], Callable[[], object]]:
    def make() -> Callable[[], object]:
        client = boto3.session.Session().client(
            "rds-data", endpoint_url=url, region_name="us-east-1", **keys
        )
        return lambda: client.execute_statement(**TARGET, **call)
    return make


def straight_to_postgresql(conninfo: dict, query: tuple) -> Callable[[], Callable[[], object]]:
    def make() -> Callable[[], object]:
        connection = psycopg.connect(**conninfo, autocommit=True, prepare_threshold=None)
        return lambda: connection.execute(*query).fetchall()
    return make


def cpu_seconds(pid: int) -> float | None:
    """User and system CPU time a process has used so far (Linux's /proc; None elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="alexdb-bench-load-"))
    os.chmod(root, 0o755)  # reachable by the postgres user when this runs as root
    data = root / "data"
    try:
        process, url, _ = start(data)
        conninfo = {"host": str(data / "run"), "port": SOCKET_PORT, "user": MASTER_USER,
                    "password": (data / "password").read_text().strip(), "dbname": "alex"}
        print(f"{SECONDS_PER_LEVEL:g} s per level; the endpoint is alex-db local at {url}")
        print(f"{'statement':<20} {'clients':>7} {'path':<9} {'calls/s':>8} {'p50 ms':>7} "
              f"{'p99 ms':>7}   (endpoint: its own CPU; direct: endpoint/direct)")
        for name, (call, query) in STATEMENTS.items():
            for clients in LEVELS:
                cpu_before = cpu_seconds(process.pid)
                endpoint = measure(clients, through_endpoint(url, call, signing_keys(data)))
                cpu_after = cpu_seconds(process.pid)
                direct = measure(clients, straight_to_postgresql(conninfo, query))
                own = "" if cpu_before is None else (
                    f"endpoint process CPU {(cpu_after - cpu_before) * 1000 / endpoint[0]:.2f} "
                    f"ms a call"
                )
                ratio = (f"throughput {endpoint[1] / direct[1]:.2f}x, "
                         f"p50 {endpoint[2] / direct[2]:.1f}x, p99 {endpoint[3] / direct[3]:.1f}x")
                for path, (_, rate, p50, p99), note in (("endpoint", endpoint, own),
                                                        ("direct", direct, ratio)):
                    print(f"{name:<20} {clients:>7} {path:<9} {rate:>8.0f} {p50 * 1000:>7.2f} "
                          f"{p99 * 1000:>7.2f}   {note}")
        stop(process)
    finally:
        subprocess.run(["rm", "-rf", str(root)], check=False)


if __name__ == "__main__":
    main()
