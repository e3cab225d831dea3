#!/usr/bin/env bash
# Starts tokenbus (one JVM, bundled Redis, local generator paced at RATE tokens/s per stream), runs the load
# generator against it and samples the server's resident memory. Results: bench/target/*.{log,json}.
#   bench/run.sh [STREAMS=1000] [RATE=20] [SECONDS=30] [BATCH=1]     (BENCH_TRANSPORT=sockjs for the bridge)
# BENCH_MODE=stream (default: latency, throughput, server CPU per token), idle (memory per idle follower; use a RATE
# like 0.0001 so the jobs produce nothing) or replay (a finished job of BENCH_MAX_TOKENS chunks replayed; use a high
# RATE). BENCH_MAX_TOKENS: answer length (default RATE × (SECONDS + 60)). BENCH_ARGS: more tokenbus-bench options.
# The bench reads the CPU time of the server JVM and of its redis-server (/proc/<pid>/stat) around the measured
# window and reports cpu_us_per_token_jvm (of it cpu_us_per_token_jvm_jit: the JIT compiler threads) /
# cpu_us_per_token_redis in the RESULT line, and the server's RSS every second.
# BENCH_COMPRESSION=on turns compression on in the server (HTTP gzip and websocket permessage-deflate, level 6) and
# has the bench ask for it; off (the default here, not the server's: the headline figures are without) turns both
# off. Bytes on the wire (kernel TCP counters of the bench's sockets) per token are in the result (wireBytesPerToken).
# BENCH_INTERACTIVE_PERCENT=10: that share of streams is submitted as interactive, the rest as background, and latency
# is reported per class. SERVER_JAR=path runs another build of the server (e.g. the commit before, for comparison).
set -euo pipefail
cd "$(dirname "$0")/.."
STREAMS=${1:-1000} RATE=${2:-20} SECS=${3:-30} BATCH=${4:-1}
PORT=${BENCH_PORT:-18080}
COMPRESSION=${BENCH_COMPRESSION:-off}
case "$COMPRESSION" in on|off) ;; *) echo "BENCH_COMPRESSION must be on or off, not $COMPRESSION"; exit 2 ;; esac
OUT=bench/target
mkdir -p "$OUT"
[ -f launcher/target/tokenbus.jar ] && [ -f bench/target/tokenbus-bench.jar ] || mvn -q -B -DskipTests package
SERVER_JAR=${SERVER_JAR:-launcher/target/tokenbus.jar}

MAX_TOKENS=${BENCH_MAX_TOKENS:-$(awk -v r="$RATE" -v s="$SECS" 'BEGIN { m = int(r * (s + 60)); print (m < 1 ? 1 : m) }')}
TOKENBUS_MANAGEMENT_PORT=${BENCH_MANAGEMENT_PORT:-0} TOKENBUS_HTTP_PORT=$PORT TOKENBUS_LOCAL_TOKENS_PER_SECOND=$RATE TOKENBUS_LOCAL_MAX_TOKENS=$MAX_TOKENS \
TOKENBUS_SUBMITS_PER_MINUTE=10000000 TOKENBUS_WORKER_MAX_JOBS=1000000 TOKENBUS_MAX_STREAMS=1000000 TOKENBUS_DRAIN_SECONDS=0 \
  TOKENBUS_MAX_STREAMS_PER_ADDRESS=1000000 TOKENBUS_HTTP_COMPRESSION=$COMPRESSION TOKENBUS_WEBSOCKET_COMPRESSION=$COMPRESSION \
  java ${SERVER_JAVA_OPTS:--Xms1g -Xmx1g -XX:+UseParallelGC} -jar "$SERVER_JAR" > "$OUT/server.log" 2>&1 &
SERVER=$!
# Waits (30 s at most, then SIGKILL) for the server to exit, so a run started right after this one finds the port free.
stop_server() {
  kill $SERVER 2>/dev/null || return 0
  for _ in $(seq 1 60); do kill -0 $SERVER 2>/dev/null || return 0; sleep 0.5; done
  kill -9 $SERVER 2>/dev/null || true
}
trap stop_server EXIT
for _ in $(seq 1 120); do grep -q "tokenbus is running" "$OUT/server.log" && break; sleep 0.5; done
grep -q "tokenbus is running" "$OUT/server.log" && kill -0 $SERVER || { echo "server did not start:"; tail -20 "$OUT/server.log"; exit 1; }
# The bundled redis-server is a child of the server JVM; with REDIS_URL set, BENCH_REDIS_PID names it (else no Redis CPU).
REDIS_PID=${BENCH_REDIS_PID:-$(pgrep -P $SERVER redis-server | head -1 || true)}
echo "server JVM pid $SERVER, redis-server pid ${REDIS_PID:-unknown}"

( while kill -0 $SERVER 2>/dev/null; do
    echo "$(date +%s) $(awk '/VmRSS/ {print $2}' /proc/$SERVER/status)"; sleep 5
  done ) > "$OUT/server-rss-kb.log" &

STATUS=0
java ${BENCH_JAVA_OPTS:--Xmx1g} -jar bench/target/tokenbus-bench.jar --port "$PORT" --streams "$STREAMS" --batch "$BATCH" \
  --seconds "$SECS" --transport "${BENCH_TRANSPORT:-sse}" --mode "${BENCH_MODE:-stream}" --rate "$RATE" \
  $([ "$COMPRESSION" = on ] && echo --compress) --interactive-percent "${BENCH_INTERACTIVE_PERCENT:-100}" \
  --server-pid "$SERVER" --redis-pid "${REDIS_PID:-0}" ${BENCH_ARGS:-} | tee "$OUT/bench.log" || STATUS=$?
echo "server RSS (KiB) over time:"; awk '{print $2}' "$OUT/server-rss-kb.log" | tr '\n' ' '; echo
grep '^RESULT' "$OUT/bench.log" | sed 's/^RESULT //' > "$OUT/result.json" || true
# BENCH_SAVE=FILE appends the RESULT line to FILE (bench/Plot.java draws the latency figure from such a file).
[ -z "${BENCH_SAVE:-}" ] || cat "$OUT/result.json" >> "$BENCH_SAVE"
exit $STATUS
