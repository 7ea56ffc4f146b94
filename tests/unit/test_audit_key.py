"""The audit chain's key (db/audit.py): derived from the PII key once, and again when it changes."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from db.audit import audit_key, configure_audit_key
from db.pii import configure_pii


def _derived(pii_key: bytes) -> bytes:
    return hmac.new(pii_key, b"govhub audit chain v1", hashlib.sha256).digest()


def test_the_derived_key_follows_the_pii_key_it_comes_from() -> None:
    # given no audit key of its own, and a first PII key
    configure_audit_key(None)
    first, second = secrets.token_bytes(32), secrets.token_bytes(32)
    configure_pii(first)
    assert audit_key() == _derived(first)
    # when the PII key is replaced
    configure_pii(second)
    # then the chain key is derived from the new one, not remembered from the old
    assert audit_key() == _derived(second)


def test_a_configured_audit_key_wins_over_the_derived_one() -> None:
    # given an audit key of its own
    configure_pii(secrets.token_bytes(32))
    own = secrets.token_bytes(32)
    configure_audit_key(own)
    try:
        # then the chain is keyed with it
        assert audit_key() == own
    finally:
        configure_audit_key(None)
