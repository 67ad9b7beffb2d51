#!/usr/bin/env bash
# Shared set-up for run.sh and test.sh: a virtualenv in .venv with the project and its test tools installed.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
# Reinstall only when pyproject.toml changed since the last install.
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".[test]"
  rm -f .venv/.installed-*
  touch "$stamp"
fi
# The English catalogue (Vietnamese is the source language of every message).
if [ -d webapp/translations ]; then
  .venv/bin/pybabel compile -d webapp/translations >/dev/null
fi
# bpmn-js for the process diagrams, served from webapp/static/vendor/ (no CDN); needs Node.js 18+ and npm.
if command -v npm >/dev/null 2>&1; then
  npm_stamp=node_modules/.installed-$(sha256sum package-lock.json | cut -c1-16)
  if [ ! -f "$npm_stamp" ]; then
    npm ci --no-audit --no-fund --silent
    touch "$npm_stamp"
  fi
  npm run --silent vendor
else
  echo "npm is missing: the process diagrams need Node.js 18+ and npm (apt-get install nodejs npm)" >&2
fi
