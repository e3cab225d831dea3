#!/usr/bin/env bash
# Compression on against off (issue 10): SSE and the SockJS bridge, batch 1 and batch 8, each pair run back to back
# so both see the same machine (off first in odd repeats, on first in even ones), the whole matrix REPEATS times.
# The 1-minute load average when each run starts is in the table: on a shared machine it says how far to trust it. One row per run in
# bench/results/compression-<time>.csv; each run's bench output next to it.
#   bench/compression.sh [REPEATS=2] [STREAMS=1000] [SECONDS=20]
# Batch 1 runs at 20 tokens/s per stream; batch 8 at 160 tokens/s (at 20 tokens/s the 20 ms flush delay would send
# every token alone and batch 8 would measure nothing new).
set -euo pipefail
cd "$(dirname "$0")/.."
REPEATS=${1:-2} STREAMS=${2:-1000} SECS=${3:-20}
STAMP=$(date +%Y%m%d-%H%M%S)
DIR=bench/results/compression-$STAMP
CSV=bench/results/compression-$STAMP.csv
mkdir -p "$DIR"
echo "repeat,transport,batch,compression,load_avg,tokens_per_s,tokens_per_event,wire_bytes_per_token,server_cpu_us_per_token,redis_cpu_us_per_token,p50_ms,p99_ms,gaps,duplicates,failed,streams_compressed,server_rss_kib_last" > "$CSV"
for r in $(seq 1 "$REPEATS"); do
  for transport in sse sockjs; do
    for batch in 1 8; do
      rate=$([ "$batch" = 1 ] && echo 20 || echo 160)
      for c in $([ $((r % 2)) = 1 ] && echo off on || echo on off); do
        name="$r-$transport-b$batch-$c"
        load=$(cut -d' ' -f1 /proc/loadavg)
        BENCH_TRANSPORT=$transport BENCH_COMPRESSION=$c bench/run.sh "$STREAMS" "$rate" "$SECS" "$batch" > "$DIR/$name.log" 2>&1 || true
        res=$(grep '^RESULT' "$DIR/$name.log" | sed 's/^RESULT //' || true)
        rss=$(awk 'NF {v=$2} END {print v}' bench/target/server-rss-kb.log)
        if [ -z "$res" ]; then echo "$r,$transport,$batch,$c,$load,,,,,,,,,,,,$rss" >> "$CSV"; echo "$name: no result"; continue; fi
        echo "$res" | python3 -c '
import json, sys
r = json.load(sys.stdin); l = r["latencyMs"]
print(",".join(str(x) for x in [sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[6], r["tokensPerSecond"],
  round(r["tokensPerSecond"] / max(1, r["chunksPerSecond"]), 2),
  r["wireBytesPerToken"], r["cpu_us_per_token_jvm"], r["cpu_us_per_token_redis"], l["p50"], l["p99"], r["gaps"], r["duplicates"], r["streamsFailed"],
  r["compression"]["streamsCompressed"], sys.argv[5]]))' "$r" "$transport" "$batch" "$c" "$rss" "$load" | tee -a "$CSV"
      done
    done
  done
done
echo "results: $CSV"
