"""Every settings rule and its message; property tests over the whole ACU space."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from alex_db.config.naming import PhysicalNames
from alex_db.config.parameters import parameter_family
from alex_db.config.setting_entries import FALSE, SETTINGS, Setting
from alex_db.config.settings import DEFAULTS, SettingsError, load_settings
from alex_db.config.versions import (
    EngineVersion,
    parse_engine_version,
    supports_auto_pause,
    supports_data_api,
)


def settings(**raw: str | None):
    return load_settings(raw, stack="dev", region="us-east-1")


def test_defaults_are_the_seeds_capacity_on_a_version_with_data_api():
    loaded = settings()
    assert (loaded.capacity.min_acu, loaded.capacity.max_acu) == (0.5, 1.0)
    assert str(loaded.engine_version) == DEFAULTS["engineVersion"]
    assert loaded.capacity.seconds_until_auto_pause is None
    assert loaded.tags == {"Project": "alex", "Part": "5", "alex-db:stack": "dev"}


def test_yaml_numbers_and_numeric_strings_are_both_accepted():
    loaded = settings(minCapacity="2", maxCapacity="16.5")
    assert (loaded.capacity.min_acu, loaded.capacity.max_acu) == (2.0, 16.5)


def test_min_zero_enables_auto_pause_with_its_delay():
    loaded = settings(minCapacity="0", secondsUntilAutoPause="600")
    assert loaded.capacity.auto_pause
    assert loaded.capacity.seconds_until_auto_pause == 600


def test_pause_delay_is_dropped_when_min_is_above_zero():
    assert (
        settings(minCapacity="1", secondsUntilAutoPause="600").capacity.seconds_until_auto_pause
        is None
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            {"minCapacity": "4", "maxCapacity": "2"},
            "alex-db:minCapacity = '4' is not allowed: it must not exceed alex-db:maxCapacity = '2'",
        ),
        (
            {"maxCapacity": "256.5"},
            "alex-db:maxCapacity = '256.5' is not allowed: a number of ACUs from 1 to 256 in steps of 0.5",
        ),
        (
            {"maxCapacity": "0.5"},
            "alex-db:maxCapacity = '0.5' is not allowed: a number of ACUs from 1 to 256 in steps of 0.5",
        ),
        (
            {"minCapacity": "0.3"},
            "alex-db:minCapacity = '0.3' is not allowed: a number of ACUs from 0 to 256 in steps of 0.5",
        ),
        (
            {"minCapacity": "-0.5"},
            "alex-db:minCapacity = '-0.5' is not allowed: a number of ACUs from 0 to 256 in steps of 0.5",
        ),
        (
            {"minCapacity": "half"},
            "alex-db:minCapacity = 'half' is not allowed: a number of ACUs from 0 to 256 in steps of 0.5",
        ),
        (
            {"maxCapacity": "inf"},
            "alex-db:maxCapacity = 'inf' is not allowed: a number of ACUs from 1 to 256 in steps of 0.5",
        ),
        (
            {"minCapacity": "nan"},
            "alex-db:minCapacity = 'nan' is not allowed: a number of ACUs from 0 to 256 in steps of 0.5",
        ),
        (
            {"minCapacity": "0", "secondsUntilAutoPause": "299"},
            "alex-db:secondsUntilAutoPause = '299' is not allowed: a whole number of seconds from 300 to 86400",
        ),
        (
            {"minCapacity": "0", "secondsUntilAutoPause": "86401"},
            "alex-db:secondsUntilAutoPause = '86401' is not allowed: a whole number of seconds from 300 to 86400",
        ),
        (
            {"secondsUntilAutoPause": "5m"},
            "alex-db:secondsUntilAutoPause = '5m' is not allowed: a whole number of seconds from 300 to 86400",
        ),
        (
            {"minCapacity": "0", "engineVersion": "15.4"},
            "alex-db:minCapacity = '0' is not allowed with alex-db:engineVersion = '15.4': "
            "pausing at 0 ACU needs 13.15+, 14.12+, 15.7+, 16.3+, 17+",
        ),
        (
            {"engineVersion": "15"},
            "alex-db:engineVersion = '15' is not allowed: an Aurora PostgreSQL version MAJOR.MINOR such as 15.12",
        ),
        (
            {"engineVersion": "15.4.1"},
            "alex-db:engineVersion = '15.4.1' is not allowed: an Aurora PostgreSQL version MAJOR.MINOR such as 15.12",
        ),
        (
            {"engineVersion": "v15.12"},
            "alex-db:engineVersion = 'v15.12' is not allowed: an Aurora PostgreSQL version MAJOR.MINOR such as 15.12",
        ),
        (
            {"engineVersion": "12.9"},
            "alex-db:engineVersion = '12.9' is not allowed: the Data API on Serverless v2 needs "
            "13.11+, 14.8+, 15.3+, 16.1+, 17.4+",
        ),
        (
            {"engineVersion": "15.2"},
            "alex-db:engineVersion = '15.2' is not allowed: the Data API on Serverless v2 needs "
            "13.11+, 14.8+, 15.3+, 16.1+, 17.4+",
        ),
    ],
)
def test_each_invalid_value_gets_one_line_naming_key_value_and_allowed(raw, expected):
    with pytest.raises(SettingsError) as error:
        settings(**raw)
    assert str(error.value) == expected
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("version", ["13.15", "14.12", "15.7", "16.3", "17.4", "18.0"])
def test_min_zero_is_accepted_from_the_first_pausing_version(version):
    assert settings(minCapacity="0", engineVersion=version).capacity.auto_pause


@pytest.mark.parametrize("version", ["13.14", "14.11", "15.6", "16.2"])
def test_min_zero_is_refused_just_below_the_first_pausing_version(version):
    with pytest.raises(SettingsError, match="pausing at 0 ACU needs"):
        settings(minCapacity="0", engineVersion=version)


def test_versions_compare_as_numbers_not_text():
    assert EngineVersion(15, 12) > EngineVersion(15, 4)
    assert supports_auto_pause(EngineVersion(15, 12))
    assert not supports_auto_pause(EngineVersion(15, 4))
    assert supports_data_api(EngineVersion(15, 4))


def test_unset_keys_take_the_documented_defaults():
    explicit = settings(**DEFAULTS)
    assert settings() == explicit


# --- property tests: an independent statement of AWS's rules --------------------------------


# The guide's table, written out per version rather than computed: (pauses at 0, highest max).
AWS_TABLE = {"15.4": (False, 128), "15.5": (False, 256), "15.12": (True, 256), "13.12": (False, 128)}


def aws_accepts(min_acu: float, max_acu: float, version: str) -> bool:
    """Serverless v2 as the Aurora guide ("Aurora Serverless v2 capacity") states it."""
    pausing_version, ceiling = AWS_TABLE[version]
    on_step = (min_acu * 2).is_integer() and (max_acu * 2).is_integer()
    return (
        on_step
        and 1 <= max_acu <= ceiling
        and 0 <= min_acu <= max_acu
        and (min_acu > 0 or pausing_version)
    )


acu_values = st.one_of(
    st.integers(min_value=-4, max_value=520).map(lambda halves: halves / 2),
    st.floats(min_value=-10, max_value=300, allow_nan=False),
)


@given(min_acu=acu_values, max_acu=acu_values, version=st.sampled_from(sorted(AWS_TABLE)))
def test_accepted_pairs_are_exactly_those_aws_accepts(min_acu, max_acu, version):
    raw = {"minCapacity": repr(min_acu), "maxCapacity": repr(max_acu), "engineVersion": version}
    expected = aws_accepts(min_acu, max_acu, version)
    try:
        loaded = settings(**raw)
    except SettingsError as error:
        assert not expected, f"valid pair rejected: {error}"
        message = str(error)
        assert message.startswith("alex-db:")
        assert "is not allowed" in message
    else:
        assert expected, f"invalid pair accepted: {raw}"
        assert (loaded.capacity.min_acu, loaded.capacity.max_acu) == (min_acu, max_acu)


@given(text=st.text(max_size=12))
def test_any_text_as_capacity_is_either_valid_or_named_in_the_error(text):
    try:
        settings(maxCapacity=text or None)
    except SettingsError as error:
        assert str(error).startswith("alex-db:maxCapacity = ")


# One entry per setting (config/setting_entries.py) --------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
PAGES = {path.name: path.read_text() for path in [ROOT / "README.md", *ROOT.glob("docs/*.md")]}


def typed(setting: Setting):
    """The default as Pulumi.yaml writes it: a YAML value of the declared type."""
    if setting.type == "integer":
        return int(setting.default)
    if setting.type == "boolean":
        return setting.default == "true"
    if setting.type == "array":
        return json.loads(setting.default)
    return setting.default


def test_pulumi_yaml_declares_exactly_the_keys_with_a_constant_default_as_their_entries_say():
    declared = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
    expected = {
        s.key: {"type": s.type, "description": s.description, "default": typed(s)}
        for s in SETTINGS
        if s.default is not None
    }
    for spec in expected.values():
        if spec["type"] == "array":
            spec["items"] = {"type": "string"}
    for key in expected.keys() | declared.keys():
        assert declared.get(key) == expected.get(key), (
            f"Pulumi.yaml config.{key} must be {expected.get(key)} (alex_db/config/setting_entries.py)"
        )


def test_every_setting_is_validated_and_its_refusal_names_it():
    """A key added without a rule takes any value: each entry's ``refused`` value must stop
    load_settings with a message about that key."""
    for setting in SETTINGS:
        with pytest.raises(SettingsError) as error:
            load_settings({setting.key: setting.refused}, stack="dev", region="us-east-1")
        assert f"alex-db:{setting.key} " in str(error.value), str(error.value)
        assert "\n" not in str(error.value)


def table_rows(page: str, header: str) -> list[list[str]]:
    """The body rows of the Markdown table under ``header`` in ``page``, cells stripped."""
    lines = PAGES[page].split(header, 1)[1].splitlines()[2:]
    rows = []
    for line in lines:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


ENTRIES = {setting.key: setting for setting in SETTINGS}


def test_the_configuration_pages_default_column_is_each_entrys():
    for row in table_rows("configuration.md", "| key | default | meaning |"):
        for key in re.findall(r"`([\w:]+)`", row[0]):
            if key in ENTRIES:
                assert row[1] == ENTRIES[key].docs_default, (
                    f"docs/configuration.md: the default of {key} is {ENTRIES[key].docs_default}"
                )


def test_the_readmes_main_keys_show_each_entrys_default():
    """``a` / `b` | `x` / `y``` pairs keys and defaults; ``off`` stands for false or none."""
    for row in table_rows("README.md", "| key | default | what it does |"):
        keys = re.findall(r"`(\w+)`", row[0])
        cells = row[1].split(" / ") if " / " in row[1] else [row[1]] * len(keys)
        for key, cell in zip(keys, cells, strict=True):
            expected = {ENTRIES[key].docs_default}
            expected |= {"off"} if ENTRIES[key].default in (None, FALSE) else set()
            assert cell in expected, f"README.md: the default of {key} is {expected}"


DEFAULT_VERSION = DEFAULTS["engineVersion"]
DEFAULT_FAMILY = parameter_family(parse_engine_version(DEFAULT_VERSION))
# Where the docs quote the default version or what follows from it; each quote must be today's.
QUOTED_DEFAULTS = [
    ("README.md", r"Aurora PostgreSQL (\S+)<br/>", DEFAULT_VERSION),
    ("README.md", r"\(`(alex-aurora-postgresql\d+)`;", PhysicalNames.for_stack("dev").parameter_group(DEFAULT_FAMILY)),
    ("commands.md", r"available, aurora-postgresql (\S+),", DEFAULT_VERSION),
    ("commands.md", r"SELECT version\(\) -> PostgreSQL (\S+) on", DEFAULT_VERSION),
]


@pytest.mark.parametrize(("page", "pattern", "expected"), QUOTED_DEFAULTS)
def test_every_default_the_docs_quote_is_todays(page, pattern, expected):
    quoted = re.findall(pattern, PAGES[page])
    assert quoted, f"{page} no longer quotes {pattern}: update QUOTED_DEFAULTS"
    assert set(quoted) == {expected}, f"{page} quotes {quoted}; the default is {expected}"
