#!/usr/bin/env bash
# Install wakelog with its server and PaddlePaddle (into ./.venv), start the embedded server, and
# train a small CNN on the bundled digits data logged to it live. Prints the run's URL and keeps
# serving until Ctrl-C. Extra arguments go to `wakelog demo` (e.g. --port 9000, --exit).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[paddle,server]'
exec .venv/bin/wakelog demo "$@"
