"""Settings: defaults, dev key generation, prod refusal naming the variable."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from hub.settings import Settings, SettingsError, load_settings


def test_defaults_point_at_embedded_sqlite(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOVHUB_DATABASE_URL", raising=False)
    monkeypatch.delenv("GOVHUB_DATA_DIR", raising=False)
    monkeypatch.delenv("GOVHUB_AUDIT_CHECKPOINT_FILE", raising=False)
    assert Settings().database_url == "sqlite+aiosqlite:///data/govhub.db"
    assert Settings().audit_checkpoint_file == Path("data/audit-checkpoints.jsonl")
    assert Settings().env == "dev"


def test_the_data_directory_holds_the_embedded_database_checkpoints_and_worker_metrics(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no ./data of an earlier run beside it
    monkeypatch.delenv("GOVHUB_DATABASE_URL", raising=False)
    monkeypatch.delenv("GOVHUB_AUDIT_CHECKPOINT_FILE", raising=False)
    monkeypatch.delenv("GOVHUB_METRICS_DIR", raising=False)
    monkeypatch.setenv("GOVHUB_DATA_DIR", str(tmp_path))
    settings = Settings()
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path}/govhub.db"
    assert settings.audit_checkpoint_file == tmp_path / "audit-checkpoints.jsonl"
    assert settings.metrics_dir == tmp_path / "metrics"
    # their own variables still win
    monkeypatch.setenv("GOVHUB_DATABASE_URL", "postgresql+asyncpg://govhub@db/govhub")
    monkeypatch.setenv("GOVHUB_AUDIT_CHECKPOINT_FILE", "")
    monkeypatch.setenv("GOVHUB_METRICS_DIR", "/run/govhub/metrics")
    settings = Settings()
    assert settings.database_url == "postgresql+asyncpg://govhub@db/govhub"
    assert settings.audit_checkpoint_file is None
    assert settings.metrics_dir == Path("/run/govhub/metrics")


def test_dev_generates_missing_keys_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # given a dev environment without keys
    monkeypatch.setenv("GOVHUB_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("GOVHUB_PII_KEY", raising=False)
    monkeypatch.delenv("GOVHUB_JWT_SECRET", raising=False)
    # when settings load twice
    first = load_settings()
    second = load_settings()
    # then keys were generated into the data directory, private, and reused
    assert (tmp_path / "pii.key").stat().st_mode & 0o777 == 0o600
    assert first.pii_key_value() == second.pii_key_value()
    assert len(base64.urlsafe_b64decode(first.pii_key_value())) == 32
    assert first.jwt_secret is not None


@pytest.mark.parametrize("missing", ["GOVHUB_PII_KEY", "GOVHUB_JWT_SECRET"])
def test_prod_refuses_to_start_without_a_key(
    missing: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOVHUB_ENV", "prod")
    monkeypatch.setenv("GOVHUB_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("GOVHUB_PII_KEY", base64.urlsafe_b64encode(b"k" * 32).decode())
    monkeypatch.setenv("GOVHUB_JWT_SECRET", "s" * 32)
    monkeypatch.delenv(missing)
    with pytest.raises(SettingsError, match=missing):
        load_settings()
    assert not (tmp_path / "pii.key").exists()


def test_a_malformed_pii_key_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVHUB_PII_KEY", base64.urlsafe_b64encode(b"short").decode())
    with pytest.raises(SettingsError, match="GOVHUB_PII_KEY must decode to 32 bytes"):
        load_settings()


def test_an_invalid_env_value_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVHUB_ENV", "staging")
    with pytest.raises(SettingsError, match="GOVHUB_ENV: Input should be 'dev' or 'prod'"):
        load_settings()


def test_plan_cache_mode_defaults_to_generic_plans_and_refuses_other_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("GOVHUB_DB_PLAN_CACHE_MODE", raising=False)
    assert Settings().db_plan_cache_mode == "force_generic_plan"
    monkeypatch.setenv("GOVHUB_DB_PLAN_CACHE_MODE", "auto")
    assert Settings().db_plan_cache_mode == "auto"
    monkeypatch.setenv("GOVHUB_DB_PLAN_CACHE_MODE", "sometimes")
    with pytest.raises(SettingsError, match="GOVHUB_DB_PLAN_CACHE_MODE"):
        load_settings()


def test_several_workers_need_postgresql_and_redis() -> None:
    pg = "postgresql+asyncpg://govhub@db/govhub"
    assert Settings(workers=1).several_workers_problem() is None
    assert "needs PostgreSQL" in str(Settings(workers=2).several_workers_problem())
    assert "GOVHUB_REDIS_URL" in str(Settings(workers=2, database_url=pg).several_workers_problem())
    ready = Settings(workers=2, database_url=pg, redis_url="redis://cache:6379/0")
    assert ready.several_workers_problem() is None
    with pytest.raises(ValueError, match="workers"):
        Settings(workers=0)


@pytest.mark.parametrize(
    ("url", "says"),
    [("not a url", "not a database URL"), ("mysql://u@h/db", "mysql is not supported")],
)
def test_a_database_url_govhub_cannot_use_is_refused_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, url: str, says: str
) -> None:
    monkeypatch.setenv("GOVHUB_DATABASE_URL", url)
    with pytest.raises(SettingsError, match=says):
        load_settings()


def test_invalid_settings_are_one_line_naming_each_variable_never_its_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given a database URL with its password and a driver govhub does not run on, and an
    # interval out of range
    monkeypatch.setenv("GOVHUB_DATABASE_URL", "postgresql+psycopg://govhub:hunter2@db/govhub")
    monkeypatch.setenv("GOVHUB_SCAN_INTERVAL_SECONDS", "0")
    # when settings load
    with pytest.raises(SettingsError) as refused:
        load_settings()
    # then one line names both variables and shows neither value
    message = str(refused.value)
    assert "\n" not in message
    assert "hunter2" not in message and "input_value" not in message
    assert message == (
        "GOVHUB_DATABASE_URL: postgresql+psycopg is not supported; use sqlite+aiosqlite:// or "
        "postgresql+asyncpg://; GOVHUB_SCAN_INTERVAL_SECONDS: Input should be greater than 0"
    )


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("cache:6379", "GOVHUB_REDIS_URL must start with redis://, rediss://, unix://"),
        ("http://cache:6379/0", "GOVHUB_REDIS_URL must start with redis://"),
        ("redis://cache:port/0", "GOVHUB_REDIS_URL is not a URL"),
    ],
)
def test_a_redis_url_redis_cannot_open_is_refused_at_start(
    monkeypatch: pytest.MonkeyPatch, url: str, says: str
) -> None:
    # a serving process opens it only as it starts: refused here, not by each process dying
    monkeypatch.setenv("GOVHUB_REDIS_URL", url)
    with pytest.raises(SettingsError, match=says):
        load_settings()


@pytest.mark.parametrize(
    "url", ["redis://cache:6379/5", "rediss://:secret@cache/0", "unix:///run/redis.sock"]
)
def test_redis_urls_redis_opens_are_accepted(url: str) -> None:
    assert Settings(redis_url=url).redis_url == url


def test_a_database_left_in_the_old_place_is_kept_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a deployment whose database and checkpoints stayed in ./data, its keys elsewhere
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GOVHUB_DATABASE_URL", raising=False)
    monkeypatch.delenv("GOVHUB_AUDIT_CHECKPOINT_FILE", raising=False)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "govhub.db").write_bytes(b"")
    monkeypatch.setenv("GOVHUB_DATA_DIR", str(tmp_path / "keys"))
    # then settings keep using it rather than open an empty database in the data directory
    settings = Settings()
    assert settings.database_url == "sqlite+aiosqlite:///data/govhub.db"
    assert settings.audit_checkpoint_file == tmp_path / "keys" / "audit-checkpoints.jsonl"
    # and once it is moved, the data directory's is used
    (tmp_path / "keys").mkdir()
    (tmp_path / "data" / "govhub.db").rename(tmp_path / "keys" / "govhub.db")
    assert Settings().database_url == f"sqlite+aiosqlite:///{tmp_path}/keys/govhub.db"


def test_the_redis_channels_are_the_deployments_database_and_schema() -> None:
    # replicas reaching one database by two hosts (a pooler and the server) share channels
    pooled = Settings(database_url="postgresql+asyncpg://govhub:pw@pgbouncer:6432/govhub")
    direct = Settings(database_url="postgresql+asyncpg://govhub@db/govhub")
    assert pooled.bus_namespace() == direct.bus_namespace() == "govhub:govhub:public"
    # another database or schema on the same Redis is another deployment
    city = Settings(database_url="postgresql+asyncpg://govhub@db/chengdu")
    staging = direct.model_copy(update={"database_schema": "staging"})
    assert len({direct.bus_namespace(), city.bus_namespace(), staging.bus_namespace()}) == 3
    assert "pw" not in pooled.bus_namespace()
