"""Errors of staff linking decisions (人工研判决定的错误), each with a code.

The GraphQL layer maps :attr:`LinkingError.code` onto ``extensions.code`` one to one::

    LinkingError                    (never raised itself)
    ├── LinkingNotFound   NOT_FOUND       a link, person or mention id that names nothing
    ├── LinkingBadInput   BAD_USER_INPUT  a request that can never succeed as written
    └── LinkingConflict   CONFLICT        the stored state forbids it (e.g. already merged)

Messages name ids and states only, never a name, ID number or phone.
"""

from __future__ import annotations

from enum import StrEnum


class LinkingErrorCode(StrEnum):
    NOT_FOUND = "NOT_FOUND"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    CONFLICT = "CONFLICT"


class LinkingError(Exception):
    """A staff decision that cannot be applied; ``str(error)`` is safe to show a client."""

    code: LinkingErrorCode

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class LinkingNotFound(LinkingError):
    code = LinkingErrorCode.NOT_FOUND


class LinkingBadInput(LinkingError):
    code = LinkingErrorCode.BAD_USER_INPUT


class LinkingConflict(LinkingError):
    code = LinkingErrorCode.CONFLICT
