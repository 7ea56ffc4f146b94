"""The database remembers which PII key sealed it, on both databases (db.key_check)."""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import session_factory
from db.ingest import ingest_records
from db.key_check import PiiKeyMismatch, check_pii_key, key_digest
from db.models import KeyCheck
from db.pii import configure_pii
from tests.integration.test_linking_storage import alert


async def test_a_key_is_remembered_on_first_use_and_another_refused(
    committing_engine: AsyncEngine, pii_key: bytes
) -> None:
    await check_pii_key(committing_engine)
    await check_pii_key(committing_engine)  # the same key again
    async with session_factory(committing_engine)() as session:
        (stored,) = (await session.scalars(select(KeyCheck.digest))).all()
    assert stored == key_digest(pii_key) and pii_key.hex() not in stored
    configure_pii(secrets.token_bytes(32))
    try:
        with pytest.raises(PiiKeyMismatch, match="does not open this database") as refused:
            await check_pii_key(committing_engine)
        assert refused.value.code == "PII_KEY_MISMATCH"
    finally:
        configure_pii(pii_key)


async def test_a_database_sealed_before_the_check_is_tried_on_a_sealed_value(
    committing_engine: AsyncEngine, pii_key: bytes
) -> None:
    # given personal data sealed with the session's key, and no digest kept yet
    async with session_factory(committing_engine).begin() as session:
        await ingest_records(session, [alert("J1", "张伟", "13800000001")])
        await session.execute(delete(KeyCheck))
    # then another key is refused, and the right one is remembered
    configure_pii(secrets.token_bytes(32))
    try:
        with pytest.raises(PiiKeyMismatch):
            await check_pii_key(committing_engine)
    finally:
        configure_pii(pii_key)
    await check_pii_key(committing_engine)
    async with session_factory(committing_engine)() as session:
        assert (await session.scalars(select(KeyCheck.name))).all() == ["pii"]
