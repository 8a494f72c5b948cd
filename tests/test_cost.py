"""The price table and the estimates drawn from it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alex_db.config import cost


def test_price_table_names_its_source_and_date():
    table = cost.price_table()
    assert table["source"].startswith("https://aws.amazon.com/")
    assert table["as_of"]
    assert table["usd_per_acu_hour"]["us-east-1"] == 0.12


def test_us_east_1_estimate_for_the_seed_range():
    estimate = cost.estimate("us-east-1", 0.5, 1)
    assert (estimate.at_min, estimate.at_max) == (43.80, 87.60)
    assert estimate.idle_without_pause == 43.80
    assert estimate.idle_with_pause == 0.0


def test_idle_without_pause_is_at_least_the_smallest_running_capacity():
    assert cost.estimate("us-east-1", 0, 4).idle_without_pause == 43.80


def test_unknown_region_gets_no_figure():
    assert cost.estimate("eu-west-1", 0.5, 1) is None
    assert cost.estimate(None, 0.5, 1) is None
    assert "no price is known for region eu-west-1" in cost.describe_floor("eu-west-1", 0.5, None)
    assert cost.describe_floor(None, 0.5, None).startswith("no aws:region is set")


def test_floor_sentence_names_the_pause_delay_when_pausing():
    assert "pauses after 600 s idle" in cost.describe_floor("us-east-1", 0, 600)
    assert "$43.80/month" in cost.describe_floor("us-east-1", 0.5, None)


@given(
    low=st.integers(min_value=0, max_value=512).map(lambda h: h / 2),
    high=st.integers(min_value=2, max_value=512).map(lambda h: h / 2),
)
def test_estimates_are_monotonic_in_capacity(low, high):
    if low > high:
        low, high = high, low
    estimate = cost.estimate("us-east-1", low, high)
    assert estimate.at_min <= estimate.at_max
    assert estimate.at_min == pytest.approx(low * 0.12 * 730, abs=0.01)
