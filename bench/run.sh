#!/usr/bin/env bash
# Starts tokenbus (one JVM, bundled Redis, local generator paced at RATE tokens/s per stream), runs the load
# generator against it and samples the server's resident memory. Results: bench/target/*.{log,json}.
#   bench/run.sh [STREAMS=1000] [RATE=20] [SECONDS=30] [BATCH=1]     (BENCH_TRANSPORT=sockjs for the bridge)
# BENCH_INTERACTIVE_PERCENT=10: that share of streams is submitted as interactive, the rest as background, and latency
# is reported per class. SERVER_JAR=path runs another build of the server (e.g. the commit before, for comparison).
set -euo pipefail
cd "$(dirname "$0")/.."
STREAMS=${1:-1000} RATE=${2:-20} SECS=${3:-30} BATCH=${4:-1}
PORT=${BENCH_PORT:-18080}
OUT=bench/target
mkdir -p "$OUT"
[ -f launcher/target/tokenbus.jar ] && [ -f bench/target/tokenbus-bench.jar ] || mvn -q -B -DskipTests package

TOKENBUS_MANAGEMENT_PORT=${TOKENBUS_MANAGEMENT_PORT:-0} TOKENBUS_HTTP_PORT=$PORT TOKENBUS_LOCAL_TOKENS_PER_SECOND=$RATE TOKENBUS_LOCAL_MAX_TOKENS=$((RATE * (SECS + 60))) \
TOKENBUS_SUBMITS_PER_MINUTE=10000000 TOKENBUS_WORKER_MAX_JOBS=1000000 TOKENBUS_MAX_STREAMS=1000000 TOKENBUS_DRAIN_SECONDS=0 \
  TOKENBUS_MAX_STREAMS_PER_ADDRESS=1000000 \
  java ${SERVER_JAVA_OPTS:--Xms1g -Xmx1g -XX:+UseParallelGC} -jar "${SERVER_JAR:-launcher/target/tokenbus.jar}" > "$OUT/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do grep -q "tokenbus is running" "$OUT/server.log" && break; sleep 0.5; done
grep -q "tokenbus is running" "$OUT/server.log" && kill -0 $SERVER || { echo "server did not start:"; tail -20 "$OUT/server.log"; exit 1; }

( while kill -0 $SERVER 2>/dev/null; do
    echo "$(date +%s) $(awk '/VmRSS/ {print $2}' /proc/$SERVER/status)"; sleep 5
  done ) > "$OUT/server-rss-kb.log" &

java ${BENCH_JAVA_OPTS:--Xmx1g} -jar bench/target/tokenbus-bench.jar --port "$PORT" --streams "$STREAMS" --batch "$BATCH" \
  --seconds "$SECS" --transport "${BENCH_TRANSPORT:-sse}" --interactive-percent "${BENCH_INTERACTIVE_PERCENT:-100}" \
  --rss-pid "$SERVER" | tee "$OUT/bench.log"
echo "server RSS (KiB) over time:"; awk '{print $2}' "$OUT/server-rss-kb.log" | tr '\n' ' '; echo
grep '^RESULT' "$OUT/bench.log" | sed 's/^RESULT //' > "$OUT/result.json"
