#!/usr/bin/env bash
# Lethe against the Debezium Server peer, in one sitting, interleaved (issue 30).
#
#   bash benchmarks/scripts/same-sitting.sh            # as root (the peer's harness su's to postgres)
#
# Runs, RUNS times in turn: the peer's tuned burst (../shared/peers/debezium-server/run.sh,
# PROFILES=tuned) and `lethe bench --updates 100000 --regions 3` once per JDK in LETHE_JDKS.
# Prints every figure, then min / median / max per side and the ratio of medians. A figure from
# another sitting is never compared with these: this machine's speed varies 2x from day to day.
#
# Settings (environment): RUNS (3), LETHE_JDKS (java homes, space separated; default: every JDK
# under /usr/lib/jvm that is 17 or newer, newest last), PEER_DIR, UPDATES (100000), REGIONS (3),
# OUT (a directory for the logs; default /tmp/lethe-same-sitting/<time>).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
RUNS=${RUNS:-3}
UPDATES=${UPDATES:-100000}
REGIONS=${REGIONS:-3}
PEER_DIR=${PEER_DIR:-$root/../shared/peers/debezium-server}
OUT=${OUT:-/tmp/lethe-same-sitting/$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"

if [[ -z ${LETHE_JDKS:-} ]]; then
  LETHE_JDKS=""
  for h in /usr/lib/jvm/*/; do
    h=${h%/}; [[ -x $h/bin/java && ! -L $h ]] || continue
    v=$("$h/bin/java" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/{print $2}')
    [[ ${v%%.*} -ge 17 ]] && LETHE_JDKS+="$v:$h "
  done
  LETHE_JDKS=$(printf '%s\n' $LETHE_JDKS | sort -t: -k1,1n | cut -d: -f2- | xargs)
fi
[[ -f $PEER_DIR/run.sh ]] || { echo "no peer harness at $PEER_DIR (set PEER_DIR)" >&2; exit 2; }
(cd "$root" && ./mvnw -q -B -DskipTests package -pl dev -am) >&2   # one jar for every run

declare -A FIG   # side -> space-separated rows/s
for i in $(seq 1 "$RUNS"); do
  echo "== run $i / $RUNS  $(date -u +%H:%M:%S)" >&2
  PROFILES=tuned bash "$PEER_DIR/run.sh" >"$OUT/peer-$i.txt" 2>"$OUT/peer-$i.err"
  eps=$(awk '/burst   :/{print $3; exit}' "$OUT/peer-$i.txt")
  echo "peer tuned burst: $eps events/s" >&2
  FIG[peer]+="$eps "
  for h in $LETHE_JDKS; do
    name=lethe-$(basename "$h")
    (cd "$root" && "$h/bin/java" ${LETHE_JAVA_OPTS:--Xmx1g} -jar dev/target/lethe-dev.jar bench --updates "$UPDATES" \
        --regions "$REGIONS" --out "$OUT/$name-$i.md") >"$OUT/$name-$i.txt" 2>"$OUT/$name-$i.err"
    rps=$(awk '/end-to-end/ && /rows\/s/{v=$2} END{print v}' "$OUT/$name-$i.txt")
    echo "$name burst end to end: $rps rows/s" >&2
    FIG[$name]+="$rps "
  done
done

stats() { printf '%s\n' $1 | sort -n | awk '{a[NR]=$1} END{printf "%d %d %d", a[1], a[int((NR+1)/2)], a[NR]}'; }
read -r _ pmed _ <<<"$(stats "${FIG[peer]}")"
echo
echo "same sitting $(date -u +%F), $RUNS interleaved runs each, $(nproc) cores; logs in $OUT"
printf '| %-34s | %8s | %8s | %8s | %-14s |\n' side min median max "median / peer"
printf '|%s|%s|%s|%s|%s|\n' ------------------------------------ ---------- ---------- ---------- ----------------
for side in peer $(for h in $LETHE_JDKS; do echo "lethe-$(basename "$h")"; done); do
  read -r mn md mx <<<"$(stats "${FIG[$side]}")"
  printf '| %-34s | %8s | %8s | %8s | %-14s |\n' "$side" "$mn" "$md" "$mx" "$(echo "scale=2; $md / $pmed" | bc)"
done
