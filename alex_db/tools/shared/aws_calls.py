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
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

from botocore.exceptions import ReadTimeoutError


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


def bounded(client, seconds: float) -> BoundedClient:
    """``client`` with each call and page ending within ``seconds`` (this module's docstring)."""
    return BoundedClient(client, seconds)
