"""The price table and the estimates drawn from it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alex_db.config import cost


def test_every_price_names_its_own_source_and_date():
    from alex_db.config.partitions import is_region_name

    regions = cost.price_table()["regions"]
    assert regions["us-east-1"]["usd_per_acu_hour"] == 0.12
    for region, entry in regions.items():
        assert is_region_name(region), region
        assert set(entry) == {"usd_per_acu_hour", "source", "as_of"}, region
        assert 0 < entry["usd_per_acu_hour"] < 1, region
        assert entry["source"] and entry["as_of"], region


@pytest.mark.parametrize(
    ("region", "at_half_an_acu", "usage_type_or_page"),
    [
        ("us-east-1", 43.80, "https://aws.amazon.com/rds/aurora/pricing/"),
        ("eu-west-2", 51.10, "EUW2-Aurora:ServerlessV2Usage"),
        ("ap-northeast-2", 73.00, "AmazonRDS/current/ap-northeast-2/index.json"),
    ],
)
def test_each_region_is_priced_from_its_own_source(region, at_half_an_acu, usage_type_or_page):
    estimate = cost.estimate(region, 0.5, 0.5)
    assert estimate.at_min == at_half_an_acu
    assert usage_type_or_page in estimate.source


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
