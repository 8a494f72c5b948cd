"""How ``check`` and ``preflight`` read an AWS or botocore error: its code, and its text on one
line (a report gives each step one line, and AWS messages can span several)."""

from __future__ import annotations

from botocore.exceptions import ClientError


def one_line(text: object) -> str:
    """``text`` with every run of whitespace, newlines included, made one space."""
    return " ".join(str(text).split())


def error_code(error: Exception) -> str:
    """The AWS error code of a ClientError, else empty."""
    if isinstance(error, ClientError):
        return error.response.get("Error", {}).get("Code", "")
    return ""
