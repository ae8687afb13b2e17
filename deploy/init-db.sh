#!/bin/sh
# One-shot set-up before the replicas start (compose's `init` service, the Helm chart's
# pre-install/pre-upgrade Job, scripts/cluster.sh): apply the schema, then create the admin with
# $WAKELOG_ADMIN_PASSWORD if there is no admin yet. Safe to run again (after each upgrade).
#   wakelog-init-db postgresql://USER@HOST:PORT/DB     (password: $PGPASSWORD, as libpq reads it)
# $WAKELOG_COMMAND runs wakelog (default: wakelog).
set -eu
url="$1"
wakelog="${WAKELOG_COMMAND:-wakelog}"
$wakelog db upgrade --backend-store "$url"
if ! $wakelog user list --backend-store "$url" | grep -q '^admin '; then
    : "${WAKELOG_ADMIN_PASSWORD:?set WAKELOG_ADMIN_PASSWORD for the first admin}"
    printf '%s\n' "$WAKELOG_ADMIN_PASSWORD" |
        $wakelog user add admin --admin --password-stdin --backend-store "$url"
fi
