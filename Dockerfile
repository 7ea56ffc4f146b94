# govhub: one image for the hub (`govhub serve`), one-off jobs (`govhub migrate`, `govhub sync`)
# and the sandbox (`govhub sandbox`). docker-compose.yml runs them together.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /opt/govhub
COPY pyproject.toml README.md requirements.lock ./
COPY hub ./hub
COPY schema ./schema
COPY resolvers ./resolvers
COPY domain ./domain
COPY connectors ./connectors
COPY db ./db
COPY sandbox ./sandbox
COPY console ./console
# The same pinned set as make and CI (requirements.lock), then govhub without re-resolving.
RUN pip install -r requirements.lock && pip install --no-deps . && useradd --system --uid 10001 --home-dir /var/lib/govhub --create-home govhub

USER govhub
WORKDIR /var/lib/govhub
# the image is for deployment: prod (keys required, no devToken, loopback-only dev refused)
ENV GOVHUB_DATA_DIR=/var/lib/govhub \
    GOVHUB_ENV=prod
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"
CMD ["govhub", "serve", "--host", "0.0.0.0", "--port", "8000"]
