"""The five Data API operations over a local PostgreSQL, with AWS's transaction rules and errors.

Semantics follow botocore's ``rds-data`` model (``service-2.json``) and AWS's documentation:

- A call without ``transactionId`` commits on its own. ``BeginTransaction`` returns an id whose
  statements run on one dedicated connection, so they see their own writes and nobody else does
  until ``CommitTransaction``. An unknown or ended id is ``TransactionNotFoundException``.
- "A transaction can run for a maximum of 24 hours ... A transaction times out if no calls use
  its transaction ID in three minutes ... it's rolled back automatically." (``BeginTransaction``
  in the model): both limits are applied, and expired transactions are rolled back.
- On Serverless v2 and provisioned clusters (Aurora User Guide, "Comparing Amazon RDS Data API
  behaviors for Aurora Serverless v2 and provisioned clusters with Aurora Serverless v1
  clusters"): several statements in one call are ``ValidationException: Multistatements aren't
  supported.`` (PostgreSQL's extended protocol, which we always use, refuses them before any
  runs); the ``schema`` parameter is ``ValidationException: The schema parameter isn't
  supported``; a call on a transaction that is still running one is refused at once with
  ``DatabaseErrorException: Transaction is still running a query``.
- Results are limited as the model documents: "If the call returns more than 1 MiB of response
  data, the call is terminated", refused with AWS's message "Database returned more than the
  allowed response size limit"; ``formatRecordsAs: JSON`` has its own limit, 10 MB on
  ``formattedRecords`` ("The JSON response is limited to 10 megabytes", AWS's "Processing
  Amazon RDS Data API query results in JSON format"). Rows are converted one at a time and the
  call is refused as soon as the limit is passed, so a careless ``SELECT`` over a big table does
  not make this process build the whole answer first; a query's rows also arrive one at a time
  (libpq's single-row mode) and the rest is cancelled, so the result is never held whole (other
  statements with ``RETURNING`` are still received whole: only their complete result carries the
  update count). Inside a transaction the refusal also ends the transaction: "the API was
  changed to terminate and delete the transaction when the data returned by the statement
  exceeds the limit" (aurora-data-api's live suite, ``test_pagination_backoff``, skipped for that
  reason), so the next call with its id is ``TransactionNotFoundException``.
- SQL errors are ``DatabaseErrorException`` with PostgreSQL's message, its hint and the error's
  position when there is one, and its SQLSTATE, in that order: ``ERROR: operator does not exist:
  uuid = text; Hint: No operator matches ... explicit type casts.; Position: 54; SQLState:
  42883`` (drizzle-team/drizzle-orm#2583, Serverless v2). DB-API drivers parse that form: the
  SQLSTATE after ``; Position: N; SQLState:`` is what cloud-utils/aurora-data-api (``base.py``,
  ``_get_database_error``) turns into ``ProgrammingError`` or ``IntegrityError``. PostgreSQL's
  detail is left out, as on Serverless v2 (a foreign-key violation comes back without its
  ``Key (...)=(...)`` detail, cloud-utils/aurora-data-api#53): it quotes row values. The position
  counts characters in the statement with bare ``$n`` placeholders, which is what the Data API's
  JDBC driver sends PostgreSQL.
- Without ``database`` PostgreSQL connects to the database named after the user, which does not
  exist: the same error AWS gives when ``database`` is left out (aws/aws-cli#8577).
- ``BatchExecuteStatement`` runs its statement once per parameter set: "The SQL statement is
  executed as many times as the number of parameter sets provided. To execute a SQL statement with
  no parameters ... Specify one or more empty parameter sets" (``parameterSets`` in the model), so
  no sets run nothing and answer ``updateResults: []``.
- Each open transaction holds a connection of its own (on AWS too: data-api-client#37), and
  PostgreSQL has ``max_connections`` of them. So that open transactions never starve the calls
  outside a transaction, ``STATEMENT_CONNECTIONS`` are always left for those calls, and the
  ``BeginTransaction`` that would take one of them is refused instead. AWS documents no limit on
  open transactions and no error for it; the refusal is the one PostgreSQL gives when its
  connections run out (``ERROR: sorry, too many clients already; SQLState: 53300``), the error a
  ``BeginTransaction`` past the database's connections already got here. Calls outside a
  transaction that find every connection busy wait for one.
- "By default, the Data API cancels an operation and returns a timeout error if the operation
  doesn't finish processing within 45 seconds ... you can specify the ``continueAfterTimeout``
  parameter for the ``ExecuteStatement`` operation. Your application still receives the timeout
  error. However, the operation continues running and isn't canceled." (Aurora User Guide,
  "Controlling Data API timeout behavior", ``data-api-timeouts.html``); the error is the model's
  ``StatementTimeoutException`` (``botocore/data/rds-data/2018-08-01/service-2.json``, 400). So
  a watchdog thread cancels in PostgreSQL the statement of a call past
  ``statement_timeout_seconds`` (45 by default), which then answers the timeout; with
  ``continueAfterTimeout`` the call runs on a thread of its own, the timeout is answered while
  its statement runs to its end, and its connection is given back then. A caller that hangs up
  (the endpoint tells through ``caller_gone``) has its statement cancelled the same way; with
  ``continueAfterTimeout`` it too runs to its end, since the caller asked that it not be cut off.
- ``BatchExecuteStatement`` has "no fixed upper limit on the number of parameter sets", only the
  4 MiB request (the operation's documentation in the model). Each set is bound against the whole
  statement, so the work grows with sets times the statement's length: a batch whose work passes
  ``MAX_BATCH_WORK`` characters is refused with ``ValidationException`` before any SQL runs, and a
  batch within it is still ended by the statement timeout, binding included.
- Strings in a request are Unicode text: Smithy's ``string`` is UTF-8, which cannot hold a lone
  (unpaired) surrogate, and RFC 8259 (section 8.2) leaves a ``\\ud800`` escape's meaning
  "unpredictable". botocore sends such a Python string as that escape (``json.dumps``), so a call
  can carry one; it is a ``BadRequestException`` naming the field, before anything runs.
- ``COPY ... FROM STDIN`` and ``COPY ... TO STDOUT`` answer what the Data API's JDBC driver gives
  a plain statement (pgjdbc ``QueryExecutorImpl.processResults``): for ``FROM STDIN`` it sends
  ``CopyFail`` "COPY commands are only supported using the CopyManager API.", so PostgreSQL fails
  the statement with 57014 (and a transaction is aborted, as any failed statement aborts it); for
  ``TO STDOUT`` the rows are read and dropped, and the error is that message with SQLSTATE 0A000,
  the statement itself having succeeded.
- The Data API runs a transaction's statements on a JDBC connection with autocommit off, and
  pgjdbc sends ``BEGIN`` before a statement whenever the session is not in a transaction
  (``QueryExecutorImpl.sendQueryPreamble``: "Send BEGIN on first statement in transaction"). So
  ``COMMIT``, ``ROLLBACK`` or ``END`` sent as SQL inside a transaction ends the work so far, and
  the next statements run in a new transaction that ``CommitTransaction`` or
  ``RollbackTransaction`` ends: the same here, never autocommitting.
- ``pause_after`` emulates Aurora Serverless v2 auto-pause: after that many idle seconds with no
  open transaction (Aurora does not pause with open connections), calls get
  ``DatabaseResumingException`` for ``resume_seconds``, then succeed.
"""

from __future__ import annotations

import itertools
import json
import re
import secrets
import select
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass, field

import psycopg
from psycopg import pq

from alex_db.tools.local.errors import DataApiError, bad_request
from alex_db.tools.local.metadata import column_metadata
from alex_db.tools.local.parameters import Bound, bind
from alex_db.tools.local.results import (
    Options,
    columns_of,
    fields,
    plain_row,
    use_text_for_unparsed_types,
)

IDLE_TRANSACTION_SECONDS = 180.0
LONGEST_TRANSACTION_SECONDS = 24 * 3600.0
RESUME_SECONDS = 5.0
# SqlStatement's max length in the model.
MAX_SQL_LENGTH = 65536
MAX_RESULT_BYTES = 1024 * 1024
# "10 MB", read as 10**7 (the stricter reading): nothing passes here that AWS could refuse.
MAX_JSON_RESULT_BYTES = 10 * 1000 * 1000
RESPONSE_TOO_LARGE = "Database returned more than the allowed response size limit"
COUNTED_COMMANDS = frozenset({"INSERT", "UPDATE", "DELETE", "MERGE"})
# PostgreSQL's refusal of a multi-command string in the extended protocol (syntax_error).
MULTIPLE_COMMANDS = "cannot insert multiple commands into a prepared statement"
IDLE_CONNECTIONS_KEPT = 8
# Of PostgreSQL's connections (max_connections less the reserved ones): left for psql and local's
# own sessions, and always kept for calls outside a transaction.
CONNECTIONS_LEFT_FREE = 3
STATEMENT_CONNECTIONS = 10
# How long a call outside a transaction waits for a connection when all are busy.
CONNECTION_WAIT_SECONDS = 45.0
# AWS's default limit on a call (the module's docstring has the source).
STATEMENT_TIMEOUT_SECONDS = 45.0
# How often the watchdog looks at the calls running: their deadlines, whether their callers left.
CALLER_CHECK_SECONDS = 0.05
# A cancel request can reach PostgreSQL between two statements of a call, where it does nothing:
# it is sent again every CANCEL_RETRY_SECONDS until the call ends.
CANCEL_RETRY_SECONDS = 0.25
# A batch binds each parameter set against the whole statement: its work, in characters, is the
# sets times (the statement's length + SET_WORK). The limit is the 4 MiB a request may hold.
MAX_BATCH_WORK = 4 * 1024 * 1024
SET_WORK = 64
# pgjdbc's answer to COPY sent as a plain statement (the module's docstring has the source).
COPY_REFUSED = "COPY commands are only supported using the CopyManager API."
TOO_MANY_CLIENTS = "ERROR: sorry, too many clients already; SQLState: 53300"
CONNECTION_LIMIT_SQL = """
SELECT current_setting('max_connections')::int
     - current_setting('superuser_reserved_connections')::int
     - coalesce(current_setting('reserved_connections', true), '0')::int
"""
_FATAL = re.compile(r"FATAL:\s+(?P<message>.*)")
# A statement that starts (after blanks and comments) as a query: its rows may be streamed.
# Each alternative starts with its own character, so matching is linear in the SQL's length.
_QUERY = re.compile(
    r"(?:\s|--[^\n]*(?:\n|$)|/\*(?:[^*]|\*(?!/))*\*/)*(?:SELECT|VALUES|TABLE)\b", re.IGNORECASE
)
# The session's state once a statement is over (not still running, not in COPY).
SETTLED = frozenset(
    {pq.TransactionStatus.IDLE, pq.TransactionStatus.INTRANS, pq.TransactionStatus.INERROR}
)


@dataclass
class _Transaction:
    connection: psycopg.Connection
    database: str | None
    started: float
    last_used: float
    lock: threading.Lock = field(default_factory=threading.Lock)


class DataApi:
    """The operations, keyed by the model's operation names (see ``OPERATIONS``)."""

    def __init__(
        self,
        connect: Callable[[str | None], dict],
        cluster_arn: str,
        secret_arn: str,
        *,
        clock: Callable[[], float] = time.monotonic,
        pause_after: float | None = None,
        resume_seconds: float = RESUME_SECONDS,
        idle_transaction_seconds: float = IDLE_TRANSACTION_SECONDS,
        longest_transaction_seconds: float = LONGEST_TRANSACTION_SECONDS,
        connection_limit: int | None = None,
        connection_wait_seconds: float = CONNECTION_WAIT_SECONDS,
        statement_timeout_seconds: float = STATEMENT_TIMEOUT_SECONDS,
    ) -> None:
        """``connect(database)`` gives psycopg connection arguments for that database;
        ``connection_limit`` is how many connections this may open (default: PostgreSQL's
        ``max_connections`` less its reserved ones and ``CONNECTIONS_LEFT_FREE``, asked once);
        a call waits ``connection_wait_seconds`` for one when all are busy, and is given
        ``statement_timeout_seconds`` to run (AWS's 45 s; tests shrink both)."""
        self._conninfo = connect
        self.cluster_arn = cluster_arn
        self.secret_arn = secret_arn
        self._clock = clock
        self._pause_after = pause_after
        self._resume_seconds = resume_seconds
        self._idle_limit = idle_transaction_seconds
        self._total_limit = longest_transaction_seconds
        self._lock = threading.Lock()
        self._freed = threading.Condition(self._lock)  # a connection was closed or went idle
        self._connection_limit = connection_limit
        self._connection_wait = connection_wait_seconds
        self._statement_seconds = statement_timeout_seconds
        self._watched: set[_Call] = set()  # calls running now, for the watchdog
        self._watchdog: threading.Thread | None = None
        self._closing = threading.Event()
        self._open = 0  # connections open: idle, in a call or in a transaction
        self._beginning = 0  # BeginTransaction calls under way
        self._idle: dict[str | None, list[psycopg.Connection]] = {}
        self._transactions: dict[str, _Transaction] = {}
        self._last_call = clock()
        self._resuming_until: float | None = None

    def handle(
        self, operation: str, request: dict, caller_gone: Callable[[], bool] = lambda: False
    ) -> dict:
        """Run ``operation`` (e.g. ``ExecuteStatement``) or raise its ``DataApiError``;
        ``caller_gone()`` says whether the caller has hung up (its statement is then cancelled)."""
        method = OPERATIONS.get(operation)
        if method is None:
            raise bad_request(f"unknown operation {operation}")
        _refuse_lone_surrogates(request)
        if "schema" in request:
            raise DataApiError("ValidationException", "The schema parameter isn't supported")
        self._check_identity(request)
        self.expire_transactions()
        self._wake()
        # continueAfterTimeout is ExecuteStatement's alone (the model).
        keep_running = (
            operation == "ExecuteStatement" and request.get("continueAfterTimeout") is True
        )
        return self._supervised(lambda call: method(self, request, call), keep_running, caller_gone)

    def close(self) -> None:
        """Stop the watchdog, roll back open transactions and close every connection."""
        self._closing.set()
        with self._lock:
            transactions, self._transactions = list(self._transactions.values()), {}
            idle, self._idle = [c for cs in self._idle.values() for c in cs], {}
        for connection in [t.connection for t in transactions] + idle:
            self._discard(connection)

    def expire_transactions(self) -> None:
        """Roll back the transactions past AWS's idle or total time limit."""
        now = self._clock()
        with self._lock:
            expired = [
                key
                for key, t in self._transactions.items()
                if now - t.last_used > self._idle_limit or now - t.started > self._total_limit
            ]
            # A transaction busy with a call is left to that call; the next look ends it.
            ended = [
                self._transactions.pop(key)
                for key in expired
                if self._transactions[key].lock.acquire(blocking=False)
            ]
        for transaction in ended:
            self._discard(transaction.connection)
            transaction.lock.release()

    # -- the operations -------------------------------------------------------------------

    def execute_statement(self, request: dict, call: _Call) -> dict:
        sql = _required_sql(request)
        bound = bind(sql, _list(request, "parameters"))
        options = Options.from_request(request.get("resultSetOptions"))
        as_json = request.get("formatRecordsAs") == "JSON"
        with (
            self._session(request, call) as connection,
            connection.cursor() as cursor,
            closing(_rows(cursor, bound)) as rows,
        ):
            first = next(rows, None)
            response: dict = {"numberOfRecordsUpdated": _updated(cursor), "generatedFields": []}
            if not _has_result(cursor, bound):  # a command
                return response
            rows = itertools.chain([] if first is None else [first], rows)
            columns = columns_of(cursor)
            if as_json:  # columnMetadata is "blank if formatRecordsAs is JSON" (the model)
                labels = _unique_labels(cursor)
                objects = (plain_row(labels, row, columns, options) for row in rows)
                response["formattedRecords"] = json.dumps(_within(MAX_JSON_RESULT_BYTES, objects))
                return response
            records = (fields(row, columns, options) for row in rows)
            response["records"] = _within(MAX_RESULT_BYTES, records)
            if request.get("includeResultMetadata"):
                response["columnMetadata"] = column_metadata(connection, cursor, columns)
            return response

    def batch_execute_statement(self, request: dict, call: _Call) -> dict:
        sql = _required_sql(request)
        # "The SQL statement is executed as many times as the number of parameter sets provided"
        # (parameterSets in the model): none, or an empty list, runs nothing.
        sets = _list(request, "parameterSets")
        _check_batch_work(sql, sets)
        bound = []
        for parameters in sets:
            call.check()
            bound.append(bind(sql, parameters))
        results = []
        with self._session(request, call) as connection, connection.cursor() as cursor:
            # Outside a transaction (no id, or a null one) the batch commits as one unit, or not
            # at all.
            own_transaction = request.get("transactionId") is None and bool(bound)
            if own_transaction:
                _command(connection, "BEGIN")
            try:
                for statement in bound:
                    call.check()
                    _run(cursor, statement)
                    # "For Aurora PostgreSQL, the generated fields object is empty", RETURNING
                    # or not (AWS's comparison of Serverless v2 and v1 Data API behaviours).
                    results.append({"generatedFields": []})
            except BaseException:
                if own_transaction and not connection.closed:  # a statement may end the session
                    with suppress(psycopg.Error):
                        connection.execute("ROLLBACK")
                raise
            if own_transaction:
                _command(connection, "COMMIT")
        return {"updateResults": results}

    def begin_transaction(self, request: dict, call: _Call) -> dict:
        # AWS documents no quota; each transaction holds a connection (data-api-client#37), so
        # the one that would take a connection kept for other calls gets PostgreSQL's refusal.
        database = request.get("database")
        if self._connection_limit is None:  # learnt with the first connection
            self._give(database, self._take(database))
        with self._lock:
            if len(self._transactions) + self._beginning >= self._transaction_limit():
                raise DataApiError("DatabaseErrorException", TOO_MANY_CLIENTS)
            self._beginning += 1
        try:
            connection = self._take(database)
            try:
                with call.running_on(connection):
                    _command(connection, "BEGIN")
            except BaseException:
                self._discard(connection)
                raise
            key = secrets.token_urlsafe(48)
            now = self._clock()
            with self._lock:
                self._transactions[key] = _Transaction(connection, database, now, now)
        finally:
            with self._lock:
                self._beginning -= 1
        return {"transactionId": key}

    def commit_transaction(self, request: dict, call: _Call) -> dict:
        # A transaction with a failed statement is rolled back by PostgreSQL's COMMIT, and AWS
        # still answers "Transaction Committed": aurora-data-api's live suite catches a SQL error
        # inside a transaction, then commits, and its client raises unless that is the status
        # (test_invalid_statements, test_postgres_exceptions; aurora_data_api commit()).
        transaction = self._end(request)
        try:
            self._finish(transaction, "COMMIT", call)
        finally:
            transaction.lock.release()
        return {"transactionStatus": "Transaction Committed"}

    def rollback_transaction(self, request: dict, call: _Call) -> dict:
        transaction = self._end(request)
        try:
            self._finish(transaction, "ROLLBACK", call)
        finally:
            transaction.lock.release()
        return {"transactionStatus": "Rollback Complete"}

    # -- plumbing ---------------------------------------------------------------------------

    def _supervised(
        self, work: Callable[[_Call], dict], keep_running: bool, caller_gone: Callable[[], bool]
    ) -> dict:
        """``work``'s answer, within the statement timeout and while the caller is there.

        A call runs on the thread that answers it, watched by the watchdog thread (``_watch``),
        which cancels its statement past the timeout or once the caller has hung up; the call
        then answers why. With ``keep_running`` (``continueAfterTimeout``) the statement must
        outlive the answer, so it runs on a thread of its own, and this one answers the timeout
        (or stops waiting for a caller who is gone) while it goes on."""
        call = _Call(time.monotonic() + self._statement_seconds, caller_gone)
        if keep_running:
            worker = threading.Thread(target=call.run, args=(work,), daemon=True)
            worker.start()
            while not call.done.wait(
                min(CALLER_CHECK_SECONDS, max(call.deadline - time.monotonic(), 0))
            ):
                if time.monotonic() >= call.deadline:
                    raise self._timed_out("it continues to run (continueAfterTimeout)")
                if caller_gone():
                    raise _hung_up()
            return call.result()
        self._start_watchdog()
        with self._lock:
            self._watched.add(call)
        try:
            return work(call)
        except DataApiError:
            if call.given_up is not None:  # cancelled by the watchdog: say why
                raise call.given_up from None
            raise
        finally:
            with self._lock:
                self._watched.discard(call)

    def _start_watchdog(self) -> None:
        with self._lock:
            if self._watchdog is None:
                self._watchdog = threading.Thread(target=self._watch, daemon=True)
                self._watchdog.start()

    def _watch(self) -> None:
        """Until ``close()``: every CALLER_CHECK_SECONDS, give up each watched call that is past
        its deadline or whose caller has hung up, and cancel its statement, again every
        CANCEL_RETRY_SECONDS until it ends (a cancel that lands between two statements of a
        call does nothing)."""
        while not self._closing.wait(CALLER_CHECK_SECONDS):
            with self._lock:
                watched = list(self._watched)
            for call in watched:
                if call.given_up is None:
                    if time.monotonic() >= call.deadline:
                        call.given_up = self._timed_out("it was cancelled")
                    elif call.caller_gone():
                        call.given_up = _hung_up()
                if call.given_up is not None:
                    call.cancel()

    def _timed_out(self, what_became_of_it: str) -> DataApiError:
        return DataApiError(
            "StatementTimeoutException",
            f"The statement did not finish within {self._statement_seconds:g} seconds; "
            f"{what_became_of_it}",
        )

    def _check_identity(self, request: dict) -> None:
        resource = request.get("resourceArn")
        if resource != self.cluster_arn:
            raise DataApiError(
                "HttpEndpointNotEnabledException",
                f"HttpEndpoint is not enabled for resource {resource}; the local endpoint "
                f"serves {self.cluster_arn}",
            )
        secret = request.get("secretArn")
        if secret not in (self.secret_arn, self.secret_arn.rsplit(":", 1)[-1]):
            raise DataApiError(
                "SecretsErrorException",
                f"Secrets Manager can't find the specified secret {secret}; the local endpoint "
                f"accepts {self.secret_arn}",
            )

    def _wake(self) -> None:
        now = self._clock()
        with self._lock:
            if self._resuming_until is not None and now >= self._resuming_until:
                self._resuming_until = None
            elif self._resuming_until is None and self._pause_after is not None:
                idle = now - self._last_call >= self._pause_after
                if idle and not self._transactions:
                    self._resuming_until = now + self._resume_seconds
            if self._resuming_until is not None:
                raise DataApiError(
                    "DatabaseResumingException",
                    "The Aurora DB instance alex-local is resuming after being auto-paused. "
                    "Please wait a few seconds and try again.",
                )
            self._last_call = now

    @contextmanager
    def _session(self, request: dict, call: _Call) -> Iterator[psycopg.Connection]:
        """The transaction's connection (held for the call), or a pooled autocommit one; given
        back however the call ends, and marked as the call's, so that it can be cancelled."""
        key = request.get("transactionId")
        if key is not None:
            transaction = self._transaction(key)
            _claim(transaction)
            try:
                if self._transactions.get(key) is not transaction:  # ended meanwhile
                    raise _not_found(key)
                with call.running_on(transaction.connection):
                    yield transaction.connection
            except DataApiError as error:
                if error.ends_transaction:
                    transaction.connection.close()  # PostgreSQL rolls it back; forgotten below
                raise
            finally:
                transaction.last_used = self._clock()
                _begin_again_if_ended(transaction.connection)
                if transaction.connection.closed:  # its session died (terminated, crashed)
                    self._forget(key, transaction)
                transaction.lock.release()
            return
        database = request.get("database")
        connection = self._take(database)
        try:
            with call.running_on(connection):
                yield connection
        finally:
            self._give(database, connection)

    def _transaction(self, key: object) -> _Transaction:
        with self._lock:
            transaction = self._transactions.get(key) if isinstance(key, str) else None
        if transaction is None:
            raise _not_found(key)
        return transaction

    def _forget(self, key: str, transaction: _Transaction) -> None:
        """Drop a transaction whose connection is gone: later calls find no such transaction."""
        with self._lock:
            if self._transactions.get(key) is transaction:
                del self._transactions[key]
        self._discard(transaction.connection)

    def _end(self, request: dict) -> _Transaction:
        """Take the transaction out of the table, its lock held (the caller releases it)."""
        key = request.get("transactionId")
        transaction = self._transaction(key)
        _claim(transaction)
        with self._lock:
            if self._transactions.get(key) is transaction:
                return self._transactions.pop(key)
        transaction.lock.release()
        raise _not_found(key)

    def _finish(self, transaction: _Transaction, command: str, call: _Call) -> None:
        try:
            with call.running_on(transaction.connection):
                _command(transaction.connection, command)
        except BaseException:
            self._discard(transaction.connection)
            raise
        self._give(transaction.database, transaction.connection)

    def _take(self, database: object) -> psycopg.Connection:
        """An idle connection to ``database``, or a new one once there is room for it (an idle
        connection to another database is closed to make room; otherwise we wait)."""
        if database is not None and not isinstance(database, str):
            raise bad_request("database must be a string")
        deadline = time.monotonic() + self._connection_wait
        with self._lock:
            while True:
                idle = self._idle.get(database)
                if idle:
                    return idle.pop()
                if self._connection_limit is None or self._open < self._connection_limit:
                    self._open += 1
                    break
                spare = next((cs for cs in self._idle.values() if cs), None)
                if spare:
                    spare.pop().close()
                    self._open -= 1
                    continue
                if not self._freed.wait(deadline - time.monotonic()):
                    raise DataApiError("DatabaseErrorException", TOO_MANY_CLIENTS)
        try:
            connection = psycopg.connect(
                **self._conninfo(database),
                autocommit=True,
                prepare_threshold=None,
                cursor_factory=_ExtendedProtocolCursor,
            )
        except psycopg.OperationalError as error:
            self._closed_one()
            raise _connection_error(error) from None
        except Exception:
            # Anything else (a name libpq cannot take) still gives the slot back, and is not
            # shown: psycopg's messages quote the connection string, password included.
            self._closed_one()
            raise bad_request("database is not a name PostgreSQL can connect to") from None
        try:
            use_text_for_unparsed_types(connection)
            if self._connection_limit is None:
                self._learn_connection_limit(connection)
        except BaseException:
            self._discard(connection)
            raise
        return connection

    def _give(self, database: str | None, connection: psycopg.Connection) -> None:
        reusable = (
            not connection.closed
            and connection.info.transaction_status == pq.TransactionStatus.IDLE
        )
        with self._lock:
            idle = self._idle.setdefault(database, [])
            if reusable and len(idle) < IDLE_CONNECTIONS_KEPT:
                idle.append(connection)
                self._freed.notify()
                return
        self._discard(connection)

    def _discard(self, connection: psycopg.Connection) -> None:
        """Close one of our connections (it may be closed already) and count it gone."""
        connection.close()
        self._closed_one()

    def _closed_one(self) -> None:
        with self._lock:
            self._open -= 1
            self._freed.notify()

    def _learn_connection_limit(self, connection: psycopg.Connection) -> None:
        """PostgreSQL's connections less its reserved ones and ``CONNECTIONS_LEFT_FREE``."""
        try:
            (usable,) = connection.execute(CONNECTION_LIMIT_SQL).fetchone()
        except psycopg.Error:  # answered on the next connection instead
            return
        with self._lock:
            if self._connection_limit is None:
                self._connection_limit = max(usable - CONNECTIONS_LEFT_FREE, 2)

    def _transaction_limit(self) -> int:
        """How many transactions may be open: all connections but ``STATEMENT_CONNECTIONS``."""
        if self._connection_limit is None:  # PostgreSQL did not say: no limit of our own
            return sys.maxsize
        return max(self._connection_limit - STATEMENT_CONNECTIONS, 1)


class _Call:
    """One operation: its deadline, how to tell that its caller has gone, why it was given up,
    and the connection its statement runs on, so that the watchdog can cancel it; with
    ``continueAfterTimeout``, also its outcome on the thread it runs on."""

    def __init__(self, deadline: float, caller_gone: Callable[[], bool]) -> None:
        self.deadline = deadline
        self.caller_gone = caller_gone
        self.given_up: DataApiError | None = None
        self.done = threading.Event()
        self._lock = threading.Lock()
        self._connection: psycopg.Connection | None = None
        self._cancelled_at = -CANCEL_RETRY_SECONDS
        self._answer: dict | None = None
        self._failure: BaseException | None = None

    def run(self, work: Callable[[_Call], dict]) -> None:
        """Run ``work`` on this thread, keeping its outcome for ``result()``."""
        try:
            self._answer = work(self)
        except BaseException as failure:  # handed to the thread that answers the caller
            self._failure = failure
        finally:
            self.done.set()

    def result(self) -> dict:
        """The operation's answer, or its failure raised here."""
        if self._failure is not None:
            raise self._failure
        return self._answer

    def check(self) -> None:
        """Stop here if the call has been given up (between two steps of a batch)."""
        if self.given_up is not None:
            raise self.given_up

    @contextmanager
    def running_on(self, connection: psycopg.Connection) -> Iterator[None]:
        """While the block runs, ``cancel()`` cancels what runs on ``connection``."""
        with self._lock:
            self.check()
            self._connection = connection
        try:
            yield
        finally:
            with self._lock:  # waits for a cancel under way: it never reaches the next user
                self._connection = None

    def cancel(self) -> None:
        """Ask PostgreSQL to cancel the call's statement, at most every CANCEL_RETRY_SECONDS."""
        now = time.monotonic()
        if now - self._cancelled_at < CANCEL_RETRY_SECONDS:
            return
        self._cancelled_at = now
        with self._lock:
            if self._connection is not None:
                with suppress(psycopg.Error):
                    self._connection.cancel_safe(timeout=CANCEL_RETRY_SECONDS * 4)


class _ExtendedProtocolCursor(psycopg.RawCursor):
    """Always PostgreSQL's extended query protocol, which runs exactly one statement (a trailing
    semicolon and ``BEGIN ATOMIC`` bodies included) and refuses a string of several before any
    runs. psycopg uses the simple protocol, which runs them all, for a call without parameters
    (``psycopg/_cursor_base.py``, ``_execute_send``: "let's use simple query protocol, as it can
    execute more than one statement"); ``force_extended`` is its own switch for this."""

    def _execute_send(self, query, *, force_extended: bool = False, binary=None) -> None:
        super()._execute_send(query, force_extended=True, binary=binary)


def _hung_up() -> DataApiError:
    return bad_request("the caller closed its connection; its statement was cancelled")


def _claim(transaction: _Transaction) -> None:
    """Hold the transaction for one call, or refuse at once as AWS does when one is running."""
    if not transaction.lock.acquire(blocking=False):
        raise DataApiError("DatabaseErrorException", "Transaction is still running a query")


def _within(limit: int, items: Iterator[object]) -> list[object]:
    """The items, or AWS's response-size refusal as soon as their JSON passes ``limit`` bytes."""
    kept, size = [], 0
    for item in items:
        size += len(json.dumps(item))  # ASCII (json's default), so characters are bytes
        if size > limit:
            # AWS also ends the call's transaction (aurora-data-api, test_pagination_backoff).
            raise DataApiError("BadRequestException", RESPONSE_TOO_LARGE, ends_transaction=True)
        kept.append(item)
    return kept


def _unique_labels(cursor: psycopg.Cursor) -> list[str]:
    """The column labels, the keys of ``formattedRecords``; JSON cannot hold one twice, and the
    Data API "returns an error if ... more than one column has the same name" (AWS's JSON page)."""
    labels = [column.name for column in cursor.description]
    repeated = sorted({label for label in labels if labels.count(label) > 1})
    if repeated:
        raise bad_request(
            f"formatRecordsAs JSON needs unique column labels; {', '.join(repeated)} appears "
            f"more than once (give each column its own alias with AS)"
        )
    return labels


def _not_found(key: object) -> DataApiError:
    return DataApiError("TransactionNotFoundException", f"Transaction {key} is not found")


def _run(cursor: psycopg.Cursor, bound: Bound) -> None:
    try:
        cursor.execute(bound.sql, bound.values or None)
    except psycopg.Error as error:
        if cursor.connection.pgconn.transaction_status == pq.TransactionStatus.ACTIVE:
            raise _end_copy(cursor.connection.pgconn) from None  # still in COPY: psycopg's refusal
        raise _database_error(error, bound) from None


def _rows(cursor: psycopg.Cursor, bound: Bound) -> Iterator[tuple]:
    """The statement's rows as PostgreSQL sends them. A query (``SELECT``, ``VALUES``,
    ``TABLE``, whose update count is always 0) is read one row at a time (psycopg's ``stream``:
    libpq's single-row mode), so that a result past the response limit is refused, and the rest
    cancelled when this is closed, without ever being held whole; any other statement (whose
    update count only its complete result carries) is run whole, as before."""
    if not _QUERY.match(bound.sql):
        _run(cursor, bound)
        if cursor.description is not None:
            yield from cursor
        return
    try:
        yield from cursor.stream(bound.sql, bound.values or None)
    except psycopg.Error as error:
        # psycopg's own ProgrammingError, "the operation in stream() didn't produce a result"
        # (psycopg/_cursor_base.py, _stream_fetchone_gen): it ran as a command (SELECT ... INTO).
        # Not a subclass: those are PostgreSQL's errors (SyntaxError...), each with its SQLSTATE.
        ran_as_command = type(error) is psycopg.ProgrammingError and error.sqlstate is None
        if ran_as_command and cursor.connection.info.transaction_status in SETTLED:
            return
        raise _database_error(error, bound) from None


def _has_result(cursor: psycopg.Cursor, bound: Bound) -> bool:
    """Whether the statement returned a result (columns, rows or none). A streamed query that
    sent no rows leaves the cursor no description (a stream sets it with a row), so it is asked
    of PostgreSQL (Parse and Describe of the unnamed statement) and given to the cursor; False
    for a command (``SELECT ... INTO`` included)."""
    if not _QUERY.match(bound.sql) or cursor.description is not None:
        return cursor.description is not None
    pgconn = cursor.connection.pgconn
    try:
        pgconn.send_prepare(b"", bound.sql.encode(), None)
        if _answer(pgconn).status != pq.ExecStatus.COMMAND_OK:
            return False
        pgconn.send_describe_prepared(b"")
        described = _answer(pgconn)
    except psycopg.Error as error:  # the session ended under it
        raise _database_error(error, bound) from None
    if described.status != pq.ExecStatus.COMMAND_OK or described.nfields == 0:
        return False
    cursor.pgresult = described  # what psycopg's description and the metadata are read from
    return True


def _answer(pgconn: pq.abc.PGconn) -> pq.abc.PGresult:
    """The last result of what was just sent, waited for without holding the interpreter (a
    cancel of the call ends the wait)."""
    waiting = select.poll()
    waiting.register(pgconn.socket, select.POLLIN)
    while pgconn.is_busy():
        waiting.poll(CANCEL_RETRY_SECONDS * 1000)
        pgconn.consume_input()
    last = None
    while (result := pgconn.get_result()) is not None:
        last = result
    return last


def _command(connection: psycopg.Connection, command: str) -> None:
    """``BEGIN``, ``COMMIT`` or ``ROLLBACK``, failing as a statement does."""
    try:
        connection.execute(command)
    except psycopg.Error as error:
        raise _database_error(error) from None


def _begin_again_if_ended(connection: psycopg.Connection) -> None:
    """Inside a Data API transaction, SQL that ended PostgreSQL's transaction (``COMMIT``,
    ``ROLLBACK``, ``END``) is followed by ``BEGIN``, as pgjdbc does before the next statement
    (the module's docstring): later calls stay in a transaction that the id still ends."""
    if not connection.closed and connection.info.transaction_status == pq.TransactionStatus.IDLE:
        with suppress(psycopg.Error):  # a session that fails here is closed, and forgotten
            connection.execute("BEGIN")


def _end_copy(pgconn: pq.abc.PGconn) -> DataApiError:
    """End a ``COPY`` that a plain statement started, as pgjdbc does (the module's docstring):
    ``FROM STDIN`` is failed with ``CopyFail`` and answers PostgreSQL's error; ``TO STDOUT``'s
    rows are read and dropped, and it answers pgjdbc's own refusal (SQLSTATE 0A000)."""
    try:
        try:
            size = pgconn.get_copy_data(1)[0]
        except psycopg.OperationalError:  # libpq's "no COPY in progress" to read: FROM STDIN
            pgconn.put_copy_end(COPY_REFUSED.encode())
            return _last_error(pgconn) or DataApiError("DatabaseErrorException", COPY_REFUSED)
        waiting = select.poll()
        waiting.register(pgconn.socket, select.POLLIN)
        while size != -1:  # ends with the data, or when the watchdog cancels the call
            if size == 0:
                waiting.poll(CANCEL_RETRY_SECONDS * 1000)
                pgconn.consume_input()
            size = pgconn.get_copy_data(1)[0]
        _last_error(pgconn)
    except psycopg.Error as error:  # the session ended under it
        return _database_error(error)
    return DataApiError("DatabaseErrorException", f"ERROR: {COPY_REFUSED}; SQLState: 0A000")


def _last_error(pgconn: pq.abc.PGconn) -> DataApiError | None:
    """Read the statement's remaining results; its error, if it failed."""
    failure = None
    while (result := pgconn.get_result()) is not None:
        if result.status == pq.ExecStatus.FATAL_ERROR:
            message = result.error_field(pq.DiagnosticField.MESSAGE_PRIMARY) or b""
            sqlstate = result.error_field(pq.DiagnosticField.SQLSTATE) or b""
            failure = DataApiError(
                "DatabaseErrorException",
                f"ERROR: {message.decode(errors='replace')}; SQLState: {sqlstate.decode()}",
            )
    return failure


def _refuse_lone_surrogates(request: dict) -> None:
    """A ``BadRequestException`` naming the first string (or key) that holds a lone surrogate,
    which no UTF-8 text can (the module's docstring). Walked without recursion: a request may
    nest as deep as JSON's parser allows."""
    pending: list[tuple[str, object]] = [(key, value) for key, value in request.items()]
    while pending:
        where, value = pending.pop()
        if not _is_text(where) or isinstance(value, str) and not _is_text(value):
            raise bad_request(
                f"{where.encode(errors='backslashreplace').decode()} holds a lone surrogate; "
                f"strings must be Unicode text (UTF-8)"
            )
        if isinstance(value, dict):
            pending.extend((f"{where}.{key}", item) for key, item in value.items())
        elif isinstance(value, list):
            pending.extend((f"{where}[{index}]", item) for index, item in enumerate(value))


def _is_text(text: str) -> bool:
    """Whether ``text`` can be written as UTF-8 (it holds no lone surrogate)."""
    if text.isascii():
        return True
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _check_batch_work(sql: str, sets: list) -> None:
    """Refuse, before anything runs, a batch whose binding would cost more than
    ``MAX_BATCH_WORK`` characters of work (the module's docstring)."""
    work = len(sets) * (len(sql) + SET_WORK)
    if work > MAX_BATCH_WORK:
        raise DataApiError(
            "ValidationException",
            f"parameterSets: {len(sets)} sets of a {len(sql)}-character statement are more than "
            f"alex-db local binds in one call (sets x (characters + {SET_WORK}) at most "
            f"{MAX_BATCH_WORK}); send them in several calls",
        )


def _updated(cursor: psycopg.Cursor) -> int:
    command = (cursor.statusmessage or "").split(" ", 1)[0]
    return max(cursor.rowcount, 0) if command in COUNTED_COMMANDS else 0


def _database_error(error: psycopg.Error, bound: Bound | None = None) -> DataApiError:
    """PostgreSQL's error as Serverless v2 reports it: ``ERROR: message; Hint: ...; Position: N;
    SQLState: XXXXX`` (drizzle-team/drizzle-orm#2583), no detail (cloud-utils/aurora-data-api#53;
    the module's docstring has the sources)."""
    diag = error.diag
    message = diag.message_primary or str(error).strip()
    if message == MULTIPLE_COMMANDS:
        return DataApiError("ValidationException", "Multistatements aren't supported.")
    parts = [f"ERROR: {message}"]
    if diag.message_hint:
        parts.append(f"Hint: {diag.message_hint}")
    if diag.statement_position and diag.statement_position.isdigit():
        position = int(diag.statement_position)
        parts.append(f"Position: {bound.position_in_statement(position) if bound else position}")
    parts.append(f"SQLState: {error.sqlstate}")
    return DataApiError("DatabaseErrorException", "; ".join(parts))


def _connection_error(error: psycopg.OperationalError) -> DataApiError:
    found = _FATAL.search(str(error))
    message = found.group("message").strip() if found else " ".join(str(error).split())
    if "does not exist" in message:
        sqlstate = "3D000"  # invalid_catalog_name
    elif "too many clients" in message or "connection slots are reserved" in message:
        sqlstate = "53300"  # too_many_connections
    else:
        sqlstate = "08006"  # connection_failure
    return DataApiError("DatabaseErrorException", f"ERROR: {message}; SQLState: {sqlstate}")


def _required_sql(request: dict) -> str:
    sql = request.get("sql")
    if not isinstance(sql, str) or not sql.strip():
        raise bad_request("sql is required")
    if len(sql) > MAX_SQL_LENGTH:
        raise bad_request(f"sql is {len(sql)} characters long; at most {MAX_SQL_LENGTH}")
    return sql


def _list(request: dict, key: str) -> list:
    value = request.get(key)
    if value is not None and not isinstance(value, list):
        raise bad_request(f"{key} must be a list")
    return value or []


OPERATIONS: dict[str, Callable[[DataApi, dict], dict]] = {
    "ExecuteStatement": DataApi.execute_statement,
    "BatchExecuteStatement": DataApi.batch_execute_statement,
    "BeginTransaction": DataApi.begin_transaction,
    "CommitTransaction": DataApi.commit_transaction,
    "RollbackTransaction": DataApi.rollback_transaction,
}
