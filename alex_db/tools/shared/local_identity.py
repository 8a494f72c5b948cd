"""What the local endpoint calls itself: the ARNs ``.env`` carries, and the port it listens on.

The ARNs have the cloud's shapes (a cluster ARN, a Secrets Manager ARN with its six-character
suffix) in a reserved-looking account, so code that parses them works and nobody mistakes them for
a deployed stack. They are fixed, so ``.env`` stays the same across restarts.
"""

from __future__ import annotations

REGION = "us-east-1"
ACCOUNT = "000000000000"
CLUSTER_ARN = f"arn:aws:rds:{REGION}:{ACCOUNT}:cluster:alex-local"
SECRET_ARN = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:alex-local-credentials-LoCaL0"
# Where `local` listens unless told otherwise, and so where `check` looks for it.
DEFAULT_PORT = 8432
# The keys `local` makes start with this; AWS's start with AKIA or ASIA (IAM User Guide, "Unique
# identifier prefixes"), so `env` can tell local's key in .env from a real one and remove only it.
LOCAL_KEY_PREFIX = "ALEXDBLOCAL"


def is_local_key(key_id: str) -> bool:
    """Whether ``key_id`` is one ``alex-db local`` made."""
    return key_id.startswith(LOCAL_KEY_PREFIX)
