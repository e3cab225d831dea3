#!/usr/bin/env bash
# Overload with the gateway in a JVM of its own (the Kubernetes topology): one gateway process, one worker + checkpoint
# store process (clustered over Hazelcast on 127.0.0.1), a redis-server of their own, the load generator against the
# gateway; 10% of the streams interactive. Appends the RESULT line, with both processes' RSS and the worker's and
# gateway's queue gauges every 5 s and the p99 by priority of chunks stored (worker) and written (gateway), to OUT;
# logs (with -Xlog:gc) in bench/target/split-<time>/.
#   bench/split.sh OUT [SECONDS=60] [STREAMS=2000] [RATE=20]   (BENCH_INTERACTIVE_PERCENT=10; SERVER_JAR; SPLIT_JAVA_OPTS: more
#   JVM options for both server processes; SPLIT_NICE_SERVERS, SPLIT_NICE_REDIS, SPLIT_NICE_BENCH: nice values for the two
#   server JVMs, redis-server and the load generator, default 0: who wins the two shared cores, docs/benchmarks.md)
# Needs redis-server and redis-cli on PATH, and curl. Ports: Redis 6391, Hazelcast 5811-5812, HTTP 18081,
# management 19091 (worker + store) and 19092 (gateway).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=$1 SECS=${2:-60} STREAMS=${3:-2000} RATE=${4:-20}
JAR=${SERVER_JAR:-launcher/target/tokenbus.jar}
[ -f "$JAR" ] && [ -f bench/target/tokenbus-bench.jar ] || mvn -q -B -DskipTests package
L=bench/target/split-$(date +%H%M%S); mkdir -p "$L"
nice -n "${SPLIT_NICE_REDIS:-0}" redis-server --port 6391 --bind 127.0.0.1 --save "" --appendonly no > "$L/redis.log" 2>&1 &
RPID=$!
for _ in $(seq 50); do [ "$(redis-cli -p 6391 ping 2>/dev/null)" = PONG ] && break; sleep 0.2; done
[ "$(redis-cli -p 6391 ping 2>/dev/null)" = PONG ] || { echo "redis did not start:"; cat "$L/redis.log"; kill $RPID; exit 1; }
COMMON=(REDIS_URL=redis://127.0.0.1:6391 TOKENBUS_CLUSTER_NAME=splitbench-$$
  TOKENBUS_TOKEN_SECRET=c3BsaXRiZW5jaC1zZWNyZXQtc3BsaXRiZW5jaA== TOKENBUS_CLUSTER_MEMBERS=127.0.0.1:5811,127.0.0.1:5812
  TOKENBUS_PROBE_OLLAMA=false TOKENBUS_DRAIN_SECONDS=0 TOKENBUS_GATEWAY_DRAIN_SECONDS=0)
JVM=(nice -n "${SPLIT_NICE_SERVERS:-0}" java -Xms1g -Xmx1g -XX:+UseParallelGC ${SPLIT_JAVA_OPTS:-})
env "${COMMON[@]}" TOKENBUS_HAZELCAST_PORT=5811 TOKENBUS_MANAGEMENT_PORT=19091 TOKENBUS_LOCAL_TOKENS_PER_SECOND="$RATE" \
  TOKENBUS_LOCAL_MAX_TOKENS=$(awk -v r="$RATE" -v s="$SECS" 'BEGIN { print int(r * (s + 90)) }') TOKENBUS_WORKER_MAX_JOBS=1000000 \
  "${JVM[@]}" -Xlog:gc:file="$L/gc-backend.log" -jar "$JAR" --cluster --role worker,checkpoint > "$L/backend.log" 2>&1 &
BPID=$!
env "${COMMON[@]}" TOKENBUS_HAZELCAST_PORT=5812 TOKENBUS_MANAGEMENT_PORT=19092 TOKENBUS_HTTP_PORT=18081 \
  TOKENBUS_SUBMITS_PER_MINUTE=10000000 TOKENBUS_MAX_STREAMS=1000000 TOKENBUS_MAX_STREAMS_PER_ADDRESS=1000000 \
  TOKENBUS_HTTP_COMPRESSION=off TOKENBUS_WEBSOCKET_COMPRESSION=off \
  "${JVM[@]}" -Xlog:gc:file="$L/gc-gateway.log" -jar "$JAR" --cluster --role gateway > "$L/gateway.log" 2>&1 &
GPID=$!
stop() {
  kill $GPID $BPID 2>/dev/null || true; sleep 3; kill -9 $GPID $BPID 2>/dev/null || true
  kill $RPID 2>/dev/null || true; wait $RPID 2>/dev/null || true
}
trap stop EXIT
for _ in $(seq 120); do grep -q 'is running' "$L/gateway.log" && grep -q 'is running' "$L/backend.log" && break; sleep 1; done
for _ in $(seq 60); do curl -sf localhost:19092/health/ready > /dev/null && break; sleep 1; done
curl -sf localhost:19092/health/ready > /dev/null || { echo "not ready: $(curl -s localhost:19092/health/ready)"; exit 1; }
( while kill -0 $GPID 2>/dev/null; do
    echo "$(date +%s) $(awk '/VmRSS/ {print $2}' /proc/$GPID/status) $(awk '/VmRSS/ {print $2}' /proc/$BPID/status)" \
      "$(curl -s localhost:19092/metrics | grep -E '^tokenbus_gateway_event_loop_queued_tasks' | tr '\n' ' ')" \
      "$(curl -s localhost:19091/metrics | grep -E '^tokenbus_worker_(buffered_chunks|background_chunk_limit)' | tr '\n' ' ')"
    sleep 5
  done ) > "$L/samples.log" 2>&1 &
# Latency histograms by stage and priority at the start and end of the measured window: the RESULT's stageP99Ms is
# the p99 of their difference.
stage_buckets() {
  { curl -s localhost:19091/metrics | grep '^tokenbus_worker_chunk_store_latency_seconds_bucket'
    curl -s localhost:19092/metrics | grep '^tokenbus_gateway_chunk_latency_seconds_bucket{.*transport="sse"'; } > "$1" || true
}
s0=$(awk '/^cpu /{print $9}' /proc/stat)
nice -n "${SPLIT_NICE_BENCH:-0}" java -Xmx1g -jar bench/target/tokenbus-bench.jar --port 18081 --streams "$STREAMS" --batch 1 --seconds "$SECS" --transport sse \
  --mode stream --rate "$RATE" --interactive-percent "${BENCH_INTERACTIVE_PERCENT:-10}" --server-pid $GPID --redis-pid $RPID \
  > "$L/bench.log" 2>&1 &
BENCH=$!
# The bench's measured window: from its first per-second line to its last (each wait ends with the bench at worst).
await_line() {
  while kill -0 $BENCH 2>/dev/null && ! grep -qE "$1" "$L/bench.log"; do sleep 0.2; done
}
await_line '^t= *1s'
stage_buckets "$L/stages-before.txt"
await_line "^t= *${SECS}s"
stage_buckets "$L/stages-after.txt"
wait $BENCH || true
s1=$(awk '/^cpu /{print $9}' /proc/stat)
curl -s localhost:19092/metrics | grep -E '^tokenbus_gateway_(overload_episodes|slow_consumer|gap_repairs)' > "$L/gateway-metrics.txt" || true
grep '^RESULT' "$L/bench.log" | sed 's/^RESULT //' | python3 -c "
import json, re, sys
r = json.loads(sys.stdin.read())
r['topology'] = 'gateway | worker+checkpoint'; r['hostStealSeconds'] = ($s1 - $s0) / 100; r['logs'] = '$L'
r['samplesEvery5s'] = open('$L/samples.log').read().splitlines()
r['gatewayMetrics'] = open('$L/gateway-metrics.txt').read().splitlines()
def buckets(path):
    out = {}
    for line in open(path):
        name, value = line.rsplit(' ', 1)
        stage = 'stored' if name.startswith('tokenbus_worker') else 'written'
        prio = re.search('priority=\"(\\w+)\"', name)
        if not prio:  # a build from before the priority label
            continue
        prio = prio.group(1)
        le = re.search('le=\"([^\"]+)\"', name).group(1)
        out[(stage, prio, float(le))] = float(value)
    return out
b0, b1 = buckets('$L/stages-before.txt'), buckets('$L/stages-after.txt')
stages = {}
for stage, prio in sorted({(k[0], k[1]) for k in b1}):
    les = sorted(k[2] for k in b1 if k[:2] == (stage, prio))
    n = {le: b1[(stage, prio, le)] - b0.get((stage, prio, le), 0) for le in les}
    total = n[les[-1]]
    p99 = next((le for le in les if total and n[le] >= 0.99 * total), None)
    stages[stage + ' ' + prio] = None if p99 is None or p99 == float('inf') else round(p99 * 1000, 1)
r['stageP99Ms'] = stages  # the upper bound of the bucket holding the p99 (1, 2, 3, 5, 7.5, 10, 15, 20 ms ...)
print(json.dumps(r))" >> "$OUT"
grep -E '^t=' "$L/bench.log" | tail -3; grep '^RESULT' "$L/bench.log" | cut -c1-300
tail -1 "$OUT" | python3 -c "import json, sys; print('p99 by stage and priority (ms, bucket bound):', json.loads(sys.stdin.read())['stageP99Ms'])"
