"""Whether a region offers the RDS Data API for Aurora PostgreSQL, from
``data/data_api_regions.json`` (AWS's "Supported Regions" table, with its source and date).
Pure: no AWS call answers this question."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

REGION_FILE = Path(__file__).parent / "data" / "data_api_regions.json"


@cache
def _table() -> dict:
    return json.loads(REGION_FILE.read_text())


def data_api_available(region: str) -> bool | None:
    """True or False as AWS's table says, None when the data file does not list the region."""
    table = _table()
    if region in table["available"]:
        return True
    if region in table["not_available"]:
        return False
    return None


def data_api_source() -> str:
    """Where the table comes from and when it was read."""
    table = _table()
    return f"{table['source']} ({table['as_of']})"
