"""The RDS control-plane calls a Data API user makes before the first statement, answered for the
local cluster: ``DescribeDBClusters``, as boto3's ``rds`` client asks it (through
``AWS_ENDPOINT_URL_RDS``, which ``local`` writes into ``.env``).

Alex's ``backend/database/test_data_api.py`` first calls ``rds.describe_db_clusters`` and reads
``HttpEndpointEnabled``; without an answer here boto3 would go to the real
``rds.<region>.amazonaws.com``. The protocol is botocore's ``rds`` model's (``protocol: query``,
``signingName: rds``, ``xmlNamespace`` ``http://rds.amazonaws.com/doc/2014-10-31/``): ``POST /``
with a form body (``Action``, ``Version``, the members), answered in XML inside
``<DescribeDBClustersResult>`` (the operation's ``resultWrapper``), lists as ``member`` elements
named by the model's ``locationName`` (``DBCluster``). Errors are the query protocol's
``<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>``, which
botocore's ``QueryParser`` reads (``botocore/parsers.py``). An unknown cluster is the model's
``DBClusterNotFoundFault`` (HTTP 404, "DBCluster x not found."); any other action is AWS's
``InvalidAction`` (HTTP 400, AWS Common Errors: "The action or operation requested is invalid").
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from urllib.parse import parse_qs
from xml.etree import ElementTree

from alex_db.tools.local.errors import DataApiError, RefusedRequestError
from alex_db.tools.shared import local_identity as identity

PATH = "/"
API_VERSION = "2014-10-31"
NAMESPACE = f"http://rds.amazonaws.com/doc/{API_VERSION}/"
CONTENT_TYPE = "text/xml"
CLUSTER_IDENTIFIER = identity.CLUSTER_ARN.rsplit(":", 1)[1]
# The refusals of the front door carry the JSON protocols' names; the query protocol's names for
# the same faults are AWS Common Errors' (e.g. the RDS API Reference's CommonErrors.html).
QUERY_CODES = {
    "AccessDeniedException": "AccessDenied",
    "BadRequestException": "MalformedInput",
    "IncompleteSignatureException": "IncompleteSignature",
    "InvalidSignatureException": "SignatureDoesNotMatch",
    "MissingAuthenticationTokenException": "MissingAuthenticationToken",
    "UnrecognizedClientException": "InvalidClientTokenId",
}


# What XML 1.0 can carry (its ``Char`` production, W3C XML 1.0 section 2.2): ElementTree escapes
# markup but writes any other character as it is, and a C0 control, a lone surrogate or U+FFFE in
# a refusal that quotes the caller's input would make a document botocore's parser rejects
# (``ResponseParserError``, not the fault).
NOT_XML_CHARACTERS = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class LocalCluster:
    """What the description says that only the running ``local`` knows. ``endpoint`` and
    ``port`` are where the Data API listens: PostgreSQL itself listens on no TCP address."""

    database: str
    master_user: str
    engine_version: str
    endpoint: str
    port: int


def answer(body: bytes, cluster: LocalCluster) -> bytes:
    """The XML answer to one form-encoded call about ``cluster``."""
    try:
        form = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body))
    except (UnicodeDecodeError, ValueError):
        raise RefusedRequestError(400, "MalformedInput", "the body is not a form") from None
    action = _one(form, "Action")
    if action != "DescribeDBClusters":
        raise RefusedRequestError(
            400,
            "InvalidAction",
            f"The action {action or '(none)'} is not valid for this web service. alex-db local "
            f"answers DescribeDBClusters only",
        )
    wanted = _one(form, "DBClusterIdentifier")
    if wanted is not None and not _is_local_cluster(wanted):
        raise RefusedRequestError(404, "DBClusterNotFoundFault", f"DBCluster {wanted} not found.")
    if any(name.startswith("Filters.") for name in form):
        raise RefusedRequestError(
            400, "InvalidParameterValue", "alex-db local does not filter DescribeDBClusters"
        )
    return _describe_clusters(cluster)


def error_body(failure: DataApiError) -> bytes:
    """``failure`` as the query protocol's error document."""
    root = ElementTree.Element("ErrorResponse", xmlns=NAMESPACE)
    error = ElementTree.SubElement(root, "Error")
    ElementTree.SubElement(error, "Type").text = "Sender"
    ElementTree.SubElement(error, "Code").text = QUERY_CODES.get(failure.code, failure.code)
    ElementTree.SubElement(error, "Message").text = _xml_text(failure.message)
    ElementTree.SubElement(root, "RequestId").text = str(uuid.uuid4())
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)


def _xml_text(text: str) -> str:
    """``text`` with each character XML cannot carry written as its Python escape (``\\x01``)."""
    return NOT_XML_CHARACTERS.sub(lambda found: repr(found.group())[1:-1], text)


def _one(form: dict[str, list[str]], name: str) -> str | None:
    values = form.get(name)
    return values[-1] if values else None


def _is_local_cluster(wanted: str) -> bool:
    """RDS takes a cluster's identifier (case-insensitively: identifiers are stored in lower
    case, RDS User Guide "Naming constraints") or its ARN."""
    return wanted == identity.CLUSTER_ARN or wanted.lower() == CLUSTER_IDENTIFIER


def _describe_clusters(cluster: LocalCluster) -> bytes:
    root = ElementTree.Element("DescribeDBClustersResponse", xmlns=NAMESPACE)
    result = ElementTree.SubElement(root, "DescribeDBClustersResult")
    member = ElementTree.SubElement(ElementTree.SubElement(result, "DBClusters"), "DBCluster")
    fields = {
        "DBClusterIdentifier": CLUSTER_IDENTIFIER,
        "DBClusterArn": identity.CLUSTER_ARN,
        "Status": "available",
        "Engine": "aurora-postgresql",
        "EngineVersion": cluster.engine_version,
        "EngineMode": "provisioned",
        "Endpoint": cluster.endpoint,
        "Port": str(cluster.port),
        "DatabaseName": cluster.database,
        "MasterUsername": cluster.master_user,
        "HttpEndpointEnabled": "true",
        "StorageEncrypted": "true",
    }
    for name, value in fields.items():
        ElementTree.SubElement(member, name).text = value
    metadata = ElementTree.SubElement(root, "ResponseMetadata")
    ElementTree.SubElement(metadata, "RequestId").text = str(uuid.uuid4())
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)
