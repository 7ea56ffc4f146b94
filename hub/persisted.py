"""Persisted documents (持久化查询): registered GraphQL documents run by their SHA-256.

``GOVHUB_PERSISTED_DOCUMENTS`` names a JSON object mapping the hex SHA-256 of each document to
its text; every key is checked against its text at start-up. Roles in
``GOVHUB_PERSISTED_ROLES`` may run these only. A request names a document either the Apollo way,
``{"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "<hex>"}}}``, or the
GraphQL-over-HTTP way, ``{"documentId": "sha256:<hex>"}``.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from domain.roles import Role
from hub.settings import ConfigErrorCode, Settings, SettingsError

INVALID = ConfigErrorCode.INVALID_PERSISTED_DOCUMENTS


def load_persisted_documents(settings: Settings) -> dict[str, str]:
    """The registered documents by hash; a wrong hash or a bad file stops start-up."""
    if settings.persisted_documents is None:
        return {}
    try:
        raw = json.loads(settings.persisted_documents.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SettingsError(
            f"GOVHUB_PERSISTED_DOCUMENTS is not a readable JSON file: {exc}", INVALID
        ) from exc
    if not isinstance(raw, dict):
        raise SettingsError(
            "GOVHUB_PERSISTED_DOCUMENTS must hold a JSON object: hash → text", INVALID
        )
    documents: dict[str, str] = {}
    for key, text in raw.items():
        digest = str(key).removeprefix("sha256:").lower()
        if not isinstance(text, str) or hashlib.sha256(text.encode()).hexdigest() != digest:
            raise SettingsError(
                f"GOVHUB_PERSISTED_DOCUMENTS: {key} is not the SHA-256 of its text", INVALID
            )
        documents[digest] = text
    return documents


def persisted_roles(settings: Settings) -> frozenset[Role]:
    try:
        return frozenset(Role(name) for name in settings.persisted_roles)
    except ValueError as exc:
        raise SettingsError(
            f"GOVHUB_PERSISTED_ROLES names an unknown role: {exc}", INVALID
        ) from exc


def with_document_id(data: dict[str, Any]) -> dict[str, Any] | None:
    """The ``extensions`` for a body naming its document by ``documentId``, else ``None``."""
    document_id = data.get("documentId")
    if not isinstance(document_id, str):
        return None
    extensions = data.get("extensions")
    merged: dict[str, Any] = dict(extensions) if isinstance(extensions, dict) else {}
    merged["persistedQuery"] = {"version": 1, "sha256Hash": document_id}
    return merged
