#!/usr/bin/env bash
# Set up and start the app on SQLite (instance/bacninh.sqlite) with demo data: one login per role and per unit.
# Served by gunicorn (gunicorn.conf.py), as in production; the timer worker is `flask --app webapp worker` beside it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export FLASK_APP=webapp
export LOG_FORMAT="${LOG_FORMAT:-text}"  # plain lines for a person at a terminal; servers log JSON (docs/DEPLOY.md)
.venv/bin/flask init-db
.venv/bin/flask seed-demo --password "${DEMO_PASSWORD:-demo12345}"
echo "Serving on http://${HOST:-127.0.0.1}:${PORT:-5000} (Ctrl+C stops)"
exec .venv/bin/gunicorn --config gunicorn.conf.py --bind "${HOST:-127.0.0.1}:${PORT:-5000}"
