#!/usr/bin/env bash
# Native test stack for churnstream: Apache Kafka (KRaft), a Confluent-API schema
# registry (schemas kept in PostgreSQL), Redis and Prometheus on loopback, without Docker.
#
#   scripts/stack.sh install        download/build what is missing (cached in .stack/)
#   scripts/stack.sh up [svc...]    install if needed, start, wait until ready (no-op if running)
#   scripts/stack.sh down [svc...]  stop what this script started
#   scripts/stack.sh restart svc... stop then start (kafka, redis, schema-registry: fault tests)
#   scripts/stack.sh status         one line per service
#   scripts/stack.sh logs [svc]     tail a service's log
#   scripts/stack.sh reset          down, then delete broker/registry/Redis/Prometheus data
#   scripts/stack.sh env            print the connection settings for the app
#   scripts/stack.sh up --redis-cluster   also a Redis Cluster (3 primaries + 3 replicas)
#
# Services: kafka, postgres (the registry's store), schema-registry, redis, prometheus;
# redis-cluster is opt-in (scripts/stack/redis-cluster.sh): `up --redis-cluster` or
# `up redis-cluster`, `down redis-cluster`; `down`/`reset` include it, `env --redis-cluster`.
# Versions and ports: scripts/stack/stack.env. CHURNSTREAM_STACK_DIR moves the cache/data folder.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=stack/stack.env
source "$ROOT/scripts/stack/stack.env"
# shellcheck source=stack/redis-cluster.sh
source "$ROOT/scripts/stack/redis-cluster.sh"
STACK_DIR="${CHURNSTREAM_STACK_DIR:-$ROOT/.stack}"
RUN_DIR="$STACK_DIR/run"
LOG_DIR="$STACK_DIR/logs"
# Start order; `down` stops in reverse (the registry before its database).
ALL_SERVICES=(kafka postgres schema-registry redis prometheus)

KAFKA_HOME="$STACK_DIR/kafka-$KAFKA_VERSION"
REGISTRY_BIN="$STACK_DIR/bin/schema-registry-$SCHEMA_REGISTRY_VERSION"
PG_DATA="$STACK_DIR/postgres-data"
# PostgreSQL refuses to run as root: as root, its programs run as the `postgres` user that
# Debian's package creates (setpriv execs, so recorded pids are the server's own).
PG_AS=()
if [[ $EUID -eq 0 ]]; then PG_AS=(setpriv --reuid=postgres --regid=postgres --init-groups --); fi

say() { printf '[stack] %s\n' "$*"; }
die() { printf '[stack] error: %s\n' "$*" >&2; exit 1; }

port_of() {
  case "$1" in
    kafka) echo "$KAFKA_PORT" ;;
    postgres) echo "$POSTGRES_PORT" ;;
    schema-registry) echo "$SCHEMA_REGISTRY_PORT" ;;
    redis) echo "$REDIS_PORT" ;;
    prometheus) echo "$PROMETHEUS_PORT" ;;
    redis-cluster) echo "${REDIS_CLUSTER_PORTS// /,}" ;;
    *) die "unknown service '$1' (known: ${ALL_SERVICES[*]})" ;;
  esac
}

pid_of() {
  local file="$RUN_DIR/$1.pid"
  [[ -f "$file" ]] || return 1
  local pid
  pid="$(cat "$file")"
  if kill -0 "$pid" 2>/dev/null; then echo "$pid"; else rm -f "$file"; return 1; fi
}

port_in_use() { (exec 3<>"/dev/tcp/$STACK_HOST/$1") 2>/dev/null; }

as_root() {
  if [[ $EUID -eq 0 ]]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    die "need root (or sudo) to run: $*"
  fi
}

# Binaries of Debian's PostgreSQL (/usr/lib/postgresql/<major>/bin): the major that made
# the data directory if there is one, else the newest installed. Fails if none is.
pg_bindir() {
  local bin
  if [[ -f "$PG_DATA/PG_VERSION" ]]; then
    bin="/usr/lib/postgresql/$(cat "$PG_DATA/PG_VERSION")/bin"
  else
    bin="$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
  fi
  [[ -x "$bin/postgres" && -x "$bin/initdb" && -x "$bin/pg_isready" ]] && echo "$bin"
}

# ---------------------------------------------------------------- install

install_kafka() {
  if [[ -f "$KAFKA_HOME/libs/kafka_2.13-$KAFKA_VERSION.jar" ]]; then return 0; fi
  command -v mvn >/dev/null || die "Maven (mvn) is required to fetch the Kafka jars"
  command -v java >/dev/null || die "Java 17+ is required to run Kafka"
  say "fetching Apache Kafka $KAFKA_VERSION jars from Maven Central"
  local tmp="$KAFKA_HOME.partial"
  rm -rf "$tmp"
  mvn -B -Dstyle.color=never -f "$ROOT/scripts/stack/kafka-pom.xml" \
    -Dmaven.repo.local="$STACK_DIR/m2" \
    -Dkafka.version="$KAFKA_VERSION" -Dlog4j.version="$LOG4J_VERSION" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp/libs" \
    >"$LOG_DIR/install-kafka.log" 2>&1 || { tail -n 30 "$LOG_DIR/install-kafka.log" >&2; die "Maven could not fetch the Kafka jars"; }
  local listing
  listing="$(unzip -l "$tmp/libs/kafka_2.13-$KAFKA_VERSION.jar")"
  [[ "$listing" == *kafka/tools/StorageTool.class* && "$listing" == *kafka/Kafka.class* ]] ||
    die "kafka_2.13-$KAFKA_VERSION.jar lacks kafka.Kafka or kafka.tools.StorageTool"
  mv "$tmp" "$KAFKA_HOME"
}

install_schema_registry() {
  if [[ -x "$REGISTRY_BIN" ]]; then return 0; fi
  command -v go >/dev/null || die "Go 1.26+ is required to build the schema registry"
  say "building $SCHEMA_REGISTRY_MODULE $SCHEMA_REGISTRY_VERSION (go build, cached)"
  mkdir -p "$STACK_DIR/bin"
  (
    cd "$ROOT/scripts/stack/schema-registry"
    GOMODCACHE="$STACK_DIR/go/mod" GOCACHE="$STACK_DIR/go/cache" GOFLAGS=-mod=mod \
      CGO_ENABLED=0 GOTOOLCHAIN=local \
      go build -trimpath -o "$REGISTRY_BIN.partial" "$SCHEMA_REGISTRY_MODULE/cmd/schema-registry"
  ) >"$LOG_DIR/install-schema-registry.log" 2>&1 || {
    tail -n 30 "$LOG_DIR/install-schema-registry.log" >&2
    die "building the schema registry failed"
  }
  mv "$REGISTRY_BIN.partial" "$REGISTRY_BIN"
}

install_debian_packages() {
  local missing=()
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v prometheus >/dev/null || missing+=(prometheus)
  command -v promtool >/dev/null || missing+=(prometheus)
  pg_bindir >/dev/null || missing+=(postgresql)
  ((${#missing[@]} == 0)) && return 0
  say "installing Debian packages: ${missing[*]}"
  mkdir -p "$STACK_DIR/apt"
  as_root apt-get update -qq
  # Services may be auto-started by the package on systemd hosts (postgresql: a `main`
  # cluster on 5432); ours run on other ports (stack.env), so the two never collide.
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    -o Dir::Cache::archives="$STACK_DIR/apt" "${missing[@]}" >/dev/null
}

cmd_install() {
  mkdir -p "$STACK_DIR" "$RUN_DIR" "$LOG_DIR"
  install_debian_packages
  install_kafka
  install_schema_registry
}

# ---------------------------------------------------------------- start

wait_until() { # <service> <command...>: poll until the command succeeds
  local svc="$1"
  shift
  local deadline=$((SECONDS + READY_TIMEOUT_SECONDS))
  until "$@" >/dev/null 2>&1; do
    if ! pid_of "$svc" >/dev/null; then
      tail -n 30 "$LOG_DIR/$svc.out" >&2 || true
      die "$svc exited during startup (log: $LOG_DIR/$svc.out)"
    fi
    ((SECONDS < deadline)) || die "$svc not ready after ${READY_TIMEOUT_SECONDS}s (log: $LOG_DIR/$svc.out)"
    sleep 0.3
  done
}

launch() { # <service> <command...>: start detached, record pid
  local svc="$1"
  shift
  if port_in_use "$(port_of "$svc")"; then
    die "port $(port_of "$svc") for $svc is taken by a process this script did not start"
  fi
  nohup "$@" >"$LOG_DIR/$svc.out" 2>&1 &
  echo $! >"$RUN_DIR/$svc.pid"
}

start_kafka() {
  local dir="$STACK_DIR/kafka-data" conf="$STACK_DIR/kafka/server.properties"
  mkdir -p "$dir" "$STACK_DIR/kafka" "$LOG_DIR/kafka"
  cat >"$conf" <<EOF
# Generated by scripts/stack.sh from scripts/stack/stack.env; do not edit.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$STACK_HOST:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$STACK_HOST:$KAFKA_PORT,CONTROLLER://$STACK_HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$STACK_HOST:$KAFKA_PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir
num.partitions=1
auto.create.topics.enable=false
# One broker: every internal topic at replication factor 1, few partitions for a fast start.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
EOF
  local cp="$KAFKA_HOME/libs/*"
  # shellcheck disable=SC2086 # heap and JIT options are word lists on purpose
  local jopts=($KAFKA_HEAP_OPTS $KAFKA_JIT_OPTS -XX:+UseG1GC -XX:MaxGCPauseMillis=20
    -Djava.awt.headless=true -Xshare:auto)
  if [[ ! -f "$dir/meta.properties" ]]; then
    java "${jopts[@]}" -Dlog4j2.configurationFile="$ROOT/scripts/stack/log4j2.properties" \
      -Dkafka.logs.dir="$LOG_DIR/kafka" -cp "$cp" kafka.tools.StorageTool \
      format -t "$KAFKA_CLUSTER_ID" -c "$conf" >"$LOG_DIR/kafka-format.out" 2>&1 ||
      die "formatting Kafka storage failed (log: $LOG_DIR/kafka-format.out)"
  fi
  launch kafka java "${jopts[@]}" -Dlog4j2.configurationFile="$ROOT/scripts/stack/log4j2.properties" \
    -Dkafka.logs.dir="$LOG_DIR/kafka" -cp "$cp" kafka.Kafka "$conf"
  [[ -d "$ROOT/node_modules/kafkajs" ]] || die "run 'npm ci' first: the readiness probe uses kafkajs"
  wait_until kafka node "$ROOT/scripts/stack/kafka-ready.mjs" "$STACK_HOST:$KAFKA_PORT" 5
}

# First start: a cluster with one password-protected superuser and the registry's database,
# made in a scratch folder and moved into place only when complete.
init_postgres() {
  local bin="$1" tmp="$PG_DATA.partial"
  [[ $EUID -ne 0 ]] || id postgres >/dev/null 2>&1 ||
    die "no 'postgres' user to run PostgreSQL as (Debian's postgresql package creates it)"
  rm -rf "$tmp"
  mkdir -p "$tmp/data"
  printf '%s\n' "$POSTGRES_PASSWORD" >"$tmp/password"
  chmod 700 "$tmp" "$tmp/data"
  if [[ $EUID -eq 0 ]]; then chown -R postgres:postgres "$tmp"; fi
  {
    "${PG_AS[@]}" "$bin/initdb" -D "$tmp/data" -U "$POSTGRES_USER" --pwfile="$tmp/password" \
      --auth=scram-sha-256 -E UTF8 --no-locale &&
      echo "CREATE DATABASE $POSTGRES_DB" |
      "${PG_AS[@]}" "$bin/postgres" --single -D "$tmp/data" -c exit_on_error=on postgres
  } >"$LOG_DIR/postgres-init.out" 2>&1 || die "initialising PostgreSQL failed (log: $LOG_DIR/postgres-init.out)"
  mv "$tmp/data" "$PG_DATA"
  rm -rf "$tmp"
}

start_postgres() {
  local bin
  bin="$(pg_bindir)" ||
    die "no PostgreSQL binaries for $PG_DATA under /usr/lib/postgresql (data of another major? 'reset' deletes it)"
  [[ -f "$PG_DATA/PG_VERSION" ]] || init_postgres "$bin"
  # TCP on loopback only (no Unix socket, so no clash with a system cluster's /var/run/postgresql).
  launch postgres "${PG_AS[@]}" "$bin/postgres" -D "$PG_DATA" \
    -c listen_addresses="$STACK_HOST" -c port="$POSTGRES_PORT" -c unix_socket_directories= \
    -c max_connections=50 -c shared_buffers=32MB
  wait_until postgres "$bin/pg_isready" -q -h "$STACK_HOST" -p "$POSTGRES_PORT" -d "$POSTGRES_DB" -U "$POSTGRES_USER"
}

# Schemas, versions and ids live in PostgreSQL, so they survive restarts of the registry.
start_schema_registry() {
  pid_of postgres >/dev/null || die "postgres is not running (scripts/stack.sh up postgres)"
  SCHEMA_REGISTRY_HOST="$STACK_HOST" SCHEMA_REGISTRY_PORT="$SCHEMA_REGISTRY_PORT" \
    SCHEMA_REGISTRY_STORAGE_TYPE=postgresql SCHEMA_REGISTRY_PG_HOST="$STACK_HOST" \
    SCHEMA_REGISTRY_PG_PORT="$POSTGRES_PORT" SCHEMA_REGISTRY_PG_DATABASE="$POSTGRES_DB" \
    SCHEMA_REGISTRY_PG_USER="$POSTGRES_USER" SCHEMA_REGISTRY_PG_PASSWORD="$POSTGRES_PASSWORD" \
    SCHEMA_REGISTRY_PG_SSLMODE=disable SCHEMA_REGISTRY_COMPATIBILITY_LEVEL=BACKWARD \
    launch schema-registry "$REGISTRY_BIN"
  wait_until schema-registry curl -fsS "http://$STACK_HOST:$SCHEMA_REGISTRY_PORT/subjects"
}

start_redis() {
  local dir="$STACK_DIR/redis-data"
  mkdir -p "$dir"
  cat >"$STACK_DIR/redis.conf" <<EOF
# Generated by scripts/stack.sh; do not edit.
bind $STACK_HOST
port $REDIS_PORT
dir $dir
daemonize no
protected-mode yes
# Durability as in production: append-only file, fsync every second, no RDB
# snapshots. A killed Redis restarts with every acknowledged write of the AOF.
appendonly yes
appendfsync everysec
save ""
EOF
  launch redis redis-server "$STACK_DIR/redis.conf"
  wait_until redis redis-cli -h "$STACK_HOST" -p "$REDIS_PORT" ping
}

start_prometheus() {
  local conf="$STACK_DIR/prometheus.yml"
  mkdir -p "$STACK_DIR/prometheus-data"
  # The checked-in config scrapes the compose service name; natively the app is on loopback.
  sed -e "s#app:$APP_HTTP_PORT#$STACK_HOST:$APP_HTTP_PORT#g" \
    -e "s#rules/#$ROOT/deploy/prometheus/rules/#g" \
    "$ROOT/deploy/prometheus/prometheus.yml" >"$conf"
  launch prometheus prometheus --config.file="$conf" \
    --storage.tsdb.path="$STACK_DIR/prometheus-data" \
    --web.listen-address="$STACK_HOST:$PROMETHEUS_PORT" --web.enable-lifecycle
  wait_until prometheus curl -fsS "http://$STACK_HOST:$PROMETHEUS_PORT/-/ready"
}

cmd_up() {
  local services=() arg cluster=0
  for arg in "$@"; do
    if [[ "$arg" == --redis-cluster ]]; then cluster=1; else services+=("$arg"); fi
  done
  ((${#services[@]})) || services=("${ALL_SERVICES[@]}")
  ((cluster == 0)) || services+=(redis-cluster)
  # The registry needs its database: `up schema-registry` (and `restart`) start it first.
  if [[ " ${services[*]} " == *" schema-registry "* && " ${services[*]} " != *" postgres "* ]]; then
    services=(postgres "${services[@]}")
  fi
  cmd_install
  local svc started
  for svc in "${services[@]}"; do
    port_of "$svc" >/dev/null
    # Per node: a missing node (a test killed a primary) is started again, the rest left alone.
    if [[ "$svc" == redis-cluster ]]; then start_redis_cluster; continue; fi
    if pid_of "$svc" >/dev/null; then
      say "$svc already running (pid $(pid_of "$svc"), port $(port_of "$svc"))"
      continue
    fi
    started=$SECONDS
    "start_${svc//-/_}"
    say "$svc ready on $STACK_HOST:$(port_of "$svc") in $((SECONDS - started))s (pid $(pid_of "$svc"))"
  done
}

cmd_down() {
  local services=("$@") i
  if ((${#services[@]} == 0)); then
    services=(redis-cluster)
    for ((i = ${#ALL_SERVICES[@]} - 1; i >= 0; i--)); do services+=("${ALL_SERVICES[i]}"); done
  fi
  local svc pid signal
  for svc in "${services[@]}"; do
    port_of "$svc" >/dev/null
    if [[ "$svc" == redis-cluster ]]; then stop_redis_cluster; continue; fi
    if ! pid="$(pid_of "$svc")"; then
      say "$svc not running (not started by this script)"
      continue
    fi
    # PostgreSQL's TERM waits for clients to disconnect; INT is its fast shutdown.
    signal=TERM
    [[ "$svc" != postgres ]] || signal=INT
    kill -"$signal" "$pid" 2>/dev/null || true
    for ((i = 0; i < 150; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then
      say "$svc did not stop in 30s; killing"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$RUN_DIR/$svc.pid"
    say "$svc stopped"
  done
}

cmd_status() {
  local svc pid rc=0
  for svc in "${ALL_SERVICES[@]}"; do
    if pid="$(pid_of "$svc")"; then
      printf '%-16s running  pid %-8s %s:%s\n' "$svc" "$pid" "$STACK_HOST" "$(port_of "$svc")"
    else
      printf '%-16s stopped\n' "$svc"
      rc=3
    fi
  done
  status_redis_cluster
  return $rc
}

cmd_logs() {
  local svc="${1:-}"
  if [[ -z "$svc" ]]; then tail -n 20 "$LOG_DIR"/*.out; return; fi
  port_of "$svc" >/dev/null
  if [[ "$svc" == kafka ]]; then tail -n 50 "$LOG_DIR/kafka/server.log"; else tail -n 50 "$LOG_DIR/$svc.out"; fi
}

cmd_env() {
  cat <<EOF
KAFKA_BROKERS=$STACK_HOST:$KAFKA_PORT
SCHEMA_REGISTRY_URL=http://$STACK_HOST:$SCHEMA_REGISTRY_PORT
PROMETHEUS_URL=http://$STACK_HOST:$PROMETHEUS_PORT
EOF
  # REDIS_URL or REDIS_CLUSTER_NODES, never both (the app refuses to start with both).
  if [[ "${1:-}" == --redis-cluster ]]; then env_redis_cluster; else echo "REDIS_URL=redis://$STACK_HOST:$REDIS_PORT"; fi
}

cmd_reset() {
  cmd_down
  rm -rf "$STACK_DIR/kafka-data" "$STACK_DIR/redis-data" "$STACK_DIR/prometheus-data" \
    "$PG_DATA" "$PG_DATA.partial"
  reset_redis_cluster
  say "data deleted (downloads kept)"
}

mkdir -p "$RUN_DIR" "$LOG_DIR"
case "${1:-}" in
  install) cmd_install ;;
  up) shift; cmd_up "$@" ;;
  down) shift; cmd_down "$@" ;;
  restart) shift; (($#)) || die "restart needs service names (e.g. kafka, redis, schema-registry)"; cmd_down "$@"; cmd_up "$@" ;;
  status) cmd_status ;;
  logs) shift; cmd_logs "$@" ;;
  env) shift; cmd_env "$@" ;;
  reset) cmd_reset ;;
  *) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
