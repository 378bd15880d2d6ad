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


# A Python tool from PyPI in its own virtual environment under
# target/tools/<name> (made once, remade when the pinned version changes).
#   install_pypi_tool NAME 'package==version [package==version…]' 'python check'
install_pypi_tool() {
  local venv=target/tools/$1 package=$2 check=$3
  if [ -x "$venv/bin/python" ] && [ "$(cat "$venv/.package" 2>/dev/null)" = "$package" ] &&
    "$venv/bin/python" -c "$check" 2>/dev/null; then
    return 0
  fi
  log "installing $package"
  rm -rf "$venv"
  mkdir -p target/tools
  if ! python3 -m venv "$venv" >/dev/null 2>&1; then
    apt_install python3-venv
    /usr/bin/python3 -m venv "$venv"
  fi
  local packages
  read -ra packages <<<"$package"
  "$venv/bin/pip" install -q --disable-pip-version-check "${packages[@]}"
  echo "$package" >"$venv/.package"
}

# An S3-compatible object store for the media tests: moto's server. Sets
# s3_server to its command.
install_s3_server() {
  install_pypi_tool moto 'moto[server]==5.2.5' 'import moto.server'
  s3_server="$PWD/target/tools/moto/bin/moto_server"
}

# What checks the Atom feeds: feedparser (a widely used feed parser) and
# lxml's RELAX NG validator, with rnc2rng to read RFC 4287's compact schema.
# Sets feed_checker to its Python.
install_feed_checker() {
  install_pypi_tool feeds 'feedparser==6.0.12 lxml==6.0.2 rnc2rng==2.7.0' \
    'import feedparser, lxml.etree, rnc2rng'
  feed_checker="$PWD/target/tools/feeds/bin/python"
}

# What checks Gorod's webhook signatures in the tests: the Standard
# Webhooks reference library. Sets webhook_checker to its Python.
install_webhook_checker() {
  install_pypi_tool webhooks 'standardwebhooks==1.0.0' \
    'from standardwebhooks.webhooks import Webhook'
  webhook_checker="$PWD/target/tools/webhooks/bin/python"
}

# The API fuzzer that checks the served OpenAPI document against the
# server's answers: schemathesis. Sets schemathesis to its command.
install_schemathesis() {
  install_pypi_tool schemathesis 'schemathesis==4.32.5' 'import schemathesis'
  schemathesis="$PWD/target/tools/schemathesis/bin/schemathesis"
}

# Starts the built server (target/debug/gorod) with the demo city on a fresh
# database and waits until it is ready: on SQLite in a temporary directory,
# or in a fresh schema of the PostgreSQL database at the given URL, dropped
# again by stop_demo_server.
#   start_demo_server sqlite|POSTGRES_URL LOG_FILE DEMO_REPORTS
# Sets demo_url (the server's address), demo_work (its directory: mail/,
# media/) and demo_label (sqlite or postgres).
start_demo_server() {
  local target=$1 log_file=$2 reports=$3 url port
  demo_work=$(mktemp -d)
  demo_schema=""
  demo_target=$target
  if [ "$target" = sqlite ]; then
    demo_label=sqlite
    url="sqlite://$demo_work/gorod.db"
  else
    demo_label=postgres
    command -v psql >/dev/null || apt_install postgresql-client
    demo_schema="demo_$$_$(date +%s%N)"
    psql "$target" -qc "CREATE SCHEMA $demo_schema" >/dev/null
    local sep='?'
    case "$target" in *\?*) sep='&' ;; esac
    url="$target${sep}options=--search_path%3D$demo_schema"
  fi
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  GOROD__DATABASE__URL="$url" GOROD__SERVER__PORT="$port" \
    GOROD__MEDIA__DIR="$demo_work/media" GOROD__MAIL__DIR="$demo_work/mail" \
    GOROD__SEED__DEMO_REPORTS="$reports" RUST_LOG=warn \
    target/debug/gorod serve --demo >"$log_file" 2>&1 &
  demo_server=$!
  demo_url="http://127.0.0.1:$port"
  for _ in $(seq 1 120); do
    curl -fs "$demo_url/readyz" >/dev/null 2>&1 && return 0
    kill -0 "$demo_server" 2>/dev/null || { cat "$log_file" >&2; return 1; }
    sleep 0.5
  done
  echo "the demo server did not become ready" >&2
  return 1
}

stop_demo_server() {
  if [ -n "${demo_server:-}" ]; then
    kill "$demo_server" 2>/dev/null && wait "$demo_server" 2>/dev/null || true
  fi
  if [ -n "${demo_schema:-}" ]; then
    psql "$demo_target" -qc "DROP SCHEMA IF EXISTS $demo_schema CASCADE" >/dev/null 2>&1 || true
  fi
  [ -n "${demo_work:-}" ] && rm -rf "$demo_work"
  demo_server="" demo_schema="" demo_work=""
}
