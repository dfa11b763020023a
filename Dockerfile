# dondoc daemon image: slim Python, non-root, data on a volume, health from /healthz.
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DONDOC_DATA_DIR=/data \
    DONDOC_HTTP_HOST=0.0.0.0 \
    DONDOC_HTTP_PORT=8765

WORKDIR /app
COPY pyproject.toml README.md ./
COPY dondoc ./dondoc
COPY rules ./rules
COPY scheduler ./scheduler
COPY notifiers ./notifiers
COPY config ./config
RUN pip install '.[postgres]' \
    && useradd --system --uid 10001 --home-dir /data dondoc \
    && mkdir -p /data && chown dondoc /data

USER dondoc
VOLUME ["/data"]
EXPOSE 8765

HEALTHCHECK --interval=60s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8765/healthz', timeout=4).status == 200 else 1)"

# `dondoc init` is idempotent: it creates or upgrades the store, then the daemon runs.
CMD ["sh", "-c", "dondoc init ${DONDOC_AGENCIES_FILE:+--agencies $DONDOC_AGENCIES_FILE} && exec dondoc run"]
