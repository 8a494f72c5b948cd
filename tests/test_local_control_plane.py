"""The RDS control plane ``alex-db local`` answers (issue 23, item 4): ``DescribeDBClusters`` for
its cluster through boto3's real ``rds`` client, AWS's fault for any other cluster or action, and
the same signature rules as the Data API, in the query protocol's XML."""

from __future__ import annotations

from xml.etree import ElementTree

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alex_db.tools.local.control_plane import CLUSTER_IDENTIFIER, NAMESPACE
from alex_db.tools.local.signatures import AccessKey
from alex_db.tools.shared.local_identity import CLUSTER_ARN, REGION
from tests.local_support import TEST_KEY, sdk_headers
from tests.test_local_front_door import send


def rds_client(url: str, key: AccessKey = TEST_KEY):
    """boto3's real rds client pointed at ``url``, as AWS_ENDPOINT_URL_RDS points it."""
    return boto3.client(
        "rds", endpoint_url=url, region_name=REGION, aws_access_key_id=key.key_id,
        aws_secret_access_key=key.secret, config=Config(retries={"max_attempts": 1}),
    )


def failure(call) -> tuple[str, int]:
    with pytest.raises(ClientError) as raised:
        call()
    return raised.value.response["Error"]["Code"], raised.value.response["ResponseMetadata"][
        "HTTPStatusCode"]


@pytest.mark.parametrize("identifier", [CLUSTER_IDENTIFIER, CLUSTER_IDENTIFIER.upper(), CLUSTER_ARN, None])
def test_its_cluster_is_described_by_name_by_arn_or_in_the_list(served, local_postgres, identifier):
    ask = {"DBClusterIdentifier": identifier} if identifier else {}
    clusters = rds_client(served).describe_db_clusters(**ask)["DBClusters"]
    assert len(clusters) == 1
    cluster = clusters[0]
    assert cluster["HttpEndpointEnabled"] is True
    assert (cluster["DBClusterIdentifier"], cluster["DBClusterArn"]) == (CLUSTER_IDENTIFIER, CLUSTER_ARN)
    assert (cluster["Status"], cluster["Engine"], cluster["DatabaseName"]) == (
        "available", "aurora-postgresql", "alex")
    assert cluster["Endpoint"] == "127.0.0.1" and cluster["Port"] == int(served.rsplit(":", 1)[1])
    assert cluster["EngineVersion"] == str(local_postgres.major_version)


@pytest.mark.parametrize("identifier", [
    "alex-aurora-cluster", CLUSTER_ARN.replace("alex-local", "other"), "alex-local-2",
    CLUSTER_ARN.replace("us-east-1", "eu-west-1"),
])
def test_any_other_cluster_is_not_found_as_on_aws(served, identifier):
    assert failure(lambda: rds_client(served).describe_db_clusters(DBClusterIdentifier=identifier)) == (
        "DBClusterNotFoundFault", 404)


def test_every_other_action_is_refused_with_awss_error(served):
    client = rds_client(served)
    assert failure(client.describe_db_instances) == ("InvalidAction", 400)
    assert failure(lambda: client.delete_db_cluster(DBClusterIdentifier=CLUSTER_IDENTIFIER)) == (
        "InvalidAction", 400)


def test_the_control_plane_verifies_signatures_too(served):
    stranger = AccessKey("AKIAIOSFODNN7EXAMPLE", "x", None, "a stranger")
    assert failure(rds_client(served, stranger).describe_db_clusters) == ("InvalidClientTokenId", 403)
    wrong = AccessKey(TEST_KEY.key_id, "wrong", None, "a guess")
    assert failure(rds_client(served, wrong).describe_db_clusters) == ("SignatureDoesNotMatch", 403)


def test_a_data_api_signature_does_not_open_the_control_plane(served):
    """A call signed for rds-data is scoped to that service; the control plane wants rds."""
    body = b"Action=DescribeDBClusters&Version=2014-10-31"
    headers = sdk_headers(served, "/", body, content_type="application/x-www-form-urlencoded")
    status, answer_headers, payload = send(served, list(headers.items()), body, path="/")
    assert status == 400 and b"<Code>IncompleteSignature</Code>" in payload
    assert answer_headers["Content-Type"] == "text/xml"


FORM_PART = st.sampled_from(["Action=", "DescribeDBClusters", "DescribeDBInstances", "&", "=",
                             "DBClusterIdentifier=", "alex-local", "%", "%ZZ", "\u00e9",
                             "Filters.Filter.1.Name=engine", "Version=2014-10-31",
                             "%01", "%00", "%EF%BF%BE"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=st.lists(FORM_PART, max_size=8))
def test_any_form_gets_an_answer_or_one_xml_error_never_a_500(served, parts):
    body = "".join(parts).encode()
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(method="POST", url=served + "/", data=body, headers={
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    SigV4Auth(Credentials(TEST_KEY.key_id, TEST_KEY.secret), "rds", REGION).add_auth(request)
    headers = [("Host", served.split("//", 1)[1]), *request.headers.items()]
    status, _, payload = send(served, headers, body, path="/")
    assert status in (200, 400, 404), payload
    assert payload.startswith(b"<?xml")
    ElementTree.fromstring(payload)  # a document botocore can read


@pytest.mark.parametrize("identifier", ["alex-local\x01", "\x00", "\x1b[2J", "\ufffe", "a\x7fb"])
def test_an_identifier_xml_cannot_carry_still_gets_awss_not_found(served, identifier):
    """The refusal quotes the identifier; characters XML 1.0 forbids (its ``Char`` production:
    no C0 controls but tab, newline and return, no U+FFFE/U+FFFF) made the answer a document
    botocore cannot parse: ``ResponseParserError``, a traceback, instead of the fault."""
    call = lambda: rds_client(served).describe_db_clusters(DBClusterIdentifier=identifier)  # noqa: E731
    assert failure(call) == ("DBClusterNotFoundFault", 404)


def test_an_action_xml_cannot_carry_is_awss_invalid_action(served):
    body = b"Action=Describe%01DBClusters&Version=2014-10-31"
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(method="POST", url=served + "/", data=body, headers={
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    SigV4Auth(Credentials(TEST_KEY.key_id, TEST_KEY.secret), "rds", REGION).add_auth(request)
    headers = [("Host", served.split("//", 1)[1]), *request.headers.items()]
    status, _, payload = send(served, headers, body, path="/")
    assert status == 400
    assert ElementTree.fromstring(payload).findtext(f"{{{NAMESPACE}}}Error/{{{NAMESPACE}}}Code") == (
        "InvalidAction")
