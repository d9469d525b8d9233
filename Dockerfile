# The hotline gateway's image: the package (with its Alembic migrations and packaged YAML) installed in a
# virtual environment, run as an unprivileged user. One image for both processes:
#   docker run IMAGE                      -> hotline serve on 0.0.0.0:8080 (the default command)
#   docker run IMAGE hotline worker       -> the worker
#   docker run IMAGE hotline migrate      -> create or upgrade the schema, then exit
# deploy/compose.yaml runs PostgreSQL, Redis, two gateways, two workers and Caddy from it.

# Build stage: every dependency ships as a manylinux wheel for this Python, so no compiler is needed;
# the build stage only keeps pip's caches and build files out of the final image.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/hotline
WORKDIR /src
COPY pyproject.toml README.md ./
COPY channels ./channels
COPY conversations ./conversations
COPY core ./core
COPY gateway ./gateway
RUN /opt/hotline/bin/pip install --upgrade pip && /opt/hotline/bin/pip install . \
    && cd / && /opt/hotline/bin/python -c \
       "import core.db; assert any(core.db.MIGRATIONS_DIR.glob('versions/*.py')), 'migrations not installed'"

FROM python:3.11-slim
ENV PATH=/opt/hotline/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    HOTLINE_DATABASE_URL=sqlite:////var/lib/hotline/hotline.db \
    HOTLINE_MEDIA_DIR=/var/lib/hotline/media
RUN groupadd --system --gid 10001 hotline \
    && useradd --system --uid 10001 --gid hotline --home-dir /var/lib/hotline --shell /usr/sbin/nologin hotline \
    && mkdir -p /var/lib/hotline/media /etc/hotline \
    && chown -R hotline:hotline /var/lib/hotline
COPY --from=build /opt/hotline /opt/hotline
WORKDIR /var/lib/hotline
VOLUME ["/var/lib/hotline"]
USER hotline:hotline
EXPOSE 8080
# /healthz answers 200 when the database and Redis both answer (503 naming the one that does not).
# The worker serves no HTTP: compose disables this check for it.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]
CMD ["hotline", "serve", "--host", "0.0.0.0", "--port", "8080"]
