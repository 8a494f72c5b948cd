"""``alex-db local``'s ``:name`` rewrite: CPU for 1,000 against 16,000 placeholders.

Each statement has 1,000 or 16,000 distinct ``:name`` placeholders (``:p0``, ``:p1``, … and
drizzle-orm's ``:1``, ``:2``, …), each bound by ``parameters.bind`` as the endpoint binds them.
A linear rewrite costs about 16 times as much for 16 times the placeholders; a quadratic one about
256 times (the rewrite searched a list for each name until issue 22). Prints the best of a few
runs of each and their ratio (about 16 when linear); asserts nothing.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from alex_db.tools.local.parameters import bind  # noqa: E402

RUNS = 5


def statement(count: int, name_of) -> tuple[str, list[dict]]:
    """``SELECT`` of ``count`` placeholders, and one ``longValue`` parameter for each."""
    names = [name_of(number) for number in range(count)]
    sql = "SELECT " + ", ".join(f":{name}" for name in names)
    return sql, [{"name": name, "value": {"longValue": 1}} for name in names]


def best_cpu_seconds(sql: str, parameters: list[dict]) -> float:
    """The least CPU time of RUNS binds of ``sql``."""
    times = []
    for _ in range(RUNS):
        started = time.process_time()
        bind(sql, parameters)
        times.append(time.process_time() - started)
    return min(times)


def main() -> None:
    shapes = (("named :p0, :p1, ...", lambda n: f"p{n}"), ("numbered :1, :2, ...", str))
    for label, name_of in shapes:
        small = best_cpu_seconds(*statement(1_000, name_of))
        large = best_cpu_seconds(*statement(16_000, name_of))
        print(
            f"rewrite, {label}: 1,000 names {small * 1000:.1f} ms, 16,000 names "
            f"{large * 1000:.1f} ms, ratio {large / small:.1f} (linear 16, quadratic 256)"
        )


if __name__ == "__main__":
    main()
