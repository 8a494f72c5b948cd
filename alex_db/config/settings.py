"""Typed, validated settings from the stack's configuration (pure: no Pulumi calls).

The program reads the raw strings once (``__main__.py``) and hands them here; the rules live here
and in ``config.network`` (parsing single values in ``config.values``), so a bad value stops
the program with one line naming the key, the value and what is allowed, before any resource is
registered.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from alex_db.config.keys import check_keys
from alex_db.config.lifecycle import LOG_RETENTION_DAYS
from alex_db.config.network import NetworkSettings, load_network
from alex_db.config.parameters import DEFAULT_SLOW_QUERY_MS, SLOW_QUERY_MS_RANGE
from alex_db.config.partitions import (
    REGION_NAME,
    arn_partition,
    arn_partition_pattern,
    is_region_name,
)
from alex_db.config.profile import Profile, profile_for
from alex_db.config.provider_keys import region_warnings
from alex_db.config.setting_entries import SETTINGS
from alex_db.config.values import (
    SettingsError,
    key,
    parse_bool,
    parse_int,
    parse_list,
    parse_map,
    reject,
)
from alex_db.config.versions import (
    ACU_CEILING,
    AUTO_PAUSE_MINIMUMS,
    DATA_API_MINIMUMS,
    MAX_256_ACU_MINIMUMS,
    EngineVersion,
    describe_minimums,
    max_acu_ceiling,
    parse_engine_version,
    supports_auto_pause,
    supports_data_api,
)

# Serverless v2 capacity limits (Aurora user guide, "Aurora Serverless v2 capacity"); the
# ceiling depends on the engine version (config.versions).
ACU_STEP = 0.5
MAX_ACU_FLOOR = 1.0
AUTO_PAUSE_SECONDS_RANGE = (300, 86400)
# On everything taggable, so the seed's cost reports keep working.
BASE_TAGS: dict[str, str] = {"Project": "alex", "Part": "5"}
# On everything the program creates, set last so no user tag can change it: preflight reads it
# back to tell this stack's resources from foreign ones with the same name.
OWNER_TAG = "alex-db:stack"

MAX_READERS = 15
# Aurora PostgreSQL cluster log types (RDS API, CreateDBCluster EnableCloudwatchLogsExports).
LOG_TYPES = ("postgresql", "instance", "iam-db-auth-error")
IAM_AUTH_LOG = "iam-db-auth-error"
MAX_USER_TAGS = 47  # AWS allows 50 tags a resource; Project, Part and the owner tag take three
# Tags go on the IAM role too, and IAM is the strictest: keys of 1-128 and values of 0-256
# characters from [\p{L}\p{Z}\p{N}_.:/=+\-@] (IAM API reference, "Tag" data type), and keys
# that differ only in case are the same key ("Tagging IAM resources": IAM tag keys are
# case-insensitive), so Project and project cannot both be set.
TAG_SYMBOLS = frozenset("_.:/=+-@")
TAG_CHARACTER_CLASSES = frozenset("LZN")  # Unicode letters, separators, numbers
# Stack names become part of RDS identifiers: lowercase letters, digits, single hyphens.
_STACK_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
MAX_STACK_NAME = 30
# Enhanced monitoring intervals RDS accepts (RDS API, CreateDBInstance MonitoringInterval).
MONITORING_INTERVALS = (0, 1, 5, 10, 15, 30, 60)
_REGION = REGION_NAME
# Every partition's ARN name (aws, aws-cn, aws-us-gov, aws-eusc, ...): partitions.py decides
# which partition a region is in, and an ARN must carry its region's.
_PARTITION = rf"(?P<partition>{arn_partition_pattern()})"
# Patterns that hold regions and account ids are ASCII-only: in a str pattern \d matches any
# Unicode digit (Python docs, re: "Matches any Unicode decimal digit ... unless the ASCII flag is
# used"), and an ARN or region with look-alike digits passes through to AWS as is.
# A standard topic: CloudWatch alarms cannot publish to FIFO topics.
_SNS_TOPIC_ARN = re.compile(
    rf"^arn:{_PARTITION}:sns:(?P<region>{_REGION}):\d{{12}}:[A-Za-z0-9_-]{{1,256}}$", re.ASCII
)
# A key ARN, not an alias: IAM statements (the Lambda's kms:Decrypt) name keys by key ARN.
_KMS_KEY_ARN = re.compile(
    rf"^arn:{_PARTITION}:kms:(?P<region>{_REGION}):\d{{12}}:"
    r"key/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$",
    re.ASCII,
)

# The program's defaults and keys, from one entry per key (config/setting_entries.py);
# Pulumi.yaml declares the keys with a constant default, with the same ones (a test compares them).
DEFAULTS: dict[str, str] = {s.key: s.default for s in SETTINGS if s.default is not None}
# Keys whose default is not a constant (the VPC's CIDR, the profile's log exports, ...).
OPTIONAL_KEYS = tuple(s.key for s in SETTINGS if s.default is None)
CONFIG_KEYS = (*DEFAULTS, *OPTIONAL_KEYS)


@dataclass(frozen=True)
class Capacity:
    """The Serverless v2 scaling range of the cluster, in ACUs."""

    min_acu: float
    """Lowest capacity; 0 lets the cluster pause when idle. Default 0.5 (never pauses)."""
    max_acu: float
    """Highest capacity. Default 1."""
    seconds_until_auto_pause: int | None
    """Idle seconds before pausing; set only when ``min_acu`` is 0 (AWS rejects it otherwise)."""

    @property
    def auto_pause(self) -> bool:
        """True when the cluster may pause (minimum capacity 0)."""
        return self.min_acu == 0


@dataclass(frozen=True)
class Settings:
    """Everything the program needs from the stack configuration, validated."""

    stack: str
    """The Pulumi stack name; physical names carry it outside ``dev``."""
    region: str | None
    """``aws:region``, used for the cost estimate; None when the stack does not set it."""
    engine_version: EngineVersion
    """Aurora PostgreSQL version. Default: ``DEFAULTS["engineVersion"]``."""
    capacity: Capacity
    """Serverless v2 scaling range. Default 0.5–1 ACU."""
    tags: dict[str, str]
    """Tags for every taggable resource: ``tags`` over ``Project=alex``, ``Part=5``, and
    ``alex-db:stack=<stack>`` (ownership, for preflight)."""
    production: bool = False
    """The production profile instead of dev's. Default false."""
    allow_deletion: bool = False
    """Lift deletion protection and Pulumi protect (the first step of removing production)."""
    readers: int = 0
    """Reader instances besides the writer, for failover. Default 0."""
    network: NetworkSettings = field(default_factory=NetworkSettings)
    """Default VPC and VPC-CIDR-only access unless configured."""
    log_exports: tuple[str, ...] = ()
    """CloudWatch log exports. Default ``postgresql`` in production, none in dev."""
    customer_managed_key: bool = False
    """Encrypt storage, secret and Performance Insights with a customer-managed KMS key.
    Default false: an existing cluster keeps the AWS-managed key it was created with, since
    changing a cluster's key replaces the cluster."""
    kms_key_arn: str | None = None
    """Your own key for all three; None with ``customer_managed_key`` creates one."""
    monitoring_interval: int = 0
    """Enhanced monitoring interval in seconds, 0 for off. Default 60 in production, 0 in dev."""
    slow_query_ms: int | None = None
    """``log_min_duration_statement``; None leaves it unset. Default 1000 in production."""
    backup_plan: bool = False
    """A daily AWS Backup plan for the cluster. Default false."""
    backup_copy_region: str | None = None
    """A second region for copies of the AWS Backup recovery points. Default none."""
    alarm_topic_arn: str | None = None
    """SNS topic for the CloudWatch alarms; None (default) creates no alarms."""
    log_retention_days: int = 7
    """Days CloudWatch keeps exported logs. Default 30 in production, 7 otherwise."""
    allow_major_version_upgrade: bool = False
    """Let a higher ``engineVersion`` major upgrade the running cluster. Default false."""
    extended_support: bool = False
    """Opt in to paid RDS Extended Support after standard support ends. Default false."""
    warnings: tuple[str, ...] = ()
    """Things worth saying that are not errors (e.g. a prod stack without production)."""

    @property
    def profile(self) -> Profile:
        """What production (or dev) means for each resource."""
        return profile_for(self.production, self.allow_deletion)

    @property
    def creates_kms_key(self) -> bool:
        """True when the program creates the customer-managed key itself."""
        return self.customer_managed_key and self.kms_key_arn is None


def _acu(name: str, raw: str, lowest: float) -> float:
    allowed = f"a number of ACUs from {lowest:g} to {ACU_CEILING:g} in steps of {ACU_STEP:g}"
    try:
        value = float(raw)
    except ValueError:
        raise reject(name, raw, allowed) from None
    if not math.isfinite(value) or not lowest <= value <= ACU_CEILING:
        raise reject(name, raw, allowed)
    if not (value / ACU_STEP).is_integer():
        raise reject(name, raw, allowed)
    return value


def _engine_version(raw: str) -> EngineVersion:
    version = parse_engine_version(raw)
    if version is None:
        raise reject("engineVersion", raw, "an Aurora PostgreSQL version MAJOR.MINOR such as 15.12")
    if not supports_data_api(version):
        raise reject(
            "engineVersion",
            raw,
            f"the Data API on Serverless v2 needs {describe_minimums(DATA_API_MINIMUMS)}",
        )
    return version


def _capacity(values: Mapping[str, str], version: EngineVersion) -> Capacity:
    max_acu = _acu("maxCapacity", values["maxCapacity"], MAX_ACU_FLOOR)
    if max_acu > max_acu_ceiling(version):
        raise SettingsError(
            f"{key('maxCapacity')} = {values['maxCapacity']!r} is not allowed with "
            f"{key('engineVersion')} = {str(version)!r}: it allows at most "
            f"{max_acu_ceiling(version):g} ACUs; {ACU_CEILING:g} needs "
            f"{describe_minimums(MAX_256_ACU_MINIMUMS)}"
        )
    min_acu = _acu("minCapacity", values["minCapacity"], 0.0)
    if min_acu > max_acu:
        raise SettingsError(
            f"{key('minCapacity')} = {values['minCapacity']!r} is not allowed: it must not exceed "
            f"{key('maxCapacity')} = {values['maxCapacity']!r}"
        )
    pause_seconds = parse_int(
        "secondsUntilAutoPause",
        values["secondsUntilAutoPause"],
        *AUTO_PAUSE_SECONDS_RANGE,
        " of seconds",
    )
    if min_acu == 0 and not supports_auto_pause(version):
        raise SettingsError(
            f"{key('minCapacity')} = {values['minCapacity']!r} is not allowed with "
            f"{key('engineVersion')} = {str(version)!r}: pausing at 0 ACU needs "
            f"{describe_minimums(AUTO_PAUSE_MINIMUMS)}"
        )
    return Capacity(min_acu, max_acu, pause_seconds if min_acu == 0 else None)


def _stack_name(stack: str) -> str:
    if not _STACK_NAME.match(stack) or len(stack) > MAX_STACK_NAME:
        raise SettingsError(
            f"stack name {stack!r} cannot be part of AWS resource names: use at most "
            f"{MAX_STACK_NAME} lowercase letters, digits and single hyphens, starting with a letter"
        )
    return stack


def _log_exports(raw: str | None, profile: Profile) -> tuple[str, ...]:
    if raw is None:
        return profile.default_log_exports
    exports = parse_list("logExports", raw, f"log types from {', '.join(LOG_TYPES)}")
    unknown = [item for item in exports if item not in LOG_TYPES]
    if unknown or len(set(exports)) != len(exports):
        raise reject("logExports", raw, f"distinct log types from {', '.join(LOG_TYPES)}")
    if IAM_AUTH_LOG in exports and not profile.iam_database_authentication:
        # RDS refuses to export a log the cluster does not write (CreateDBCluster,
        # EnableCloudwatchLogsExports): this one needs IAM database authentication.
        raise reject(
            "logExports",
            raw,
            f"{IAM_AUTH_LOG} needs IAM database authentication, which this profile leaves off",
        )
    return tuple(exports)


def _tag_text_allowed(text: str) -> bool:
    return all(
        unicodedata.category(character)[0] in TAG_CHARACTER_CLASSES or character in TAG_SYMBOLS
        for character in text
    )


def _tags(raw: str | None, stack: str) -> dict[str, str]:
    if raw is None:
        return {**BASE_TAGS, OWNER_TAG: stack}
    user_tags = parse_map("tags", raw, "tag names to values")
    allowed = (
        f"at most {MAX_USER_TAGS} tags, names of 1-128 characters not starting with aws:, "
        f"values of at most 256 characters, both only letters, digits, spaces and _.:/=+-@"
    )
    if len(user_tags) > MAX_USER_TAGS:
        raise reject("tags", raw, allowed)
    for name, value in user_tags.items():
        if not 1 <= len(name) <= 128 or name.lower().startswith("aws:") or len(value) > 256:
            raise reject("tags", raw, allowed)
        if not _tag_text_allowed(name) or not _tag_text_allowed(value):
            raise reject("tags", raw, allowed)
    merged = {**BASE_TAGS, **user_tags, OWNER_TAG: stack}
    seen: dict[str, str] = {}
    for name in merged:
        if name.lower() in seen:
            raise reject(
                "tags",
                raw,
                f"{name!r} and {seen[name.lower()]!r} differ only in case: IAM "
                f"treats tag names case-insensitively, so keep one",
            )
        seen[name.lower()] = name
    return merged


def _log_retention(raw: str | None, production: bool) -> int:
    if raw is None:
        return profile_for(production).default_log_retention_days
    periods = ", ".join(map(str, LOG_RETENTION_DAYS))
    allowed = f"one of CloudWatch's retention periods in days: {periods}"
    try:
        days = int(raw.strip())
    except ValueError:
        raise reject("logRetentionDays", raw, allowed) from None
    if days not in LOG_RETENTION_DAYS:
        raise reject("logRetentionDays", raw, allowed)
    return days


def _optional(raw: Mapping[str, str | None], name: str) -> str | None:
    """The value of a key without a constant default; blank counts as unset."""
    value = raw.get(name)
    return value if value and value.strip() else None


def _regional_arn(name: str, raw: str, match: re.Match, region: str | None, what: str) -> str:
    """``raw`` stripped, once its region is the stack's and its partition is its region's."""
    arn_region = match.group("region")
    if region is not None and arn_region != region:
        raise reject(name, raw, f"{what} in the stack's region {region}")
    expected = arn_partition(arn_region)
    if match.group("partition") != expected:
        raise reject(name, raw, f"an ARN in {arn_region}'s partition, arn:{expected}:...")
    return raw.strip()


def _kms_key_arn(raw: str | None, region: str | None) -> str | None:
    if raw is None:
        return None
    match = _KMS_KEY_ARN.match(raw.strip())
    allowed = (
        "a KMS key ARN like arn:aws:kms:us-east-1:123456789012:key/<key id> (a key, not an "
        "alias: IAM grants name keys)"
    )
    if match is None:
        raise reject("kmsKeyArn", raw, allowed)
    return _regional_arn("kmsKeyArn", raw, match, region, "a key")


def _monitoring_interval(raw: str | None, production: bool) -> int:
    if raw is None:
        return profile_for(production).monitoring_interval
    allowed = (
        f"one of {', '.join(map(str, MONITORING_INTERVALS))} (seconds between enhanced "
        f"monitoring samples; 0 turns it off)"
    )
    try:
        interval = int(raw.strip())
    except ValueError:
        raise reject("monitoringInterval", raw, allowed) from None
    if interval not in MONITORING_INTERVALS:
        raise reject("monitoringInterval", raw, allowed)
    return interval


def _slow_query_ms(raw: str | None, production: bool) -> int | None:
    if raw is None:
        return DEFAULT_SLOW_QUERY_MS if profile_for(production).connection_logging else None
    return parse_int("slowQueryMs", raw, *SLOW_QUERY_MS_RANGE, " of milliseconds")


def _alarm_topic_arn(raw: str | None, region: str | None) -> str | None:
    if raw is None:
        return None
    match = _SNS_TOPIC_ARN.match(raw.strip())
    if match is None:
        raise reject(
            "alarmTopicArn",
            raw,
            "a standard SNS topic ARN like arn:aws:sns:us-east-1:123456789012:alerts",
        )
    return _regional_arn("alarmTopicArn", raw, match, region, "a topic")


def _backup_copy_region(raw: str | None, backup_plan: bool, region: str | None) -> str | None:
    if raw is None:
        return None
    copy_region = raw.strip()
    if not is_region_name(copy_region) or copy_region == region:
        raise reject("backupCopyRegion", raw, "a region name like eu-west-1, not the stack's own")
    if not backup_plan:
        raise reject("backupCopyRegion", raw, f"only with {key('backupPlan')} set to true")
    if region is not None and arn_partition(copy_region) != arn_partition(region):
        raise reject(
            "backupCopyRegion", raw, f"a region in {region}'s partition, {arn_partition(region)}"
        )
    return copy_region


def _warnings(stack: str, production: bool, customer_managed_key: bool) -> tuple[str, ...]:
    if stack.startswith("prod") and not production:
        return (
            f"stack {stack!r} looks like production but {key('production')} is not true: "
            f"no deletion protection, no final snapshot, secret deleted at once",
        )
    if production and not customer_managed_key:
        return (
            f"production stack {stack!r} encrypts with AWS-managed keys: set "
            f"{key('customerManagedKey')} to true for a new stack (an existing cluster would be "
            f"replaced; see docs/production.md, Encryption keys)",
        )
    return ()


def load_settings(
    raw: Mapping[str, str | None],
    *,
    stack: str,
    region: str | None = None,
    secret_keys: Collection[str] = frozenset(),
) -> Settings:
    """Validate every ``alex-db:*`` key the stack sets (short names; None counts as unset) into
    Settings. ``secret_keys`` are the short names whose values are ``secure:``.

    Raises SettingsError with a one-line message on the first key or value that is not allowed;
    unknown and secret keys are refused before any value is looked at, so no message shows one.
    """
    check_keys(raw, secret_keys, CONFIG_KEYS)
    region_notes = region_warnings(region)  # aws:region as the other keys (provider_keys.py)
    values = {name: (raw.get(name) or default).strip() for name, default in DEFAULTS.items()}
    version = _engine_version(values["engineVersion"])
    production = parse_bool("production", values["production"])
    allow_deletion = parse_bool("allowDeletion", values["allowDeletion"])
    kms_key_arn = _kms_key_arn(_optional(raw, "kmsKeyArn"), region)
    backup_plan = parse_bool("backupPlan", values["backupPlan"])
    customer_managed_key = (
        parse_bool("customerManagedKey", values["customerManagedKey"]) or kms_key_arn is not None
    )
    return Settings(
        stack=_stack_name(stack),
        region=region,
        engine_version=version,
        capacity=_capacity(values, version),
        tags=_tags(raw.get("tags"), stack),
        production=production,
        allow_deletion=allow_deletion,
        readers=parse_int("readers", values["readers"], 0, MAX_READERS),
        network=load_network({**raw, **values}),
        log_exports=_log_exports(raw.get("logExports"), profile_for(production, allow_deletion)),
        customer_managed_key=customer_managed_key,
        kms_key_arn=kms_key_arn,
        monitoring_interval=_monitoring_interval(_optional(raw, "monitoringInterval"), production),
        slow_query_ms=_slow_query_ms(_optional(raw, "slowQueryMs"), production),
        backup_plan=backup_plan,
        backup_copy_region=_backup_copy_region(
            _optional(raw, "backupCopyRegion"), backup_plan, region
        ),
        alarm_topic_arn=_alarm_topic_arn(_optional(raw, "alarmTopicArn"), region),
        log_retention_days=_log_retention(raw.get("logRetentionDays"), production),
        allow_major_version_upgrade=parse_bool(
            "allowMajorVersionUpgrade", values["allowMajorVersionUpgrade"]
        ),
        extended_support=parse_bool("extendedSupport", values["extendedSupport"]),
        warnings=_warnings(stack, production, customer_managed_key) + region_notes,
    )
