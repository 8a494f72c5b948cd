"""Estimated Aurora Serverless v2 compute cost from the price table in ``data/acu_prices.json``.

Compute only: storage, I/O and backups are extra. A region missing from the table gets no
figure at all rather than a guess; add its price (with the source) to the data file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

PRICE_FILE = Path(__file__).parent / "data" / "acu_prices.json"
# The smallest capacity that never pauses; what an idle cluster costs without auto-pause.
SMALLEST_RUNNING_ACU = 0.5


@cache
def price_table() -> dict:
    """The price data file, parsed once."""
    return json.loads(PRICE_FILE.read_text())


@dataclass(frozen=True)
class CostEstimate:
    """Monthly compute cost of one ACU range in one region, in USD."""

    region: str
    instances: int
    """Writer plus readers: each instance bills its own ACUs."""
    usd_per_acu_hour: float
    hours_per_month: int
    at_min: float
    """Every hour at the minimum capacity: the floor unless the cluster pauses."""
    at_max: float
    """Every hour at the maximum capacity: the ceiling."""
    idle_without_pause: float
    """An idle month when the cluster never pauses (the minimum, at least 0.5 ACU)."""
    idle_with_pause: float
    """An idle month with auto-pause: no compute is billed while paused."""
    source: str
    """Where this region's price comes from and when, for the reader of an estimate."""


def estimate(
    region: str | None, min_acu: float, max_acu: float, instances: int = 1
) -> CostEstimate | None:
    """The estimate for ``instances`` Serverless v2 instances in ``region`` (each bills its own
    ACUs), or None when the table has no price for the region."""
    table = price_table()
    # Prices differ by region and so do their sources: each region carries its own.
    entry = table["regions"].get(region or "")
    if entry is None:
        return None
    price = entry["usd_per_acu_hour"]
    hours = table["hours_per_month"]

    def monthly(acu: float) -> float:
        return round(instances * acu * price * hours, 2)

    return CostEstimate(
        region=region,
        instances=instances,
        usd_per_acu_hour=price,
        hours_per_month=hours,
        at_min=monthly(min_acu),
        at_max=monthly(max_acu),
        idle_without_pause=monthly(max(min_acu, SMALLEST_RUNNING_ACU)),
        idle_with_pause=0.0,
        source=f"{entry['source']} ({entry['as_of']})",
    )


def no_estimate_reason(region: str | None) -> str:
    """Why there is no figure, and what to do: without a region there is no price to pick."""
    if not region:
        return (
            "no aws:region is set, so no price applies: set it (pulumi config set aws:region "
            "us-east-1, or --config aws:region=us-east-1 for a plan)"
        )
    return (
        f"no price is known for region {region}: add it, with its source, to "
        f"alex_db/config/data/{PRICE_FILE.name}"
    )


def describe_floor(
    region: str | None, min_acu: float, seconds_until_auto_pause: int | None, instances: int = 1
) -> str:
    """One sentence on the least the cluster's compute costs a month, for setup instructions."""
    cost = estimate(region, min_acu, min_acu, instances)
    if cost is None:
        return no_estimate_reason(region)
    rate = f"{min_acu:g} ACU x ${cost.usd_per_acu_hour}/ACU-hour x {cost.hours_per_month} h"
    if instances > 1:
        rate = f"{instances} instances x {rate}"
    if seconds_until_auto_pause is not None:
        return (
            f"about $0.00/month of compute while paused (pauses after "
            f"{seconds_until_auto_pause} s idle; {rate}), plus storage"
        )
    return f"about ${cost.at_min:,.2f}/month of compute at minimum ({rate}), plus storage"
