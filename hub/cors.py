"""Which browser origins may call govhub (跨域): CORS for HTTP, the same rule for WebSockets.

``GOVHUB_CORS_ORIGINS`` lists origins explicitly (``["https://dash.example.gov.cn"]``). In
``dev`` a page on ``localhost`` / ``127.0.0.1`` / ``[::1]`` at any port is allowed as well, so a
front-end on ``http://localhost:3000`` works without configuration (the start-up log says so);
in ``prod`` only the explicit list is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hub.settings import Settings

LOCALHOST_ORIGIN = r"https?://(localhost|127\.0\.0\.1|\[::1\])(:\d{1,5})?"


@dataclass(frozen=True, slots=True)
class CorsPolicy:
    origins: tuple[str, ...]
    localhost: bool
    """Any localhost origin is allowed too (``dev``)."""

    @property
    def origin_regex(self) -> str | None:
        """For Starlette's ``CORSMiddleware(allow_origin_regex=...)`` (matched in full)."""
        return LOCALHOST_ORIGIN if self.localhost else None

    def allows(self, origin: str) -> bool:
        if "*" in self.origins or origin.rstrip("/") in self.origins:
            return True
        return self.localhost and re.fullmatch(LOCALHOST_ORIGIN, origin) is not None


def cors_policy(settings: Settings) -> CorsPolicy:
    origins = tuple(origin.rstrip("/") for origin in settings.cors_origins)
    return CorsPolicy(origins=origins, localhost=settings.env == "dev")
