"""GraphiQL served from govhub itself (GraphiQL 调试页), for intranets without internet.

The page's scripts and styles (React, GraphiQL, the explorer plugin) are pinned copies in
``hub/static/graphiql/`` (versions and licences in its README), served under
:data:`ASSET_PATH`; nothing is fetched from a CDN. The header editor starts with a bearer token:
in ``dev`` the demo's (``<data_dir>/demo-token.txt``, written by ``govhub demo``) when there is
one, else a hint naming the command that mints one. Subscriptions run over the same path with
``graphql-transport-ws``; GraphiQL sends the header editor's headers in ``connection_init``.
``/graphql?q=…`` opens the page with that document in the editor (a link to share;
``?query=`` is a GraphQL request over GET).
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from hub.settings import Settings

ASSET_PATH = "/graphiql-assets"
ASSETS = Path(__file__).resolve().parent / "static" / "graphiql"
# Not a credential: what the header editor says when there is no token to offer.
TOKEN_HINT = "<paste a token: govhub token --role center_staff --region 411200>"  # noqa: S105

DEFAULT_QUERY = """# govhub GraphiQL (调试). Ctrl-Enter runs it; the token is in Headers below.
query LinkedRecords {
  records(first: 3) {
    totalCount
    nodes {
      id kind title occurredAt occurredOn
      linkedRecords { linkKind confidence record { kind title } }
    }
  }
}
"""

_PAGE = """<!doctype html>
<html lang="zh-CN">
  <head>
    <meta charset="utf-8" />
    <title>govhub GraphiQL</title>
    <style>
      body {{ height: 100%; margin: 0; width: 100%; overflow: hidden; }}
      #graphiql {{ height: 100vh; display: flex; }}
    </style>
    <link rel="stylesheet" href="{assets}/graphiql.min.css" />
    <link rel="stylesheet" href="{assets}/plugin-explorer.css" />
    <script src="{assets}/react.production.min.js"></script>
    <script src="{assets}/react-dom.production.min.js"></script>
  </head>
  <body>
    <div id="graphiql">Loading…</div>
    <script src="{assets}/graphiql.min.js"></script>
    <script src="{assets}/plugin-explorer.umd.js"></script>
    <script id="govhub-settings" type="application/json">{settings}</script>
    <script>
      const settings = JSON.parse(document.getElementById("govhub-settings").textContent);
      const url = new URL(window.location.href);
      // A link may carry a document to start with, as ?q= (?query= is a GraphQL GET request).
      const shared = url.searchParams.get("q");
      url.search = "";
      url.hash = "";
      const wsUrl = new URL(url);
      wsUrl.protocol = url.protocol === "https:" ? "wss:" : "ws:";
      // Subscriptions: GraphiQL sends the header editor's headers, the token among them, as
      // connection_init's payload (browsers set no headers on a WebSocket).
      const fetcher = GraphiQL.createFetcher({{
        url: url.toString(),
        subscriptionUrl: wsUrl.toString(),
      }});
      const explorer = GraphiQLPluginExplorer.explorerPlugin();
      ReactDOM.createRoot(document.getElementById("graphiql")).render(
        React.createElement(GraphiQL, {{
          fetcher,
          defaultQuery: settings.query,
          // over what GraphiQL kept from the last visit (its storage), when a link brings one
          query: shared || undefined,
          defaultHeaders: JSON.stringify({{ Authorization: settings.authorization }}, null, 2),
          defaultEditorToolsVisibility: "headers",
          shouldPersistHeaders: false,
          plugins: [explorer],
        }}),
      );
    </script>
  </body>
</html>
"""


def initial_token(settings: Settings) -> str | None:
    """The token the page starts with: the demo's in ``dev`` when there is one."""
    if settings.env != "dev":
        return None
    path = Path(settings.data_dir) / "demo-token.txt"
    try:
        token = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return token or None


def graphiql_page(token: str | None) -> str:
    """The page's HTML; ``token`` (or the hint) pre-fills the ``Authorization`` header."""
    page_settings = {
        "authorization": f"Bearer {token or TOKEN_HINT}",
        "query": DEFAULT_QUERY,
    }
    # Inside a <script> element: escape what could close it, keep the JSON valid.
    encoded = json.dumps(page_settings, ensure_ascii=False).replace("</", "<\\/")
    return _PAGE.format(assets=html.escape(ASSET_PATH), settings=encoded)
