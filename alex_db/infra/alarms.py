"""CloudWatch alarms on the cluster, sent to an SNS topic of your own."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
from pulumi_aws import cloudwatch

from alex_db.config.alarms import PERIOD_SECONDS, SUSTAINED_PERIODS, alarm_rules


@dataclass
class DatabaseAlarmsArgs:
    """What to watch and whom to tell."""

    cluster_identifier: pulumi.Input[str]
    """The cluster the alarms watch (the ``DBClusterIdentifier`` dimension)."""
    max_acu: float
    """The cluster's maximum capacity; thresholds follow it."""
    min_acu: float
    """The cluster's minimum capacity; equal to ``max_acu``, there is no capacity alarm."""
    topic_arn: str
    """The SNS topic that receives alarm and recovery notifications."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the alarms. Default none."""


class DatabaseAlarms(pulumi.ComponentResource):
    """The alarms from ``config.alarms``, each over 15 minutes. Missing data is not breaching:
    a paused cluster publishes no capacity, memory or connection data."""

    alarm_names: pulumi.Output[list[str]]
    """The alarms' names."""

    def __init__(
        self, name: str, args: DatabaseAlarmsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("alexdb:index:DatabaseAlarms", name, None, opts)
        alarms = [
            cloudwatch.MetricAlarm(
                f"{name}-{rule.suffix}",
                name=pulumi.Output.from_input(args.cluster_identifier).apply(
                    lambda cluster, suffix=rule.suffix: f"{cluster}-{suffix}"
                ),
                alarm_description=rule.description,
                namespace="AWS/RDS",
                metric_name=rule.metric,
                dimensions={"DBClusterIdentifier": args.cluster_identifier},
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
            for rule in alarm_rules(args.max_acu, args.min_acu)
        ]
        self.alarm_names = pulumi.Output.all(*(alarm.name for alarm in alarms))
        self.register_outputs({"alarm_names": self.alarm_names})
