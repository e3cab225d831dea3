#!/usr/bin/env bash
# The soak of issue 7 (not in CI): one checkpoint, two workers and two gateways (separate JVMs) over a real Redis,
# 200 jobs always streaming (each followed over SSE or the bridge, half each, replaced when it ends), a gateway and a
# worker SIGKILLed and restarted every minute, Redis SIGSTOPped for 5 s every second minute. Runs the JUnit class
# launcher/.../faults/SoakTest (skipped unless -Dtokenbus.soak=true, so `mvn verify` never runs it).
#   bench/soak.sh [MINUTES=10]          (SOAK_STREAMS=200)
# Results: bench/results/soak-<time>-{events.log,rss.csv,progress.csv,summary.json}; the summary line (SOAK ...) is
# printed at the end.
# Process logs: launcher/target/fault-logs/SoakTest-<time>/. Exit status: the test's (non-zero if anything was lost,
# duplicated, broke the contract or hung).
set -uo pipefail
cd "$(dirname "$0")/.."
MINUTES=${1:-10}
RESULTS="$PWD/bench/results"
STAMP=$(date +%Y%m%d-%H%M%S)
EVENTS="$RESULTS/soak-$STAMP-events.log"
mkdir -p "$RESULTS"
echo "soak: $MINUTES min (after the cluster has started); events in $EVENTS"
tail -n +1 -F "$EVENTS" 2>/dev/null &
TAILER=$!
trap 'kill $TAILER 2>/dev/null' EXIT
mvn -o -B -q -pl launcher -am test -Dtest=SoakTest -Dsurefire.failIfNoSpecifiedTests=false \
  -Dtokenbus.soak=true -Dtokenbus.test.forkTimeoutSeconds=0 -Dtokenbus.soak.minutes="$MINUTES" -Dtokenbus.soak.streams="${SOAK_STREAMS:-200}" \
  -Dtokenbus.soak.results="$RESULTS" -Dtokenbus.soak.stamp="$STAMP" > "$RESULTS/soak-last-mvn.log" 2>&1
STATUS=$?
sleep 1
echo "maven exit status $STATUS (its output: $RESULTS/soak-last-mvn.log)"
grep -q 'SOAK ' "$EVENTS" 2>/dev/null || { echo "no summary line; the end of maven's output:"; tail -40 "$RESULTS/soak-last-mvn.log"; }
exit $STATUS
