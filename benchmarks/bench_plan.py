"""Cold-process wall time of ``python -m alex_db plan --json`` against its import floor.

The floor is a process that only imports what the program needs (pulumi, pulumi_random and the
pulumi_aws modules it uses) and touches the classes, so the ratio shows what the plan itself
costs on top. Target: ratio <= 1.3. Prints the medians and the ratio; asserts nothing.
"""

from __future__ import annotations

import sys

from timing import median_seconds

RUNS = 7
FLOOR = (
    "import pulumi, pulumi_random\n"
    "import pulumi_aws as aws\n"
    "aws.ec2.SecurityGroup, aws.ec2.get_vpc_output, aws.ec2.get_subnets_output\n"
    "aws.rds.Cluster, aws.rds.ClusterInstance, aws.rds.SubnetGroup\n"
    "aws.iam.Role, aws.iam.RolePolicy, aws.iam.RolePolicyAttachment\n"
    "aws.secretsmanager.Secret, aws.secretsmanager.SecretVersion\n"
    "aws.get_region_output, aws.get_partition_output, aws.get_caller_identity_output\n"
    "pulumi_random.RandomPassword, pulumi_random.RandomId\n"
)


def main() -> None:
    floor = median_seconds([sys.executable, "-c", FLOOR], RUNS)
    plan = median_seconds([sys.executable, "-m", "alex_db", "plan", "--json"], RUNS)
    print(f"import floor       median of {RUNS}: {floor:.3f} s")
    print(f"plan --json (dev)  median of {RUNS}: {plan:.3f} s")
    print(f"ratio plan/floor: {plan / floor:.2f} (target <= 1.30)")


if __name__ == "__main__":
    main()
