"""Every AWS call ``check`` and ``preflight`` make ends within a wall-clock time of its own.

botocore's timeouts bound each wait on the socket, not a call: urllib3 applies the read timeout
to every ``recv`` (``botocore/httpsession.py`` passes ``urllib3.Timeout(connect=..., read=...)``,
and a socket timeout is per operation), so a peer that sends one byte every half second never
times out, and ``check --wait 3`` ran for minutes against one. ``bounded(client, seconds)`` runs
each call, and each page of a paginator, on a daemon thread and stops waiting once ``seconds``
have passed; the command then reports the call as unanswered, and the thread ends with its
connection or with the process. Waiting on an event also lets Ctrl-C through at once.

After one call has gone unanswered, the client's later calls fail at once with the same error:
a run spends one bounded wait per service, not one per call.

Each answer is also read only up to ANSWER_LIMIT bytes (``read_answers_up_to``): botocore reads a
whole body into memory before any parser or hook sees it (``botocore/httpsession.py``,
``URLLib3Session.send`` reads ``AWSResponse.content``, which joins every chunk the server sends:
``botocore/awsrequest.py``), so an endpoint streaming gigabytes filled memory within the call's
wall-clock time (a loopback server streaming 512 MiB took check to a 2.6 GiB peak; now about
80 MiB: ``tests/test_answer_bodies.py``).
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable, Iterator

import botocore.session
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ReadTimeoutError
from botocore.httpsession import URLLib3Session
from botocore.response import StreamingBody
from botocore.utils import get_environ_proxies

from alex_db.tools.shared.aws_errors import NotAwsAnswerError
from alex_db.tools.shared.files import MIB

# What one answer to check's and preflight's calls may hold. AWS's largest are listing pages (a
# page of DescribeDBEngineVersions or DescribeSubnets: hundreds of KiB of XML); a secret value is
# at most 64 KiB (Secrets Manager's quota) and a Data API result set at most 1 MiB (its
# documented limit). Far above every one of them, far below what fills a laptop's memory.
ANSWER_LIMIT = 16 * MIB


class NoWholeAnswerError(ReadTimeoutError):
    """The endpoint held the call past its time without a whole answer (a ReadTimeoutError, so
    every command reads it as "did not answer in time")."""

    fmt = 'No whole answer from endpoint URL: "{endpoint_url}" within {seconds:.2g} s'


def within(seconds: float, call: Callable[[], object], too_slow: Callable[[], Exception]):
    """``call()``'s result or exception, or ``too_slow()`` raised once ``seconds`` have passed."""
    done = threading.Event()
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["value"] = call()
        except BaseException as error:  # handed to the waiting thread, which raises it
            outcome["error"] = error
        finally:
            done.set()

    threading.Thread(target=run, name="aws-call", daemon=True).start()
    if not done.wait(seconds):
        raise too_slow()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


class BoundedClient:
    """A botocore client whose API calls and paginated pages each end within ``seconds``; every
    other attribute is the client's own (``meta`` included)."""

    def __init__(self, client, seconds: float) -> None:
        self._client = client
        self._seconds = seconds
        self._unanswered: NoWholeAnswerError | None = None
        # botocore's public map of a client's method names to its operations (ClientMeta).
        self._operations = client.meta.method_to_api_mapping

    def __getattr__(self, name: str):
        attribute = getattr(self._client, name)
        if name in self._operations:
            return lambda *args, **kwargs: self.bounded_call(lambda: attribute(*args, **kwargs))
        if name == "get_paginator":
            return lambda operation: BoundedPaginator(self, attribute(operation))
        return attribute

    def bounded_call(self, call: Callable[[], object]):
        """``call()`` (one request of this client) within the client's time."""
        if self._unanswered is not None:
            raise self._unanswered

        def too_slow() -> NoWholeAnswerError:
            self._unanswered = NoWholeAnswerError(
                endpoint_url=self._client.meta.endpoint_url, seconds=self._seconds
            )
            return self._unanswered

        return within(self._seconds, call, too_slow)


class BoundedPaginator:
    """A paginator whose every page is one bounded call."""

    def __init__(self, client: BoundedClient, paginator) -> None:
        self._client = client
        self._paginator = paginator

    def paginate(self, **params) -> Iterator[dict]:
        pages = iter(self._paginator.paginate(**params))
        finished = object()
        while (page := self._client.bounded_call(lambda: next(pages, finished))) is not finished:
            yield page


def _http_session(client, profile: str | None) -> URLLib3Session:
    """An HTTP session with the settings botocore gives a client made without ``verify`` or
    ``proxies`` (as check and preflight make theirs): the client Config's timeouts, pool size,
    client certificate and proxies, else the environment's proxies (``botocore/endpoint.py``,
    ``EndpointCreator.create_endpoint`` and ``_get_proxies``); the profile's or
    ``AWS_CA_BUNDLE``'s CA bundle (``botocore/session.py``, ``create_client``: the ``ca_bundle``
    config variable), else ``REQUESTS_CA_BUNDLE``, else the bundled one
    (``EndpointCreator._get_verify_value``); no Nagle delay (``botocore/args.py``, the socket
    options every client gets)."""
    config = client.meta.config
    ca_bundle = botocore.session.Session(profile=profile).get_config_variable("ca_bundle")
    return URLLib3Session(
        verify=ca_bundle if ca_bundle is not None else os.environ.get("REQUESTS_CA_BUNDLE", True),
        proxies=config.proxies or get_environ_proxies(client.meta.endpoint_url),
        timeout=(config.connect_timeout, config.read_timeout),
        max_pool_connections=config.max_pool_connections,
        socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
        client_cert=config.client_cert,
        proxies_config=config.proxies_config,
    )


class _ReadBody:
    """The already-read body of an answer, in the shape ``AWSResponse.content`` reads."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_) -> Iterator[bytes]:
        """The body, as one chunk."""
        yield self._body


class _AnswerReadOnUse:
    """An answer sent and read (up to a limit) only when botocore first looks at it.

    botocore calls every ``before-send`` handler and sends what the first non-None one returns
    (``botocore/endpoint.py``, ``_do_get_response``; "allows a response to be returned that
    fulfills the request", botocore's event reference). Sending at once would send twice, or for
    real, when an earlier handler (moto's in-process mock) answers; deferred, an unused answer is
    dropped unsent. A failure to connect or read then surfaces from the call without botocore's
    retry (it is raised where botocore reads the answer, not where it sends)."""

    def __init__(self, request, fetch: Callable[[object], AWSResponse]) -> None:
        self._request = request
        self._fetch = fetch
        self._answer: AWSResponse | None = None

    def _fetched(self) -> AWSResponse:
        if self._answer is None:
            self._answer = self._fetch(self._request)
        return self._answer

    url = property(lambda self: self._fetched().url)
    status_code = property(lambda self: self._fetched().status_code)
    headers = property(lambda self: self._fetched().headers)
    raw = property(lambda self: self._fetched().raw)
    content = property(lambda self: self._fetched().content)
    text = property(lambda self: self._fetched().text)


def read_answers_up_to(client, limit: int, profile: str | None = None) -> None:
    """Every answer to ``client`` is read only up to ``limit`` bytes: one longer is
    NotAwsAnswerError, which every command reports as an answer that is not AWS's."""
    sessions: list[URLLib3Session] = []  # made on the first send, then reused

    def fetch(request) -> AWSResponse:
        if not sessions:
            sessions.append(_http_session(client, profile))
        streamed = request.stream_output
        request.stream_output = True  # the session leaves the body unread (httpsession.py)
        try:
            answer = sessions[0].send(request)
        finally:
            request.stream_output = streamed
        # StreamingBody turns urllib3's read errors into botocore's (botocore/response.py).
        body = StreamingBody(answer.raw, None).read(limit + 1)
        if len(body) > limit:
            answer.raw.close()
            raise NotAwsAnswerError(
                f"HTTP {answer.status_code} whose body is longer than {limit // MIB} MiB, more "
                f"than AWS sends"
            )
        return AWSResponse(answer.url, answer.status_code, answer.headers, _ReadBody(body))

    def answer_later(request, **_) -> _AnswerReadOnUse | None:
        if request.stream_output:  # a streaming operation's body is read by its caller
            return None
        return _AnswerReadOnUse(request, fetch)

    client.meta.events.register("before-send", answer_later)


def bounded(client, seconds: float, profile: str | None = None) -> BoundedClient:
    """``client`` with each call and page ending within ``seconds`` and each answer read up to
    ANSWER_LIMIT (this module's docstring); ``profile`` is the AWS profile the client's session
    uses, whose CA bundle the answers are read with."""
    read_answers_up_to(client, ANSWER_LIMIT, profile)
    return BoundedClient(client, seconds)
