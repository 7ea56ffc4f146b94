"""Shared fixtures: both storage backends, a rolled-back session per test, the PII key.

PostgreSQL and Redis come from ``GOVHUB_TEST_DATABASE_URL`` / ``GOVHUB_TEST_REDIS_URL``.
Under ``CI=true`` a missing service fails the tests that need it; elsewhere they are skipped
with a one-line reason.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import secrets
import sys
from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from db.engine import scratch_schema as postgres_scratch_schema
from db.migrate import migrated_engine
from db.pii import configure_pii
from domain.validators import InvalidIdentifier, validate_resident_id
from hub.logging import _CURRENT_STDERR, configure_logging

IN_CI = os.environ.get("CI", "").lower() == "true"


class LogLines(io.StringIO):
    """Every log line the suite emits, as written (after redaction)."""


LOG_LINES = LogLines()
_MOBILE = re.compile(r"(?<![0-9])1[3-9]\d{9}(?![0-9])")
# As domain/masking.py reads one: a record key of letters and 18 digits (J411202202605010014,
# whose last digit may well check) is no ID number.
_RESIDENT_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[0-9Xx](?![0-9])")


def pytest_configure(config: pytest.Config) -> None:
    # One logging set-up for the whole run: JSON lines to stderr and into LOG_LINES.
    configure_logging(json=True, streams=(_CURRENT_STDERR, LOG_LINES), force=True)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """No plaintext ID number or phone in any log line captured across the suite."""
    text = LOG_LINES.getvalue()
    leaked = [m for m in _RESIDENT_ID.findall(text) if _is_resident_id(m)]
    leaked += _MOBILE.findall(text)
    if leaked:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        sys.stderr.write(f"\nPII LEAK: {len(leaked)} plaintext identifiers in log lines\n")


def _is_resident_id(candidate: str) -> bool:
    try:
        validate_resident_id(candidate)
    except InvalidIdentifier:
        return False
    return True


def service_missing(what: str) -> None:
    """Fail under CI, skip elsewhere."""
    if IN_CI:
        pytest.fail(f"{what} (required when CI=true)", pytrace=False)
    pytest.skip(what)


@pytest.fixture(scope="session", autouse=True)
def pii_key() -> bytes:
    key = secrets.token_bytes(32)
    configure_pii(key)
    return key


@pytest.fixture(autouse=True)
def _session_cipher(pii_key: bytes) -> Iterator[None]:
    """The session's key back in place after each test: a CLI command run in-process
    configures the process-wide cipher from its own settings, and a later test would then
    seal with one key and read with another (InvalidTag)."""
    yield
    configure_pii(pii_key)


@contextlib.asynccontextmanager
async def scratch_schema(prefix: str) -> AsyncIterator[tuple[str, str]]:
    """A new, empty PostgreSQL schema on the test server: yields (url, schema), then drops it.

    Skips (fails under CI) when the server is not configured or unreachable.
    """
    url = os.environ.get("GOVHUB_TEST_DATABASE_URL")
    if not url:
        service_missing("PostgreSQL not configured: set GOVHUB_TEST_DATABASE_URL")
        raise AssertionError("unreachable")  # service_missing skips or fails
    async with contextlib.AsyncExitStack() as stack:
        try:
            schema = await stack.enter_async_context(postgres_scratch_schema(url, prefix))
        except OSError as exc:
            service_missing(f"PostgreSQL unreachable at {url}: {exc}")
            raise AssertionError("unreachable") from exc
        yield url, schema


async def _postgres_engine() -> AsyncIterator[AsyncEngine]:
    async with (
        scratch_schema("govhub_test") as (url, schema),
        migrated_engine(url, schema=schema) as engine,
    ):
        yield engine


@pytest.fixture
async def fresh_postgres() -> AsyncIterator[AsyncEngine]:
    """A migrated PostgreSQL database of the test's own (a new schema, dropped afterwards):
    for what must start empty or span processes."""
    async with (
        scratch_schema("govhub_fresh") as (url, schema),
        migrated_engine(url, schema=schema) as engine,
    ):
        yield engine


async def _sqlite_engine(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[AsyncEngine]:
    path = tmp_path_factory.mktemp("db") / "govhub.db"
    async with migrated_engine(f"sqlite+aiosqlite:///{path}") as engine:
        yield engine


@pytest.fixture(
    scope="session",
    params=[
        pytest.param("sqlite"),
        pytest.param("postgres", marks=pytest.mark.postgres),
    ],
)
async def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[AsyncEngine]:
    """A migrated database on each backend, shared by the session's tests."""
    if request.param == "sqlite":
        async for engine in _sqlite_engine(tmp_path_factory):
            yield engine
    else:
        async for engine in _postgres_engine():
            yield engine


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session inside a transaction that is rolled back after the test."""
    async with engine.connect() as connection:
        transaction = await connection.begin()
        session = AsyncSession(
            bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )
        try:
            yield session
        finally:
            await session.close()
            await transaction.rollback()


@pytest.fixture
async def committing_engine(engine: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    """The migrated engine for code that commits on its own; every row is removed afterwards."""
    from db.models import Base

    yield engine
    async with engine.begin() as connection:
        regions = Base.metadata.tables["regions"]
        await connection.execute(regions.update().values(parent_code=None))  # self-reference
        for table in reversed(Base.metadata.sorted_tables):
            await connection.execute(table.delete())
