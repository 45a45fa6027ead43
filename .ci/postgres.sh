# Sourced by .ci/run (and usable by hand: `. .ci/postgres.sh; notme_pg_start`).
# A throwaway PostgreSQL cluster for the test suite: Debian's packages,
# initdb in a temporary folder as an unprivileged user, a loopback port, no
# system service. notme_pg_start exports NOTME_TEST_POSTGRES (a base URL:
# each test creates and drops its own database there); notme_pg_stop stops
# the cluster and removes the folder.

notme_pg_bin() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

notme_pg_install() {
  [ -n "$(notme_pg_bin)" ] && [ -x "$(notme_pg_bin)/initdb" ] && return 0
  # No "main" cluster and no service started by the package scripts.
  mkdir -p /etc/postgresql-common/createcluster.d
  echo 'create_main_cluster = false' >/etc/postgresql-common/createcluster.d/notme-ci.conf
  local prc=/usr/sbin/policy-rc.d had_prc=0
  [ -e "$prc" ] && had_prc=1
  [ $had_prc = 1 ] || { printf '#!/bin/sh\nexit 101\n' >"$prc"; chmod +x "$prc"; }
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql
  [ $had_prc = 1 ] || rm -f "$prc"
}

notme_pg_start() {
  local bin user port
  notme_pg_install || return 1
  bin=$(notme_pg_bin)
  [ -x "$bin/initdb" ] || { echo "postgres: initdb not found" >&2; return 1; }
  user=$(id -un)
  NOTME_PG_DIR=$(mktemp -d /tmp/notme-pg.XXXXXX)
  if [ "$(id -u)" = 0 ]; then
    user=nobody # PostgreSQL refuses to run as root
    chown "$user" "$NOTME_PG_DIR"
  fi
  as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u nobody -- "$@"; else "$@"; fi; }
  as_pg "$bin/initdb" -D "$NOTME_PG_DIR/data" -U notme -A trust -E UTF8 --locale=C.UTF-8 >"$NOTME_PG_DIR/initdb.log" 2>&1 ||
    { cat "$NOTME_PG_DIR/initdb.log" >&2; return 1; }
  # A test cluster: durability off, room for every test's pool.
  for port in $(shuf -i 20000-60000 -n 5); do
    if as_pg "$bin/pg_ctl" -D "$NOTME_PG_DIR/data" -l "$NOTME_PG_DIR/server.log" -w -t 60 start \
      -o "-h 127.0.0.1 -p $port -k $NOTME_PG_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400 -c shared_buffers=64MB" >/dev/null; then
      export NOTME_TEST_POSTGRES="postgres://notme@127.0.0.1:$port/postgres?sslmode=disable"
      echo "postgres: throwaway cluster on 127.0.0.1:$port in $NOTME_PG_DIR"
      return 0
    fi
  done
  tail -n 20 "$NOTME_PG_DIR/server.log" >&2
  return 1
}

notme_pg_stop() {
  [ -n "${NOTME_PG_DIR:-}" ] && [ -d "$NOTME_PG_DIR" ] || return 0
  if [ "$(id -u)" = 0 ]; then
    runuser -u nobody -- "$(notme_pg_bin)/pg_ctl" -D "$NOTME_PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
  else
    "$(notme_pg_bin)/pg_ctl" -D "$NOTME_PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$NOTME_PG_DIR"
}
