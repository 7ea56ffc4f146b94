"""Personal information at rest (个人信息保护): AES-GCM encryption and a keyed blind index.

ID numbers and phone numbers reach the database only through :class:`Sealed` (and raw source
payloads, which carry them too, only through :class:`SealedJSON`). Exact matching — "every
record naming this ID number" — goes through :func:`blind_index`, an HMAC of the normalised
value, stored beside the ciphertext. Neither reveals the plaintext without the key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Dialect, Text
from sqlalchemy.types import TypeDecorator

from domain.jsontext import sorted_json

_NONCE_BYTES = 12
_VERSION = "v1"


class PiiKeyMissing(RuntimeError):
    """The PII key was not configured before sealed columns were used."""


@dataclass(frozen=True, slots=True)
class PiiCipher:
    """AES-GCM with one 32-byte key; the blind-index key is derived from it."""

    key: bytes
    # Built once: an AES-GCM context and a keyed HMAC to copy, not one of each per value
    # (a sync seals and indexes every identifier of every mention it stores).
    _aead: AESGCM = field(init=False, repr=False, compare=False)
    _index_mac: hmac.HMAC = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_aead", AESGCM(self.key))
        object.__setattr__(self, "_index_mac", hmac.new(self._index_key, digestmod=hashlib.sha256))

    @property
    def _index_key(self) -> bytes:
        return hmac.new(self.key, b"govhub blind index v1", hashlib.sha256).digest()

    def seal(self, plaintext: bytes) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        ciphertext = self._aead.encrypt(nonce, plaintext, None)
        return f"{_VERSION}:" + base64.urlsafe_b64encode(nonce + ciphertext).decode("ascii")

    def open(self, sealed: str) -> bytes:
        version, _, body = sealed.partition(":")
        if version != _VERSION:
            raise ValueError("unknown sealed-value version")
        blob = base64.urlsafe_b64decode(body.encode("ascii"))
        return self._aead.decrypt(blob[:_NONCE_BYTES], blob[_NONCE_BYTES:], None)

    def blind_index(self, purpose: str, value: str) -> str:
        mac = self._index_mac.copy()
        mac.update(f"{purpose}\x1f{value}".encode())
        return mac.hexdigest()[:40]


_cipher: PiiCipher | None = None


def configure_pii(key: bytes) -> PiiCipher:
    """Install the process-wide cipher (called once at start-up from settings)."""
    global _cipher  # column types are module-level: they share one key
    if len(key) != 32:
        raise ValueError("PII key must be 32 bytes")
    _cipher = PiiCipher(key)
    return _cipher


def cipher() -> PiiCipher:
    if _cipher is None:
        raise PiiKeyMissing("PII key not configured; call configure_pii() at start-up")
    return _cipher


def blind_index(purpose: str, value: str | None) -> str | None:
    """Keyed HMAC of a normalised value, for exact matching without plaintext."""
    if value is None or value == "":
        return None
    return cipher().blind_index(purpose, value)


class Sealed(TypeDecorator[str]):
    """A string column stored AES-GCM encrypted (ciphertext as base64 text)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else cipher().seal(value.encode("utf-8"))

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else cipher().open(value).decode("utf-8")


class SealedJSON(TypeDecorator[Any]):
    """A JSON document (e.g. a raw source payload) stored AES-GCM encrypted."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else cipher().seal(sorted_json(value))

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        return None if value is None else json.loads(cipher().open(value))
