#!/usr/bin/env bash
# Install wakelog with PaddlePaddle (into ./.venv) and train a small CNN on the digits data,
# logging every step with `import wakelog as wandb`. Prints where the run was recorded.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[paddle]'
exec .venv/bin/python examples/paddle/train_digits.py "$@"
