#!/bin/sh
# The credentials come from the environment (DB_HOST, DB_USER, DB_PASSWORD): written into
# PgBouncer's files at start, never into the image.
set -eu
umask 077
printf '"%s" "%s"\n' "$DB_USER" "$DB_PASSWORD" >/tmp/userlist.txt
sed "s/%(DB_HOST)s/$DB_HOST/" /etc/pgbouncer/pgbouncer.ini >/tmp/pgbouncer.ini
exec pgbouncer /tmp/pgbouncer.ini
