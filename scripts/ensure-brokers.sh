#!/usr/bin/env bash
# Starts the local brokers the test suite uses, unless they are already listening, and waits
# until each accepts connections. All are required (the store drivers run their conformance suite
# against Redis and PostgreSQL): the script fails if one cannot be started.
#
#   bash scripts/ensure-brokers.sh          (or: npx -y pnpm@10 brokers)
#
# CONDUIT_BROKER_WAIT_SECONDS bounds each wait (default 60).
set -euo pipefail

WAIT_SECONDS="${CONDUIT_BROKER_WAIT_SECONDS:-60}"

say() { printf 'ensure-brokers: %s\n' "$*"; }
warn() { printf 'ensure-brokers: WARNING: %s\n' "$*" >&2; }
fail() { printf 'ensure-brokers: ERROR: %s\n' "$*" >&2; }

# True when something accepts TCP connections on 127.0.0.1:<port>.
listening() {
  timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# Waits up to <seconds> for 127.0.0.1:<port> to accept connections.
wait_for_port() {
  local port="$1" seconds="$2"
  local deadline=$((SECONDS + seconds))
  until listening "$port"; do
    if ((SECONDS >= deadline)); then return 1; fi
    sleep 1
  done
}

start_nats() {
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- \
    -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
}
start_rabbitmq() { rabbitmq-server -detached; }
start_mosquitto() { mosquitto -d -c /etc/mosquitto/mosquitto.conf; }
start_redis() {
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
}
# What the store tests connect to: the machine's PostgreSQL, user postgres, database test,
# trust auth on loopback (how this machine type runs it).
POSTGRES_TEST_URL="${CONDUIT_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"

# A PostgreSQL this script installed (Debian's defaults: password auth on loopback, no `test`
# database) is made to match: a `test` database, and trust for the postgres user on 127.0.0.1
# only. A server that already accepts the connection is never touched.
prepare_postgresql() {
  command -v psql >/dev/null 2>&1 || return 0
  psql "$POSTGRES_TEST_URL" -Atc 'select 1' </dev/null >/dev/null 2>&1 && return 0
  if [[ "$(id -u)" -ne 0 ]] || ! command -v runuser >/dev/null 2>&1; then
    fail "cannot connect to $POSTGRES_TEST_URL (set CONDUIT_POSTGRES_URL, or create the database and allow the user)"
    return 1
  fi
  say "preparing PostgreSQL for the store tests (database test, trust for postgres on 127.0.0.1)"
  runuser -u postgres -- psql -Atc "select 1 from pg_database where datname = 'test'" </dev/null | grep -q 1 ||
    runuser -u postgres -- createdb test </dev/null
  local hba
  for hba in /etc/postgresql/*/main/pg_hba.conf; do
    [[ -f "$hba" ]] || continue
    grep -q '^host all postgres 127.0.0.1/32 trust' "$hba" ||
      sed -i '1i host all postgres 127.0.0.1/32 trust' "$hba"
  done
  runuser -u postgres -- psql -Atc 'select pg_reload_conf()' </dev/null >/dev/null
  psql "$POSTGRES_TEST_URL" -Atc 'select 1' </dev/null >/dev/null 2>&1 ||
    { fail "still cannot connect to $POSTGRES_TEST_URL after preparing PostgreSQL"; return 1; }
}

start_postgresql() {
  # shellcheck disable=SC2046 # one cluster version directory is expected under /etc/postgresql
  pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start
}

# name | port | required | program that must be installed | start function | Debian package
BROKERS=(
  "NATS|4222|required|/usr/sbin/nats-server|start_nats|nats-server"
  "RabbitMQ|5672|required|rabbitmq-server|start_rabbitmq|rabbitmq-server"
  "Mosquitto|1883|required|mosquitto|start_mosquitto|mosquitto"
  "Redis|6379|required|redis-server|start_redis|redis-server"
  "PostgreSQL|5432|required|pg_ctlcluster|start_postgresql|postgresql"
)

# Installs a missing required broker from Debian's packages when this machine can (apt-get, and
# root or passwordless sudo); otherwise says the exact command. CONDUIT_INSTALL_BROKERS=0 never
# installs.
install_package() {
  local package="$1" sudo=""
  if [[ "${CONDUIT_INSTALL_BROKERS:-1}" == 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    return 1
  fi
  if [[ "$(id -u)" -ne 0 ]]; then
    sudo -n true 2>/dev/null || return 1
    sudo="sudo -n"
  fi
  say "installing $package from Debian's packages"
  $sudo apt-get update -qq </dev/null >/dev/null && \
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$package" </dev/null >/dev/null
}

problems=0
# Reports a broker that is not available: an error for required ones, a warning otherwise.
unavailable() {
  local required="$1" message="$2"
  if [[ "$required" == required ]]; then
    fail "$message"
    problems=$((problems + 1))
  else
    warn "$message (optional, continuing)"
  fi
}

main() {
  local entry name port required program start package
  local -a started=()

  # Start everything that is missing first, so the slow starters (RabbitMQ) overlap.
  for entry in "${BROKERS[@]}"; do
    IFS='|' read -r name port required program start package <<<"$entry"
    if listening "$port"; then
      say "$name is listening on 127.0.0.1:$port"
      continue
    fi
    if ! command -v "$program" >/dev/null 2>&1; then
      if [[ "$required" != required ]] || ! install_package "$package" || ! command -v "$program" >/dev/null 2>&1; then
        unavailable "$required" "$name is not listening on 127.0.0.1:$port and $program is not installed (Debian: apt-get install $package)"
        continue
      fi
    fi
    say "starting $name (127.0.0.1:$port)"
    if "$start" </dev/null; then
      started+=("$entry")
    else
      unavailable "$required" "$name: the start command failed (exit $?)"
    fi
  done

  for entry in "${started[@]}"; do
    IFS='|' read -r name port required program start package <<<"$entry"
    if wait_for_port "$port" "$WAIT_SECONDS"; then
      say "$name is listening on 127.0.0.1:$port"
    else
      unavailable "$required" "$name was started but is not listening on 127.0.0.1:$port after ${WAIT_SECONDS} s"
    fi
  done

  # RabbitMQ opens its port before it is fully booted; wait until it says it is up.
  if listening 5672 && command -v rabbitmqctl >/dev/null 2>&1; then
    if timeout "$WAIT_SECONDS" rabbitmqctl await_startup </dev/null >/dev/null 2>&1; then
      say "RabbitMQ finished booting"
    else
      unavailable required "RabbitMQ listens on 127.0.0.1:5672 but 'rabbitmqctl await_startup' did not succeed within ${WAIT_SECONDS} s"
    fi
  fi

  if listening 5432; then
    prepare_postgresql || unavailable required "PostgreSQL: the store tests connect as $POSTGRES_TEST_URL and cannot (see above)"
  fi

  if ((problems > 0)); then
    fail "$problems required service(s) unavailable; the tests need NATS (4222), RabbitMQ (5672), Mosquitto (1883), Redis (6379) and PostgreSQL (5432)"
    exit 1
  fi
  say "ready"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  main "$@"
fi
