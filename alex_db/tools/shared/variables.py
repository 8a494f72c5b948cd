"""The ``.env`` variables every command reads or writes: ``env`` writes the first three, ``check``
reads them, ``local`` writes all four (the endpoint points boto3's rds-data client at it)."""

CLUSTER_ARN_VARIABLE = "AURORA_CLUSTER_ARN"
SECRET_ARN_VARIABLE = "AURORA_SECRET_ARN"
DATABASE_VARIABLE = "AURORA_DATABASE"
# boto3 sends the rds-data client (and only it) here; `env` removes it to switch back to AWS.
ENDPOINT_VARIABLE = "AWS_ENDPOINT_URL_RDS_DATA"
# The region, three ways: botocore reads AWS_DEFAULT_REGION (botocore/configprovider.py, the
# `region` entry), Alex's scripts read AWS_REGION and its database client DEFAULT_AWS_REGION
# (ed-donner/alex backend/database/src/client.py). `env` writes the stack's, `local` its ARNs'.
REGION_VARIABLES = ("AWS_REGION", "AWS_DEFAULT_REGION", "DEFAULT_AWS_REGION")
