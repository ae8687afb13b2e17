#!/usr/bin/env bash
# Install everything the test suite needs (into ./.venv) and run all of it: lint, format, tests.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -k step_machine -x`.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v git >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq git
fi
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[dev,paddle]'

.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/python -m pytest "$@"
