"""One answer for "is this a region, and in which partition": the table equals botocore's, and
settings, check's ARN parsing, preflight's region and the plan's mocks all follow it, the European
Sovereign Cloud (``eusc-``) included."""

from __future__ import annotations

import botocore.loaders
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from alex_db.config import partitions
from alex_db.config.settings import load_settings
from alex_db.config.values import SettingsError
from alex_db.tools.deployed import arns, locate
from alex_db.tools.plan.runner import PlaceholderMocks, Placeholders
from alex_db.tools.preflight.command import stack_region
from alex_db.tools.shared.stack_files import StackConfigError

BOTOCORE = botocore.loaders.create_loader().load_data("partitions")["partitions"]
# (region, its partition, that partition's DNS suffix): one per partition, eusc among them.
EXAMPLES = [
    ("us-east-1", "aws", "amazonaws.com"),
    ("cn-north-1", "aws-cn", "amazonaws.com.cn"),
    ("us-gov-west-1", "aws-us-gov", "amazonaws.com"),
    ("eusc-de-east-1", "aws-eusc", "amazonaws.eu"),
    ("us-iso-east-1", "aws-iso", "c2s.ic.gov"),
    ("eu-isoe-west-1", "aws-iso-e", "cloud.adc-e.uk"),
]


def test_the_table_is_botocores():
    ours = [(p.name, p.region_regex.pattern, p.dns_suffix) for p in partitions.partitions()]
    theirs = [(p["id"], p["regionRegex"], p["outputs"]["dnsSuffix"]) for p in BOTOCORE]
    assert ours == theirs


def test_every_region_botocore_lists_is_in_its_own_partition():
    for entry in BOTOCORE:
        for region in entry["regions"]:
            if region.endswith("-global"):
                continue
            assert partitions.arn_partition(region) == entry["id"], region


@pytest.mark.parametrize(("region", "partition", "suffix"), EXAMPLES)
def test_every_tool_places_a_region_in_the_same_partition(region, partition, suffix):
    assert partitions.is_region_name(region)
    assert (partitions.arn_partition(region), partitions.dns_suffix(region)) == (partition, suffix)
    # settings: an ARN of that partition in that region is taken, one of another is refused
    topic = f"arn:{partition}:sns:{region}:123456789012:alerts"
    assert load_settings({"alarmTopicArn": topic}, stack="dev", region=region).alarm_topic_arn
    other = "aws-cn" if partition != "aws-cn" else "aws"
    with pytest.raises(SettingsError, match=f"arn:{partition}:"):
        load_settings({"alarmTopicArn": topic.replace(partition, other, 1)}, stack="dev", region=region)
    # check: the ARNs parse, and a partition that is not the region's is refused
    cluster = f"arn:{partition}:rds:{region}:123456789012:cluster:alex-aurora-cluster"
    secret = f"arn:{partition}:secretsmanager:{region}:123456789012:secret:s-AbCdEf"
    assert arns.cluster_arn(cluster).region == region
    flags = {"AURORA_CLUSTER_ARN": cluster, "AURORA_SECRET_ARN": secret}
    assert locate.resolve(flags, []).region == region
    wrong = {key: value.replace(partition, other, 1) for key, value in flags.items()}
    with pytest.raises(locate.TargetError, match=f"is in {partition}"):
        locate.resolve(wrong, [])
    # preflight: a region name, whatever the Data API table says of it
    assert stack_region(region, {}, {}) == region
    # the plan: the mocked account answers getPartition as the region's partition
    answer = PlaceholderMocks(Placeholders(), region)._partition()
    assert (answer["partition"], answer["dnsSuffix"]) == (partition, suffix)


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz-_0123456789\n١ ", min_size=1, max_size=20))
@example("eusc-de-east-1")
@example("us-east-1\n")
def test_settings_preflight_and_check_agree_on_what_a_region_name_is(text):
    """A backup copy region, a preflight --region and an ARN's region: taken or refused alike
    (settings strip a config value's blanks first, as for every key)."""
    try:
        stack_region(text, {}, {})
        preflight_takes = True
    except StackConfigError:
        preflight_takes = False
    assert preflight_takes == partitions.is_region_name(text)
    value = text.strip()
    if value and value != "eu-west-1":
        try:
            load_settings({"backupPlan": "true", "backupCopyRegion": text}, stack="dev", region="eu-west-1")
            settings_take = True
        except SettingsError:
            settings_take = False
        # a copy region must also be in the stack's partition (aws, for eu-west-1)
        same_partition = partitions.arn_partition(value) == "aws"
        assert settings_take == (partitions.is_region_name(value) and same_partition)
    if partitions.is_region_name(text):
        arn = f"arn:{partitions.arn_partition(text)}:rds:{text}:123456789012:cluster:c"
        assert arns.cluster_arn(arn).region == text
