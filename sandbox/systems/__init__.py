"""The five simulated legacy systems, one Starlette app each (see ``sandbox.runner``).

``police`` (110, SOAP/GBK), ``grid`` (bearer REST), ``mediation`` (HMAC-signed REST,
cursor paging, tombstones), ``petition`` (daily GBK CSV exports), ``court`` (OAuth2,
rate limit, idempotent write-back). Shared pieces live in ``common`` and ``delivery``.
"""
