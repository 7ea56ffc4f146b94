"""The lighter execution path for list pages (列表页的轻量执行).

graphql-core runs every selected field through its general machinery; a 50-record page
selects about a thousand fields that only read an attribute or a prefetched value. This
package reads those directly and hands everything else back to graphql-core:

- :mod:`schema.fastpath.marks` — what a schema type declares (:func:`rereadable`); the only
  module of the package that types import.
- :mod:`schema.fastpath.readers` — field readers, compiled from the document's field nodes.
- :mod:`schema.fastpath.plans` — those readers kept across requests, per operation, directive
  values and audience (role, full identifiers or not); they hold no request's data.
- :mod:`schema.fastpath.executor` — the execution context that uses them, and
  :func:`streamline_resolvers`.
- :mod:`schema.fastpath.handbacks` — how often the path hands a field back, and why.
- :mod:`schema.fastpath.prebuilt` — a field a resolver answered whole (a page of records built
  as JSON by PostgreSQL, ``resolvers.page_json``), placed in the answer as it is.

It leans on graphql-core and Strawberry internals (``execute_fields``, ``collect_subfields``,
``build_resolve_info``, the schema converter's back-references), so both are pinned to tested
minor versions in ``pyproject.toml`` and ``requirements.lock``; the canary test
(``tests/unit/test_fastpath_canary.py``) fails when an upgrade stops the benchmark page from
compiling. ``GOVHUB_FAST_PATH=false`` turns the whole path off without a deploy.
"""
