"""The ``.env`` variables every command reads or writes: ``env`` writes the first three, ``check``
reads them, ``local`` writes them and the rest below (the endpoint points boto3's rds-data client
at it; the region; its own keys when the developer has none)."""

import ipaddress
from urllib.parse import urlsplit

from alex_db.tools.shared.local_identity import is_local_key

CLUSTER_ARN_VARIABLE = "AURORA_CLUSTER_ARN"
SECRET_ARN_VARIABLE = "AURORA_SECRET_ARN"
DATABASE_VARIABLE = "AURORA_DATABASE"
# boto3 sends the rds-data client (and only it) here; `env` removes it to switch back to AWS.
ENDPOINT_VARIABLE = "AWS_ENDPOINT_URL_RDS_DATA"
# boto3 sends the rds client (the control plane) here: a service's own endpoint variable is
# AWS_ENDPOINT_URL_<its serviceId, upper case, spaces as _> (AWS SDKs and Tools Reference Guide,
# "Service-specific endpoints"; botocore's rds model: serviceId "RDS").
RDS_ENDPOINT_VARIABLE = "AWS_ENDPOINT_URL_RDS"
# The region, three ways: botocore reads AWS_DEFAULT_REGION (botocore/configprovider.py, the
# `region` entry), Alex's scripts read AWS_REGION and its database client DEFAULT_AWS_REGION
# (ed-donner/alex backend/database/src/client.py). `env` writes the stack's, `local` its ARNs'.
REGION_VARIABLES = ("AWS_REGION", "AWS_DEFAULT_REGION", "DEFAULT_AWS_REGION")
# The key pair boto3's environment provider reads (botocore/credentials.py, EnvProvider).
ACCESS_KEY_VARIABLE = "AWS_ACCESS_KEY_ID"
SECRET_KEY_VARIABLE = "AWS_SECRET_ACCESS_KEY"


def written_by_local(values: dict[str, str]) -> list[str]:
    """What ``local`` added to a ``.env`` with these values and ``env`` removes to switch back to
    AWS: an endpoint only when it points at this machine (``local`` listens on 127.0.0.1 alone; a
    VPC endpoint of the user's own stays), the key pair only when it is ``local``'s own (never a
    real key)."""
    owned = [
        name
        for name in (ENDPOINT_VARIABLE, RDS_ENDPOINT_VARIABLE)
        if _is_loopback_url(values.get(name, ""))
    ]
    if is_local_key(values.get(ACCESS_KEY_VARIABLE, "")):
        owned += [ACCESS_KEY_VARIABLE, SECRET_KEY_VARIABLE]
    return owned


def _is_loopback_url(url: str) -> bool:
    """Whether ``url`` names this machine: localhost (RFC 6761 section 6.3) or a loopback address
    (127.0.0.0/8, ::1: RFC 1122 section 3.2.1.3, RFC 4291 section 2.5.3)."""
    try:
        host = urlsplit(url.strip()).hostname or ""
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
