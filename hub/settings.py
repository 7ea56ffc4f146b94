"""Settings from the environment (prefix ``GOVHUB_``), validated by pydantic-settings.

In ``dev`` a missing secret (PII key, JWT secret) is generated once into the data directory
with a logged warning, so ``make demo`` just works; in ``prod`` a missing secret stops
start-up with a message naming the variable.
"""

from __future__ import annotations

import base64
import secrets
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

import structlog
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy import make_url
from sqlalchemy.exc import ArgumentError

from db.engine import PLAN_CACHE_MODE, POOL_MAX_OVERFLOW, POOL_SIZE, PlanCacheMode
from domain.stats import DEFAULT_MIN_CELL
from domain.writeback import DeliveryPolicy

log = structlog.get_logger(__name__)


SUPPORTED_DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")
"""Database URLs govhub runs on: the embedded default, and PostgreSQL in production."""

REDIS_SCHEMES = ("redis", "rediss", "unix")
"""The schemes of the URLs redis-py opens (``GOVHUB_REDIS_URL``)."""


class ConfigErrorCode(StrEnum):
    """The code of a configuration error (配置错误码): commands print it beside the message
    and exit with status 2, as they do for :data:`PII_KEY_MISMATCH`."""

    MISSING_SETTING = "MISSING_SETTING"
    """A required setting is not given (a key in prod, ``GOVHUB_SOURCES_FILE``)."""
    INVALID_SETTING = "INVALID_SETTING"
    """A ``GOVHUB_`` variable holds a value govhub cannot use, or settings that do not go
    together (several workers on SQLite)."""
    INVALID_SOURCES_FILE = "INVALID_SOURCES_FILE"
    """The sources file is unreadable or invalid; the message names the key."""
    INVALID_RISK_RULES = "INVALID_RISK_RULES"
    """``GOVHUB_RISK_RULES_FILE`` does not load; the message names the rule and key."""
    INVALID_DEADLINE_RULES = "INVALID_DEADLINE_RULES"
    """``GOVHUB_DEADLINE_RULES_FILE`` does not load; the message names the rule and key."""
    INVALID_CALENDAR_OVERRIDES = "INVALID_CALENDAR_OVERRIDES"
    """``GOVHUB_CALENDAR_OVERRIDES_FILE`` does not load; the message names the override."""
    INVALID_PERSISTED_DOCUMENTS = "INVALID_PERSISTED_DOCUMENTS"
    """``GOVHUB_PERSISTED_DOCUMENTS`` / ``…_ROLES`` do not load or do not match."""
    PII_KEY_MISMATCH = "PII_KEY_MISMATCH"
    """The PII key did not seal the database (``db.key_check``)."""


class SettingsError(RuntimeError):
    """A setting is missing or invalid; the message names the variable, ``code`` the kind of
    problem (:class:`ConfigErrorCode`)."""

    def __init__(
        self, message: str, code: ConfigErrorCode = ConfigErrorCode.INVALID_SETTING
    ) -> None:
        super().__init__(message)
        self.code = code


class Settings(BaseSettings):
    """Everything govhub reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="GOVHUB_", extra="ignore")

    env: Literal["dev", "prod"] = "dev"
    data_dir: Path = Path("./data")
    database_url: str = Field(
        default="sqlite+aiosqlite:///./data/govhub.db",
        description="SQLAlchemy URL; default: the embedded database in the data directory",
    )
    database_schema: str | None = Field(
        default=None, description="PostgreSQL schema to use (search_path); default: public"
    )
    db_pool_size: int = Field(
        default=POOL_SIZE, ge=1, description="database connections kept open (连接池大小)"
    )
    db_pool_max_overflow: int = Field(
        default=POOL_MAX_OVERFLOW, ge=0, description="connections opened beyond the pool"
    )
    db_plan_cache_mode: PlanCacheMode = Field(
        default=PLAN_CACHE_MODE,
        description="PostgreSQL plan_cache_mode of govhub's sessions (执行计划缓存): prepared "
        "statements keep one generic plan instead of being planned at every execution",
    )
    redis_url: str | None = None
    sources_file: Path | None = None
    schedule_sync: bool = Field(default=True, description="run the sync scheduler in serve/demo")
    deliver_writebacks: bool = Field(
        default=True, description="run the outbox relay (write-backs) in serve/demo")
    outbox_max_attempts: int = Field(
        default=8, ge=1,
        description="sends of one write-back before it is DEAD (死信); also the read-backs in a "
                    "row it may go unanswered")
    outbox_initial_backoff: float = Field(
        default=2.0, gt=0, description="seconds before a failed write-back's first retry")
    outbox_max_backoff: float = Field(
        default=300.0, gt=0, description="longest wait between two tries of one write-back")
    outbox_lease_seconds: float = Field(
        default=60.0, gt=0,
        description="a claim's lease: a write-back held by a dead worker is reclaimed after it")
    outbox_reconcile_delay: float = Field(
        default=1.0, ge=0, description="seconds between read-backs after an unknown outcome")
    outbox_poll_seconds: float = Field(
        default=1.0, gt=0, description="how often an idle relay looks for due write-backs")
    pii_key: SecretStr | None = Field(
        default=None, description="32-byte AES-GCM key, url-safe base64; also keys the blind index"
    )
    jwt_secret: SecretStr | None = None
    jwt_public_key: str | None = None
    jwt_audience: str | None = None
    jwt_issuer: str | None = None
    jwt_max_lifetime_hours: int = Field(
        default=720, ge=1,
        description="the longest a token may live, from its iat (or now) to its exp: 30 days",
    )  # fmt: skip
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = Field(
        default=1,
        ge=1,
        description="processes `serve` answers from (服务进程数), one per core; more than one "
        "needs PostgreSQL and GOVHUB_REDIS_URL",
    )
    metrics_dir: Path = Field(
        default=Path("./data/metrics"),
        description="where `serve --workers N`'s processes keep their metrics (指标目录), "
        "emptied at each start; default: `metrics` in the data directory",
    )
    cors_origins: list[str] = Field(default_factory=list)
    metrics_enabled: bool = Field(default=True, description="serve GET /metrics")
    metrics_token: SecretStr | None = Field(
        default=None, description="when set, /metrics needs `Authorization: Bearer <token>`"
    )
    audit_enabled: bool = Field(
        default=True, description="audit every GraphQL operation; off only to measure its cost"
    )
    fast_path: bool = Field(
        default=True,
        description="read pages through the lighter execution path (schema/fastpath); "
        "false runs every field through graphql-core's general path",
    )
    stats_min_cell: int = Field(
        default=DEFAULT_MIN_CELL,
        ge=1,
        description="smallest count figures show roles that may not read parties (小数抑制)",
    )
    audit_key: SecretStr | None = Field(
        default=None,
        description="key of the audit chain's HMAC, url-safe base64 of 32 bytes or more; "
        "default: derived from GOVHUB_PII_KEY (the database holds neither)",
    )
    audit_checkpoint_file: Path | None = Field(
        default=Path("./data/audit-checkpoints.jsonl"),
        description="where signed checkpoints of the audit chain are appended (outside the "
        "database; empty: none); default: in the data directory",
    )
    audit_checkpoint_seconds: float = Field(
        default=10.0, description="at most one audit checkpoint per this many seconds"
    )
    max_body_bytes: int = Field(
        default=1 << 20, description="largest request body accepted (413 above it)"
    )
    unauthenticated_per_minute: int = Field(
        default=60,
        description="requests without a valid token answered per client address and minute "
        "(429 above it); 0: no limit",
    )
    persisted_documents: Path | None = Field(
        default=None, description="JSON file: sha256 of a document → its text (持久化查询)"
    )
    risk_rules_file: Path | None = Field(
        default=None,
        description="TOML risk rules (风险研判规则); default: the shipped rules",
    )
    risk_alert_level: Literal["RED", "YELLOW"] = Field(
        default="RED", description="grades rising to this level or above raise an alert (预警)"
    )
    deadline_rules_file: Path | None = Field(
        default=None, description="TOML deadline rules (时限规则); default: the shipped ones"
    )
    calendar_overrides_file: Path | None = Field(
        default=None, description="TOML local working-day overrides (调休/停工)"
    )
    scan_deadlines: bool = Field(
        default=True, description="run the deadline scanner in serve (one replica at a time)"
    )
    scan_interval_seconds: float = Field(default=60.0, gt=0)
    matter_open_kinds: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="record kinds whose synced records open matters, comma-separated (all)",
    )
    matter_open_categories: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="categories that open matters, comma-separated (any)",
    )
    matter_open_statuses: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="source statuses that open matters, comma-separated (those still handled)",
    )
    persisted_roles: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="roles that may run persisted documents only, comma-separated",
    )

    @field_validator("audit_checkpoint_file", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        """A URL SQLAlchemy reads, of a database govhub runs on (the driver installed)."""
        try:
            url = make_url(value)
        except ArgumentError:
            raise ValueError("GOVHUB_DATABASE_URL is not a database URL") from None
        if url.drivername not in SUPPORTED_DRIVERS:
            raise ValueError(
                f"GOVHUB_DATABASE_URL: {url.drivername} is not supported; use "
                + " or ".join(f"{name}://" for name in SUPPORTED_DRIVERS)
            )
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        """A URL redis-py opens, checked here: each serving process opens it only as it
        starts, and one that cannot would die at every restart (``serve --workers``)."""
        if not value:
            return value
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 - reading it checks the port is a number
        except ValueError:
            raise ValueError("GOVHUB_REDIS_URL is not a URL") from None
        if parts.scheme not in REDIS_SCHEMES:
            raise ValueError(
                "GOVHUB_REDIS_URL must start with " + ", ".join(f"{s}://" for s in REDIS_SCHEMES)
            )
        return value

    @model_validator(mode="after")
    def _in_the_data_directory(self) -> Settings:
        """The embedded database, the audit checkpoints and the workers' metrics live in
        ``GOVHUB_DATA_DIR`` beside the dev keys, unless their own variables say otherwise: a
        data directory holds one deployment's state whole, whatever the working directory."""
        if "database_url" not in self.model_fields_set:
            database = _kept_where_it_was(self.data_dir / "govhub.db")
            self.database_url = f"sqlite+aiosqlite:///{database}"
        if "audit_checkpoint_file" not in self.model_fields_set:
            self.audit_checkpoint_file = _kept_where_it_was(
                self.data_dir / "audit-checkpoints.jsonl"
            )
        if "metrics_dir" not in self.model_fields_set:
            self.metrics_dir = self.data_dir / "metrics"
        return self

    def delivery_policy(self) -> DeliveryPolicy:
        """How the outbox relay retries, from the ``GOVHUB_OUTBOX_*`` settings."""
        return DeliveryPolicy(
            max_attempts=self.outbox_max_attempts, initial_backoff=self.outbox_initial_backoff,
            max_backoff=self.outbox_max_backoff, lease_seconds=self.outbox_lease_seconds,
            reconcile_delay=self.outbox_reconcile_delay,
        )

    def audit_key_bytes(self) -> bytes | None:
        if self.audit_key is None:
            return None
        value = self.audit_key.get_secret_value()
        try:
            key = base64.urlsafe_b64decode(value.encode("ascii"))
        except (ValueError, UnicodeEncodeError) as exc:
            raise SettingsError("GOVHUB_AUDIT_KEY is not url-safe base64") from exc
        if len(key) < 32:
            raise SettingsError("GOVHUB_AUDIT_KEY must decode to 32 bytes or more")
        return key

    @field_validator(
        "persisted_roles",
        "matter_open_kinds",
        "matter_open_categories",
        "matter_open_statuses",
        mode="before",
    )
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    def require_secrets(self) -> Settings:
        """Return settings whose secrets are all present, generating them in ``dev``."""
        updates: dict[str, SecretStr] = {}
        if self.pii_key is None:
            updates["pii_key"] = SecretStr(self._dev_secret("GOVHUB_PII_KEY", "pii.key"))
        if self.jwt_secret is None and self.jwt_public_key is None:
            updates["jwt_secret"] = SecretStr(self._dev_secret("GOVHUB_JWT_SECRET", "jwt.secret"))
        result = self.model_copy(update=updates)
        decode_key(result.pii_key_value())
        return result

    def several_workers_problem(self) -> str | None:
        """Why ``serve`` cannot run :attr:`workers` processes here (``None``: it can).

        Processes are replicas on one database: sync, linking and audit appends are held to
        one at a time across them by PostgreSQL's advisory locks (SQLite's locks hold within
        one process), and record changes reach every process's subscribers through Redis."""
        if self.workers == 1:
            return None
        if make_url(self.database_url).get_backend_name() != "postgresql":
            return (
                f"GOVHUB_WORKERS={self.workers} needs PostgreSQL (GOVHUB_DATABASE_URL): "
                "SQLite's sync and linking locks hold within one process"
            )
        if not self.redis_url:
            return (
                f"GOVHUB_WORKERS={self.workers} needs GOVHUB_REDIS_URL: without it a record "
                "change reaches only the subscribers of the process that made it"
            )
        return None

    def bus_namespace(self) -> str:
        """The prefix of this deployment's Redis channels: its database and schema, as its
        sync locks are (``connectors.locks``), so two deployments sharing one Redis (a
        staging hub beside production, two cities) never hear each other's changes."""
        database = make_url(self.database_url).database or ""
        return f"govhub:{database}:{self.database_schema or 'public'}"

    def pii_key_value(self) -> str:
        if self.pii_key is None:
            raise SettingsError("GOVHUB_PII_KEY is not set", ConfigErrorCode.MISSING_SETTING)
        return self.pii_key.get_secret_value()

    def _dev_secret(self, variable: str, filename: str) -> str:
        if self.env == "prod":
            raise SettingsError(
                f"{variable} is required when GOVHUB_ENV=prod", ConfigErrorCode.MISSING_SETTING
            )
        path = self.data_dir / filename
        if path.exists():
            return path.read_text(encoding="ascii").strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        value = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii")
        path.write_text(value, encoding="ascii")
        path.chmod(0o600)
        log.warning("generated_dev_secret", variable=variable, path=str(path))
        return value


def decode_key(value: str) -> bytes:
    """Decode a url-safe base64 32-byte key, naming the variable when it is wrong."""
    try:
        key = base64.urlsafe_b64decode(value.encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise SettingsError("GOVHUB_PII_KEY is not url-safe base64") from exc
    if len(key) != 32:
        raise SettingsError("GOVHUB_PII_KEY must decode to 32 bytes")
    return key


LEGACY_DATA_DIR = Path("./data")
"""Where the embedded database and the checkpoints lived whatever ``GOVHUB_DATA_DIR`` said."""


def _kept_where_it_was(path: Path) -> Path:
    """``path``, unless only the file of the same name in ``./data`` exists (a deployment from
    before the data directory held it): then that one, with a warning to move it, so an
    upgrade never opens an empty database beside the one it had."""
    legacy = LEGACY_DATA_DIR / path.name
    if path.exists() or not legacy.exists() or legacy.resolve() == path.resolve():
        return path
    log.warning("data_file_at_legacy_path", path=str(legacy), move_to=str(path))
    return legacy


def load_settings() -> Settings:
    """Read the environment; raise :class:`SettingsError` naming what is wrong."""
    try:
        settings = Settings()
    except ValidationError as exc:
        raise SettingsError(invalid_settings(exc)) from exc
    except ValueError as exc:  # pydantic-settings could not decode a value (JSON lists)
        raise SettingsError(f"invalid GOVHUB_ setting: {exc}") from exc
    return settings.require_secrets()


def invalid_settings(error: ValidationError) -> str:
    """What is wrong, on one line: each variable named with pydantic's reason, never the value
    given (a database or Redis URL carries its password)."""
    problems = []
    for problem in error.errors(include_url=False, include_input=False, include_context=False):
        field = "_".join(str(part) for part in problem["loc"]).upper()
        variable = f"GOVHUB_{field}" if field else "GOVHUB_ settings"
        reason = " ".join(problem["msg"].removeprefix("Value error, ").split())
        problems.append(reason if reason.startswith(variable) else f"{variable}: {reason}")
    return "; ".join(problems)
