"""Errors of the closed loop (事项办理错误), each with a code.

The GraphQL layer maps :attr:`WorkflowError.code` onto ``extensions.code`` (or the error
member of a payload union) one to one::

    WorkflowError                          (never raised itself)
    ├── IllegalTransition  ILLEGAL_TRANSITION  the matter's step does not allow the action
    ├── Forbidden          FORBIDDEN           this actor may not do it (role, org, jurisdiction)
    ├── BadInput           BAD_USER_INPUT      the request can never succeed as written
    ├── Conflict           CONFLICT            a stale version: someone else acted first
    └── NotFound           NOT_FOUND           no such matter, clock or supervision order

The state machine raises the first three; storage raises ``Conflict`` when its optimistic
version check fails (the machine raises it too when the caller states the version it saw)
and ``NotFound``. Messages name ids, steps and actions only, never a name, ID number or phone.
"""

from __future__ import annotations

from enum import StrEnum


class WorkflowErrorCode(StrEnum):
    ILLEGAL_TRANSITION = "ILLEGAL_TRANSITION"
    FORBIDDEN = "FORBIDDEN"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    CONFLICT = "CONFLICT"
    NOT_FOUND = "NOT_FOUND"


class WorkflowError(Exception):
    """An action that cannot be applied; ``str(error)`` is safe to show a client."""

    code: WorkflowErrorCode

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class IllegalTransition(WorkflowError):
    code = WorkflowErrorCode.ILLEGAL_TRANSITION


class Forbidden(WorkflowError):
    code = WorkflowErrorCode.FORBIDDEN


class BadInput(WorkflowError):
    code = WorkflowErrorCode.BAD_USER_INPUT


class Conflict(WorkflowError):
    code = WorkflowErrorCode.CONFLICT


def check_version(current: int, expected: int | None, what: str = "matter") -> None:
    """The optimistic check of a version the caller saw: ``expected`` (when given) must be
    ``current``, else :class:`Conflict`. Check it after authorisation: who may not act is
    told FORBIDDEN, not that they were late."""
    if expected is not None and expected != current:
        raise Conflict(f"the {what} changed (version {current}, not {expected})")


class NotFound(WorkflowError):
    code = WorkflowErrorCode.NOT_FOUND
