"""CloudWatch alarms on the cluster, sent to an SNS topic of your own."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
from pulumi_aws import cloudwatch

from alex_db.config.alarms import (
    CLUSTER_DIMENSION,
    PERIOD_SECONDS,
    SUSTAINED_PERIODS,
    AlarmRule,
    alarm_rules,
)


@dataclass
class DatabaseAlarmsArgs:
    """What to watch and whom to tell."""

    cluster_identifier: pulumi.Input[str]
    """The cluster the alarms watch (the ``DBClusterIdentifier`` dimension)."""
    instance_identifiers: Sequence[pulumi.Input[str]]
    """Its instances, writer first (the ``DBInstanceIdentifier`` dimension of the per-instance
    alarms)."""
    max_acu: float
    """The cluster's maximum capacity; thresholds follow it."""
    min_acu: float
    """The cluster's minimum capacity; equal to ``max_acu``, there is no capacity alarm."""
    topic_arn: str
    """The SNS topic that receives alarm and recovery notifications."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the alarms. Default none."""


class DatabaseAlarms(pulumi.ComponentResource):
    """The alarms from ``config.alarms``, each over 15 minutes, on the cluster or on each
    instance. Missing data is not breaching: a paused cluster publishes no capacity, memory or
    connection data."""

    alarm_names: pulumi.Output[list[str]]
    """The alarms' names."""

    def __init__(
        self, name: str, args: DatabaseAlarmsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("alexdb:index:DatabaseAlarms", name, None, opts)
        alarms = []
        for rule in alarm_rules(args.max_acu, args.min_acu):
            if rule.dimension == CLUSTER_DIMENSION:
                targets = [(f"{name}-{rule.suffix}", args.cluster_identifier)]
            else:
                targets = [
                    (f"{name}-{rule.suffix}-{number}", identifier)
                    for number, identifier in enumerate(args.instance_identifiers, start=1)
                ]
            alarms += [self._alarm(logical, rule, target, args) for logical, target in targets]
        self.alarm_names = pulumi.Output.all(*(alarm.name for alarm in alarms))
        self.register_outputs({"alarm_names": self.alarm_names})

    def _alarm(
        self, logical: str, rule: AlarmRule, target: pulumi.Input[str], args: DatabaseAlarmsArgs
    ) -> cloudwatch.MetricAlarm:
        """``<cluster or instance>-<suffix>`` on ``rule.metric`` of ``target``."""
        return cloudwatch.MetricAlarm(
            logical,
            name=pulumi.Output.from_input(target).apply(
                lambda watched, suffix=rule.suffix: f"{watched}-{suffix}"
            ),
            alarm_description=rule.description,
            namespace="AWS/RDS",
            metric_name=rule.metric,
            dimensions={rule.dimension: target},
            statistic=rule.statistic,
            comparison_operator=rule.comparison,
            threshold=rule.threshold,
            period=PERIOD_SECONDS,
            evaluation_periods=SUSTAINED_PERIODS,
            treat_missing_data="notBreaching",
            alarm_actions=[args.topic_arn],
            ok_actions=[args.topic_arn],
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self),
        )
