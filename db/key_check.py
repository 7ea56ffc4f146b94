"""Which key sealed the database (密钥校验).

Personal data is sealed with ``GOVHUB_PII_KEY`` (``db.pii``). A process started with another
key would fail on every sealed value it reads (a sync's sources, every masked read of the API)
with an error that does not say why. So the database keeps a keyed digest of a fixed text
under the key that sealed it (never the key), written on first use, and a command refuses
to start with a key whose digest differs. A database sealed before the digest was kept is
checked on a sealed value it holds before the digest is written.
"""

from __future__ import annotations

import hashlib
import hmac

from sqlalchemy import Text, insert, select, type_coerce
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from db.models import KeyCheck, MatterParty, PartyMention, Person
from db.pii import cipher

PII = "pii"
_CHECKED_TEXT = b"govhub pii key check v1"


class PiiKeyMismatch(Exception):
    """The configured PII key did not seal this database."""

    code = "PII_KEY_MISMATCH"


def key_digest(key: bytes) -> str:
    return hmac.new(key, _CHECKED_TEXT, hashlib.sha256).hexdigest()


_REFUSED = (
    "GOVHUB_PII_KEY does not open this database: its personal data was sealed with another "
    "key. Start with the key it was sealed with."
)


async def check_pii_key(engine: AsyncEngine) -> None:
    """Raise :class:`PiiKeyMismatch` unless the configured key sealed this database; on first
    use, remember the key's digest."""
    digest = key_digest(cipher().key)
    async with engine.begin() as connection:
        stored = await connection.scalar(select(KeyCheck.digest).where(KeyCheck.name == PII))
        if stored is not None:
            if not hmac.compare_digest(stored, digest):
                raise PiiKeyMismatch(_REFUSED)
            return
        if not await _opens_what_is_sealed(connection):
            raise PiiKeyMismatch(_REFUSED)
    try:
        async with engine.begin() as connection:
            await connection.execute(insert(KeyCheck).values(name=PII, digest=digest))
    except IntegrityError:  # another process recorded it meanwhile: compare with that one
        await check_pii_key(engine)


async def _opens_what_is_sealed(connection: AsyncConnection) -> bool:
    """Whether the key opens one sealed value the database already holds (none: it may)."""
    for column in (PartyMention.id_number, PartyMention.phone, Person.id_number,
                   MatterParty.id_number, MatterParty.phone):  # fmt: skip
        sealed = await connection.scalar(
            select(type_coerce(column, Text)).where(column.is_not(None)).limit(1)
        )
        if sealed is not None:
            try:
                cipher().open(sealed)
            except Exception:  # InvalidTag: sealed with another key
                return False
            return True
    return True
