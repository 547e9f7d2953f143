"""Domain errors of the records layer; the app maps each to one HTTP status with its message."""

from __future__ import annotations


class RecordsError(Exception):
    status_code = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(RecordsError):
    status_code = 404


class Conflict(RecordsError):
    """The request clashes with the stored state (stale version, reused idempotency key...)."""

    status_code = 409


class Forbidden(RecordsError):
    status_code = 403


class Unauthenticated(RecordsError):
    status_code = 401


class Invalid(RecordsError):
    status_code = 422


class Locked(RecordsError):
    """The account is locked after too many failed password checks."""

    status_code = 423
