#!/usr/bin/env bash
# The runs behind docs/benchmarks.md's "Latency against load" figure and the CPU-per-token and saturation figures:
# bench/run.sh at increasing offered load, batch 1 (50 tokens/s per stream, more streams) and batch 8 (1,000 streams,
# faster streams), over SSE and the SockJS bridge; each RESULT line appended to bench/results/sweep-<time>.jsonl, then
# bench/Plot.java draws docs/images/latency-vs-load.svg from it. About 15 minutes.
#   bench/sweep.sh [MEASURED_SECONDS=20]
# Latency on a shared machine is noisy (other builds steal the cores): compare runs made together only.
set -uo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-20}
OUT=bench/results/sweep-$(date +%Y%m%d-%H%M%S).jsonl
mkdir -p bench/results
export BENCH_SAVE="$PWD/$OUT" BENCH_ARGS="--warmup-seconds ${WARMUP:-5} --submit-per-second 500"
run() { # TRANSPORT STREAMS RATE BATCH
  echo "== $1 streams=$2 rate=$3 batch=$4"
  BENCH_TRANSPORT=$1 bench/run.sh "$2" "$3" "$SECS" "$4" | grep -E '^(RESULT|streams open|server JVM)' || echo "(run failed)"
}
run sse 1000 20 1 # the CPU-per-token figure: 20,000 tokens/s over 1,000 streams
for s in ${BATCH1_STREAMS:-200 400 600 800 1000 1200}; do run sse "$s" 50 1; done
for s in ${BATCH1_BRIDGE_STREAMS:-200 600 1000}; do run sockjs "$s" 50 1; done
for t in sse sockjs; do
  for r in ${BATCH8_RATES:-40 160 320}; do run $t 1000 "$r" 8; done
done
echo "results: $OUT"
java bench/Plot.java "$OUT" docs/images/latency-vs-load.svg "${PLOT_NOTE:-}"  # PLOT_NOTE: a caveat line under the title
