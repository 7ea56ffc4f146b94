"""Which origins may call govhub from a browser (HTTP and WebSocket alike)."""

from __future__ import annotations

import pytest

from hub.cors import cors_policy
from hub.settings import Settings


@pytest.mark.parametrize(
    ("env", "listed", "origin", "allowed"),
    [
        ("dev", [], "http://localhost:3000", True),
        ("dev", [], "http://[::1]:8080", True),
        ("dev", [], "https://127.0.0.1", True),
        ("dev", [], "http://localhost:3000.evil.example", False),
        ("dev", [], "https://intranet.example.gov.cn", False),
        ("prod", [], "http://localhost:3000", False),
        ("prod", ["https://dash.example.gov.cn/"], "https://dash.example.gov.cn", True),
        ("prod", ["*"], "https://anything.example", True),
    ],
)
def test_origins_allowed_per_environment(
    env: str, listed: list[str], origin: str, allowed: bool
) -> None:
    policy = cors_policy(Settings(env=env, cors_origins=listed))  # type: ignore[arg-type]
    assert policy.allows(origin) is allowed
