"""The staff console (综治中心工作台): static files served by the hub at :data:`CONSOLE_PATH`.

Plain JavaScript modules, no build step and nothing fetched from elsewhere; they talk to the
public GraphQL API at ``/graphql`` only, like any other client. See ``console/README.md``.
"""

from __future__ import annotations

from pathlib import Path

CONSOLE_PATH = "/console"
CONSOLE = Path(__file__).resolve().parent / "static"
