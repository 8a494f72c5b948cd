"""``alex-db local`` verifies SigV4 signatures as AWS does (issue 22, item 1).

botocore's signer is the reference: every request it signs verifies, and no change to what it
signed does. Callers are driven as they come: boto3's real client with the right key, an unknown
key, a wrong secret, another region, a stale clock; raw HTTP with a body swapped after signing; a
hypothesis property over hostile Authorization headers. Nothing a refused request carries runs."""

from __future__ import annotations

import json
import os
import threading
import time
from datetime import UTC, datetime, timedelta
from email.message import Message
from urllib.parse import urlsplit

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alex_db.tools.local import access_keys
from alex_db.tools.local.admission import Signer
from alex_db.tools.local.signatures import (
    ALLOWED_SKEW,
    AccessKey,
    SignatureError,
    SignedRequest,
    verify,
)
from alex_db.tools.shared import variables
from alex_db.tools.shared.local_identity import REGION
from tests.local_support import (
    IN_ALEX,
    TEST_KEY,
    FakeClock,
    rds_data_client,
    sdk_headers,
    serving,
    signer_for,
    table,
)
from tests.test_local_front_door import refusal, send

TEMPORARY_KEY = AccessKey("ASIAEXAMPLETEMPORARY", "temporary-secret", "the-session-token", "sso")


def botocore_signed(
    url: str, body: bytes, headers: dict[str, str], key: AccessKey = TEST_KEY,
    region: str = REGION,
) -> SignedRequest:
    """What reaches the server when botocore signs this request: the target as sent, every
    header including the Host urllib3 adds, the body."""
    request = AWSRequest(method="POST", url=url, data=body, headers=headers)
    credentials = Credentials(key.key_id, key.secret, key.session_token)
    SigV4Auth(credentials, "rds-data", region).add_auth(request)
    prepared = request.prepare()
    address = urlsplit(prepared.url)
    message = Message()
    message["Host"] = address.netloc
    for name, value in prepared.headers.items():
        message[name] = value.decode() if isinstance(value, bytes) else value
    target = address.path + (f"?{address.query}" if address.query else "")
    return SignedRequest("POST", target, message, prepared.body or b"")


def known(*keys: AccessKey):
    return {key.key_id: key for key in keys}.get


NOW = lambda: datetime.now(UTC)  # noqa: E731 - the clock the endpoint uses

# Paths and queries botocore percent-encodes on its way out, header values with runs of spaces.
SEGMENT = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="/?#"), max_size=8)
QUERY_PART = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="&=#"), max_size=6)
HEADER_VALUE = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=20
).filter(lambda value: value.strip())


@settings(max_examples=150, deadline=None)
@given(
    segments=st.lists(st.one_of(SEGMENT, st.sampled_from([".", "..", ""])), max_size=4),
    query=st.lists(st.tuples(QUERY_PART, QUERY_PART), max_size=3),
    extra=st.dictionaries(st.sampled_from(["x-amz-meta", "x-custom", "x-amz-target"]),
                          HEADER_VALUE, max_size=2),
    body=st.binary(max_size=200),
)
def test_every_request_botocore_signs_verifies(segments, query, extra, body):
    from urllib.parse import quote

    # Encoded as botocore's serializers encode them (botocore/utils.py percent_encode: only
    # RFC 3986's unreserved characters left bare, so a space is %20, never '+').
    path = "/" + "/".join(quote(segment, safe="") for segment in segments)
    pairs = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in query)
    url = "http://127.0.0.1:8432" + path + (f"?{pairs}" if query else "")
    request = botocore_signed(url, body, {"Content-Type": "application/json", **extra})
    assert verify(request, known(TEST_KEY), REGION, "rds-data", NOW()) == TEST_KEY


@settings(max_examples=60, deadline=None)
@given(body=st.binary(min_size=1, max_size=100), flip=st.integers(min_value=0))
def test_a_body_changed_after_signing_never_verifies(body, flip):
    request = botocore_signed("http://127.0.0.1:8432/Execute", body, {})
    position = flip % len(body)
    changed = body[:position] + bytes([body[position] ^ 1]) + body[position + 1:]
    forged = SignedRequest(request.method, request.target, request.headers, changed)
    with pytest.raises(SignatureError) as refused:
        verify(forged, known(TEST_KEY), REGION, "rds-data", NOW())
    assert refused.value.code == "InvalidSignatureException"


def test_the_clock_may_be_fifteen_minutes_off_and_no_more():
    request = botocore_signed("http://127.0.0.1:8432/Execute", b"{}", {})
    signed_at = datetime.strptime(request.headers["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    for offset in (-ALLOWED_SKEW, ALLOWED_SKEW):
        assert verify(request, known(TEST_KEY), REGION, "rds-data", signed_at + offset) == TEST_KEY
    for offset, words in ((ALLOWED_SKEW + timedelta(seconds=1), "Signature expired"),
                          (-ALLOWED_SKEW - timedelta(seconds=1), "Signature not yet current")):
        with pytest.raises(SignatureError, match=words) as refused:
            verify(request, known(TEST_KEY), REGION, "rds-data", signed_at + offset)
        assert (refused.value.code, refused.value.status) == ("InvalidSignatureException", 403)


# -- through boto3's real client, as a caller --------------------------------------------------


def code_and_status(call) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as raised:
        call()
    error = raised.value.response
    return error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"], error["Error"]["Message"]


def test_the_key_local_knows_is_answered(rds):
    assert rds.execute_statement(sql="SELECT 1", **IN_ALEX)["records"] == [[{"longValue": 1}]]


@pytest.mark.parametrize("key_id, secret", [
    ("local", "local"),  # what the docs used to tell everyone to send
    ("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),  # AWS's documented example
    ("ALEXDBLOCALGUESSED01", TEST_KEY.secret),  # local's prefix, another id
])
def test_a_key_local_does_not_know_is_unrecognized_and_runs_nothing(served, rds, key_id, secret):
    name = table("unknown_key")
    stranger = rds_data_client(served, AccessKey(key_id, secret, None, "a stranger"))
    code, status, message = code_and_status(
        lambda: stranger.execute_statement(sql=f"CREATE TABLE {name} (x int)", **IN_ALEX)
    )
    assert (code, status) == ("UnrecognizedClientException", 403)
    assert message.startswith("The security token included in the request is invalid.")
    assert TEST_KEY.secret not in message
    assert not rds.execute_statement(
        sql="SELECT 1 FROM pg_tables WHERE tablename = :t",
        parameters=[{"name": "t", "value": {"stringValue": name}}], **IN_ALEX,
    )["records"]


def test_the_right_key_with_a_wrong_secret_is_an_invalid_signature(served):
    guesser = rds_data_client(served, AccessKey(TEST_KEY.key_id, "wrong-secret", None, "guess"))
    code, status, message = code_and_status(
        lambda: guesser.execute_statement(sql="SELECT 1", **IN_ALEX)
    )
    assert (code, status) == ("InvalidSignatureException", 403)
    assert message.startswith("The request signature we calculated does not match")


def test_a_call_signed_for_another_region_than_the_arns_is_refused(served):
    elsewhere = rds_data_client(served, region="eu-west-1")
    code, status, message = code_and_status(
        lambda: elsewhere.execute_statement(sql="SELECT 1", **IN_ALEX)
    )
    assert (code, status) == ("InvalidSignatureException", 403)
    assert "Credential should be scoped to a valid region, not 'eu-west-1'" in message
    assert REGION in message


def test_a_body_swapped_after_signing_is_refused_and_never_runs(served, rds):
    name = table("swapped")
    signed_for = json.dumps({**IN_ALEX, "sql": "SELECT 1"}).encode()
    headers = sdk_headers(served, "/Execute", signed_for)
    swapped = json.dumps({**IN_ALEX, "sql": f"CREATE TABLE {name} (x int)"}).encode()
    status, code, _ = refusal(*send(served, list(headers.items()), swapped))
    assert (status, code) == (403, "InvalidSignatureException")
    assert not rds.execute_statement(
        sql="SELECT 1 FROM pg_tables WHERE tablename = :t",
        parameters=[{"name": "t", "value": {"stringValue": name}}], **IN_ALEX,
    )["records"]


def test_temporary_credentials_need_their_session_token(local_postgres):
    with serving(local_postgres, signer=signer_for(TEMPORARY_KEY)) as (_, url):
        assert rds_data_client(url, TEMPORARY_KEY).execute_statement(
            sql="SELECT 1", **IN_ALEX
        )["records"] == [[{"longValue": 1}]]
        for token in (None, "another-token"):
            forged = AccessKey(TEMPORARY_KEY.key_id, TEMPORARY_KEY.secret, token, "forged")
            code, status, _ = code_and_status(
                lambda forged=forged: rds_data_client(url, forged).execute_statement(
                    sql="SELECT 1", **IN_ALEX)
            )
            assert (code, status) == ("UnrecognizedClientException", 403)


def test_a_stale_clock_is_refused_as_aws_refuses_it(local_postgres):
    late = Signer(known(TEST_KEY), REGION, now=lambda: datetime.now(UTC) + timedelta(minutes=20))
    with serving(local_postgres, signer=late) as (_, url):
        code, status, message = code_and_status(
            lambda: rds_data_client(url).execute_statement(sql="SELECT 1", **IN_ALEX)
        )
    assert (code, status) == ("InvalidSignatureException", 403)
    assert message.startswith("Signature expired: ")


AUTHORIZATION_PARTS = st.sampled_from([
    "AWS4-HMAC-SHA256", "Credential=", f"{TEST_KEY.key_id}/20260101/{REGION}/rds-data/aws4_request",
    "SignedHeaders=host;x-amz-date", "Signature=" + "0" * 64, ",", " ", "=", "/", ";", "\u00e9",
])


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    parts=st.lists(AUTHORIZATION_PARTS, max_size=8),
    date=st.one_of(st.none(), st.sampled_from(["20260101T000000Z", "garbage", ""])),
)
def test_no_forged_authorization_is_answered_or_crashes_the_endpoint(served, parts, date):
    body = json.dumps({**IN_ALEX, "sql": "SELECT 1"}).encode()
    headers = {name: value for name, value in sdk_headers(served, "/Execute", body).items()
               if name not in ("Authorization", "X-Amz-Date")}
    headers["Authorization"] = "".join(parts)
    if date is not None:
        headers["X-Amz-Date"] = date
    status, code, _ = refusal(*send(served, list(headers.items()), body))
    assert status in (400, 403)
    assert code in ("IncompleteSignatureException", "InvalidSignatureException",
                    "UnrecognizedClientException", "MissingAuthenticationTokenException")


@pytest.mark.parametrize("date", [
    "Fri, 31 Dec 9999 23:59:59 -0100",  # in UTC past datetime's last year: OverflowError, a 500
    "Mon, 01 Jan 0001 00:00:00 +0100",
    "Fri, 31 Dec 9999 23:59:59 +0000",
])
def test_a_date_header_at_the_calendars_edges_is_refused_not_a_500(served, date):
    """SigV4 may date a request by ``Date`` instead of ``X-Amz-Date``; its time is read before the
    key is looked up, so anyone who can reach the port sends it, with any key id."""
    body = json.dumps({**IN_ALEX, "sql": "SELECT 1"}).encode()
    headers = {name: value for name, value in sdk_headers(served, "/Execute", body).items()
               if name not in ("Authorization", "X-Amz-Date")}
    headers["Date"] = date
    headers["Authorization"] = (
        f"AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/99991231/{REGION}/rds-data/"
        f"aws4_request, SignedHeaders=date;host, Signature={'0' * 64}"
    )
    status, code, _ = refusal(*send(served, list(headers.items()), body))
    assert (status, code) in (
        (400, "IncompleteSignatureException"), (403, "InvalidSignatureException"),
        (403, "UnrecognizedClientException"),
    )


# -- the keys: local's own, or the developer's own --------------------------------------------


def test_local_makes_its_key_once_private_and_keeps_it(tmp_path):
    first = access_keys.own_key(tmp_path)
    assert first.key_id.startswith(access_keys.LOCAL_KEY_PREFIX)
    assert len(first.key_id) == 20 and len(first.secret) == 40
    assert (tmp_path / access_keys.KEY_FILE).stat().st_mode & 0o777 == 0o600
    assert access_keys.own_key(tmp_path) == first


def test_a_symlink_planted_where_the_key_goes_is_neither_followed_nor_written(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("keep me")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / access_keys.KEY_FILE).symlink_to(victim)
    with pytest.raises(access_keys.AccessKeyError, match="remove it and start again"):
        access_keys.own_key(tmp_path / "data")
    assert victim.read_text() == "keep me"


def write_credentials(folder, key: AccessKey) -> dict[str, str]:
    """An AWS shared credentials file for ``key`` (profile default), and the environment naming
    it, as `aws configure` leaves a developer's machine."""
    path = folder / "credentials"
    path.write_text(
        f"[default]\naws_access_key_id = {key.key_id}\n"
        f"aws_secret_access_key = {key.secret}\n"
        + (f"aws_session_token = {key.session_token}\n" if key.session_token else "")
    )
    return {"AWS_SHARED_CREDENTIALS_FILE": str(path), "AWS_CONFIG_FILE": str(folder / "none")}


def test_the_developers_own_credentials_are_found_and_local_keys_in_the_env_are_skipped(
    tmp_path, monkeypatch
):
    developer = AccessKey("AKIADEVELOPER0000001", "developer-secret", None, "")
    for name, value in write_credentials(tmp_path, developer).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "ALEXDBLOCAL000000001")  # a shell that loaded .env
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local-secret")
    found = access_keys.chain_credentials()
    assert (found.key_id, found.secret) == (developer.key_id, developer.secret)
    assert "shared-credentials-file" in found.source and developer.secret not in found.source


def test_without_any_credentials_the_chain_finds_none(tmp_path, monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    assert access_keys.chain_credentials() is None


def test_a_developer_with_aws_credentials_calls_local_with_them_and_gets_no_keys_in_env(
    local_postgres, tmp_path
):
    from alex_db.tools.local.command import env_update

    developer = AccessKey("AKIADEVELOPER0000002", "developer-secret-2", None, "their profile")
    own = access_keys.own_key(tmp_path)
    keyring = access_keys.Keyring(own=own, developer=lambda: developer)
    with serving(local_postgres, signer=Signer(keyring.find, REGION)) as (_, url):
        for key in (developer, own):
            assert rds_data_client(url, key).execute_statement(sql="SELECT 1", **IN_ALEX)
    left_by_earlier_start = {variables.ACCESS_KEY_VARIABLE: own.key_id}
    change = env_update(url, keyring, left_by_earlier_start)
    assert variables.ACCESS_KEY_VARIABLE not in change.updates
    assert change.drop == [variables.ACCESS_KEY_VARIABLE, variables.SECRET_KEY_VARIABLE]
    assert not change.private
    without = env_update(url, access_keys.Keyring(own=own), {})
    assert without.updates[variables.ACCESS_KEY_VARIABLE] == own.key_id and without.private


def test_rotated_credentials_are_looked_up_again_but_not_on_every_unknown_key():
    clock = [0.0]
    current = [AccessKey("ASIAFIRST00000000001", "s1", "t1", "sso")]
    lookups = []

    def look_up():
        lookups.append(clock[0])
        return current[0]

    keyring = access_keys.Keyring(developer=look_up, clock=lambda: clock[0])
    current[0] = AccessKey("ASIASECOND0000000002", "s2", "t2", "sso")
    assert keyring.find("ASIASECOND0000000002") is None  # within LOOKUP_AGAIN_SECONDS
    clock[0] += access_keys.LOOKUP_AGAIN_SECONDS
    assert keyring.find("ASIASECOND0000000002") == current[0]
    assert keyring.find("ALEXDBLOCALNOBODY001") is None
    assert len(lookups) == 2


@pytest.mark.parametrize("key_id, removed", [
    ("ALEXDBLOCALABCDEFGH1", True),  # local's own: env takes it away with the endpoints
    ("AKIAIOSFODNN7EXAMPLE", False),  # a developer's real key: never touched
])
def test_env_removes_locals_own_key_and_never_a_real_one(tmp_path, monkeypatch, capsys, key_id,
                                                         removed):
    from alex_db.tools.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "outputs.json").write_text(json.dumps({
        "aurora_cluster_arn": "arn:aws:rds:eu-west-1:123456789012:cluster:alex-aurora-cluster",
        "aurora_secret_arn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:alex-AbCdEf",
        "database_name": "alex",
    }))
    key_lines = f"AWS_ACCESS_KEY_ID={key_id}\nAWS_SECRET_ACCESS_KEY=the-secret\n"
    (tmp_path / ".env").write_text(
        f"OPENAI_API_KEY=keep\n{key_lines}AWS_ENDPOINT_URL_RDS_DATA=http://127.0.0.1:8432\n"
        "AWS_ENDPOINT_URL_RDS=http://127.0.0.1:8432\n"
    )
    assert main(["env", "--outputs", "outputs.json"]) == 0
    text = (tmp_path / ".env").read_text()
    assert "AWS_ENDPOINT_URL" not in text and "OPENAI_API_KEY=keep\n" in text
    assert (key_lines in text) is not removed


def test_a_bug_is_a_500_whose_log_line_quotes_no_secret(local_postgres, capfd):
    """An unexpected exception's message can quote what it was handed (psycopg quotes the
    connection string, password included): the log line names its type and place only."""
    with serving(local_postgres) as (api, url):
        def failing(*args, **kwargs):
            raise RuntimeError(f"password={TEST_KEY.secret}")

        api.handle = failing
        code, status, _ = code_and_status(
            lambda: rds_data_client(url).execute_statement(sql="SELECT 1", **IN_ALEX)
        )
    err = capfd.readouterr().err
    assert (code, status) == ("InternalServerErrorException", 500)
    assert "RuntimeError at test_local_signatures.py:" in err
    assert TEST_KEY.secret not in err


@pytest.mark.parametrize("url, removed", [
    ("http://127.0.0.1:8432", True),
    ("http://localhost:9000", True),
    ("http://[::1]:8432", True),
    ("https://vpce-0abc.rds-data.eu-west-1.vpce.amazonaws.com", False),  # the user's own
    ("not a url", False),
])
def test_env_removes_an_endpoint_only_when_it_points_at_this_machine(url, removed):
    owned = variables.written_by_local({variables.ENDPOINT_VARIABLE: url})
    assert (variables.ENDPOINT_VARIABLE in owned) is removed


SLOW_CREDENTIAL_PROCESS = """#!/bin/sh
# The developer's credential_process: the first run answers at once (local's start); later ones
# wait, as one waits for a prompt, an MFA tap or a network, until the test lets them go.
count=$(cat {folder}/runs 2>/dev/null || echo 0)
echo $((count + 1)) > {folder}/runs
if [ "$count" -gt 0 ]; then
    touch {folder}/waiting
    for _ in $(seq 600); do [ -e {folder}/go ] && break; sleep 0.1; done
fi
printf '{{"Version": 1, "AccessKeyId": "{key_id}", "SecretAccessKey": "{secret}"}}'
"""


def test_an_unknown_key_that_sets_off_a_slow_credential_look_up_holds_up_no_other_call(
    local_postgres, tmp_path, monkeypatch
):
    """Anyone who can reach the port can send an unknown key id, which makes ``local`` look the
    developer's credentials up again (once every 5 s). That look-up runs the developer's
    ``credential_process``, SSO or role chain, which can take seconds or wait for a person; held
    under the keyring's lock, it stopped every call, the developer's own signed ones included."""
    developer = AccessKey("AKIADEVELOPER0000003", "developer-secret-3", None, "")
    script = tmp_path / "credentials.sh"
    script.write_text(SLOW_CREDENTIAL_PROCESS.format(
        folder=tmp_path, key_id=developer.key_id, secret=developer.secret))
    script.chmod(0o700)
    (tmp_path / "config").write_text(f"[default]\ncredential_process = {script}\n")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    clock = FakeClock()
    keyring = access_keys.Keyring(developer=access_keys.chain_credentials, clock=clock)
    assert keyring.developer.key_id == developer.key_id
    clock.advance(access_keys.LOOKUP_AGAIN_SECONDS)
    stranger = AccessKey("AKIASTRANGER00000001", "a-guess", None, "another user")
    with serving(local_postgres, signer=Signer(keyring.find, REGION)) as (_, url):
        strangers_call = threading.Thread(target=lambda: pytest.raises(
            ClientError, rds_data_client(url, stranger).execute_statement, sql="SELECT 1",
            **IN_ALEX))
        strangers_call.start()
        for _ in range(600):  # the look-up has begun (bounded: 60 s)
            if (tmp_path / "waiting").exists():
                break
            time.sleep(0.1)
        answers = []
        developers_call = threading.Thread(target=lambda: answers.append(
            rds_data_client(url, developer).execute_statement(sql="SELECT 1", **IN_ALEX)))
        developers_call.start()
        developers_call.join(timeout=30)  # a hang detector, not a timing: it answers in ms
        held_up = developers_call.is_alive()
        (tmp_path / "go").touch()
        developers_call.join()
        strangers_call.join()
    assert (tmp_path / "waiting").exists()
    assert not held_up, "the developer's call waited for the stranger's credential look-up"
    assert answers[0]["records"] == [[{"longValue": 1}]]


BROKEN_AWS_CONFIGS = [
    ("[default]\nregion = us-east-1\n", "a-profile-that-is-not-there"),
    ("[default\nregion = us-east-1\n", None),  # a typo in ~/.aws/config
    ("[default]\ncredential_process = /no/such/program\n", None),  # FileNotFoundError
    ('[default]\ncredential_process = "unbalanced\n', None),  # shlex's ValueError
]


def broken_aws_config(folder, config: str, profile: str | None) -> dict[str, str]:
    """The environment of a developer whose AWS set-up botocore cannot read."""
    (folder / "config").write_text(config)
    environ = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    environ |= {"AWS_CONFIG_FILE": str(folder / "config"),
                "AWS_SHARED_CREDENTIALS_FILE": str(folder / "none")}
    return environ | ({"AWS_PROFILE": profile} if profile else {})


@pytest.mark.parametrize("config, profile", BROKEN_AWS_CONFIGS)
def test_an_aws_config_botocore_cannot_read_means_no_developer_key(
    tmp_path, monkeypatch, config, profile
):
    """The developer's AWS set-up is read at start to find their credentials; a profile named in
    AWS_PROFILE that the config lacks, or a config file that does not parse, raised botocore's
    ProfileNotFound / ConfigParseError out of ``local``, and a ``credential_process`` that cannot
    be run raised OSError or ValueError (botocore wraps neither): a traceback and exit 1, or a 500
    for every call that set off a new look-up. Like credentials that cannot be resolved, it
    means no developer key, and the endpoint still reads its own model."""
    from alex_db.tools.local.endpoint import operation_paths

    for name in [name for name in os.environ if name.startswith("AWS_")]:
        monkeypatch.delenv(name)
    for name, value in broken_aws_config(tmp_path, config, profile).items():
        if name.startswith("AWS_"):
            monkeypatch.setenv(name, value)
    assert access_keys.chain_credentials() is None
    assert "/Execute" in operation_paths()


def test_local_starts_with_its_own_key_when_the_aws_config_cannot_be_read(tmp_path):
    """The same, end to end, once: the command starts, says which key it accepts, no traceback."""
    from tests.local_support import reachable_folder, server_bin_dir, start_local, stop_local

    server_bin_dir()
    environ = broken_aws_config(tmp_path, *BROKEN_AWS_CONFIGS[0])
    with reachable_folder("alexdb-awsconfig-") as top:
        process, first = start_local(tmp_path, top / "data", environ)
        code, rest = stop_local(process)
    assert "Data API on" in first, first + rest
    assert "with the keys in .env" in first
    assert "Traceback" not in first + rest and code == 0
