"""``alex-db local``'s connections (issue 17 item 12): open transactions never starve the calls
outside a transaction. A module of its own, so that no other endpoint of the session holds
connections of the session's PostgreSQL while this one counts them.
"""

from __future__ import annotations

import threading

from botocore.exceptions import ClientError

from alex_db.tools.local.service import STATEMENT_CONNECTIONS
from tests.local_support import TARGET, begin, rds_data_client, run, serving


def test_transactions_are_refused_before_they_take_the_last_connections(local_postgres):
    """100 open transactions used to make every other statement fail with PostgreSQL's "sorry,
    too many clients already": now the BeginTransaction that would take one of the connections
    kept for other calls is refused with that error instead, and more concurrent calls than
    those connections still all succeed (they wait for a free one)."""
    with serving(local_postgres) as (_, url):
        rds = rds_data_client(url)
        opened, refused = [], None
        for _ in range(200):
            try:
                opened.append(begin(rds))
            except ClientError as error:
                refused = error.response["Error"]
                break
        answers, failures = [], []

        def statement():
            try:
                answers.append(run(rds_data_client(url), "SELECT 1 FROM pg_sleep(0.05)"))
            except ClientError as error:  # pragma: no cover - the failure the test looks for
                failures.append(error.response["Error"])

        threads = [threading.Thread(target=statement) for _ in range(2 * STATEMENT_CONNECTIONS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert (failures, len(answers)) == ([], 2 * STATEMENT_CONNECTIONS)
        assert (refused["Code"], refused["Message"]) == (
            "DatabaseErrorException", "ERROR: sorry, too many clients already; SQLState: 53300"
        )
        assert run(rds, "SELECT 1", transactionId=opened[0])["records"] == [[{"longValue": 1}]]
        rds.rollback_transaction(**TARGET, transactionId=opened.pop())
        opened.append(begin(rds))  # the quota frees as transactions end
        for transaction in opened:
            rds.rollback_transaction(**TARGET, transactionId=transaction)
