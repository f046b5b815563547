"""Domain errors. Each carries its HTTP status; the API renders them in one place (api/errors.py)."""

from __future__ import annotations


class FirmscoutError(Exception):
    """Base error; the class docstring is the default message."""

    status_code: int = 500

    def __init__(self, message: str | None = None, status_code: int | None = None) -> None:
        self.message = message or (self.__doc__ or "").strip() or self.__class__.__name__
        if status_code is not None:
            self.status_code = status_code
        super().__init__(self.message)


class BadRequest(FirmscoutError):
    """The request cannot be carried out in the task's current state."""

    status_code = 400


class Unauthorized(FirmscoutError):
    """Missing or invalid token: send `Authorization: Bearer <token>` (create one with `firmscout token create`)."""

    status_code = 401


class Forbidden(FirmscoutError):
    """That resource belongs to another organization."""

    status_code = 403


class NotFound(FirmscoutError):
    """The task ID is invalid or unavailable in your workspace."""

    status_code = 404


class RateLimited(FirmscoutError):
    """Too many tasks created; wait for the time in Retry-After before creating more."""

    status_code = 429

    def __init__(self, retry_after_s: float) -> None:
        super().__init__(f"Too many task creations: retry after {retry_after_s:.0f} s.")
        self.retry_after_s = retry_after_s


class InvalidField(FirmscoutError):
    """A field passed schema validation but its value cannot be used; rendered as a 422 naming the field."""

    status_code = 422

    def __init__(self, loc: tuple[str | int, ...], message: str, error_type: str = "value_error") -> None:
        super().__init__(message)
        self.loc = loc
        self.error_type = error_type


class SourceError(FirmscoutError):
    """A data source failed (transport, quota or protocol)."""

    status_code = 502

    def __init__(self, message: str | None = None, *, transient: bool = False) -> None:
        super().__init__(message)
        # Transient failures (a dropped connection, a 429) are worth retrying; others fail the task.
        self.transient = transient


class LLMError(FirmscoutError):
    """The language-model provider failed (transport, quota or malformed reply)."""

    status_code = 502

    def __init__(self, message: str | None = None, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


class ImportFailed(FirmscoutError):
    """The company file cannot be imported."""

    status_code = 400
