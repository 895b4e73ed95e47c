"""One exception hierarchy for every failed call: :class:`TopicdError` and a subclass per gRPC
status code. Each carries the server's message (``.message``), the code (``.code``, a
:class:`grpc.StatusCode`) and the method that failed (``.method``)."""

from __future__ import annotations

from typing import Dict, Optional, Type

import grpc


class TopicdError(Exception):
    """A failed topicd call: ``message`` is the server's (or gRPC's) message, ``code`` the
    status, ``method`` the RPC and ``attempts`` how often it was tried."""

    code: grpc.StatusCode = grpc.StatusCode.UNKNOWN

    def __init__(
        self,
        message: str,
        code: Optional[grpc.StatusCode] = None,
        method: Optional[str] = None,
        attempts: int = 1,
    ) -> None:
        if code is not None:
            self.code = code
        self.message = message
        self.method = method
        #: How many times the call was tried (more than 1 after retries on UNAVAILABLE).
        self.attempts = attempts
        super().__init__(message)

    def __str__(self) -> str:
        where = f"{self.method}: " if self.method else ""
        tries = f" (after {self.attempts} attempts)" if self.attempts > 1 else ""
        return f"{where}{self.code.name}: {self.message}{tries}"

    def __repr__(self) -> str:
        name = type(self).__name__
        return f"{name}({self.message!r}, code={self.code.name}, method={self.method!r})"


class Cancelled(TopicdError):
    code = grpc.StatusCode.CANCELLED


class Unknown(TopicdError):
    code = grpc.StatusCode.UNKNOWN


class InvalidArgument(TopicdError):
    code = grpc.StatusCode.INVALID_ARGUMENT


class DeadlineExceeded(TopicdError):
    code = grpc.StatusCode.DEADLINE_EXCEEDED


class NotFound(TopicdError):
    code = grpc.StatusCode.NOT_FOUND


class AlreadyExists(TopicdError):
    code = grpc.StatusCode.ALREADY_EXISTS


class PermissionDenied(TopicdError):
    code = grpc.StatusCode.PERMISSION_DENIED


class ResourceExhausted(TopicdError):
    code = grpc.StatusCode.RESOURCE_EXHAUSTED


class FailedPrecondition(TopicdError):
    code = grpc.StatusCode.FAILED_PRECONDITION


class Aborted(TopicdError):
    code = grpc.StatusCode.ABORTED


class OutOfRange(TopicdError):
    code = grpc.StatusCode.OUT_OF_RANGE


class Unimplemented(TopicdError):
    code = grpc.StatusCode.UNIMPLEMENTED


class Internal(TopicdError):
    code = grpc.StatusCode.INTERNAL


class Unavailable(TopicdError):
    code = grpc.StatusCode.UNAVAILABLE


class DataLoss(TopicdError):
    code = grpc.StatusCode.DATA_LOSS


class Unauthenticated(TopicdError):
    code = grpc.StatusCode.UNAUTHENTICATED


_BY_CODE: Dict[grpc.StatusCode, Type[TopicdError]] = {
    cls.code: cls
    for cls in (
        Cancelled,
        Unknown,
        InvalidArgument,
        DeadlineExceeded,
        NotFound,
        AlreadyExists,
        PermissionDenied,
        ResourceExhausted,
        FailedPrecondition,
        Aborted,
        OutOfRange,
        Unimplemented,
        Internal,
        Unavailable,
        DataLoss,
        Unauthenticated,
    )
}


def error_for(
    code: Optional[grpc.StatusCode], message: str, method: Optional[str] = None, attempts: int = 1
) -> TopicdError:
    """The exception for a status code (``TopicdError`` itself for an unmapped one)."""
    cls = _BY_CODE.get(code, TopicdError) if code is not None else TopicdError
    return cls(message, code=code or grpc.StatusCode.UNKNOWN, method=method, attempts=attempts)


def from_rpc_error(
    e: grpc.RpcError, method: Optional[str] = None, attempts: int = 1
) -> TopicdError:
    """Converts a ``grpc.RpcError`` (sync or aio) into the matching :class:`TopicdError`."""
    code = e.code() if hasattr(e, "code") else None
    details = e.details() if hasattr(e, "details") else None
    return error_for(code, details or str(e), method=method, attempts=attempts)
