#!/usr/bin/env bash
# tokenbus as separate processes on one machine, for people without Kubernetes: Redis, C checkpoint stores,
# M agent workers and N gateways, each its own JVM (launcher/target/tokenbus.jar --cluster --role ...), joined in one
# Hazelcast cluster over loopback.
#
#   deploy/local-cluster.sh start [GATEWAYS=2] [WORKERS=2] [CHECKPOINTS=1]
#   deploy/local-cluster.sh status
#   deploy/local-cluster.sh stop
#
# Settings (environment): LOCAL_CLUSTER_DIR (state, logs, pids: deploy/target/local-cluster),
# LOCAL_CLUSTER_HTTP_PORT (first gateway port, 8080; gateway i gets +i), LOCAL_CLUSTER_MANAGEMENT_PORT (first
# management port, 9190; every process gets its own), LOCAL_CLUSTER_HAZELCAST_PORT (first of a range of ports the
# members use, 5701), LOCAL_CLUSTER_REDIS_PORT (6390), LOCAL_CLUSTER_HEAP (per JVM, 512m), LOCAL_CLUSTER_STOP_SECONDS
# (how long stop waits for each process, 30). REDIS_URL: use that Redis
# instead of starting one. Any TOKENBUS_* variable set here reaches every process (README, Configuration).
# Redis: redis-server from the PATH, else the binary bundled in tokenbus.jar (Linux x86-64).
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${LOCAL_CLUSTER_DIR:-deploy/target/local-cluster}
JAR=launcher/target/tokenbus.jar
HTTP0=${LOCAL_CLUSTER_HTTP_PORT:-8080}
MGMT0=${LOCAL_CLUSTER_MANAGEMENT_PORT:-9190}
HZ0=${LOCAL_CLUSTER_HAZELCAST_PORT:-5701}
REDIS_PORT=${LOCAL_CLUSTER_REDIS_PORT:-6390}
HEAP=${LOCAL_CLUSTER_HEAP:-512m}
# A worker drains its running jobs on SIGTERM (TOKENBUS_DRAIN_SECONDS); past this wait, stop kills it (jobs still
# running then end as worker_lost, never silently).
STOP_SECONDS=${LOCAL_CLUSTER_STOP_SECONDS:-30}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

listening() { ss -Hltn "( sport = :$1 )" 2>/dev/null | grep -q .; }

# The first of N consecutive free ports from $1: members then bind exactly the ports listed as members, even while
# other clusters on this machine hold 5701 and the ports after it.
free_range() {
  local base=$1 n=$2 p ok
  while :; do
    ok=1
    for p in $(seq "$base" $((base + n - 1))); do listening "$p" && { ok=0; break; }; done
    [ $ok = 1 ] && { echo "$base"; return; }
    base=$((base + n))
  done
}

need_free() { if listening "$1"; then echo "port $1 ($2) is in use: set $3"; exit 1; fi; }

# name, pid file, log: one line per process with its state and what it serves.
status() {
  [ -d "$DIR" ] || { echo "no local cluster (nothing in $DIR)"; return 1; }
  local any=0
  for pidf in "$DIR"/*.pid; do
    [ -e "$pidf" ] || continue
    local name; name=$(basename "$pidf" .pid)
    local state="stopped"
    if alive "$pidf"; then state="running (pid $(cat "$pidf"))"; any=1; fi
    local extra=""
    [ -f "$DIR/$name.url" ] && extra="$(cat "$DIR/$name.url")"
    local ready=""
    if [ -f "$DIR/$name.mgmt" ] && [ "$state" != stopped ]; then
      ready=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$(cat "$DIR/$name.mgmt")/health/ready" || true)
      ready="ready=$([ "$ready" = 200 ] && echo yes || echo "no ($ready)")"
    fi
    printf '%-13s %-24s %s %s\n' "$name" "$state" "$ready" "$extra"
  done
  ls "$DIR"/*.pid >/dev/null 2>&1 || echo "no local cluster running (logs of the last one, if any, in $DIR)"
  [ $any = 1 ]
}

stop() {
  [ -d "$DIR" ] || { echo "nothing to stop"; return 0; }
  # Gateways first (clients move on), then workers (they drain: TOKENBUS_DRAIN_SECONDS), stores, Redis last.
  for kind in gateway worker checkpoint redis; do
    for pidf in "$DIR"/$kind-*.pid "$DIR"/$kind.pid; do
      [ -e "$pidf" ] || continue
      if alive "$pidf"; then kill "$(cat "$pidf")" 2>/dev/null || true; fi
    done
    for pidf in "$DIR"/$kind-*.pid "$DIR"/$kind.pid; do
      [ -e "$pidf" ] || continue
      for _ in $(seq 1 $((STOP_SECONDS * 5))); do alive "$pidf" || break; sleep 0.2; done
      if alive "$pidf"; then echo "$(basename "$pidf" .pid) did not stop in $STOP_SECONDS s: SIGKILL"; kill -9 "$(cat "$pidf")" || true; fi
      rm -f "$pidf"
    done
  done
  echo "stopped (logs kept in $DIR)"
}

# role, name, extra env...: starts one tokenbus process and waits until it says it is running.
launch() {
  local role=$1 name=$2; shift 2
  need_free "$MGMT" "management port of $name" LOCAL_CLUSTER_MANAGEMENT_PORT
  env "$@" TOKENBUS_MANAGEMENT_PORT="$MGMT" TOKENBUS_MANAGEMENT_HOST=127.0.0.1 \
    java -Xmx"$HEAP" -XX:+UseSerialGC -jar "$JAR" --cluster --role "$role" > "$DIR/$name.log" 2>&1 &
  echo $! > "$DIR/$name.pid"
  echo "$MGMT" > "$DIR/$name.mgmt"
  MGMT=$((MGMT + 1))
}

wait_running() {
  local name=$1
  for _ in $(seq 1 600); do
    grep -q "is running" "$DIR/$name.log" 2>/dev/null && return 0
    alive "$DIR/$name.pid" || { echo "$name exited; the end of $DIR/$name.log:"; tail -20 "$DIR/$name.log"; return 1; }
    sleep 0.2
  done
  echo "$name did not start in 120 s; see $DIR/$name.log"; return 1
}

start() {
  local gateways=${1:-2} workers=${2:-2} checkpoints=${3:-1}
  if [ -d "$DIR" ] && ls "$DIR"/*.pid >/dev/null 2>&1 && status >/dev/null; then
    echo "a local cluster is already running:"; status; exit 1
  fi
  [ -f "$JAR" ] || mvn -q -B -o -DskipTests package
  mkdir -p "$DIR"
  rm -f "$DIR"/*.pid "$DIR"/*.url "$DIR"/*.mgmt
  MGMT=$MGMT0

  local redis_url=${REDIS_URL:-}
  if [ -z "$redis_url" ]; then
    local bin; bin=$(command -v redis-server || true)
    if [ -z "$bin" ]; then
      bin="$DIR/redis-server"
      # `jar` ships with every JDK (unzip may be missing on a fresh machine).
      [ -x "$bin" ] || { (cd "$DIR" && jar xf "$OLDPWD/$JAR" redis-server-6.2.6-v5-linux-amd64) \
        && mv "$DIR/redis-server-6.2.6-v5-linux-amd64" "$bin" && chmod +x "$bin"; }
    fi
    need_free "$REDIS_PORT" "Redis" LOCAL_CLUSTER_REDIS_PORT
    # AOF on: the chunk log survives a Redis restart (the store warns otherwise). Loopback only.
    "$bin" --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly yes --dir "$DIR" \
      --maxmemory-policy noeviction > "$DIR/redis.log" 2>&1 &
    echo $! > "$DIR/redis.pid"
    redis_url="redis://127.0.0.1:$REDIS_PORT"
    echo "$redis_url" > "$DIR/redis.url"
  fi

  # One cluster name and one token secret for this cluster (kept, so a restart keeps tokens valid).
  [ -f "$DIR/secret" ] || head -c 32 /dev/urandom | base64 > "$DIR/secret"
  [ -f "$DIR/cluster-name" ] || echo "tokenbus-local-$(date +%s)" > "$DIR/cluster-name"
  local total=$((gateways + workers + checkpoints))
  HZ0=$(free_range "$HZ0" "$total")
  local members; members=$(seq -s, "$HZ0" $((HZ0 + total - 1)) | sed "s/\([0-9]*\)/127.0.0.1:\1/g")
  local common=(REDIS_URL="$redis_url" TOKENBUS_TOKEN_SECRET="$(cat "$DIR/secret")"
    TOKENBUS_CLUSTER_NAME="$(cat "$DIR/cluster-name")" TOKENBUS_CLUSTER_HOST=127.0.0.1
    TOKENBUS_HAZELCAST_PORT="$HZ0" TOKENBUS_CLUSTER_MEMBERS="$members")

  # Stores first (gateways are ready once they reach one), then workers, then gateways; in parallel within a kind.
  for i in $(seq 1 "$checkpoints"); do launch checkpoint "checkpoint-$i" "${common[@]}"; done
  for i in $(seq 1 "$checkpoints"); do wait_running "checkpoint-$i"; done
  for i in $(seq 1 "$workers"); do launch worker "worker-$i" "${common[@]}"; done
  for i in $(seq 1 "$gateways"); do
    local port=$((HTTP0 + i - 1))
    need_free "$port" "HTTP port of gateway-$i" LOCAL_CLUSTER_HTTP_PORT
    launch gateway "gateway-$i" "${common[@]}" TOKENBUS_HTTP_PORT="$port"
    echo "http://127.0.0.1:$port/" > "$DIR/gateway-$i.url"
  done
  for i in $(seq 1 "$workers"); do wait_running "worker-$i"; done
  for i in $(seq 1 "$gateways"); do wait_running "gateway-$i"; done
  status || true
  echo "gateways:"; cat "$DIR"/gateway-*.url
  echo "logs: $DIR/*.log; stop with: deploy/local-cluster.sh stop"
}

case "${1:-}" in
  start) shift; start "$@" ;;
  status) status ;;
  stop) stop ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 2 ;;
esac
