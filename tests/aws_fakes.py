"""A deployed alex-db stack as moto emulates it, for the post-deploy tools' tests."""

from __future__ import annotations

import json
from dataclasses import dataclass

import boto3
import requests
from moto.backends import get_backend

from alex_db.tools.shared.stack_files import load_stack_config

ACCOUNT = "123456789012"
REGION = "us-east-1"
CLUSTER_ID = "alex-aurora-cluster"
PASSWORD = "Sentinel-Pw-9d1e!check#never-printed"
# What stack dev deploys (the default, unless Pulumi.dev.yaml pins another): the fake stack runs
# it and preflight's fake account offers it.
DEV_VERSION = load_stack_config("dev").values["alex-db:engineVersion"]
VERSION = f"PostgreSQL {DEV_VERSION} on x86_64-pc-linux-gnu, compiled by gcc, 64-bit"


@dataclass
class FakeStack:
    """ARNs of the emulated cluster and secret."""

    cluster_arn: str
    secret_arn: str


def create_stack(
    *,
    data_api: bool = True,
    secret: dict | str | None = None,
    endpoint_url: str | None = None,
) -> FakeStack:
    """The cluster and secret the program deploys, inside an active moto mock or server."""
    rds = boto3.client("rds", region_name=REGION, endpoint_url=endpoint_url)
    cluster = rds.create_db_cluster(
        DBClusterIdentifier=CLUSTER_ID,
        Engine="aurora-postgresql",
        EngineVersion=DEV_VERSION,
        EngineMode="provisioned",
        DatabaseName="alex",
        MasterUsername="alexadmin",
        MasterUserPassword=PASSWORD,
        EnableHttpEndpoint=data_api,
        ServerlessV2ScalingConfiguration={"MinCapacity": 0.5, "MaxCapacity": 1},
    )["DBCluster"]
    # moto 5 reports HttpEndpointEnabled only for EngineMode="serverless" clusters on a few old
    # versions (aurora-postgresql 11.13), never for provisioned Serverless v2 as deployed here;
    # this single field is stubbed in moto's backend to what AWS reports. Everything else is moto's.
    get_backend("rds")[ACCOUNT][REGION].clusters[CLUSTER_ID]._enable_http_endpoint = data_api
    document = (
        secret
        if secret is not None
        else {
            "engine": "postgres",
            "host": cluster["Endpoint"],
            "port": 5432,
            "username": "alexadmin",
            "password": PASSWORD,
            "dbname": "alex",
            "dbClusterIdentifier": CLUSTER_ID,
        }
    )
    secrets = boto3.client("secretsmanager", region_name=REGION, endpoint_url=endpoint_url)
    secret_arn = secrets.create_secret(
        Name="alex-aurora-credentials-0a1b2c3d",
        SecretString=document if isinstance(document, str) else json.dumps(document),
    )["ARN"]
    return FakeStack(cluster["DBClusterArn"], secret_arn)


def queue_version_row(moto_url: str = "http://motoapi.amazonaws.com") -> None:
    """Make moto's rds-data answer the next new statement with one version() row.

    Through ``requests`` (a dependency of moto itself): in-process ``mock_aws`` intercepts
    requests' transport, not urllib's, so this is the one client that reaches both modes."""
    response = requests.post(
        f"{moto_url}/moto-api/static/rds-data/statement-results",
        json={
            "account_id": ACCOUNT,
            "region": REGION,
            "results": [{"records": [[{"stringValue": VERSION}]], "numberOfRecordsUpdated": 0}],
        },
        timeout=10,
    )
    assert response.status_code == 201, response.text
