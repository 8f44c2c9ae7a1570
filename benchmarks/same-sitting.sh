#!/usr/bin/env bash
# Lethe against the Debezium Server peer, in one sitting, interleaved (issue 30's method).
#
#   bash benchmarks/same-sitting.sh                 # 3 rounds; Lethe on every JDK in JDKS
#   ROUNDS=5 JDKS="/usr/lib/jvm/temurin-25-jdk-amd64" bash benchmarks/same-sitting.sh
#
# Each round runs the peer's tuned burst (../shared/peers/debezium-server/run.sh, PROFILES=tuned:
# Debezium Server -> one Redis stream, one region, no Kafka, no versions), then
# `lethe bench --updates 100000 --regions 3 --rate 1000` once on each JDK, in that order; after the
# last round it prints min / median / max of every figure and the ratio Lethe / peer of the
# burst rates. This machine's speed varies by 2x from day to day: only figures of one sitting
# are compared. Needs root (the peer's PostgreSQL runs as the postgres user). Everything each run
# wrote stays in $OUT.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PEER="${PEER:-$root/../shared/peers/debezium-server/run.sh}"
ROUNDS="${ROUNDS:-3}"
JDKS="${JDKS:-/usr/lib/jvm/java-17-openjdk-amd64 /usr/lib/jvm/temurin-25-jdk-amd64}"
UPDATES="${UPDATES:-100000}"
BENCH_ARGS="${BENCH_ARGS:---rate 1000 --rate-duration 20s}"
OUT="${OUT:-$root/target/same-sitting-$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$OUT"
[[ -f $PEER ]] || { echo "same-sitting: the peer harness is not at $PEER (set PEER=)" >&2; exit 2; }
for jdk in $JDKS; do
  [[ -x $jdk/bin/java ]] || { echo "same-sitting: no $jdk/bin/java (JDKS lists JDK homes)" >&2; exit 2; }
done
# build once, on the oldest JDK given (the product builds for Java 17)
(cd "$root" && ./mvnw -q -B -DskipTests package -pl dev -am) >&2
jar="$root/dev/target/lethe-dev.jar"

median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) {print "-"; exit} m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; print m}'; }
spread() { # "min / median / max" of the numbers on stdin
  local v; v="$(cat)"
  [[ -z $v ]] && { echo "-"; return; }
  echo "$(echo "$v" | sort -g | head -1) / $(echo "$v" | median) / $(echo "$v" | sort -g | tail -1)"
}

for round in $(seq 1 "$ROUNDS"); do
  echo "[$(date -u +%H:%M:%S)] round $round: peer (tuned)" >&2
  PROFILES=tuned bash "$PEER" >"$OUT/peer-$round.txt" 2>"$OUT/peer-$round.log"
  awk '/burst   :/ {print $3}' "$OUT/peer-$round.txt" >>"$OUT/peer.burst"
  awk '/latency : commit->XADD/ {print $5, $8}' "$OUT/peer-$round.txt" >>"$OUT/peer.latency"
  for jdk in $JDKS; do
    tag="$(basename "$jdk")"
    echo "[$(date -u +%H:%M:%S)] round $round: lethe bench on $tag" >&2
    "$jdk/bin/java" ${LETHE_JAVA_OPTS:--Xmx1g} -jar "$jar" bench --updates "$UPDATES" --regions 3 $BENCH_ARGS \
        --out "$OUT/lethe-$tag-$round.md" >"$OUT/lethe-$tag-$round.log" 2>&1
    report="$OUT/lethe-$tag-$round.md"
    awk -F'|' '$2 ~ /^ end-to-end $/ {gsub(/ /, "", $3); print $3}' "$report" >>"$OUT/lethe-$tag.burst"
    awk -F'|' '$2 ~ /all of it/ {gsub(/ /, "", $5); print $5}' "$report" >>"$OUT/lethe-$tag.cpu"
    # p50 and p99 at 1,000 rows/s, the worst region
    awk -F'|' '$2 ~ /^ 1000 $/ && NF > 9 {gsub(/ /, "", $7); gsub(/ /, "", $8); print $7, $8}' "$report" \
        | sort -k2 -g | tail -1 >>"$OUT/lethe-$tag.latency"
  done
done

{
  echo "# Same sitting: Lethe vs the Debezium Server peer ($(date -u +%FT%TZ), $ROUNDS rounds, interleaved)"
  echo
  echo "Machine: $(nproc) cores, $(uname -r); load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
  echo "| | burst rows (events)/s, min / median / max | ratio to the peer's median | CPU µs per row | p50 / p99 ms at 1,000 rows/s (worst region; peer at 200/s) |"
  echo "|---|---|---:|---|---|"
  peer_median="$(median <"$OUT/peer.burst")"
  echo "| peer: Debezium Server → Redis stream, tuned | $(spread <"$OUT/peer.burst") | 1.00 | | $(awk '{print $1}' "$OUT/peer.latency" | median) / $(awk '{print $2}' "$OUT/peer.latency" | median) |"
  for jdk in $JDKS; do
    tag="$(basename "$jdk")"
    lethe_median="$(median <"$OUT/lethe-$tag.burst")"
    ratio="$(awk -v a="$lethe_median" -v b="$peer_median" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}')"
    echo "| Lethe, 3 regions through Kafka, $tag | $(spread <"$OUT/lethe-$tag.burst") | $ratio | $(spread <"$OUT/lethe-$tag.cpu") | $(awk '{print $1}' "$OUT/lethe-$tag.latency" | median) / $(awk '{print $2}' "$OUT/lethe-$tag.latency" | median) |"
  done
  echo
  echo "Every run's output: $OUT"
} | tee "$OUT/summary.md"
