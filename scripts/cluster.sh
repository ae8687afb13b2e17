#!/usr/bin/env bash
# A wakelog cluster on loopback, from Debian packages: nginx in front of 3 `wakelog server` replicas,
# which share one PostgreSQL (reached through PgBouncer in session mode) and one S3 bucket (moto's
# S3 server). The same topology as deploy/compose.yaml, without a container engine.
#
#   scripts/cluster.sh up STATE            start everything; STATE is a folder of its own (created)
#   scripts/cluster.sh status STATE        each process, its pid and port; exit 1 if one is down
#   scripts/cluster.sh restart-replica N STATE   stop replica N (1..3) if it runs, start it again
#   scripts/cluster.sh down STATE          stop every process `up` started, and wait until all are gone
#
# Everything lives in STATE: the database, the logs, the pid files, the admin's key (STATE/admin.key)
# and password (STATE/admin-credentials.txt), and STATE/cluster.env (ports and URLs, shell syntax). Nothing is read from or written to the real
# home: the processes get HOME=STATE/home. Each process is started in a process group of its own,
# and `down` ends the whole group (TERM, then KILL after a grace period), so nothing outlives it.
#
# Settings (environment): WAKELOG_CLUSTER_PYTHON (default ./.venv/bin/python, else python3),
# WAKELOG_CLUSTER_REPLICAS (default 3), WAKELOG_CLUSTER_SERVER_ARGS (more `wakelog server`
# options, e.g. "--min-free 0"). Missing nginx/pgbouncer/postgresql are installed with apt-get.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
usage() {
    echo "usage: $0 up|down|status STATE | $0 restart-replica N STATE" >&2
    exit 2
}
[ $# -ge 2 ] || usage
COMMAND="$1"
shift
REPLICA=""
if [ "$COMMAND" = restart-replica ]; then
    [ $# -eq 2 ] || usage
    REPLICA="$1"
    shift
fi
[ $# -eq 1 ] || usage
mkdir -p "$1"
STATE="$(cd "$1" && pwd)"
PIDS="$STATE/pids"
LOGS="$STATE/logs"
REPLICAS="${WAKELOG_CLUSTER_REPLICAS:-3}"
if [ -n "${WAKELOG_CLUSTER_PYTHON:-}" ]; then
    PY="$WAKELOG_CLUSTER_PYTHON"
elif [ -x "$ROOT/.venv/bin/python" ]; then
    PY="$ROOT/.venv/bin/python"
else
    PY=python3
fi
BUCKET=wakelog
GRACE=15 # seconds a process group gets to end after its stop signal, before KILL

die() {
    echo "cluster: $*" >&2
    exit 1
}

# -- processes: one process group per service, its leader's pid in $PIDS/<name>.pid -----------------

# The live processes of group $1 and their descendants (PostgreSQL's children make process
# groups of their own, so the group alone does not hold them). Zombies left for a reaper are gone.
members() {
    ps -e -o pid=,ppid=,pgid=,stat= | awk -v g="$1" '
        $4 !~ /^Z/ { parent[$1] = $2; if ($3 == g) keep[$1] = 1 }
        END {
            do { n = 0; for (p in parent) if (!(p in keep) && (parent[p] in keep)) { keep[p] = 1; n++ } } while (n)
            for (p in keep) print p
        }'
}

# The pids among $@ that are still there (not zombies).
still_alive() {
    [ $# -gt 0 ] || return 0
    ps -o pid=,stat= -p "$(echo "$@" | tr ' ' ',')" 2>/dev/null | awk '$2 !~ /^Z/ { print $1 }'
}

group_alive() {
    [ -n "$(members "$1")" ]
}

# start NAME COMMAND...: run COMMAND in a new session (its own process group), output in $LOGS.
start() {
    local name="$1"
    shift
    # Not a group leader (no job control in a script), so setsid execs in place: $! is the
    # process itself, and its pid is its process group's id.
    setsid "$@" >>"$LOGS/$name.log" 2>&1 </dev/null &
    echo $! >"$PIDS/$name.pid"
}

running() {
    [ -f "$PIDS/$1.pid" ] && group_alive "$(cat "$PIDS/$1.pid")"
}

# stop NAME [SIGNAL]: SIGNAL (default TERM) to the service's leader, then its processes (the group
# and the leader's descendants, as they were when stopped) are waited for, and KILLed if any is still
# there after $GRACE seconds.
stop() {
    local name="$1" signal="${2:-TERM}" pid procs left
    [ -f "$PIDS/$name.pid" ] || return 0
    pid="$(cat "$PIDS/$name.pid")"
    procs="$(members "$pid" | tr '\n' ' ')"
    kill -s "$signal" "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + GRACE))
    # shellcheck disable=SC2086  # lists of pids
    while left="$(still_alive $procs) $(members "$pid")" && [ -n "${left// /}" ]; do
        if [ $SECONDS -ge $deadline ]; then
            echo "cluster: $name did not stop within ${GRACE}s; killing $left" >&2
            kill -s KILL $left 2>/dev/null || true
            deadline=$((SECONDS + GRACE))
        fi
        sleep 0.1
    done
    rm -f "$PIDS/$name.pid"
}

# wait_for NAME SECONDS COMMAND...: poll COMMAND until it succeeds; fail after SECONDS, or at once
# (with the end of its log) if service NAME's process is gone.
wait_for() {
    local name="$1" deadline=$((SECONDS + $2))
    shift 2
    until "$@" >/dev/null 2>&1; do
        if ! running "$name"; then
            tail -n 20 "$LOGS/$name.log" >&2 || true
            die "$name exited while starting (log: $LOGS/$name.log)"
        fi
        [ $SECONDS -lt $deadline ] || die "timed out waiting for $name (log: $LOGS/$name.log)"
        sleep 0.1
    done
    # an answer from a process that is not ours (ours could not take its port, say) is no start
    running "$name" || die "$name exited while starting: something else answers in its place (log: $LOGS/$name.log)"
}

# -- PostgreSQL and PgBouncer refuse to run as root: as root they run as the postgres user ------------

AS_PG=()
if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || die "running as root and there is no 'postgres' user for PostgreSQL"
    AS_PG=(setpriv --reuid=postgres --regid=postgres --clear-groups --)
fi

install_packages() {
    local missing=()
    command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
    command -v pgbouncer >/dev/null 2>&1 || [ -x /usr/sbin/pgbouncer ] || missing+=(pgbouncer)
    compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
    [ ${#missing[@]} -eq 0 ] && return
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# The server's Python: the same install step as deploy/Dockerfile (deploy/install-server.sh), run
# only when the extras it installs are not all there.
install_server() {
    "$PY" - "$ROOT/deploy/install-server.sh" <<'EOF' && return
import re, sys
from importlib import metadata
from pathlib import Path
extras = re.search(r"\[([a-z0-9,]+)\]", Path(sys.argv[1]).read_text()).group(1).split(",")
try:
    needed = [r for r in metadata.requires("wakelog") or [] if any(f'extra == "{e}"' in r for e in extras)]
    for requirement in needed:
        metadata.version(re.match(r"[A-Za-z0-9_.-]+", requirement).group(0))
except metadata.PackageNotFoundError:
    sys.exit(1)
EOF
    sh "$ROOT/deploy/install-server.sh" "$ROOT" "$PY"
}

# moto's S3 server stands in for the object store (MinIO, OSS, COS, BOS in production).
install_s3() {
    "$PY" -c 'import moto.server' 2>/dev/null || "$PY" -m pip install -q 'moto[server]>=5'
}

# free_ports N: N ports free now, below the kernel's ephemeral range (ip_local_port_range). The
# cluster holds its ports for its whole life and restarts replicas on them: a port the kernel may
# hand out (to a bind to port 0 or an outgoing connection of another process, such as a parallel
# test worker) could be taken while a replica is down, and the proxy would then send requests to
# whatever answers there.
free_ports() {
    "$PY" -c '
import random, socket, sys
want = int(sys.argv[1])
try:
    low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
except (OSError, ValueError, IndexError):
    low = 32768
span = range(20000, low) if low > 21000 else range(0)
found = []
for port in random.sample(span, len(span)):
    if len(found) == want:
        break
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            continue
    found.append(port)
while len(found) < want:  # no room below the ephemeral range: ports the kernel hands out
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        found.append(s.getsockname()[1])
print(" ".join(map(str, found)))
' "$1"
}

pg_bin() {
    ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1
}

# -- the services ---------------------------------------------------------------------------------------

start_postgres() {
    local bin data="$STATE/pg/data"
    bin="$(pg_bin)"
    mkdir -p "$STATE/pg"
    [ ${#AS_PG[@]} -eq 0 ] || chown -R postgres:postgres "$STATE/pg"
    "${AS_PG[@]}" env HOME="$STATE/home" LC_ALL=C "$bin/initdb" -D "$data" -U postgres --auth=trust \
        -E UTF8 --no-sync >>"$LOGS/initdb.log" 2>&1
    # A throwaway cluster: durability off (a loopback test of the topology, not of PostgreSQL).
    cat >>"$data/postgresql.conf" <<EOF
port = $PG_PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$STATE/pg'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 64MB
EOF
    start postgres "${AS_PG[@]}" "$bin/postgres" -D "$data"
    wait_for postgres 60 "$bin/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"
    "$bin/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres wakelog
}

start_pgbouncer() {
    mkdir -p "$STATE/pgbouncer"
    echo '"postgres" ""' >"$STATE/pgbouncer/userlist.txt"
    # Session mode: a client keeps its server connection, so LISTEN (live events across replicas)
    # and prepared statements work. Each replica holds at most 20 pooled connections + 2 for events.
    cat >"$STATE/pgbouncer/pgbouncer.ini" <<EOF
[databases]
wakelog = host=127.0.0.1 port=$PG_PORT dbname=wakelog user=postgres

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PGB_PORT
unix_socket_dir =
auth_type = trust
auth_file = $STATE/pgbouncer/userlist.txt
admin_users = postgres
pool_mode = session
max_client_conn = 1000
default_pool_size = 150
server_reset_query = DISCARD ALL
ignore_startup_parameters = extra_float_digits,options
EOF
    [ ${#AS_PG[@]} -eq 0 ] || chown -R postgres:postgres "$STATE/pgbouncer"
    start pgbouncer "${AS_PG[@]}" pgbouncer "$STATE/pgbouncer/pgbouncer.ini"
    wait_for pgbouncer 30 "$(pg_bin)/pg_isready" -q -h 127.0.0.1 -p "$PGB_PORT" -d wakelog
}

start_s3() {
    start s3 "$PY" -m moto.server -H 127.0.0.1 -p "$S3_PORT"
    wait_for s3 60 curl -fsS -o /dev/null "http://127.0.0.1:$S3_PORT/"
    curl -fsS -X PUT -o /dev/null "http://127.0.0.1:$S3_PORT/$BUCKET"
}

replica_port() {
    echo "$REPLICA_PORTS" | cut -d' ' -f"$1"
}

start_replica() {
    local n="$1" port
    port="$(replica_port "$n")"
    [ -n "$port" ] || die "no replica $n (there are $REPLICAS)"
    # shellcheck disable=SC2086  # WAKELOG_CLUSTER_SERVER_ARGS is a list of options
    start "replica-$n" env HOME="$STATE/home" WAKELOG_CONFIG_DIR="$STATE/home/config" \
        WAKELOG_SILENT=true WAKELOG_S3_ENDPOINT_URL="http://127.0.0.1:$S3_PORT" \
        AWS_ACCESS_KEY_ID=cluster AWS_SECRET_ACCESS_KEY=cluster AWS_DEFAULT_REGION=us-east-1 \
        AWS_EC2_METADATA_DISABLED=true \
        "$PY" -m wakelog server --host 127.0.0.1 --port "$port" --data-dir "$STATE/replica-$n" \
        --backend-store "$DATABASE_URL" --artifact-root "s3://$BUCKET/blobs" \
        --trusted-proxy 127.0.0.1 ${WAKELOG_CLUSTER_SERVER_ARGS:-}
}

wait_replica() {
    wait_for "replica-$1" 60 curl -fsS -o /dev/null "http://127.0.0.1:$(replica_port "$1")/api/v1/health"
}

start_proxy() {
    local servers="" port
    for port in $REPLICA_PORTS; do
        servers+="        server 127.0.0.1:$port max_fails=1 fail_timeout=2s;"$'\n'
    done
    mkdir -p "$STATE/nginx"
    cat >"$STATE/nginx/nginx.conf" <<EOF
daemon off;
worker_processes 2;
pid $STATE/nginx/nginx.pid;
error_log $LOGS/nginx-error.log warn;
events { worker_connections 2048; }
http {
    # Which replica served each request: the upstream address is in the access log.
    log_format upstream '\$remote_addr "\$request" \$status \$upstream_addr \$request_time';
    access_log $LOGS/nginx-access.log upstream;
    client_body_temp_path $STATE/nginx/body;
    proxy_temp_path $STATE/nginx/proxy;
    fastcgi_temp_path $STATE/nginx/fastcgi;
    uwsgi_temp_path $STATE/nginx/uwsgi;
    scgi_temp_path $STATE/nginx/scgi;
    client_max_body_size 64m;  # the server's own limit (ServerConfig.max_body_bytes)
    upstream wakelog {
$servers
        keepalive 64;
    }
    server {
        listen 127.0.0.1:$PROXY_PORT;
        location / {
            proxy_pass http://wakelog;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host \$http_host;
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto \$scheme;
            # A replica that is down: the request goes to the next one. A POST that reached a
            # replica is not resent by nginx (the client's uploader resends it, idempotently).
            proxy_next_upstream error timeout http_502 http_503;
            # Live events (server-sent) and exports stream through as they are written.
            proxy_buffering off;
            proxy_read_timeout 1h;
        }
    }
}
EOF
    start proxy nginx -p "$STATE/nginx" -c "$STATE/nginx/nginx.conf" -e "$LOGS/nginx-error.log"
    wait_for proxy 30 curl -fsS -o /dev/null "http://127.0.0.1:$PROXY_PORT/api/v1/health"
}

services() {
    echo postgres pgbouncer s3
    for n in $(seq 1 "$REPLICAS"); do echo "replica-$n"; done
    echo proxy
}

load_env() {
    [ -f "$STATE/cluster.env" ] || die "no cluster in $STATE (run: $0 up $STATE)"
    # shellcheck source=/dev/null
    . "$STATE/cluster.env"
}

# -- commands -------------------------------------------------------------------------------------------

# A failed `up` leaves nothing running.
up_failed() {
    echo "cluster: up failed (logs in $LOGS); stopping what it started" >&2
    cmd_down >/dev/null
}

cmd_up() {
    if [ -f "$STATE/cluster.env" ]; then
        for name in $(services); do
            running "$name" && die "a cluster is running in $STATE ($name); run: $0 down $STATE"
        done
    fi
    [ ! -e "$STATE/pg" ] || die "$STATE holds the data of an earlier cluster; give a new folder (or remove it)"
    install_packages
    install_server
    install_s3
    mkdir -p "$PIDS" "$LOGS" "$STATE/home/config"
    # PostgreSQL runs as the postgres user when we are root: it needs to reach its folder.
    [ ${#AS_PG[@]} -eq 0 ] || chmod 711 "$STATE"
    local ports
    read -r -a ports <<<"$(free_ports $((4 + REPLICAS)))"
    PG_PORT="${ports[0]}" PGB_PORT="${ports[1]}" S3_PORT="${ports[2]}" PROXY_PORT="${ports[3]}"
    REPLICA_PORTS="${ports[*]:4}"
    DATABASE_URL="postgresql://postgres@127.0.0.1:$PGB_PORT/wakelog"
    cat >"$STATE/cluster.env" <<EOF
PG_PORT=$PG_PORT
PGB_PORT=$PGB_PORT
S3_PORT=$S3_PORT
PROXY_PORT=$PROXY_PORT
REPLICA_PORTS="$REPLICA_PORTS"
REPLICAS=$REPLICAS
PROXY_URL=http://127.0.0.1:$PROXY_PORT
DATABASE_URL=$DATABASE_URL
S3_ENDPOINT_URL=http://127.0.0.1:$S3_PORT
S3_BUCKET=$BUCKET
ADMIN_KEY_FILE=$STATE/admin.key
EOF
    # A failed start leaves nothing running.
    trap 'up_failed' EXIT
    start_postgres
    start_pgbouncer
    start_s3
    # The schema and the admin first, as deploy/init-db.sh does before compose's and Helm's
    # replicas start; then an API key for the admin in STATE/admin.key (0600).
    local password
    password="$("$PY" -c 'import secrets; print(secrets.token_urlsafe(18))')"
    (
        umask 077
        printf 'username: admin\npassword: %s\n' "$password" >"$STATE/admin-credentials.txt"
        env HOME="$STATE/home" WAKELOG_COMMAND="$PY -m wakelog" WAKELOG_ADMIN_PASSWORD="$password" \
            sh "$ROOT/deploy/init-db.sh" "$DATABASE_URL" >>"$LOGS/init-db.log" 2>&1
        env HOME="$STATE/home" "$PY" -m wakelog key create --user admin --name cluster \
            --backend-store "$DATABASE_URL" 2>>"$LOGS/init-db.log" >"$STATE/admin.key"
    )
    for n in $(seq 1 "$REPLICAS"); do start_replica "$n"; done
    for n in $(seq 1 "$REPLICAS"); do wait_replica "$n"; done
    start_proxy
    trap - EXIT
    echo "cluster up: http://127.0.0.1:$PROXY_PORT (admin key in $STATE/admin.key)"
}

cmd_down() {
    [ -d "$PIDS" ] || return 0
    # Front to back: nothing sends to a service after it stopped. PostgreSQL: SIGINT is its fast
    # shutdown (SIGTERM would wait for every client).
    stop proxy
    for n in $(seq 1 "$REPLICAS"); do stop "replica-$n"; done
    stop s3
    stop pgbouncer
    stop postgres INT
    # Anything left from an interrupted up (a pid file whose service is not in the list above).
    local file
    for file in "$PIDS"/*.pid; do
        [ -e "$file" ] && stop "$(basename "$file" .pid)"
    done
    echo "cluster down"
}

cmd_status() {
    load_env
    local bad=0 name pid state
    for name in $(services); do
        pid="$(cat "$PIDS/$name.pid" 2>/dev/null || echo -)"
        if running "$name"; then state=up; else state=down bad=1; fi
        printf '%-10s %-5s pid %s\n' "$name" "$state" "$pid"
    done
    echo "proxy $PROXY_URL, replicas on $REPLICA_PORTS, PgBouncer $PGB_PORT, PostgreSQL $PG_PORT, S3 $S3_ENDPOINT_URL"
    return $bad
}

cmd_restart_replica() {
    load_env
    [[ "$REPLICA" =~ ^[0-9]+$ ]] && [ "$REPLICA" -ge 1 ] && [ "$REPLICA" -le "$REPLICAS" ] ||
        die "no replica $REPLICA (there are $REPLICAS)"
    stop "replica-$REPLICA"
    start_replica "$REPLICA"
    wait_replica "$REPLICA"
    echo "replica $REPLICA restarted"
}

case "$COMMAND" in
up) cmd_up ;;
down)
    [ -f "$STATE/cluster.env" ] && . "$STATE/cluster.env"
    cmd_down
    ;;
status) cmd_status ;;
restart-replica) cmd_restart_replica ;;
*) usage ;;
esac
