"""The alex-db policy pack: `pulumi preview --policy-pack policy`.

Constructing the pack starts the analyzer's gRPC server and blocks, so tests import the
policies from ``alex_rules`` and never this file.
"""

from alex_rules import POLICIES
from pulumi_policy import EnforcementLevel, PolicyPack

PolicyPack(
    name="alex-db-guardrails",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=POLICIES,
)
