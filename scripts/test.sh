#!/usr/bin/env bash
# Install everything the test suite needs (into ./.venv) and run all of it: lint, format, tests with
# their coverage (failing under a floor).
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -k step_machine -x`.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v git >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq git
fi
# The server tests start a throwaway PostgreSQL cluster (Debian keeps initdb off PATH); the loopback
# cluster test (scripts/cluster.sh) puts nginx and PgBouncer in front of it.
missing=()
command -v initdb >/dev/null 2>&1 || compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || missing+=(nginx)
[ -x /usr/sbin/pgbouncer ] || command -v pgbouncer >/dev/null 2>&1 || missing+=(pgbouncer)
if [ ${#missing[@]} -gt 0 ]; then
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[dev,paddle,server,postgres,s3]'
# The stock wandb client (the `wandb-client` extra), for tests/integration/test_wandb_client.py, in a
# folder of its own: the wandb alias tests need `import wandb` to find no real wandb in the venv.
.venv/bin/python -m pip install -q --target .venv/wandb-client $(.venv/bin/python -c 'import tomllib; print(*tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]["wandb-client"])')
# PaddleNLP's Trainer(report_to="wandb") test: its dependencies as they work, then it without its own.
.venv/bin/python -m pip install -q -r tests/requirements-toolkits.txt
.venv/bin/python -m pip install -q --no-deps paddlenlp==2.8.1 datasets==4.8.5

# The web app: its browser tests drive Debian's Chromium (never a downloaded browser).
if [ ! -x /usr/bin/chromium ] || ! command -v npm >/dev/null 2>&1; then
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    [ -x /usr/bin/chromium ] || $sudo env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null
    command -v npm >/dev/null 2>&1 || $sudo env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq nodejs npm >/dev/null
fi
# The web app's API types come from the server's OpenAPI schema: regenerate both files and
# fail if they differ from the committed ones (a route or model changed without them).
.venv/bin/python scripts/openapi.py
(cd web && npm ci --no-audit --no-fund --loglevel=error && npm run gen:api)
if ! git diff --quiet -- web/src/api/openapi.json web/src/api/schema.d.ts; then
    echo "web/src/api/openapi.json or schema.d.ts is stale;" \
        "run 'python scripts/openapi.py && (cd web && npm run gen:api)' and commit the result:" >&2
    git status --short -- web/src/api/openapi.json web/src/api/schema.d.ts >&2
    exit 1
fi
# Vitest, ESLint, then a rebuild: the bundle committed in src/wakelog/server/static must be exactly
# what web/ builds, so `wakelog server` never serves code that differs from its sources.
(cd web && npm test && npm run lint && npm run build)
if ! git diff --quiet -- src/wakelog/server/static \
    || [ -n "$(git ls-files --others --exclude-standard -- src/wakelog/server/static)" ]; then
    echo "src/wakelog/server/static differs from a fresh build of web/;" \
        "run 'cd web && npm ci && npm run build' and commit the result:" >&2
    git status --short -- src/wakelog/server/static >&2
    exit 1
fi

.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy  # strict on runlog, sdk, transport and store: [tool.mypy] in pyproject.toml
# Coverage of the wakelog package (this process's; not the servers and scripts the tests start).
# The floor holds for the whole suite, so it applies only when no arguments narrow the run.
coverage=(--cov=src/wakelog --cov-report=term:skip-covered)  # a path: a package name measured nothing from a fresh clone
[ $# -gt 0 ] || coverage+=(--cov-fail-under=84)
# Two workers, each taking whole files (module fixtures such as a seeded server are made once);
# WAKELOG_TEST_WORKERS=0 (or `-n 0` among the arguments) runs everything in this process.
workers=(-n "${WAKELOG_TEST_WORKERS:-2}" --dist loadfile)
if [ $# -gt 0 ]; then
    exec .venv/bin/python -m pytest --durations=25 "${workers[@]}" "${coverage[@]}" "$@"
fi
# The loopback cluster (tests/integration/test_cluster.py: a proxy, three replicas, PgBouncer,
# PostgreSQL and S3 on two cores, its streams held to deadlines) runs alone after the rest: beside
# the other worker it once stalled past its deadlines; alone it has always passed.
cluster=tests/integration/test_cluster.py
.venv/bin/python -m pytest --durations=25 "${workers[@]}" "${coverage[@]}" --ignore="$cluster"
.venv/bin/python -m pytest -n 0 "$cluster"
