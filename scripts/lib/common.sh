# Shared by scripts/test and scripts/bench: logging, Debian installs, and
# find_postgres, which finds a PostgreSQL server or starts a throwaway
# cluster and sets pg_url.

log() { printf '\n== %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else "$@"; fi
}

apt_install() {
  log "installing $*"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}


answers() { # url
  if command -v psql >/dev/null; then
    psql "$1" -Atqc 'SELECT 1' >/dev/null 2>&1
  else
    (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null
  fi
}

cluster_dir=""
cluster_bin=""
stop_cluster() {
  if [ -n "$cluster_dir" ]; then
    log "stopping the throwaway PostgreSQL cluster"
    if [ -d "$cluster_dir/replica" ]; then
      run_as_postgres "$cluster_bin/pg_ctl" -D "$cluster_dir/replica" -m immediate stop >/dev/null 2>&1 || true
    fi
    run_as_postgres "$cluster_bin/pg_ctl" -D "$cluster_dir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$cluster_dir"
  fi
}
trap stop_cluster EXIT

run_as_postgres() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

find_initdb() {
  command -v initdb 2>/dev/null && return 0
  ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1
}

start_cluster() {
  local initdb
  initdb=$(find_initdb || true)
  if [ -z "$initdb" ]; then
    apt_install postgresql
    initdb=$(find_initdb)
  fi
  cluster_bin=$(dirname "$initdb")
  if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
    useradd --system --home /var/lib/postgresql --shell /bin/sh postgres
  fi
  cluster_dir=$(mktemp -d /tmp/gorod-pg.XXXXXX)
  chmod 755 "$cluster_dir"
  [ "$(id -u)" = 0 ] && chown postgres "$cluster_dir"
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  log "starting a throwaway PostgreSQL cluster on port $port"
  run_as_postgres "$initdb" -D "$cluster_dir/data" -U postgres -A trust -E UTF8 >/dev/null
  run_as_postgres "$cluster_bin/pg_ctl" -D "$cluster_dir/data" -l "$cluster_dir/log" -w \
    -o "-p $port -k $cluster_dir -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
  pg_url="postgres://postgres@127.0.0.1:$port/postgres"
}

# start_replica: a streaming replica of the throwaway cluster (pg_basebackup
# -R) on a port of its own; sets replica_url.
start_replica() {
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  local primary_port=${pg_url##*127.0.0.1:}
  primary_port=${primary_port%%/*}
  log "streaming a replica of it on port $port"
  local basebackup="$cluster_bin/pg_basebackup"
  [ -x "$basebackup" ] || basebackup=$(command -v pg_basebackup)
  run_as_postgres "$basebackup" -h 127.0.0.1 -p "$primary_port" -U postgres \
    -D "$cluster_dir/replica" -R -X stream -c fast
  run_as_postgres "$cluster_bin/pg_ctl" -D "$cluster_dir/replica" -l "$cluster_dir/replica.log" -w \
    -o "-p $port -k $cluster_dir -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
  replica_url="postgres://postgres@127.0.0.1:$port/postgres"
}

# find_postgres [URL]: URL when given, else the server on 127.0.0.1:5432,
# else a throwaway cluster (stopped and removed when the script exits).
find_postgres() {
  if [ -n "${1:-}" ]; then
    pg_url=$1
  elif answers "postgres://postgres@127.0.0.1:5432/postgres"; then
    # No TLS on loopback: it buys nothing, and OpenSSL's clean-up at process
    # exit can crash a binary whose other threads still hold connections.
    pg_url="postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
  else
    start_cluster
  fi
}


# An S3-compatible object store for the media tests: moto's server, from
# PyPI, in a virtual environment under target/tools/ (made once). Sets
# s3_server to its command.
S3_SERVER_PACKAGE='moto[server]==5.2.5'
install_s3_server() {
  local venv=target/tools/moto
  s3_server="$PWD/$venv/bin/moto_server"
  if [ -x "$s3_server" ] && "$venv/bin/python" -c 'import moto.server' 2>/dev/null; then
    return 0
  fi
  log "installing the S3-compatible test server ($S3_SERVER_PACKAGE)"
  rm -rf "$venv"
  mkdir -p target/tools
  if ! python3 -m venv "$venv" >/dev/null 2>&1; then
    apt_install python3-venv
    /usr/bin/python3 -m venv "$venv"
  fi
  "$venv/bin/pip" install -q --disable-pip-version-check "$S3_SERVER_PACKAGE"
}
