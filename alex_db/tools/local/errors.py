"""The Data API's error shapes, as botocore's ``rds-data`` model declares them.

Every failure the endpoint reports is one of these: an HTTP status, the shape's name (which
botocore reads from the ``x-amzn-ErrorType`` header to raise the matching exception class) and a
message. Statuses are the model's ``error.httpStatusCode``
(``botocore/data/rds-data/2018-08-01/service-2.json``). ``ValidationException`` is not in the
model, but it is what AWS documents for Serverless v2 and provisioned clusters when a call holds
several statements or the ``schema`` parameter (Aurora User Guide, "Comparing Amazon RDS Data API
behaviors for Aurora Serverless v2 and provisioned clusters with Aurora Serverless v1 clusters");
botocore raises it as a plain ``ClientError`` with that code.
"""

from __future__ import annotations

STATUS = {
    "AccessDeniedException": 403,
    "BadRequestException": 400,
    "DatabaseErrorException": 400,
    "DatabaseNotFoundException": 404,
    "DatabaseResumingException": 400,
    "HttpEndpointNotEnabledException": 400,
    "InternalServerErrorException": 500,
    "SecretsErrorException": 400,
    "StatementTimeoutException": 400,
    "TransactionNotFoundException": 404,
    "UnsupportedResultException": 400,
    "ValidationException": 400,
}


class DataApiError(Exception):
    """One error response: ``code`` is the model's shape name; ``ends_transaction`` marks a
    failure after which AWS forgets the call's transaction (its id is then not found)."""

    def __init__(self, code: str, message: str, *, ends_transaction: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.ends_transaction = ends_transaction

    @property
    def status(self) -> int:
        """The HTTP status the model gives this shape."""
        return STATUS[self.code]


def bad_request(message: str) -> DataApiError:
    """A malformed call (the model's catch-all for request errors)."""
    return DataApiError("BadRequestException", message)


class RefusedRequestError(DataApiError):
    """A fault outside the rds-data model's shapes (the front door's, the control plane's), with
    AWS's status for it carried alongside."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(code, message)
        self._status = status

    @property
    def status(self) -> int:
        """The HTTP status AWS answers this fault with."""
        return self._status
