# The application image: gunicorn app servers and timer workers run from it (compose.yaml, docs/DEPLOY.md).
FROM node:20-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
COPY scripts/vendor.mjs scripts/vendor.mjs
RUN npm ci --omit=dev --no-audit --no-fund && mkdir -p webapp/static && npm run vendor

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 FLASK_CONFIG=production LOG_FORMAT=json \
    BIND=0.0.0.0:8000 EVIDENCE_DIR=/data/evidence
# pg_dump/pg_restore for `flask backup` and `flask restore` on PostgreSQL
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/* && useradd --system --home /app app
WORKDIR /app
COPY pyproject.toml README.md config.py gunicorn.conf.py ./
COPY workflows workflows
COPY webapp webapp
COPY bpmn bpmn
COPY migrations migrations
COPY --from=assets /build/webapp/static/vendor webapp/static/vendor
RUN pip install --no-cache-dir . && pybabel compile -d webapp/translations \
    && mkdir -p /data/evidence /app/instance && chown -R app /data /app/instance
USER app
EXPOSE 8000
CMD ["gunicorn", "--config", "gunicorn.conf.py"]
