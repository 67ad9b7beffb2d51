#!/usr/bin/env bash
# Set up and run the whole test suite: SQLite by default, PostgreSQL when TEST_DATABASE_URL is set.
# The browser tests drive Debian's Chromium through Playwright; it is installed here when missing (root only).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-core >/dev/null
  else
    echo "Chromium is missing: run 'sudo apt-get install chromium' (the browser tests need it)" >&2
  fi
fi
.venv/bin/ruff check --quiet .  # lint first: it takes a second, the suite minutes
exec .venv/bin/python -m pytest "$@"
