"""What the local endpoint calls itself: the ARNs, database and variable that ``.env`` carries.

The ARNs have the cloud's shapes (a cluster ARN, a Secrets Manager ARN with its six-character
suffix) in a reserved-looking account, so code that parses them works and nobody mistakes them for
a deployed stack. They are fixed, so ``.env`` stays the same across restarts.
"""

from __future__ import annotations

REGION = "us-east-1"
ACCOUNT = "000000000000"
CLUSTER_ARN = f"arn:aws:rds:{REGION}:{ACCOUNT}:cluster:alex-local"
SECRET_ARN = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:alex-local-credentials-LoCaL0"
# boto3 sends the rds-data client (and only it) here; `env` removes it to switch back to AWS.
ENDPOINT_VARIABLE = "AWS_ENDPOINT_URL_RDS_DATA"
