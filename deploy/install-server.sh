#!/bin/sh
# The server's one install step, shared by deploy/Dockerfile and scripts/cluster.sh (a test keeps
# both calling it): wakelog from the source folder SRC with the extras a cluster needs
# (PostgreSQL through psycopg, blobs on S3 through s3fs).
#   sh deploy/install-server.sh [SRC [PYTHON]]
set -eu
src="${1:-.}"
python="${2:-python3}"
exec "$python" -m pip install --no-cache-dir "$src[server,postgres,s3]"
