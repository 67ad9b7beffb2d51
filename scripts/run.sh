#!/usr/bin/env bash
# Set up and start the app on SQLite (instance/bacninh.sqlite) with demo data: one login per role and per unit.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export FLASK_APP=webapp
.venv/bin/flask init-db
.venv/bin/flask seed-demo --password "${DEMO_PASSWORD:-demo12345}"
exec .venv/bin/flask run --host "${HOST:-127.0.0.1}" --port "${PORT:-5000}"
