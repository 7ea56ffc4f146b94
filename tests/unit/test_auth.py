"""Bearer tokens: what is accepted, and every way a token is refused."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from domain.roles import Role
from hub.auth import AuthenticationError, DevTokens, TokenVerifier, mint_token
from hub.settings import Settings

SECRET = "s" * 32


def _settings(**kwargs: Any) -> Settings:
    return Settings(jwt_secret=SECRET, **kwargs)


def _claims(**overrides: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "sub": "u1", "role": "partner_police", "regions": ["411202"], "scopes": ["pii:read"],
        "exp": int(time.time()) + 60, "name": "张警官", "org": "湖滨分局",
    }  # fmt: skip
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _bearer(token: str) -> str:
    return f"Bearer {token}"


def test_a_minted_token_verifies_into_a_principal() -> None:
    settings = _settings()
    token = mint_token(settings, role=Role.CENTER_STAFF, regions=["411200", "510129"])
    principal = TokenVerifier(settings).verify(_bearer(token))
    assert principal.role is Role.CENTER_STAFF
    assert principal.regions == ("4112", "510129")  # a city covers every county beneath it
    assert principal.covers("411202001001") and not principal.covers("510104")


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, "missing"),
        ("Basic abc", "Bearer"),
        ("Bearer ", "Bearer"),
        ("Bearer not-a-jwt", "invalid token"),
    ],
)
def test_missing_or_malformed_credentials_are_refused(header: str | None, reason: str) -> None:
    with pytest.raises(AuthenticationError, match=reason):
        TokenVerifier(_settings()).verify(header)


def test_a_forged_signature_is_refused() -> None:
    token = jwt.encode(_claims(), "another-secret-of-sufficient-length", algorithm="HS256")
    with pytest.raises(AuthenticationError, match="InvalidSignatureError"):
        TokenVerifier(_settings()).verify(_bearer(token))


def test_an_expired_token_is_refused() -> None:
    token = jwt.encode(_claims(exp=int(time.time()) - 5), SECRET, algorithm="HS256")
    with pytest.raises(AuthenticationError, match="expired"):
        TokenVerifier(_settings()).verify(_bearer(token))


def test_alg_none_is_refused() -> None:
    token = jwt.encode(_claims(), None, algorithm="none")
    with pytest.raises(AuthenticationError, match="invalid token"):
        TokenVerifier(_settings()).verify(_bearer(token))


@pytest.mark.parametrize("claim", ["sub", "role", "exp"])
def test_a_missing_required_claim_is_refused(claim: str) -> None:
    token = jwt.encode(_claims(**{claim: None}), SECRET, algorithm="HS256")
    with pytest.raises(AuthenticationError):
        TokenVerifier(_settings()).verify(_bearer(token))


def test_an_unknown_role_or_bad_region_is_refused() -> None:
    for claims in (_claims(role="superuser"), _claims(regions=["999999"]), _claims(regions="41")):
        token = jwt.encode(claims, SECRET, algorithm="HS256")
        with pytest.raises(AuthenticationError, match="claim"):
            TokenVerifier(_settings()).verify(_bearer(token))


def test_audience_and_issuer_are_checked_when_configured() -> None:
    settings = _settings(jwt_audience="govhub", jwt_issuer="https://idp.example")
    good = jwt.encode(_claims(aud="govhub", iss="https://idp.example"), SECRET, algorithm="HS256")
    assert TokenVerifier(settings).verify(_bearer(good)).sub == "u1"
    for claims in (_claims(aud="other", iss="https://idp.example"), _claims(aud="govhub")):
        token = jwt.encode(claims, SECRET, algorithm="HS256")
        with pytest.raises(AuthenticationError):
            TokenVerifier(settings).verify(_bearer(token))


def test_rs256_with_a_pem_public_key(tmp_path: Path) -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    (tmp_path / "pub.pem").write_bytes(pem)
    verifier = TokenVerifier(Settings(jwt_public_key=str(tmp_path / "pub.pem")))
    assert verifier.verify(_bearer(jwt.encode(_claims(), private, algorithm="RS256"))).sub == "u1"
    # an HS256 token "signed" with the public key text must not pass (algorithm confusion)
    with pytest.raises(AuthenticationError):
        verifier.verify(_bearer(jwt.encode(_claims(), SECRET, algorithm="HS256")))


def test_es256_with_a_jwks_file(tmp_path: Path) -> None:
    private = ec.generate_private_key(ec.SECP256R1())
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(private.public_key()))
    jwk["kid"] = "k1"
    (tmp_path / "jwks.json").write_text(json.dumps({"keys": [jwk]}))
    verifier = TokenVerifier(Settings(jwt_public_key=str(tmp_path / "jwks.json")))
    token = jwt.encode(_claims(), private, algorithm="ES256", headers={"kid": "k1"})
    assert verifier.verify(_bearer(token)).role is Role.PARTNER_POLICE
    unknown = jwt.encode(_claims(), private, algorithm="ES256", headers={"kid": "k2"})
    with pytest.raises(AuthenticationError, match="unknown key id"):
        verifier.verify(_bearer(unknown))


def test_dev_tokens_verify_as_the_role_asked_for_and_expire_when_they_say() -> None:
    settings = _settings(env="dev")
    minted, expires_at = DevTokens(settings).mint("partner_court", ["411202"], ["pii:read"])
    principal = TokenVerifier(settings).verify(f"Bearer {minted}")
    assert (principal.sub, principal.role, principal.regions) == (
        "dev:partner_court",
        Role.PARTNER_COURT,
        ("411202",),
    )
    assert principal.scopes == frozenset({"pii:read"})
    assert expires_at.timestamp() == jwt.decode(minted, options={"verify_signature": False})["exp"]


def test_dev_tokens_are_not_minted_in_prod() -> None:
    with pytest.raises(ValueError, match="GOVHUB_ENV=dev"):
        DevTokens(_settings(env="prod"))


def test_a_verified_token_is_remembered_until_it_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    # given a verifier that has checked a token once
    verifier = TokenVerifier(_settings())
    token = jwt.encode(_claims(exp=int(time.time()) + 30), SECRET, algorithm="HS256")
    first = verifier.verify(_bearer(token))
    decoded: list[str] = []
    monkeypatch.setattr(jwt, "decode", lambda *args, **kw: decoded.append("again") or {})
    # when it sees the same token again, it answers the same principal without decoding
    assert verifier.verify(_bearer(token)) is first
    assert decoded == []
    # and once the token has expired, it is checked again (and refused)
    monkeypatch.undo()
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 31)

    def expired(*_args: Any, **_kw: Any) -> dict[str, Any]:
        decoded.append("after expiry")
        raise jwt.ExpiredSignatureError

    monkeypatch.setattr(jwt, "decode", expired)
    with pytest.raises(AuthenticationError, match="expired"):
        verifier.verify(_bearer(token))
    assert decoded == ["after expiry"]


def test_remembered_tokens_are_bounded_and_refusals_are_not_kept() -> None:
    # given a verifier remembering two tokens
    verifier = TokenVerifier(_settings(), remember=2)
    tokens = [jwt.encode(_claims(sub=f"u{n}"), SECRET, algorithm="HS256") for n in range(3)]
    for token in tokens:
        verifier.verify(_bearer(token))
    # then only the two most recent are kept, by digest (no token text held)
    assert len(verifier._verified) == 2
    assert all(isinstance(key, bytes) and len(key) == 32 for key in verifier._verified)
    # and a forged token is refused every time, never remembered
    forged = jwt.encode(_claims(), "x" * 32, algorithm="HS256")
    for _ in range(2):
        with pytest.raises(AuthenticationError):
            verifier.verify(_bearer(forged))
    assert len(verifier._verified) == 2


def test_a_token_living_longer_than_the_hubs_maximum_is_refused() -> None:
    now = int(time.time())
    verifier = TokenVerifier(_settings(jwt_max_lifetime_hours=24))
    # a day exactly, from its iat: accepted
    day = jwt.encode(_claims(iat=now, exp=now + 24 * 3600), SECRET, algorithm="HS256")
    assert verifier.verify(_bearer(day)).sub == "u1"
    # thirty thousand years, or a day and a second: refused
    for exp in (now + 30_000 * 365 * 24 * 3600, now + 24 * 3600 + 1):
        token = jwt.encode(_claims(iat=now, exp=exp), SECRET, algorithm="HS256")
        with pytest.raises(AuthenticationError, match="GOVHUB_JWT_MAX_LIFETIME_HOURS"):
            verifier.verify(_bearer(token))
    # without an iat the lifetime runs from now
    endless = jwt.encode(_claims(exp=now + 400 * 24 * 3600), SECRET, algorithm="HS256")
    with pytest.raises(AuthenticationError, match="lifetime"):
        TokenVerifier(_settings()).verify(_bearer(endless))  # the default: 30 days


def test_minting_past_the_maximum_lifetime_is_refused() -> None:
    settings = _settings(jwt_max_lifetime_hours=1)
    assert mint_token(settings, role=Role.CENTER_STAFF, regions=["411200"], ttl_seconds=3600)
    with pytest.raises(ValueError, match="at most 3600 seconds"):
        mint_token(settings, role=Role.CENTER_STAFF, regions=["411200"], ttl_seconds=3601)
